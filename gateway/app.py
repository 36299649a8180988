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
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from auth.access_log import AccessLog, open_access_log
from auth.policy import Policy, load_policy
from auth.reveal import PseudonymRegistry, open_registry
from connectors.bundle import Connectors, build_connectors
from connectors.http_client import upstream_client
from connectors.probe import Probe, probe_all
from schema import build_schema
from schema.basis import AnswerBasis
from schema.context import LiveSources, RequestContext, VettingSetup
from schema.disclosure import Disclosure
from schema.loaders import Loaders, PlatformReads
from schema.vetting import RuleSet, load_rule_set

from .admission import Admission
from .answer_cache import (
    AnswerCache,
    Question,
    answer_size,
    encode_answer,
    serve_kept_answers,
)
from .authn import BearerAuth, build_verifier
from .caching import Caching, Clock, build_caching
from .graphiql import GraphiQLPage, with_graphiql
from .keys import log_seal, pseudonym_key
from .limits import PrincipalRateLimit, error_codes, may_introspect, schema_extensions
from .recording import (
    answer_extensions,
    fields_returned,
    new_request_id,
    record_access,
    unrecorded_answer,
)
from .settings import Settings
from .telemetry import Telemetry
from .trusted import only_trusted_documents, trusted_documents

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


@dataclass
class _Services:
    """What the endpoint needs that only exists once the app has started."""

    access_log: AccessLog | None = None
    registry: PseudonymRegistry | None = None


class _GraphQLEndpoint(GraphQL[RequestContext, None]):
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
        # GraphiQL is served by `gateway/graphiql.py`: Strawberry's page loads it from a CDN.
        super().__init__(build_schema(extensions), graphql_ide=None)
        self._mode = settings.gateway.mode
        self._policy = policy
        self._services = services
        self._probe = probe
        self._caching = caching
        self._answers = answers
        self._file_objection = connectors.credit.file_objection
        self._reads = PlatformReads(connectors, caching.sources)
        self._vetting = VettingSetup(
            rule_set=rule_set,
            freshness_s=lambda source: getattr(settings.platforms, source.value).freshness_s,
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        disclosure = Disclosure(principal=request.state.principal, policy=self._policy)
        basis = AnswerBasis()
        request.state.disclosure = disclosure
        request.state.basis = basis
        request.state.asked_at = self._caching.now()
        request.state.request_id = new_request_id()
        log, registry = self._services.access_log, self._services.registry
        if log is None or registry is None:
            raise RuntimeError("the access log is not open: the app has not started")
        return RequestContext(
            loaders=Loaders(self._reads, basis),
            disclosure=disclosure,
            vetting=self._vetting,
            basis=basis,
            today=self._caching.today,
            live_sources=LiveSources(log, registry, self._probe, self._file_objection),
        )

    def encode_json(self, data: object) -> str:
        return encode_answer(data)

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
                    str((error.extensions or {}).get("code", "INTERNAL"))
                    for error in result.errors or ()
                ],
            )
            if not durable:  # no log, no answer
                return cast(GraphQLHTTPResponse, unrecorded_answer(request_id))
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
        answer["errors"] = error_codes(errors, suggestions=suggestions)
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
    probe = partial(probe_all, settings.platforms, client)
    rate_limit = PrincipalRateLimit(settings.limits.requests_per_minute)
    admission = Admission(settings.limits)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        probes = await probe()
        ready = all(p.ok for p in probes)
        cache = await caching.status()
        if answers is not None:
            cache["counters"].update(answers.counters())
        body: dict[str, Any] = {
            "ready": ready,
            "platforms": {p.platform: {"ok": p.ok, "error": p.error} for p in probes},
            # A degraded cache does not make the gateway unready: the platforms answer.
            "cache": cache,
            # This worker's calls so far (an archive call is one or more statements).
            "upstream": {
                "process": os.getpid(),
                "calls": {name: p.requests for name, p in connectors.platforms().items()},
                "archive_statements": connectors.archive.statements,
            },
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
        return JSONResponse(body, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with client:
            services.access_log = await open_access_log(settings.access_log.dsn, seal)
            services.registry = await open_registry(settings.access_log.dsn)
            await caching.start(connectors)
            try:
                yield
            finally:
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
    endpoint: ASGIApp = BearerAuth(
        rate_limit.wrap(admission.wrap(graphql)), build_verifier(settings)
    )
    page_routes: list[Route] = []
    if settings.gateway.mode == "development":
        endpoint, page_routes = with_graphiql(endpoint, graphiql or GraphiQLPage())
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            *page_routes,
        ],
        lifespan=lifespan,
        max_body_size=settings.limits.max_body_bytes,
    )
    if telemetry is not None:
        telemetry.instrument_app(app)
    app.state.connectors = connectors  # for metrics and tests: breaker state, request counts
    app.state.services = services
    app.state.caching = caching  # cache health and counters; `evict_subjects` for objections
    app.state.answers = answers  # level 3 (None when nothing is cached): hits, answers stored
    app.state.admission = admission  # requests in flight and shed
    return app
