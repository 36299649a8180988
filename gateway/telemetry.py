"""OpenTelemetry traces and metrics for the gateway, free of personal data.

One trace per request, from three sources:
- the Starlette instrumentation: the request's one SERVER span and the
  `http.server.*` metrics;
- Strawberry's `OpenTelemetryExtension`, subclassed below: an operation span
  (INTERNAL, so the HTTP span stays the only SERVER span) with the parse,
  validation and resolver spans under it;
- the httpx instrumentation on the shared client: a CLIENT span per call to a
  platform, and the `http.client.*` metrics.

What keeps ID numbers, names and tokens out of the spans:
- resolver arguments: only those named in `RECORDED_ARGUMENTS` are recorded, an
  allow-list, so an argument added later stays out until someone decides;
- the GraphQL document: recorded (as `graphql.document`) from the parsed
  document with every string, integer and float literal replaced, so an ID
  number written inline never reaches a span; a document that did not parse,
  or a very long one, is not recorded at all. Variables are never recorded;
- the gateway's own query string (`GET /graphql?query=...&variables=...`) is
  replaced on the server span;
- headers are never captured: the instrumentations copy the headers named in
  `OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*`, and headers carry the
  callers' and the court's bearer tokens, so telemetry refuses to start then;
- request bodies are never recorded by the instrumentations, and the platforms'
  URLs carry no identifier (the connectors send every identifier in a POST body).
Names the caller gives inside its own document (operation name, aliases) are
kept: they are the caller's vocabulary, not data the gateway discloses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Mapping
from enum import Enum
from functools import partial
from typing import Any, Protocol

import httpx
from graphql import (
    DocumentNode,
    FloatValueNode,
    GraphQLResolveInfo,
    IntValueNode,
    StringValueNode,
    Visitor,
    print_ast,
    visit,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.starlette import StarletteInstrumentor
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, TracerProvider
from starlette.applications import Starlette
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

from .settings import ConfigError

__all__ = ["RECORDED_ARGUMENTS", "Telemetry", "TelemetryConfig"]

# Arguments whose values say how a question was asked, never about whom.
RECORDED_ARGUMENTS = frozenset({"purpose", "asOf", "includeInactive", "from", "to"})

# Above this many characters a document is not recorded: redacting it costs
# tens of milliseconds (a vetBatch written inline), and collectors cut such
# attributes anyway.
MAX_RECORDED_DOCUMENT = 8_192

_HEADER_CAPTURE = tuple(
    f"OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_{side}"
    for side in ("SERVER_REQUEST", "SERVER_RESPONSE", "CLIENT_REQUEST", "CLIENT_RESPONSE")
)


class TelemetryConfig(Protocol):
    """The `[telemetry]` section of the settings."""

    @property
    def otlp_endpoint(self) -> str:
        """The collector's OTLP/HTTP base URL (e.g. http://collector:4318); empty: off."""

    @property
    def service_name(self) -> str: ...


class Telemetry:
    """The gateway's tracer and meter providers, and what instruments the app with them.

    Providers passed in belong to the caller (tests pass in-memory ones);
    those `from_settings` builds belong to this object and `shutdown` flushes them.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        *,
        _owned: tuple[SdkTracerProvider, SdkMeterProvider] | None = None,
    ) -> None:
        _refuse_header_capture()
        # The stable HTTP conventions (`http.server.request.duration`, `url.*`),
        # unless the operator chose otherwise; `_hide_query_string` copes with
        # either. The instrumentations read this once per process, when the
        # first of them starts, which is after this point.
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self._owned = _owned

    @classmethod
    def from_settings(cls, config: TelemetryConfig) -> Telemetry | None:
        """OTLP export of traces and metrics to `config.otlp_endpoint`, or None
        (nothing instrumented, nothing spent) when no endpoint is configured."""
        endpoint = config.otlp_endpoint.rstrip("/")
        if not endpoint:
            return None
        resource = Resource.create({SERVICE_NAME: config.service_name})
        tracer_provider = SdkTracerProvider(resource=resource)
        tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
        )
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")
        )
        meter_provider = SdkMeterProvider(resource=resource, metric_readers=[reader])
        return cls(tracer_provider, meter_provider, _owned=(tracer_provider, meter_provider))

    def strawberry_extension(self) -> Callable[[], SchemaExtension]:
        """A factory for the schema's `extensions` (one instance per request)."""
        return partial(
            PrivateGraphQLTracing,
            arg_filter=recorded_arguments,
            tracer_provider=self.tracer_provider,
        )

    def instrument_app(self, app: Starlette) -> None:
        """Server spans and `http.server.*` metrics; call before the app serves."""
        StarletteInstrumentor.instrument_app(
            app,
            server_request_hook=_hide_query_string,
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
        )

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        """Client spans and `http.client.*` metrics for every call `client` makes."""
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def shutdown(self) -> None:
        """Flush and stop the providers this object built; blocks while exporting."""
        if self._owned is not None:
            tracer_provider, meter_provider = self._owned
            tracer_provider.shutdown()
            meter_provider.shutdown()


def _refuse_header_capture() -> None:
    configured = [name for name in _HEADER_CAPTURE if os.environ.get(name)]
    if configured:
        raise ConfigError(
            f"{', '.join(configured)}: capturing HTTP headers would put bearer tokens"
            " in traces; unset it"
        )


def recorded_arguments(args: dict[str, Any], info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    """The arguments a resolver span may carry (`RECORDED_ARGUMENTS`), enums by
    their GraphQL name (`CADRE_SELECTION`, not `Purpose.CADRE_SELECTION`)."""
    return {
        name: value.name if isinstance(value, Enum) else value
        for name, value in args.items()
        if name in RECORDED_ARGUMENTS
    }


def _hide_query_string(span: Span, scope: Mapping[str, Any]) -> None:
    """Replace the query string wherever the server span recorded it: a GraphQL
    GET carries the document and the variables there."""
    if not scope.get("query_string") or not span.is_recording():
        return
    # The SDK's spans show what they hold; the instrumentation has already set
    # the URL attributes of the conventions in force.
    recorded: Mapping[str, Any] = getattr(span, "attributes", None) or {}
    for key in ("url.query", "url.full", "http.target", "http.url"):
        value = recorded.get(key)
        if isinstance(value, str):
            hidden = "REDACTED" if key == "url.query" else value.split("?", 1)[0] + "?REDACTED"
            span.set_attribute(key, hidden)


class PrivateGraphQLTracing(OpenTelemetryExtension):
    """Strawberry's tracing, minus the query text, the variables and the values
    of all but the allowed arguments."""

    def on_operation(self) -> Generator[None, None, None]:
        # Replaces the parent's, which records the raw query text and makes the
        # operation span a second SERVER span.
        name = self.execution_context.operation_name
        span = self._tracer.start_span(
            f"GraphQL Query: {name}" if name else "GraphQL Query", kind=SpanKind.INTERNAL
        )
        span.set_attribute("component", "graphql")
        self._span_holder[LifecycleStep.OPERATION] = span
        try:
            yield
        finally:
            context = self.execution_context
            if not name and context.operation_name:
                span.update_name(f"GraphQL Query: {context.operation_name}")
            query, document = context.query, context.graphql_document
            if document is not None and query is not None and len(query) <= MAX_RECORDED_DOCUMENT:
                span.set_attribute("graphql.document", redacted_document(document))
            span.end()

    def filter_resolver_args(
        self, args: dict[str, Any], info: GraphQLResolveInfo[Any]
    ) -> dict[str, Any]:
        # The parent deep-copies every argument before filtering: a thousand
        # subjects for each vetBatch. The filter only picks, so no copy is needed.
        return self._arg_filter(args, info) if self._arg_filter else {}


class _Literals(Visitor):
    """Replaces the literals a caller may have written identifiers or names into.
    Enum values and booleans come from the schema and stay."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> StringValueNode:
        return StringValueNode(value="?")

    def enter_int_value(self, node: IntValueNode, *_: Any) -> IntValueNode:
        return IntValueNode(value="0")

    def enter_float_value(self, node: FloatValueNode, *_: Any) -> FloatValueNode:
        return FloatValueNode(value="0.0")


def redacted_document(document: DocumentNode) -> str:
    """`document` printed with every string, integer and float literal replaced."""
    return print_ast(visit(document, _Literals()))
