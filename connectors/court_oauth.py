"""OAuth 2.0 client credentials (RFC 6749 section 4.4) for the court interface.

One `ClientCredentialsTokens` per connector holds the current Bearer token and
hands it to every call, so a token is fetched once and reused:

- it is replaced BEFORE it expires: once less than `REFRESH_SHARE` of its
  lifetime, at most `REFRESH_MARGIN_S`, is left (a 3600 s token is renewed with
  60 s to go, a 10 s token with 1 s), so a call never leaves with a token that
  dies on the way;
- concurrent callers share one token request (`SingleFlight`), so a burst of
  calls makes one, not one each; its failure is shared too, so wrong
  credentials cost one request per burst, not one per waiting caller;
- `renew(rejected)` replaces a token the server refused (revoked, or expired
  earlier than its `expires_in` said); callers that were refused the same token
  at the same moment share the one replacement.

Credentials go in the form body (UPSTREAMS.md, Clarifications). Expiry is judged
on the injected monotonic `clock`, from the moment the token was asked for, so
our idea of its lifetime is never longer than the server's.

    401, or 400 invalid_client / unauthorized_client / invalid_grant
                                          SourceAuthError      not retried
    other refusals                        as `court_http.refusal`
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from .court_http import Answer, exchange, json_body, oauth_error, refusal
from .errors import SourceAuthError, SourceError, SourceProtocolError
from .resilience import SingleFlight

__all__ = ["REFRESH_MARGIN_S", "REFRESH_SHARE", "ClientCredentialsTokens"]

REFRESH_SHARE = 0.1
REFRESH_MARGIN_S = 60.0
_CREDENTIAL_ERRORS = {"invalid_client", "unauthorized_client", "invalid_grant"}
# Visible ASCII only: the token goes into a header as it is (RFC 6750 b64token is stricter).
_TOKEN = re.compile(r"[!-~]{1,4096}")


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float  # on the clock: from here on a new token is fetched first


class ClientCredentialsTokens:
    """The Bearer token of one client: fetched once, shared, renewed in time."""

    def __init__(
        self,
        platform: str,
        client: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.platform = platform
        self._client = client
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: _Token | None = None
        self._fetches: SingleFlight[str, str] = SingleFlight()

    async def bearer(self, timeout_s: float) -> str:
        """A token fit for use now: the held one, or a freshly fetched one."""
        held = self._usable(self._token)
        return held if held is not None else await self._shared_fetch(timeout_s)

    async def renew(self, rejected: str, timeout_s: float) -> str:
        """A token other than `rejected`, which the server refused."""
        held = self._usable(self._token)
        if held is not None and held != rejected:
            return held  # another caller has replaced it already
        # Forget it first: should the fetch fail, nobody uses it again.
        self._token = None
        return await self._shared_fetch(timeout_s)

    async def _shared_fetch(self, timeout_s: float) -> str:
        # A fetch already in flight was begun after the token we hold went
        # stale or was refused, so whatever it brings serves this caller too.
        return await self._fetches.run("token", lambda: self._fetch(timeout_s))

    def _usable(self, token: _Token | None) -> str | None:
        if token is None or self._clock() >= token.refresh_at:
            return None
        return token.value

    async def _fetch(self, timeout_s: float) -> str:
        asked_at = self._clock()
        answer = await exchange(
            self.platform,
            self._client,
            self._token_url,
            timeout_s=timeout_s,
            headers={"Accept": "application/json"},
            form={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
            },
        )
        if answer.status != httpx.codes.OK:
            raise self._refused(answer)
        value, lifetime_s = self._grant(answer)
        margin = min(lifetime_s * REFRESH_SHARE, REFRESH_MARGIN_S)
        self._token = _Token(value, asked_at + lifetime_s - margin)
        return value

    def _refused(self, answer: Answer) -> SourceError:
        code = oauth_error(answer)
        if answer.status == httpx.codes.UNAUTHORIZED or (
            answer.status == httpx.codes.BAD_REQUEST and code in _CREDENTIAL_ERRORS
        ):
            return SourceAuthError(
                self.platform, f"client credentials refused ({code or 'HTTP 401'})"
            )
        return refusal(self.platform, answer)

    def _grant(self, answer: Answer) -> tuple[str, float]:
        body = json_body(self.platform, answer)
        if not isinstance(body, dict):
            raise SourceProtocolError(self.platform, "the token answer is not a JSON object")
        token, kind, lifetime = (
            body.get("access_token"),
            body.get("token_type"),
            body.get("expires_in"),
        )
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise SourceProtocolError(
                self.platform, "the token answer holds no usable access_token"
            )
        if not isinstance(kind, str) or kind.lower() != "bearer":
            raise SourceProtocolError(self.platform, "the token answer is not a Bearer token")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
            raise SourceProtocolError(self.platform, "the token answer has no valid expires_in")
        return token, float(lifetime)
