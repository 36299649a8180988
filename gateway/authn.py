"""Who is calling: the bearer token check in front of the GraphQL endpoint.

No token, a bad one or an expired one gets HTTP 401 with a GraphQL error
UNAUTHENTICATED and no data, before anything is parsed or any platform is
asked. A valid token becomes the request's `Principal` (in `scope["state"]`).
With `[auth] enforce = false` (refused in production) every request passes with
no principal: access control is off, for development and benchmarks.

In development mode with no JWKS configured, the development key pair (made on
first use, as `credgate token` does) is trusted.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.devkeys import DEV_ISSUER, ensure_dev_keys
from auth.tokens import TokenVerifier, Unauthenticated, bearer_token
from connectors.error_codes import Code

from .refusals import refuse
from .settings import Settings

__all__ = ["BearerAuth", "build_verifier"]


def build_verifier(settings: Settings) -> TokenVerifier | None:
    """The token verifier the configuration asks for; None when access control is off."""
    auth = settings.auth
    if not auth.enforce:
        return None
    if auth.jwks_url or auth.jwks_file:
        return TokenVerifier.from_settings(
            jwks_url=auth.jwks_url,
            jwks_file=auth.jwks_file,
            issuer=auth.issuer,
            audience=auth.audience,
            leeway_s=auth.leeway_s,
            max_lifetime_s=auth.max_token_lifetime_s,
        )
    # Only development mode gets here: production requires a JWKS (settings check).
    keys = ensure_dev_keys(Path(auth.dev_keys_dir))
    return TokenVerifier.from_settings(
        jwks_file=str(keys.jwks_path),
        issuer=DEV_ISSUER,
        audience=auth.audience,
        leeway_s=auth.leeway_s,
        max_lifetime_s=auth.max_token_lifetime_s,
    )


class BearerAuth:
    """ASGI wrapper: verify the bearer token, or answer 401 without calling the app.

    The GraphiQL page is in front of it (`gateway/graphiql.py`): the page itself
    needs no token; every query it sends carries the one the user gives it.
    """

    def __init__(self, app: ASGIApp, verifier: TokenVerifier | None) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["principal"] = None
        if self.verifier is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            state["principal"] = await self.verifier.verify(
                bearer_token(headers.get("authorization"))
            )
        except Unauthenticated as refused:
            await refuse(
                scope,
                receive,
                send,
                Code.UNAUTHENTICATED,
                refused.reason,
                headers={"WWW-Authenticate": "Bearer"},
            )
            return
        await self.app(scope, receive, send)
