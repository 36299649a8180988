"""The whole stack in one test: four stand-ins on loopback and a gateway over them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from auth.devkeys import mint_token
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

    def token(self, role: str = "credit_admin", sub: str = "tester", **claims: Any) -> str:
        """A development token signed with this stack's development key pair."""
        return mint_token(Path(self.settings.auth.dev_keys_dir), role, sub, **claims)

    async def post(
        self, query: str, token: str | None = "admin", **variables: Any
    ) -> httpx.Response:
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + (self.token() if token == "admin" else token)
        payload = {"query": query, "variables": variables}
        return await self.client.post("/graphql", json=payload, headers=headers)

    async def query(
        self, query: str, token: str | None = "admin", **variables: Any
    ) -> dict[str, Any]:
        """The answer's JSON; by default asked as credit_admin (who sees everything)."""
        body: dict[str, Any] = (await self.post(query, token, **variables)).json()
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
    dataset: Path, tmp_path: Path, **options: Any
) -> AsyncIterator[tuple[Standins, dict[str, str], Path]]:
    """The stand-ins running (`options` as `StandinOptions` takes them); yields
    them, their URLs and a gateway config file."""
    standins = build_standins(
        StandinOptions(
            dataset=dataset, archive_dsn=f"sqlite:///{tmp_path / 'archive.db'}", **options
        )
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
        defaults = {
            "auth": {"dev_keys_dir": str(tmp_path / "keys")},
            "access_log": {"dsn": f"sqlite:///{tmp_path / 'access.db'}"},
        }
        merged = {
            section: {**defaults.get(section, {}), **overrides.get(section, {})}
            for section in {*defaults, *overrides}
        }
        settings = load_settings(config, **merged)
        async with gateway(settings) as (app, client):
            stack = Stack(standins, urls, settings, app, client)
            await stack_reset(stack)
            yield stack


async def stack_reset(stack: Stack) -> None:
    async with httpx.AsyncClient() as admin:
        for url in stack.urls.values():
            await admin.post(f"{url}/_sim/reset-stats")
