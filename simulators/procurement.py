"""Stand-in for platform 2, the government procurement system (SOAP 1.1; UPSTREAMS.md §2).

Endpoints
- `GET /ws/SupplierCreditService?wsdl`: the WSDL (`procurement.wsdl`), its
  soap:address rewritten to the URL it was fetched from.
- `POST /ws/SupplierCreditService`: the five operations (`procurement_operations`).
- `POST /_sim/suppliers` (one suppliers.jsonl object): insert or replace a
  supplier and emit a change. `POST /_sim/hostile {"kind", "count"}`: make the
  next answers hostile (`procurement_hostile`). Neither needs SOAP credentials.
- `/_sim/stats`, `/_sim/reset-stats`, `/_sim/down`, `/_sim/up`: `SimulatorControls`.

A request is checked in this order, the first failure answering a fault: body
at most 1 MiB, a well-formed SOAP 1.1 envelope with one Body element, DTDs and
entities absent (INVALID_REQUEST); WS-Security UsernameToken with the right
username and password, Type PasswordText or absent (AUTH_FAILED); a known
operation named by both the Body and the SOAPAction header (INVALID_REQUEST);
then the operation's own arguments.

Every fault, the injected "unavailable" one included, is answered with HTTP
500 and text/xml: UPSTREAMS.md §2 says "Faults come with HTTP 500, as SOAP 1.1
requires", and where the common conventions and clarifications name 503 for
down and error-rate answers they give "a SOAP Server fault" as the SOAP form of
it, so this stand-in answers `soap:Server` UNAVAILABLE with HTTP 500.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass
from importlib.resources import files

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from simulators.faults import SimulatorControls, SimulatorState
from simulators.procurement_data import (
    SHANGHAI,
    ProcurementData,
    load_procurement_dataset,
    supplier_from_row,
)
from simulators.procurement_hostile import (
    HostilePlan,
    billion_laughs_answer,
    oversize_answer,
    truncated,
    xxe_answer,
)
from simulators.procurement_operations import OPERATIONS, answer, without_last_item
from simulators.procurement_xml import (
    MAX_REQUEST_BYTES,
    P_NS,
    SOAP_ACTION_PREFIX,
    SoapFault,
    UsernameToken,
    attribute,
    invalid_request,
    parse_envelope,
    render_answer,
    render_fault,
    soap_action,
    split_tag,
)

__all__ = [
    "SERVICE_PATH",
    "ProcurementCredentials",
    "ProcurementData",
    "create_procurement_app",
    "load_procurement_dataset",
]

SERVICE_PATH = "/ws/SupplierCreditService"
XML = "text/xml"
# The address written in procurement.wsdl; replaced by the URL the WSDL is fetched from.
WSDL_ADDRESS = '"http://127.0.0.1:9102/ws/SupplierCreditService"'
PLAIN_TEXT_TYPE = "PasswordText"


@dataclass(frozen=True)
class ProcurementCredentials:
    """The one WS-Security username and password the stand-in accepts."""

    username: str
    password: str


def create_procurement_app(
    data: ProcurementData,
    credentials: ProcurementCredentials,
    state: SimulatorState | None = None,
) -> ASGIApp:
    """The procurement stand-in as an ASGI app, behind `SimulatorControls`."""
    wsdl = files("simulators").joinpath("procurement.wsdl").read_text(encoding="utf-8")
    if WSDL_ADDRESS not in wsdl:
        raise RuntimeError("procurement.wsdl lost its service address")
    plan = HostilePlan()

    async def service(request: Request) -> Response:
        if request.method == "GET":
            if any(key.lower() == "wsdl" for key in request.query_params):
                here = attribute(str(request.url.replace(query="")))
                return Response(wsdl.replace(WSDL_ADDRESS, here), media_type=XML)
            return _fault(invalid_request("GET serves only the WSDL (?wsdl)"))
        kind = plan.take()
        operation = _named_operation(request)
        if kind == "xxe":
            return Response(xxe_answer(operation), media_type=XML)
        if kind == "billion_laughs":
            return Response(billion_laughs_answer(operation), media_type=XML)
        if kind == "oversize":
            return StreamingResponse(oversize_answer(operation), media_type=XML)
        normal = await _answer(request, data, credentials, short=kind == "wrong_count")
        if kind == "malformed":
            return Response(truncated(bytes(normal.body)), normal.status_code, media_type=XML)
        return normal

    async def upsert_supplier(request: Request) -> Response:
        try:
            row = json.loads(await request.body())
            if not isinstance(row, dict):
                raise ValueError("the body must be one JSON object")
            supplier = supplier_from_row(row)
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(exc)}, status_code=400)
        change = data.upsert_supplier(supplier, dt.datetime.now(SHANGHAI).replace(microsecond=0))
        return JSONResponse(
            {
                "credit_code": supplier.credit_code,
                "seq": change["seq"],
                "at": change["at"].isoformat(),
            }
        )

    async def arm_hostile(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            count = body.get("count", 1) if isinstance(body, dict) else None
            if not isinstance(count, int) or isinstance(count, bool):
                raise ValueError('send {"kind": KIND, "count": N}')
            plan.arm(str(body.get("kind")), count)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"kind": plan.kind, "remaining": plan.remaining})

    app = Starlette(
        routes=[
            Route(SERVICE_PATH, service, methods=["GET", "POST"]),
            Route("/_sim/suppliers", upsert_supplier, methods=["POST"]),
            Route("/_sim/hostile", arm_hostile, methods=["POST"]),
        ]
    )
    unavailable = SoapFault("Server", "UNAVAILABLE", "the service is temporarily unavailable")
    return SimulatorControls(app, state or SimulatorState(), lambda: _fault(unavailable))


async def _answer(
    request: Request, data: ProcurementData, credentials: ProcurementCredentials, short: bool
) -> Response:
    """The normal answer to one SOAP request: an envelope, or a fault with HTTP 500."""
    try:
        envelope = parse_envelope(await _bounded_body(request))
        _authenticate(envelope.token, credentials)
        namespace, operation = split_tag(envelope.operation.tag)
        if namespace != P_NS or operation not in OPERATIONS:
            raise invalid_request("unknown operation")
        if soap_action(request.headers.get("soapaction")) != SOAP_ACTION_PREFIX + operation:
            raise invalid_request("the SOAPAction header does not name the Body's operation")
        response = answer(operation, envelope.operation, data)
    except SoapFault as fault:
        return _fault(fault)
    if short:
        response = without_last_item(operation, response)
    return Response(render_answer(response), media_type=XML)


async def _bounded_body(request: Request) -> bytes:
    """The request body, refused (INVALID_REQUEST) as soon as it passes 1 MiB."""
    too_big = invalid_request(f"the request body exceeds {MAX_REQUEST_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise too_big
    return bytes(body)


def _authenticate(token: UsernameToken | None, credentials: ProcurementCredentials) -> None:
    """AUTH_FAILED unless the UsernameToken carries the configured plain-text credentials."""
    # A Password with no Type is PasswordText; the profile's URI ends in "#PasswordText".
    plain = token is not None and (
        token.password_type is None
        or token.password_type.rpartition("#")[2].strip() == PLAIN_TEXT_TYPE
    )
    if token is None or not plain:
        raise SoapFault("Client", "AUTH_FAILED", "authentication failed")
    # Compare both in constant time, so timing tells nothing about either.
    user_ok = hmac.compare_digest(token.username.encode(), credentials.username.encode())
    password_ok = hmac.compare_digest(token.password.encode(), credentials.password.encode())
    if not (user_ok and password_ok):
        raise SoapFault("Client", "AUTH_FAILED", "authentication failed")


def _named_operation(request: Request) -> str:
    """The operation the SOAPAction header names, for shaping hostile answers."""
    action = soap_action(request.headers.get("soapaction")) or ""
    name = action.removeprefix(SOAP_ACTION_PREFIX)
    return name if name in OPERATIONS else OPERATIONS[0]


def _fault(fault: SoapFault) -> Response:
    return Response(render_fault(fault), status_code=500, media_type=XML)
