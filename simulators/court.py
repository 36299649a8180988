"""Stand-in for the court enforcement information interface (UPSTREAMS.md section 3).

REST + JSON behind OAuth 2.0 client credentials:

- `POST /oauth/token` (form body) issues opaque Bearer tokens;
- `POST /v1/dishonest-debtors/query` and `POST /v1/consumption-restrictions/query`
  answer the entries of up to 200 parties, paged together;
- `GET /v1/changes` pages the change feed of the debtor list;
- `GET /openapi.json` describes all of the above (no token needed);
- `POST /_sim/entries` (stand-in only) inserts or replaces one entry.

Errors are RFC 6749-shaped `{"error", "error_description"?}`: 400
invalid_request, 401 invalid_client (token endpoint) / invalid_token (the
rest), 429 rate_limited with Retry-After, 503 temporarily_unavailable.
A call is checked in this order: token, rate limit, body.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from connectors.identifiers import InvalidIdentifier
from simulators.changefeed import InvalidCursor
from simulators.court_auth import CourtCredentials, RateLimiter, TokenStore
from simulators.court_data import (
    BEIJING,
    CourtData,
    InvalidEntry,
    load_court_dataset,
    normalise_party_code,
)
from simulators.court_openapi import openapi_document
from simulators.faults import SimulatorControls, SimulatorState

__all__ = ["CourtCredentials", "CourtData", "create_court_app", "load_court_dataset"]

MAX_PARTIES = 200
DEFAULT_PAGE_SIZE = 100
DEFAULT_CHANGES = 100
MAX_CHANGES = 1000
# Far above any legal query (200 parties); a larger body is refused unread.
MAX_BODY_BYTES = 256 * 1024


class BadRequest(Exception):
    """The request is malformed: answered 400 invalid_request with this description."""


@dataclass(frozen=True)
class PageRequest:
    """A validated query body: canonical idCodes (duplicates dropped) and paging."""

    id_codes: tuple[str, ...]
    page_no: int
    page_size: int


def error(
    status: int,
    code: str,
    description: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An RFC 6749-shaped error answer."""
    body = {"error": code}
    if description is not None:
        body["error_description"] = description
    return JSONResponse(body, status_code=status, headers=headers)


def unavailable() -> Response:
    """What the stand-in answers while down or on an injected error."""
    return error(503, "temporarily_unavailable")


def invalid_token() -> Response:
    """A missing, unknown or expired token (RFC 6750 section 3)."""
    return error(401, "invalid_token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _whole_number(value: object, name: str, default: int) -> int:
    if value is None:
        return default
    # bool is an int in Python but not in JSON: true is no page number.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{name} must be a positive integer")
    return value


def parse_page_request(body: object, max_page_size: int) -> PageRequest:
    """Validate a query body strictly; `pageSize` is capped at `max_page_size`."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - {"parties", "pageNo", "pageSize"})
    if unknown:
        raise BadRequest(f"unknown key(s): {', '.join(unknown)}")
    parties = body.get("parties")
    if not isinstance(parties, list) or not 1 <= len(parties) <= MAX_PARTIES:
        raise BadRequest(f"parties must be a list of 1 to {MAX_PARTIES} parties")
    codes: dict[str, None] = {}
    for index, party in enumerate(parties):
        where = f"parties[{index}]"
        if not isinstance(party, dict):
            raise BadRequest(f"{where} must be an object")
        if set(party) - {"idCode", "name"}:
            raise BadRequest(f"{where} may hold only idCode and name")
        if party.get("name") is not None and not isinstance(party["name"], str):
            raise BadRequest(f"{where}.name must be a string")
        try:
            codes[normalise_party_code(party.get("idCode"))] = None
        except InvalidIdentifier as exc:
            raise BadRequest(f"{where}.idCode: {exc.reason}") from None
    page_no = _whole_number(body.get("pageNo"), "pageNo", 1)
    page_size = _whole_number(body.get("pageSize"), "pageSize", DEFAULT_PAGE_SIZE)
    return PageRequest(tuple(codes), page_no, min(page_size, max_page_size))


async def read_json(request: Request) -> Any:
    """The JSON body of `request`, or `BadRequest`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequest("Content-Type must be application/json")
    raw = await read_body(request)
    try:
        # JSON bodies are UTF-8 (RFC 8259); json.loads alone would also take UTF-16.
        return json.loads(raw.decode("utf-8"))
    # ValueError covers bad JSON, bad UTF-8 and over-long integers.
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None


async def read_body(request: Request) -> bytes:
    """The raw body, refused once it passes `MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class CourtApi:
    """The handlers of one court stand-in, sharing its data, tokens and limiter."""

    def __init__(
        self,
        data: CourtData,
        credentials: CourtCredentials,
        tokens: TokenStore,
        limiter: RateLimiter,
        max_page_size: int,
    ) -> None:
        self.data = data
        self.credentials = credentials
        self.tokens = tokens
        self.limiter = limiter
        self.max_page_size = max_page_size

    async def token(self, request: Request) -> Response:
        """POST /oauth/token: the client credentials grant of RFC 6749 section 4.4."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error(400, "invalid_request", "the body must be form-encoded")
        try:
            pairs = parse_qsl((await read_body(request)).decode(), keep_blank_values=True)
        except (BadRequest, UnicodeDecodeError):
            return error(400, "invalid_request", "the form body could not be read")
        form = dict(pairs)
        if len(form) != len(pairs):
            return error(400, "invalid_request", "a parameter was sent more than once")
        if not form.get("grant_type"):
            return error(400, "invalid_request", "grant_type is missing")
        if not self.credentials.match(form.get("client_id", ""), form.get("client_secret", "")):
            return error(401, "invalid_client", "client authentication failed")
        if form["grant_type"] != "client_credentials":
            return error(400, "unsupported_grant_type", "only client_credentials is supported")
        body = {
            "access_token": self.tokens.issue(self.credentials.client_id),
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl_s,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def dishonest_debtors(self, request: Request) -> Response:
        """POST /v1/dishonest-debtors/query."""
        return await self._guarded(request, self._debtors)

    async def consumption_restrictions(self, request: Request) -> Response:
        """POST /v1/consumption-restrictions/query."""
        return await self._guarded(request, self._restrictions)

    async def changes(self, request: Request) -> Response:
        """GET /v1/changes?cursor=&limit=."""
        return await self._guarded(request, self._changes)

    async def openapi(self, request: Request) -> Response:
        """GET /openapi.json."""
        return JSONResponse(openapi_document(self.max_page_size))

    async def put_entry(self, request: Request) -> Response:
        """POST /_sim/entries: insert or replace one entry, emitting its change."""
        try:
            row = await read_json(request)
            if not isinstance(row, dict):
                raise BadRequest("the body must be one ENTRY object")
            change = self.data.put_entry(row, dt.datetime.now(BEIJING))
        except (BadRequest, InvalidEntry) as exc:
            return error(400, "invalid_request", str(exc))
        return JSONResponse({"change": change})

    async def _guarded(
        self, request: Request, answer: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Answer a Bearer call: token first, then rate limit, then the body."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        client = self.tokens.client_of(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            return invalid_token()
        slot = self.limiter.acquire(client)
        if slot is None:
            retry = str(self.limiter.retry_after_s(client))
            return error(429, "rate_limited", "too many requests", {"Retry-After": retry})
        try:
            return await answer(request)
        except BadRequest as exc:
            self.limiter.release(client, slot)
            return error(400, "invalid_request", str(exc))

    async def _debtors(self, request: Request) -> Response:
        page = parse_page_request(await read_json(request), self.max_page_size)
        return self._page(page, self.data.entries_for(page.id_codes))

    async def _restrictions(self, request: Request) -> Response:
        page = parse_page_request(await read_json(request), self.max_page_size)
        return self._page(page, self.data.restrictions_for(page.id_codes))

    async def _changes(self, request: Request) -> Response:
        params = request.query_params
        limit_text = params.get("limit") or str(DEFAULT_CHANGES)
        # ASCII digits only, and few of them: int() would take "١٢" or 5,000 digits.
        if not re.fullmatch(r"[0-9]{1,9}", limit_text) or int(limit_text) < 1:
            raise BadRequest("limit must be a positive integer")
        try:
            items, cursor = self.data.changes(
                params.get("cursor") or None, min(int(limit_text), MAX_CHANGES)
            )
        except InvalidCursor as exc:
            raise BadRequest(str(exc)) from None
        return JSONResponse({"items": items, "cursor": cursor})

    @staticmethod
    def _page(page: PageRequest, items: list[dict[str, Any]]) -> Response:
        start = (page.page_no - 1) * page.page_size
        return JSONResponse(
            {
                "total": len(items),
                "pageNo": page.page_no,
                "pageSize": page.page_size,
                "items": items[start : start + page.page_size],
            }
        )


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and wrong methods answer in the same JSON shape as the rest.
    if not isinstance(exc, HTTPException):
        raise exc
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
    return error(exc.status_code, code, exc.detail, exc.headers)


def create_court_app(
    data: CourtData,
    credentials: CourtCredentials,
    state: SimulatorState | None = None,
    *,
    token_ttl_s: int = 3600,
    rate_limit_per_s: int = 20,
    max_page_size: int = 100,
    clock: Callable[[], float] = time.monotonic,
) -> ASGIApp:
    """The court stand-in as an ASGI app, wrapped in `SimulatorControls`.

    `clock` drives token expiry and the rate window; `rate_limit_per_s` 0 turns
    the limit off; `max_page_size` caps the page size a client may ask for.
    """
    if max_page_size < 1:
        raise ValueError("max_page_size must be at least 1")
    api = CourtApi(
        data,
        credentials,
        TokenStore(token_ttl_s, clock),
        RateLimiter(rate_limit_per_s, clock),
        max_page_size,
    )
    app = Starlette(
        routes=[
            Route("/oauth/token", api.token, methods=["POST"]),
            Route("/v1/dishonest-debtors/query", api.dishonest_debtors, methods=["POST"]),
            Route(
                "/v1/consumption-restrictions/query", api.consumption_restrictions, methods=["POST"]
            ),
            Route("/v1/changes", api.changes, methods=["GET"]),
            Route("/openapi.json", api.openapi, methods=["GET"]),
            Route("/_sim/entries", api.put_entry, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    return SimulatorControls(app, state or SimulatorState(), unavailable)
