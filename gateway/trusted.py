"""Trusted documents: in production only listed GraphQL documents run.

ARCHITECTURE.md: `[gateway] trusted_documents = "path"` — in production only
documents whose SHA-256 is listed run (`PERSISTED_QUERY_NOT_FOUND` otherwise);
credit_admin is exempt. Decided here where the document says nothing:

- The file lists one SHA-256 per line, 64 hex digits (either case), of the
  document text exactly as a client sends it in `query` (UTF-8); blank lines
  and lines starting with `#` are ignored. A line that is anything else stops
  the start with the file and line named.
- The list is read once, at start. In development mode it is not applied
  (*reading*: "in production"); in production without a list every document
  runs, and the start says so in the log.
- A refused document is answered before anything is parsed with the GraphQL
  error PERSISTED_QUERY_NOT_FOUND, HTTP 400 (200 when answered in
  `application/json`, like every refused document); it reached no personal
  data, so it makes no access-log entry. A request with no document at all was
  refused before (`graphql_http`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from auth.principal import Principal, Role
from connectors.error_codes import Code

from .graphql_http import GraphQLRequest
from .refusals import refuse
from .settings import ConfigError, Settings

__all__ = ["load_trusted_documents", "only_trusted_documents", "trusted_documents"]

logger = logging.getLogger(__name__)

_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def load_trusted_documents(path: Path) -> frozenset[str]:
    """The digests a trusted-documents file lists (lower case); ConfigError otherwise."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"gateway.trusted_documents: {path} cannot be read ({error})") from None
    digests = set()
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not _DIGEST.fullmatch(text):
            raise ConfigError(f"gateway.trusted_documents: {path}:{number} is not a SHA-256 in hex")
        digests.add(text.lower())
    return frozenset(digests)


def trusted_documents(settings: Settings) -> frozenset[str] | None:
    """The list to apply, or None when every document runs (see the module docstring)."""
    gateway = settings.gateway
    if gateway.mode != "production":
        return None
    if not gateway.trusted_documents:
        logger.warning("production mode without gateway.trusted_documents: every document runs")
        return None
    return load_trusted_documents(Path(gateway.trusted_documents))


def only_trusted_documents(app: ASGIApp, trusted: frozenset[str]) -> ASGIApp:
    """ASGI wrapper: refuse a document not in `trusted` unless credit_admin asks."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal | None = scope.get("state", {}).get("principal")
        if scope["type"] != "http" or (
            principal is not None and principal.has_role(Role.CREDIT_ADMIN)
        ):
            await app(scope, receive, send)
            return
        asked: GraphQLRequest = scope["state"]["graphql"]
        if hashlib.sha256(asked.query.encode()).hexdigest() in trusted:
            await app(scope, receive, send)
            return
        await refuse(
            scope,
            receive,
            send,
            Code.PERSISTED_QUERY_NOT_FOUND,
            "this document is not among the trusted documents",
        )

    return endpoint
