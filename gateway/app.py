"""The gateway's ASGI app: GraphQL endpoint, liveness and readiness.

Thin by design: it assembles the parts (settings, connectors, schema) and owns
what lives as long as the process: the shared HTTP client and the connectors
(with their breakers and in-flight request sharing). Everything per request —
the DataLoaders above all — is made anew for each request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from functools import partial

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from connectors.base import SHANGHAI
from connectors.bundle import Connectors, build_connectors
from connectors.probe import probe_all
from schema import build_schema
from schema.context import RequestContext
from schema.loaders import Loaders

from .settings import Settings

__all__ = ["create_app"]


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


class _GraphQLEndpoint(GraphQL[RequestContext, None]):
    def __init__(
        self, settings: Settings, connectors: Connectors, client: httpx.AsyncClient
    ) -> None:
        development = settings.gateway.mode == "development"
        super().__init__(build_schema(), graphql_ide="graphiql" if development else None)
        self._connectors = connectors
        self._probe = partial(probe_all, settings.platforms, client)
        self._anonymous_reads = development

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        return RequestContext(
            loaders=Loaders(self._connectors),
            probe_sources=self._probe,
            today=_today,
            anonymous_reads=self._anonymous_reads,
        )


def create_app(settings: Settings) -> Starlette:
    """The gateway for `settings`; start it with any ASGI server."""
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=200))
    connectors = build_connectors(settings.platforms, client)
    probe = partial(probe_all, settings.platforms, client)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        probes = await probe()
        ready = all(p.ok for p in probes)
        body = {
            "ready": ready,
            "platforms": {p.platform: {"ok": p.ok, "error": p.error} for p in probes},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with client:
            try:
                yield
            finally:
                await connectors.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(
                "/graphql", _GraphQLEndpoint(settings, connectors, client), methods=["GET", "POST"]
            ),
        ],
        lifespan=lifespan,
    )
    app.state.connectors = connectors  # for metrics and tests: breaker state, request counts
    return app
