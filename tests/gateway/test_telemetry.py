"""Traces and metrics of a real gateway over the real stand-ins, and what they must not hold.

The providers are in-memory and local to each test. Spans are read once the
server has stopped: the server span ends only after the answer has been sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import httpx
import pytest
from graphql import parse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import create_app
from gateway.settings import ConfigError, load_settings
from gateway.telemetry import Telemetry, redacted_document
from tests.schema import dataset as known
from tests.stack import Stack, platforms, stack_reset
from tests.support import serve

PERSON_BY_VARIABLES = """
query Person($id: String!, $purpose: Purpose!) {
  person(idNumber: $id, purpose: $purpose, asOf: "2025-06-30") {
    idNumber name
    creditRecords(includeInactive: false) { recordId }
    enforcement { partyName idCode }
    consumptionRestrictions { orderId }
    businessRoles { supplier { name } role }
    civilServant { position }
  }
}
"""
# The ID number written into the document itself, not passed as a variable.
PERSON_INLINE = """
{ person(idNumber: "%s", purpose: %s) { idNumber name enforcement { partyName } } }
"""
VET = """
query ($s: SubjectInput!) {
  vet(subject: $s, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    verdict subject { idNumber name } findings { ruleId }
  }
}
"""


@dataclass
class Recorded:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    telemetry: Telemetry


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "credgate-test"}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    metrics = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[metrics])
    yield Recorded(spans, metrics, Telemetry(tracer_provider, meter_provider))
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


@contextlib.asynccontextmanager
async def traced_stack(dataset: Path, tmp_path: Path, telemetry: Telemetry) -> AsyncIterator[Stack]:
    """The stand-ins and a gateway from `create_app` with `telemetry` (in-memory providers)."""
    async with platforms(dataset, tmp_path) as (standins, urls, config):
        settings = load_settings(
            config,
            auth={"dev_keys_dir": str(tmp_path / "keys")},
            access_log={"dsn": f"sqlite:///{tmp_path / 'access.db'}"},
        )
        app = create_app(settings, telemetry)
        async with app.router.lifespan_context(app), serve(app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                stack = Stack(standins, urls, settings, app, client)
                await stack_reset(stack)
                yield stack


def _everything_said(span: ReadableSpan) -> str:
    """All a span would export: name, attributes, events, links, status, resource."""
    parts: list[Any] = [span.name, dict(span.attributes or {}), span.status.description]
    parts += [(event.name, dict(event.attributes or {})) for event in span.events]
    parts += [dict(link.attributes or {}) for link in span.links]
    parts.append(dict(span.resource.attributes))
    said = json.dumps(parts, ensure_ascii=False, default=str)
    return said + unquote_plus(said)  # a URL holds a name percent-encoded


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_a_person_query_is_one_trace_from_server_to_platforms(dataset, tmp_path, recorded):
    async with traced_stack(dataset, tmp_path, recorded.telemetry) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        answer = await stack.query(PERSON_BY_VARIABLES, hr, id=known.PERSON, purpose="HONOURS")
        urls = stack.urls
    assert "errors" not in answer, answer["errors"]
    spans = recorded.spans.get_finished_spans()

    assert len({span.context.trace_id for span in spans}) == 1
    (server,) = [span for span in spans if span.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.parent is None
    by_id = {span.context.span_id: span for span in spans}
    assert all(server in _ancestors(span, by_id) for span in spans if span is not server)

    names = {span.name for span in spans}
    assert {"GraphQL Query: Person", "GraphQL Parsing", "GraphQL Validation"} <= names
    assert "GraphQL Resolving: person" in names
    (operation,) = [span for span in spans if span.name == "GraphQL Query: Person"]
    assert operation.parent is not None
    assert operation.parent.span_id == server.context.span_id
    resolver = next(span for span in spans if span.name == "GraphQL Resolving: person")
    assert resolver.attributes is not None
    assert resolver.attributes["graphql.param.purpose"] == "HONOURS"
    assert resolver.attributes["graphql.param.asOf"] == "2025-06-30"
    assert "graphql.param.idNumber" not in resolver.attributes

    # One CLIENT span or more for each HTTP platform HONOURS of a person consults (the
    # credit platform and the court; never procurement), each under the operation.
    clients = [span for span in spans if span.kind is SpanKind.CLIENT]
    called = {str((span.attributes or {})["server.port"]) for span in clients}
    assert called == {str(urlsplit(urls[name]).port) for name in ("credit", "court")}
    assert all(operation in _ancestors(span, by_id) for span in clients)
    for span in clients:
        attributes = span.attributes or {}
        assert attributes["http.request.method"] == "POST"
        assert attributes["http.response.status_code"] == 200
        assert "?" not in str(attributes["url.full"])  # no identifier in any query string


async def test_no_span_holds_an_id_number_a_name_or_a_token(dataset, tmp_path, recorded):
    async with traced_stack(dataset, tmp_path, recorded.telemetry) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        auditor = stack.token("auditor", "audit")
        answers = [
            await stack.query(PERSON_BY_VARIABLES, hr, id=known.PERSON, purpose="CADRE_SELECTION"),
            await stack.query(PERSON_INLINE % (known.PERSON, "CADRE_SELECTION"), hr),
            await stack.query(PERSON_BY_VARIABLES, auditor, id=known.PERSON, purpose="AUDIT"),
            await stack.query(PERSON_INLINE % (known.PERSON, "AUDIT"), auditor),
            await stack.query(VET, hr, s={"idNumber": known.PERSON}),
            # An identifier in error: refused, and its error must not leak either.
            await stack.query(PERSON_INLINE % (known.PERSON[:-1] + "0", "AUDIT"), auditor),
            # A document that does not parse, and one of two operations with no name given.
            await stack.query(f'{{ person(idNumber: "{known.PERSON}", purpose: AUDIT', auditor),
            await stack.query(PERSON_INLINE % (known.PERSON, "AUDIT") + "{ x }", auditor),
        ]
        by_get = await stack.client.get(
            "/graphql",
            params={"query": PERSON_INLINE % (known.PERSON, "CADRE_SELECTION")},
            headers={"Authorization": f"Bearer {hr}"},
        )
        configured = stack.settings.platforms
    # The gateway did hand the name out, so its absence below means something.
    assert answers[0]["data"]["person"]["name"] == known.PERSON_NAME
    assert answers[4]["data"]["vet"]["subject"]["name"] == known.PERSON_NAME
    assert by_get.json()["data"]["person"]["name"] == known.PERSON_NAME
    assert answers[5]["errors"][0]["extensions"]["code"] == "INVALID_IDENTIFIER"
    assert [answer["errors"][0]["extensions"]["code"] for answer in answers[6:]] == [
        "GRAPHQL_PARSE_FAILED",
        "BAD_REQUEST",
    ]
    assert not any("data" in answer for answer in answers[6:])

    spans = recorded.spans.get_finished_spans()
    assert len({span.context.trace_id for span in spans}) == 9  # one per request
    forbidden = {
        "the ID number": known.PERSON,
        "the mistyped ID number": known.PERSON[:-1] + "0",
        "the name": known.PERSON_NAME,
        "the hr token": hr,
        "the auditor token": auditor,
        "a token's signature": hr.rsplit(".", 1)[-1],
        **{
            f"the {name} credential": secret.get_secret_value()
            for name, secret in [
                ("credit", configured.credit.app_secret),
                ("procurement", configured.procurement.password),
                ("court", configured.court.client_secret),
            ]
        },
    }
    for span in spans:
        said = _everything_said(span)
        for what, value in forbidden.items():
            assert value not in said, f"{what} in span {span.name!r}: {said}"
    # The documents were recorded, with the literals replaced.
    documents = [
        str((span.attributes or {})["graphql.document"])
        for span in spans
        if "graphql.document" in (span.attributes or {})
    ]
    assert len(documents) == 7  # all but the one that did not parse and the one refused before
    assert any('person(idNumber: "?", purpose: AUDIT)' in doc for doc in documents)
    # The GET's query string is replaced on its server span.
    (get,) = [span for span in spans if span.name == "GET /graphql"]
    assert (get.attributes or {})["url.query"] == "REDACTED"
    # Nor do the metrics' attributes hold any of it.
    metrics = recorded.metrics.get_metrics_data()
    assert metrics is not None
    said = metrics.to_json()
    for what, value in forbidden.items():
        assert value not in said, f"{what} in the metrics"


async def test_request_durations_are_measured(dataset, tmp_path, recorded):
    async with traced_stack(dataset, tmp_path, recorded.telemetry) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        await stack.query(PERSON_BY_VARIABLES, hr, id=known.PERSON, purpose="HONOURS")
    metrics = recorded.metrics.get_metrics_data()
    assert metrics is not None
    points = {
        metric.name: [point.attributes for point in metric.data.data_points]
        for resource in metrics.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    server = points["http.server.request.duration"]
    assert any(
        attributes.get("http.route") == "/graphql"
        and attributes.get("http.response.status_code") == 200
        for attributes in server
    )
    assert points["http.client.request.duration"]


def test_literals_are_replaced_and_the_rest_kept():
    document = parse(
        'query Q($d: Date = "1985-03-12") @x(n: 3) { person(idNumber: "110105198503120012",'
        " purpose: AUDIT) { creditRecords(includeInactive: true) { fineAmount } } n: f(x: 1.5) }"
    )
    printed = redacted_document(document)
    assert "110105198503120012" not in printed
    assert "1985-03-12" not in printed
    assert "1.5" not in printed
    assert 'person(idNumber: "?", purpose: AUDIT)' in printed
    assert "creditRecords(includeInactive: true)" in printed
    assert '$d: Date = "?"' in printed


def test_capturing_headers_is_refused(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", "authorization")
    with pytest.raises(ConfigError, match="bearer tokens"):
        Telemetry(TracerProvider(), MeterProvider())


@dataclass(frozen=True)
class Section:
    otlp_endpoint: str = ""
    service_name: str = "credgate"


def test_no_endpoint_means_no_telemetry():
    assert Telemetry.from_settings(Section()) is None


async def test_traces_and_metrics_go_to_the_configured_collector():
    received: list[tuple[str, bytes]] = []

    async def collect(request: Request) -> Response:
        received.append((request.url.path, await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/{signal}", collect, methods=["POST"])])
    async with serve(collector) as url:
        telemetry = Telemetry.from_settings(Section(otlp_endpoint=url + "/"))
        assert telemetry is not None
        with telemetry.tracer_provider.get_tracer("test").start_as_current_span("probe"):
            telemetry.meter_provider.get_meter("test").create_counter("probes").add(1)
        # The exporters block on their HTTP calls: off the loop that serves the collector.
        await asyncio.to_thread(telemetry.shutdown)
    bodies = dict(received)
    assert set(bodies) == {"/v1/traces", "/v1/metrics"}
    (exported,) = ExportTraceServiceRequest.FromString(bodies["/v1/traces"]).resource_spans
    resource = {a.key: a.value.string_value for a in exported.resource.attributes}
    assert resource["service.name"] == "credgate"
    assert [span.name for span in exported.scope_spans[0].spans] == ["probe"]
