"""The gateway's ASGI app: GraphQL endpoint, liveness and readiness.

Thin by design: it assembles the parts (settings, platform probes, schema) and
owns the resources that live as long as the process (the shared HTTP client).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from connectors.probe import probe_all
from schema import build_schema
from schema.context import RequestContext

from .settings import Settings

__all__ = ["create_app"]


class _GraphQLEndpoint(GraphQL[RequestContext, None]):
    def __init__(self, context: RequestContext, *, graphiql: bool) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql" if graphiql else None)
        self._context = context

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        return self._context


def create_app(settings: Settings) -> Starlette:
    """The gateway for `settings`; start it with any ASGI server."""
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=200))
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
            yield

    graphql = _GraphQLEndpoint(
        RequestContext(probe_sources=probe), graphiql=settings.gateway.mode == "development"
    )
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
