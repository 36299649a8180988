"""The gateway's ASGI app: GraphQL endpoint, liveness and readiness.

Thin by design: it assembles the parts (settings, token check, connectors,
cache, masking policy, access log, schema) and owns what lives as long as the
process: the shared HTTP client, the connectors (breakers, in-flight request
sharing), the cache with its change-feed pollers (`gateway/caching.py`) and the
access-log writer. Everything per request — the DataLoaders, the record of
what was disclosed — is made anew for each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import psycopg
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from auth.access_log import AccessLog, open_access_log
from auth.outbox import Outbox
from auth.policy import Policy, load_policy
from auth.reveal import PseudonymRegistry, open_registry
from connectors.bundle import Connectors, build_connectors
from connectors.error_codes import Code
from connectors.http_client import upstream_client
from connectors.probe import Probe, probe_all
from schema import build_schema
from schema.basis import AnswerBasis
from schema.context import LiveSources, RequestContext, VettingSetup
from schema.disclosure import Disclosure
from schema.loaders import Loaders, PlatformReads
from schema.vetting import RuleSet, load_rule_set

from .admission import Admission
from .answer_cache import AnswerCache, Question, answer_size, serve_kept_answers
from .authn import BearerAuth, build_verifier
from .caching import Caching, Clock, build_caching
from .delivery import DeliveryWorker
from .error_phases import no_single_operation, refused_code, with_codes
from .graphiql import GraphiQLPage, with_graphiql
from .graphql_http import GraphQLRequest, HTTPFront, graphql_request
from .keys import log_seal, pseudonym_key
from .limits import PrincipalRateLimit, may_introspect, schema_extensions, without_suggestions
from .readiness import PlatformProbes, Readiness
from .recording import (
    answer_extensions,
    fields_returned,
    record_access,
    unrecorded_answer,
)
from .refusals import encode_answer, refusal_status, refuse, request_id
from .settings import Settings
from .telemetry import Telemetry
from .trusted import only_trusted_documents, trusted_documents

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

_OVER_GET = frozenset({OperationType.QUERY})
_OVER_POST = frozenset({OperationType.QUERY, OperationType.MUTATION})


@dataclass
class _Services:
    """What the endpoint needs that only exists once the app has started."""

    access_log: AccessLog | None = None
    registry: PseudonymRegistry | None = None
    delivery: DeliveryWorker | None = None


class _GraphQLEndpoint:
    """Runs one GraphQL request (checked by `graphql_http`) and sends its answer.

    Its status follows GraphQL over HTTP: 200 for an answer that ran (errors of
    fields beside data included); a request refused as a whole (a document that
    does not parse or validate, variables that do not coerce, a limit) has no
    `data` and the refusal's status in `application/graphql-response+json` (200
    in `application/json`, which older clients expect). A mutation over GET is
    405 with `Allow: POST`; an operation name that picks no single operation of
    the document (unknown, or none given for several) is BAD_REQUEST."""

    def __init__(
        self,
        settings: Settings,
        connectors: Connectors,
        policy: Policy,
        services: _Services,
        probe: Callable[[], Awaitable[list[Probe]]],
        telemetry: Telemetry | None,
        caching: Caching,
        answers: AnswerCache | None,
        rule_set: RuleSet,
    ) -> None:
        extensions = schema_extensions(settings)
        if telemetry is not None:
            extensions.append(telemetry.strawberry_extension())
        # GraphiQL is served by `gateway/graphiql.py`, in front of this endpoint.
        self.schema = build_schema(extensions)
        self._max_tokens = settings.limits.max_tokens
        self._mode = settings.gateway.mode
        self._policy = policy
        self._services = services
        self._probe = probe
        self._caching = caching
        self._answers = answers
        self._credit = connectors.credit
        self._outbox = Outbox(settings.access_log.dsn)
        self._reads = PlatformReads(connectors, caching.sources)
        self._vetting = VettingSetup(
            rule_set=rule_set,
            freshness_s=lambda source: getattr(settings.platforms, source.value).freshness_s,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        asked: GraphQLRequest = request.state.graphql
        over_get = scope["method"] == "GET"
        unpicked = no_single_operation(asked.query, asked.operation_name, self._max_tokens)
        if unpicked is not None:
            await refuse(scope, receive, send, Code.BAD_REQUEST, unpicked)
            return
        try:
            result = await self.schema.execute(
                asked.query,
                variable_values=asked.variables,
                context_value=await self.get_context(request),
                operation_name=asked.operation_name,
                allowed_operation_types=_OVER_GET if over_get else _OVER_POST,
                operation_extensions=asked.extensions,
            )
        except InvalidOperationTypeError:
            message = "only queries are asked with GET: send a mutation with POST"
            headers = {"Allow": "POST"}
            await refuse(scope, receive, send, Code.METHOD_NOT_ALLOWED, message, headers=headers)
            return
        answer = await self.process_result(request, result)
        media: str = request.state.media_type
        code = None if "data" in answer else refused_code(answer.get("errors"))
        status = 200 if code is None else refusal_status(code, media)
        await Response(encode_answer(answer), status_code=status, media_type=media)(
            scope, receive, send
        )

    async def get_context(self, request: Request) -> RequestContext:
        disclosure = Disclosure(principal=request.state.principal, policy=self._policy)
        basis = AnswerBasis()
        request.state.disclosure = disclosure
        request.state.basis = basis
        request.state.asked_at = self._caching.now()
        request.state.request_id = request_id(request.scope)
        log, registry = self._services.access_log, self._services.registry
        if log is None or registry is None:
            raise RuntimeError("the access log is not open: the app has not started")
        return RequestContext(
            loaders=Loaders(self._reads, basis),
            disclosure=disclosure,
            vetting=self._vetting,
            basis=basis,
            today=self._caching.today,
            live_sources=LiveSources(
                log,
                registry,
                self._probe,
                self._credit.file_objection,
                self._credit.objection,
                self._outbox,
            ),
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        disclosure: Disclosure | None = getattr(request.state, "disclosure", None)
        answer = process_result(result)
        suggestions = may_introspect(request.state.principal, self._mode)
        if disclosure is None:  # refused before execution (parse or validation)
            return _with_codes(answer, suggestions)
        request_id: str = request.state.request_id
        log = self._services.access_log
        registry = self._services.registry
        if disclosure.sensitive and log is not None and registry is not None:
            durable = await _remember(registry, disclosure) and await record_access(
                log,
                disclosure,
                request_id=request_id,
                fields=fields_returned(result.data),
                error_codes=[
                    str((error.extensions or {}).get("code", Code.INTERNAL))
                    for error in result.errors or ()
                ],
            )
            if not durable:  # no log, no answer
                return cast(GraphQLHTTPResponse, unrecorded_answer(request_id))
            if disclosure.outbox and self._services.delivery is not None:
                self._services.delivery.wake()
        answer = _with_codes(answer, suggestions)
        # Notes come in the order resolvers finished, which depends on which platform
        # (or cache) answered first: sorted, the same question gives the same bytes.
        disclosure.privacy.sort(key=_note_order)
        extensions = answer_extensions(disclosure, request_id)
        answer["extensions"] = {**(answer.get("extensions") or {}), **extensions}
        question: Question | None = getattr(request.state, "question", None)
        if self._answers is not None and question is not None and disclosure.sensitive:
            try:
                await self._answers.keep(
                    question,
                    dict(answer),
                    disclosure,
                    request.state.basis,
                    asked_at=request.state.asked_at,
                )
            except Exception:  # an answer not kept is asked again; never a failed answer
                logger.exception("answer %s not kept", request_id)
        return answer


async def _remember(registry: PseudonymRegistry, disclosure: Disclosure) -> bool:
    """Register the pseudonyms an answer hands out; False when that failed."""
    try:
        await registry.register(disclosure.pseudonyms)
    except (sqlite3.Error, psycopg.Error):
        logger.exception("pseudonym registry write failed")
        return False
    return True


def _note_order(note: dict[str, Any]) -> tuple[str, str]:
    return json.dumps(note.get("path"), ensure_ascii=False), str(note.get("action"))


def _with_codes(answer: GraphQLHTTPResponse, suggestions: bool) -> GraphQLHTTPResponse:
    errors = answer.get("errors")
    if errors:
        answer["errors"] = with_codes(errors if suggestions else without_suggestions(errors))
        if answer.get("data") is None and refused_code(answer["errors"]) is not None:
            del answer["data"]  # refused before execution: there is no data, not null data
    return answer


def create_app(
    settings: Settings,
    telemetry: Telemetry | None = None,
    *,
    clock: Clock | None = None,
    graphiql: GraphiQLPage | None = None,
) -> Starlette:
    """The gateway for `settings`; start it with any ASGI server.

    `telemetry` replaces what `[telemetry]` configures (tests pass in-memory providers);
    `clock` the cache's and the as-of date's clock (tests move time with it);
    `graphiql` what the GraphiQL page opens with (development mode only: `credgate
    demo` prefills a demo token and the README's first query).
    """
    if telemetry is None:
        telemetry = Telemetry.from_settings(settings.telemetry)
    client = upstream_client()
    if telemetry is not None:
        telemetry.instrument_client(client)
    connectors = build_connectors(settings.platforms, client)
    caching = build_caching(settings, clock=clock)
    if telemetry is not None:
        caching.observe(telemetry.meter_provider)
    policy = load_policy(pseudonym_key(settings), settings.auth.policy_file or None)
    seal = log_seal(settings)
    services = _Services()
    outbox_table = Outbox(settings.access_log.dsn)
    probe = partial(probe_all, settings.platforms, client)
    verifier = build_verifier(settings)
    rate_limit = PrincipalRateLimit(settings.limits.requests_per_minute)
    admission = Admission(settings.limits)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def own_detail() -> dict[str, Any]:
        cache = await caching.status()
        if answers is not None:
            cache["counters"].update(answers.counters())
        outbox: dict[str, Any] = {}
        if services.delivery is not None:
            outbox["worker"] = services.delivery.counters()
        try:
            outbox["items"] = await outbox_table.counts()
        except (sqlite3.Error, psycopg.Error, OSError):
            outbox["items"] = None  # the access log's own health shows in every answer
        return {
            # A degraded cache does not make the gateway unready: the platforms answer.
            "cache": cache,
            # This worker's calls so far (an archive call is one or more statements).
            "upstream": {
                "process": os.getpid(),
                "calls": {name: p.requests for name, p in connectors.platforms().items()},
                "archive_statements": connectors.archive.statements,
            },
            "outbox": outbox,
            # This worker's load: a breaker opens only on what a platform did.
            "load": {
                "inFlight": admission.in_flight,
                "shed": admission.shed,
                "breakers": {
                    name: platform.breaker.state.value
                    for name, platform in connectors.platforms().items()
                },
            },
        }

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with client:
            services.access_log = await open_access_log(settings.access_log.dsn, seal)
            services.registry = await open_registry(settings.access_log.dsn)
            await caching.start(connectors)
            services.delivery = DeliveryWorker(
                outbox_table,
                connectors.credit,
                settings.outbox,
                delivered_objection=lambda code: caching.sources.evict_subjects([code]),
            )
            services.delivery.start()
            try:
                yield
            finally:
                await services.delivery.stop()
                await caching.stop()
                await services.access_log.close()
                await connectors.close()
                if telemetry is not None:
                    await asyncio.to_thread(telemetry.shutdown)  # exporters block while flushing

    rule_set = load_rule_set()
    store = caching.new_answer_store(answer_size)
    answers = (
        None
        if store is None
        else AnswerCache(
            store,
            caching.keys,
            policy=policy,
            rule_set_version=rule_set.version,
            clock=caching.now,
            max_entry_bytes=settings.cache.max_answer_entry_bytes,
        )
    )
    graphql: ASGIApp = _GraphQLEndpoint(
        settings, connectors, policy, services, probe, telemetry, caching, answers, rule_set
    )
    if answers is not None:
        graphql = serve_kept_answers(graphql, answers, lambda: services.access_log)
    trusted = trusted_documents(settings)
    if trusted is not None:
        # In front of level 3: a kept answer is shared by every spelling of its
        # document, and only the spelling listed may run.
        graphql = only_trusted_documents(graphql, trusted)
    graphql = admission.wrap(graphql)
    graphql = graphql_request(
        graphql,
        max_body_bytes=settings.limits.max_body_bytes,
        body_timeout_s=settings.limits.body_timeout_s,
    )
    endpoint: ASGIApp = HTTPFront(
        BearerAuth(rate_limit.wrap(graphql), verifier),
        max_body_bytes=settings.limits.max_body_bytes,
    )
    page_routes: list[Route] = []
    if settings.gateway.mode == "development":
        endpoint, page_routes = with_graphiql(endpoint, graphiql or GraphiQLPage())
    if settings.gateway.cors_origins:
        # Only the listed origins; a preflight is answered here, before the token check
        # (browsers send none with it).
        endpoint = CORSMiddleware(
            endpoint,
            allow_origins=settings.gateway.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route(
                "/readyz",
                Readiness(
                    PlatformProbes(probe),
                    lambda: services.access_log,
                    lambda: services.registry is not None,
                    own_detail,
                    verifier,
                ).answer,
            ),
            # Every method reaches the endpoint, which answers OPTIONS and refuses the rest.
            Route("/graphql", endpoint),
            *page_routes,
        ],
        lifespan=lifespan,
    )
    if telemetry is not None:
        telemetry.instrument_app(app)
    app.state.connectors = connectors  # for metrics and tests: breaker state, request counts
    app.state.services = services
    app.state.caching = caching  # cache health and counters; `evict_subjects` for objections
    app.state.answers = answers  # level 3 (None when nothing is cached): hits, answers stored
    app.state.admission = admission  # requests in flight and shed
    return app
