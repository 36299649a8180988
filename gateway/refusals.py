"""Request-level refusals, shaped as GraphQL answers, in the media type asked for.

Every refusal of a request as a whole (no token, too many requests, not a
GraphQL request, ...) is a GraphQL answer with no `data`: one error whose
`extensions.code` is a `Code` with an HTTP status, which is the answer's
status, and the request id in `extensions.requestId` (and `X-Request-Id`).

The answer's media type follows the request's `Accept` (q-values honoured):
`application/graphql-response+json` when asked for it or when no `Accept` is
sent (the GraphQL-over-HTTP default since 2025), `application/json` when that
is preferred or only `*/*` is sent (what most HTTP libraries send, and what
clients that predate the newer type understand). Neither acceptable: the
refusal NOT_ACCEPTABLE, itself in `application/json`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from connectors.error_codes import Code

__all__ = [
    "GRAPHQL_RESPONSE",
    "JSON",
    "answer_media_type",
    "encode_answer",
    "refusal_body",
    "refusal_status",
    "refuse",
    "request_id",
]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def answer_media_type(accept: str | None) -> str | None:
    """The media type to answer in for this `Accept` header, None when neither is acceptable."""
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE
    # For each type: (q, 2 when named, 1 by application/*, 0 by */*). A type named
    # explicitly wins a tie; between two types equally asked for, the newer one,
    # except when only wildcards matched (then application/json, see the docstring).
    best: dict[str, tuple[float, int]] = {}
    for part in accept.split(","):
        media, _, parameters = part.partition(";")
        media = media.strip().lower()
        q = _quality(parameters)
        for candidate in (GRAPHQL_RESPONSE, JSON):
            specificity = _specificity(media, candidate)
            if specificity is None:
                continue
            if candidate not in best or specificity > best[candidate][1]:
                best[candidate] = (q, specificity)
    usable = {media: rank for media, rank in best.items() if rank[0] > 0}
    if not usable:
        return None
    return max(usable, key=lambda m: (*usable[m], (m == GRAPHQL_RESPONSE) == (usable[m][1] == 2)))


def _specificity(media: str, candidate: str) -> int | None:
    if media == candidate:
        return 2
    if media == "application/*":
        return 1
    if media == "*/*":
        return 0
    return None


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


# Refusals of a document in a well-formed request: in `application/json` they keep
# HTTP 200, as clients of that older media type expect (GraphQL over HTTP).
_DOCUMENT_REFUSALS = frozenset(
    {
        Code.GRAPHQL_PARSE_FAILED,
        Code.GRAPHQL_VALIDATION_FAILED,
        Code.BAD_USER_INPUT,
        Code.LIMIT_EXCEEDED,
        Code.PERSISTED_QUERY_NOT_FOUND,
    }
)


def refusal_status(code: Code, media: str) -> int:
    """The HTTP status of a request refused with `code`, answered in `media`."""
    if code.status is None:
        raise ValueError(f"{code} is not a request-level code")
    if media == JSON and code in _DOCUMENT_REFUSALS:
        return 200
    return code.status


def request_id(scope: Scope) -> str:
    """This request's id: made once, where the request is first seen, and kept in
    `scope["state"]` for the answer's `extensions` and its `X-Request-Id`."""
    state = scope.setdefault("state", {})
    found = state.get("request_id")
    if found is None:
        found = state["request_id"] = secrets.token_hex(8)
    return str(found)


def encode_answer(answer: object) -> str:
    """An answer's JSON, compact: every answer the endpoint sends is encoded this
    way, so a kept answer re-issued has the bytes the endpoint would have sent."""
    return json.dumps(answer, separators=(",", ":"))


def refusal_body(scope: Scope, code: Code, message: str, **details: Any) -> dict[str, Any]:
    return {
        "errors": [{"message": message, "extensions": {"code": code, **details}}],
        "extensions": {"requestId": request_id(scope)},
    }


async def refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    code: Code,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **details: Any,
) -> None:
    """Answer the request with the refusal `code` (which must have an HTTP status)."""
    state = scope.setdefault("state", {})
    media = state.get("media_type") or answer_media_type(Headers(scope=scope).get("accept"))
    media = media or JSON
    response = Response(
        encode_answer(refusal_body(scope, code, message, **details)).encode(),
        status_code=refusal_status(code, media),
        headers={"X-Request-Id": request_id(scope), **(headers or {})},
        media_type=media,
    )
    await response(scope, receive, send)
