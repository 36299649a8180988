"""GraphQL over HTTP at `/graphql`: what a request must be, before any GraphQL runs.

Two ASGI wrappers, in this order around the rest of the endpoint:

- `HTTPFront`, outermost, reads headers only: it gives the request its id,
  answers OPTIONS (and refuses other methods with 405 and `Allow`), picks the
  answer's media type from `Accept` (406 when neither GraphQL type is
  acceptable), refuses a POST that is not exactly `application/json` (415)
  or that declares a body over `[limits] max_body_bytes` (413), and puts
  `X-Request-Id` and `Cache-Control: no-store` on every answer.
- `graphql_request`, once the caller is known (after the token check and the
  rate limit), reads the body within that bound (413) or the
  query string and checks it is one GraphQL request: a JSON object (a batch
  array is refused), `query` a non-empty string, `variables` and `extensions`
  objects, `operationName` a string (`""` is the same as none). The request is
  left in `scope["state"]["graphql"]` for the parts behind.

Every refusal is a GraphQL answer with a code (`gateway.refusals`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.error_codes import Code

from .refusals import JSON, answer_media_type, refuse, request_id

__all__ = ["ALLOW", "GraphQLRequest", "HTTPFront", "graphql_request"]

ALLOW = "GET, POST, OPTIONS"


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One GraphQL request as asked; `body` is the POSTed bytes (b"" for a GET)."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    body: bytes


class _Refused(Exception):
    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class HTTPFront:
    """The outer wrapper (see the module docstring); GraphiQL's page, in development,
    is answered in front of it (`gateway/graphiql.py`).

    A class, not a function: routing takes a plain function for a request handler."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        send = _with_answer_headers(scope, send)
        method = scope["method"]
        headers = Headers(scope=scope)
        if method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": ALLOW})(scope, receive, send)
            return
        if method not in {"GET", "POST"}:
            message = f"{method} is not taken here: ask with GET or POST"
            await refuse(
                scope, receive, send, Code.METHOD_NOT_ALLOWED, message, headers={"Allow": ALLOW}
            )
            return
        media = answer_media_type(headers.get("accept"))
        if media is None:
            message = "answers are application/graphql-response+json or application/json"
            await refuse(scope, receive, send, Code.NOT_ACCEPTABLE, message)
            return
        scope["state"]["media_type"] = media
        if method == "POST" and not _is_json(headers.get("content-type")):
            message = "send the request as application/json"
            await refuse(scope, receive, send, Code.UNSUPPORTED_MEDIA_TYPE, message)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            message = _too_large(self.max_body_bytes).message
            await refuse(scope, receive, send, Code.PAYLOAD_TOO_LARGE, message)
            return
        await app(scope, receive, send)


def _is_json(content_type: str | None) -> bool:
    """Exactly `application/json`, with no parameter but a UTF-8 charset."""
    if content_type is None:
        return False
    media, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media != JSON:
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() != "charset" or value.strip().strip('"') not in {"utf-8", "utf8"}:
            return False
    return True


def _with_answer_headers(scope: Scope, send: Send) -> Send:
    """`send`, adding the request id and `no-store` to the answer's headers: an
    answer may carry personal data and is never kept by a browser or a proxy."""
    rid = request_id(scope)

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("X-Request-Id", rid)
            headers["Cache-Control"] = "no-store"
        await send(message)

    return sending


def graphql_request(app: ASGIApp, *, max_body_bytes: int, body_timeout_s: float) -> ASGIApp:
    """The inner wrapper (see the module docstring). The body must arrive within
    `body_timeout_s`: a slow client never holds a slot while it trickles bytes."""

    async def parsed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        try:
            if scope["method"] == "POST":
                body = await _body(receive, max_body_bytes, body_timeout_s)
                asked = _request(_json_object(body), body)
            else:
                asked = _request(_from_query_string(scope), b"")
        except _Refused as refused:
            await refuse(scope, receive, send, refused.code, refused.message)
            return
        scope["state"]["graphql"] = asked
        await app(scope, receive, send)

    return parsed


def _too_large(limit: int) -> _Refused:
    return _Refused(Code.PAYLOAD_TOO_LARGE, f"the body is over {limit} bytes")


async def _body(receive: Receive, limit: int, timeout_s: float) -> bytes:
    """The body as it comes (a declared length over the limit was refused before)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await _chunks(receive, limit)
    except TimeoutError:
        raise _Refused(
            Code.REQUEST_TIMEOUT, f"the body did not arrive within {timeout_s:g} s"
        ) from None


async def _chunks(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _json_object(body: bytes) -> Mapping[str, Any]:
    try:
        asked = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Refused(Code.BAD_REQUEST, "the body is not JSON") from None
    if isinstance(asked, list):
        raise _Refused(Code.BAD_REQUEST, "batches are not taken: send one request at a time")
    if not isinstance(asked, dict):
        raise _Refused(Code.BAD_REQUEST, "the body must be a JSON object")
    return asked


def _from_query_string(scope: Scope) -> Mapping[str, Any]:
    params = QueryParams(scope.get("query_string", b""))
    asked: dict[str, Any] = {"query": params.get("query")}
    if "operationName" in params:
        asked["operationName"] = params["operationName"]
    for member in ("variables", "extensions"):
        text = params.get(member)
        if text:
            try:
                asked[member] = json.loads(text)
            except ValueError:
                raise _Refused(Code.BAD_REQUEST, f"`{member}` is not JSON") from None
    return asked


def _request(asked: Mapping[str, Any], body: bytes) -> GraphQLRequest:
    query = asked.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _Refused(Code.BAD_REQUEST, "no GraphQL document: `query` must be a string")
    name = asked.get("operationName")
    if not isinstance(name, str | None):
        raise _Refused(Code.BAD_REQUEST, "`operationName` must be a string")
    members = {}
    for member in ("variables", "extensions"):
        value = asked.get(member)
        if not isinstance(value, dict | None):
            raise _Refused(Code.BAD_REQUEST, f"`{member}` must be a JSON object")
        members[member] = value
    return GraphQLRequest(
        query=query,
        variables=members["variables"],
        operation_name=name or None,
        extensions=members["extensions"],
        body=body,
    )
