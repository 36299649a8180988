"""The whole stack in one test: four stand-ins on loopback and a gateway over them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings, load_settings
from simulators.standins import StandinOptions, Standins, build_standins, gateway_config_toml
from tests.support import serve


@dataclass
class Stack:
    standins: Standins
    urls: dict[str, str]
    settings: Settings
    app: Starlette
    client: httpx.AsyncClient

    async def query(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = await self.client.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = answer.json()
        return body

    async def upstream_counts(self) -> dict[str, int]:
        """Requests each HTTP stand-in received, plus the archive's SQL statements."""
        counts = {}
        async with httpx.AsyncClient() as admin:
            for name, url in self.urls.items():
                counts[name] = (await admin.get(f"{url}/_sim/stats")).json()["total"]
        counts["archive"] = self.app.state.connectors.archive.statements
        return counts


@contextlib.asynccontextmanager
async def platforms(
    dataset: Path, tmp_path: Path
) -> AsyncIterator[tuple[Standins, dict[str, str], Path]]:
    """The stand-ins running; yields them, their URLs and a gateway config file."""
    standins = build_standins(
        StandinOptions(dataset=dataset, archive_dsn=f"sqlite:///{tmp_path / 'archive.db'}")
    )
    async with contextlib.AsyncExitStack() as stack:
        urls = {app.name: await stack.enter_async_context(serve(app.app)) for app in standins.apps}
        config = tmp_path / "gateway.toml"
        config.write_text(gateway_config_toml(standins, urls), encoding="utf-8")
        yield standins, urls, config


@contextlib.asynccontextmanager
async def gateway(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield app, client


@contextlib.asynccontextmanager
async def running_stack(dataset: Path, tmp_path: Path, **overrides: Any) -> AsyncIterator[Stack]:
    async with platforms(dataset, tmp_path) as (standins, urls, config):
        settings = load_settings(config, **overrides)
        async with gateway(settings) as (app, client):
            stack = Stack(standins, urls, settings, app, client)
            await stack_reset(stack)
            yield stack


async def stack_reset(stack: Stack) -> None:
    async with httpx.AsyncClient() as admin:
        for url in stack.urls.values():
            await admin.post(f"{url}/_sim/reset-stats")
