"""Stand-in for the provincial public credit information platform (UPSTREAMS.md §1).

`create_credit_app` serves, for one set of credentials:

    POST /api/v2/subjects:batchQuery        signed (see credit_auth)
    GET  /api/v2/changes?since=&limit=      signed
    POST /api/v2/usage-feedback             signed, Idempotency-Key required
    POST /api/v2/objections                 signed; a repeated Idempotency-Key (optional)
                                            is answered as the first
    GET  /api/v2/objections/{id}            signed
    GET  /openapi.json                      the OpenAPI 3.1 document

and the admin endpoints, which carry no platform authentication:

    POST   /_sim/objections/{id}/decide     {"status": "UPHELD"|"REJECTED"}
    GET    /_sim/objections                 every objection, with reason and filer
    POST   /_sim/records                    one RECORD: insert or replace, emits UPSERT
    DELETE /_sim/records/{record_id}        emits DELETE
    GET    /_sim/feedback                   every usage feedback received
    GET    /_sim/deliveries                 arrivals per Idempotency-Key (credit_deliveries)
    POST   /_sim/deliveries/hold|release    hold keyed deliveries in flight, or let them go
    POST   /_sim/deliveries/delay?ms=N      keep each keyed delivery in flight N ms

plus `/_sim/stats`, `/_sim/reset-stats`, `/_sim/down` and `/_sim/up` from
`SimulatorControls`. `/openapi.json` is served in front of those controls: it
describes the interface rather than being part of it, so it is neither signed,
counted in the stats, delayed nor failed, and stays readable while the platform
is down. Admin endpoints answer in the same envelope as the platform.

The server clock (`clock`, unix seconds) is the platform's: it judges
timestamps, nonce ages and the rate window, stamps changes and gives `asOf`
and the date ("today", +08:00) that publicity is judged on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .credit_auth import CreditCredentials, SignatureGuard
from .credit_data import CreditData, RejectedRequest, load_credit_dataset
from .credit_deliveries import DeliveryLedger
from .credit_envelope import ApiError, envelope, malformed, ok, unavailable
from .credit_openapi import openapi_document
from .credit_records import platform_date, platform_time
from .credit_requests import (
    parse_batch_query,
    parse_changes_query,
    parse_decision,
    parse_feedback,
    parse_objection,
    parse_record,
)
from .faults import SimulatorControls, SimulatorState

__all__ = [
    "MAX_BODY_BYTES",
    "CreditCredentials",
    "CreditData",
    "create_credit_app",
    "load_credit_dataset",
]

MAX_BODY_BYTES = 1024 * 1024

# A handler gets the request and its exact body bytes and returns the `data` of
# a success envelope; it raises ApiError or RejectedRequest to refuse.
Handler = Callable[[Request, bytes], object]


def create_credit_app(
    data: CreditData,
    credentials: CreditCredentials,
    state: SimulatorState | None = None,
    *,
    rate_limit_per_s: int = 0,
    clock: Callable[[], float] = time.time,
) -> ASGIApp:
    """The credit platform stand-in over `data`, wrapped in `SimulatorControls`.

    `rate_limit_per_s` = 0 means no rate limit; `clock` is the server clock in
    unix seconds.
    """
    platform = _CreditPlatform(data, SignatureGuard(credentials, clock, rate_limit_per_s), clock)
    app = Starlette(
        routes=platform.routes(),
        exception_handlers={HTTPException: _http_error},
    )
    controlled = SimulatorControls(app, state or SimulatorState(), unavailable)
    return _DocumentFront(controlled, openapi_document())


class _CreditPlatform:
    """The platform's endpoints over one `CreditData`."""

    def __init__(self, data: CreditData, guard: SignatureGuard, clock: Callable[[], float]) -> None:
        self.data = data
        self.guard = guard
        self.clock = clock
        self.deliveries = DeliveryLedger()

    def routes(self) -> list[Route]:
        signed, admin = self._signed, self._admin
        return [
            Route("/api/v2/subjects:batchQuery", signed(self.batch_query), methods=["POST"]),
            Route("/api/v2/changes", signed(self.changes), methods=["GET"]),
            Route("/api/v2/usage-feedback", self._keyed(self.usage_feedback), methods=["POST"]),
            Route("/api/v2/objections", self._keyed(self.file_objection), methods=["POST"]),
            Route("/api/v2/objections/{objection_id}", signed(self.objection), methods=["GET"]),
            Route("/_sim/objections/{objection_id}/decide", admin(self.decide), methods=["POST"]),
            Route("/_sim/objections", admin(self.all_objections), methods=["GET"]),
            Route("/_sim/records", admin(self.put_record), methods=["POST"]),
            Route("/_sim/records/{record_id}", admin(self.delete_record), methods=["DELETE"]),
            Route("/_sim/feedback", admin(self.all_feedback), methods=["GET"]),
            Route("/_sim/deliveries", admin(self.delivery_stats), methods=["GET"]),
            Route("/_sim/deliveries/hold", admin(self.hold), methods=["POST"]),
            Route("/_sim/deliveries/release", admin(self.release), methods=["POST"]),
            Route("/_sim/deliveries/delay", admin(self.delay), methods=["POST"]),
        ]

    def _signed(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _read_body(request)
                self.guard.check(request.method, _signed_path(request), request.headers, body)
                return ok(handler(request, body))
            except ApiError as exc:
                return exc.response()
            except RejectedRequest as exc:
                return malformed(str(exc)).response()

        return endpoint

    def _keyed(
        self, handler: Callable[[Request, bytes, str], tuple[bool, object]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A signed endpoint whose requests may carry an Idempotency-Key: counted per
        key in the ledger, and held in flight after they were applied while asked to."""

        async def endpoint(request: Request) -> Response:
            try:
                body = await _read_body(request)
                self.guard.check(request.method, _signed_path(request), request.headers, body)
                key = request.headers.get("idempotency-key", "").strip()
                if not key:
                    _, data = handler(request, body, key)
                    return ok(data)
                replay, data = handler(request, body, key)
                self.deliveries.arrive(key, replay=replay)
                try:
                    await self.deliveries.pass_hold()
                finally:
                    self.deliveries.leave(key)
                return ok(data)
            except ApiError as exc:
                return exc.response()
            except RejectedRequest as exc:
                return malformed(str(exc)).response()

        return endpoint

    def _admin(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return ok(handler(request, await _read_body(request)))
            except ApiError as exc:
                return exc.response()
            except RejectedRequest as exc:
                return malformed(str(exc)).response()

        return endpoint

    # -- /api/v2 -----------------------------------------------------------------

    def batch_query(self, request: Request, body: bytes) -> object:
        query = parse_batch_query(body)
        now = self.clock()
        today = platform_date(now)
        results = [
            self.data.subject_result(key, query.include_inactive, today) for key in query.subjects
        ]
        return {"asOf": platform_time(now), "results": results}

    def changes(self, request: Request, body: bytes) -> object:
        since, limit = parse_changes_query(request.query_params)
        changes, cursor = self.data.change_page(since, limit)
        return {"changes": changes, "next": cursor}

    def usage_feedback(self, request: Request, body: bytes, key: str) -> tuple[bool, object]:
        if not key:
            raise malformed("the Idempotency-Key header is required")
        # A repeated key is answered as the first time, whatever the body says now;
        # a refused request stores nothing, so the key may be used again.
        earlier = self.data.answered_feedback(key)
        if earlier is not None:
            return True, earlier
        return False, self.data.record_feedback(key, parse_feedback(body))

    def file_objection(self, request: Request, body: bytes, key: str) -> tuple[bool, object]:
        earlier = self.data.keyed_objection(key) if key else None
        if earlier is not None:
            return True, {"objection_id": earlier.objection_id, "status": "RECEIVED"}
        filing = parse_objection(body)
        objection = self.data.file_objection(
            filing.record_id, filing.subject_code, filing.reason, filing.filed_by, self._now(), key
        )
        return False, {"objection_id": objection.objection_id, "status": "RECEIVED"}

    def objection(self, request: Request, body: bytes) -> object:
        return self.data.objection(request.path_params["objection_id"]).view()

    # -- /_sim admin ---------------------------------------------------------------

    def decide(self, request: Request, body: bytes) -> object:
        status = parse_decision(body)
        objection_id = request.path_params["objection_id"]
        return self.data.decide(objection_id, status, self._now()).view()

    def all_objections(self, request: Request, body: bytes) -> object:
        return [vars(objection).copy() for objection in self.data.objections.values()]

    def put_record(self, request: Request, body: bytes) -> object:
        change = self.data.put_record(parse_record(body), self._now())
        return {"record_id": change["record_id"], "seq": change["seq"]}

    def delete_record(self, request: Request, body: bytes) -> object:
        change = self.data.delete_record(request.path_params["record_id"], self._now())
        return {"record_id": change["record_id"], "seq": change["seq"]}

    def all_feedback(self, request: Request, body: bytes) -> object:
        return list(self.data.feedback)

    def delivery_stats(self, request: Request, body: bytes) -> object:
        return self.deliveries.stats()

    def hold(self, request: Request, body: bytes) -> object:
        self.deliveries.hold()
        return self.deliveries.stats()

    def release(self, request: Request, body: bytes) -> object:
        self.deliveries.release()
        return self.deliveries.stats()

    def delay(self, request: Request, body: bytes) -> object:
        ms = request.query_params.get("ms", "0")
        if not ms.isdigit():
            raise malformed("ms must be a whole number of milliseconds")
        self.deliveries.delay_s = int(ms) / 1000
        return self.deliveries.stats()

    def _now(self) -> str:
        return platform_time(self.clock())


async def _read_body(request: Request) -> bytes:
    """The exact body bytes, refusing more than MAX_BODY_BYTES without reading them all."""
    too_large = ApiError(413, "E4130", f"request body over {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


def _signed_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded), without the query."""
    raw: bytes | None = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.scope["path"]


_HTTP_ERRORS = {
    404: ("E4040", "no such endpoint"),
    405: ("E4050", "method not allowed"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors, answered as envelopes too."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, message = _HTTP_ERRORS.get(status, (f"E{status}0", "request failed"))
    headers = getattr(exc, "headers", None)
    return envelope(status, code, message, None, dict(headers) if headers else None)


class _DocumentFront:
    """Serves GET /openapi.json ahead of the platform; everything else passes on."""

    def __init__(self, app: ASGIApp, document: dict[str, Any]) -> None:
        self.app = app
        self.document = document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        document_request = scope["type"] == "http" and scope["path"] == "/openapi.json"
        if document_request and scope["method"] in ("GET", "HEAD"):
            await JSONResponse(self.document)(scope, receive, send)
            return
        await self.app(scope, receive, send)
