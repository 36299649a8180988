"""Is each platform reachable? A light check per platform for readiness and `sources`.

The check proves the platform answers in its own protocol within the platform's
deadline; it reads no personal data. The credit platform is asked an unsigned
question and must refuse it in its envelope (an authenticated probe needs the
credit connector's request signing); procurement must serve its WSDL; the court
must grant a token for our client credentials; the archive's exchange database
must answer a query on `cs_person`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import psycopg

from .settings import ArchiveSettings, PlatformsSettings

__all__ = ["PLATFORMS", "Probe", "probe_all"]

PLATFORMS = ("credit", "procurement", "court", "archive")
_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Probe:
    """One platform's reachability at one moment."""

    platform: str
    ok: bool
    checked_at: dt.datetime
    error: str | None = None


class _Unhealthy(Exception):
    """A platform answered, but not as a healthy one would."""


async def probe_all(platforms: PlatformsSettings, client: httpx.AsyncClient) -> list[Probe]:
    """Probe the four platforms concurrently, each within its own deadline."""
    checks: dict[str, Callable[[], Awaitable[None]]] = {
        "credit": lambda: _credit(platforms, client),
        "procurement": lambda: _procurement(platforms, client),
        "court": lambda: _court(platforms, client),
        "archive": lambda: _archive(platforms.archive),
    }
    return list(
        await asyncio.gather(
            *(_timed(name, checks[name], getattr(platforms, name).timeout_s) for name in PLATFORMS)
        )
    )


async def _timed(name: str, check: Callable[[], Awaitable[None]], timeout_s: float) -> Probe:
    try:
        await asyncio.wait_for(check(), timeout_s)
    except TimeoutError:
        return Probe(name, False, _now(), f"no answer within {timeout_s:g} s")
    except httpx.TransportError as exc:
        return Probe(name, False, _now(), f"unreachable ({type(exc).__name__})")
    except (_Unhealthy, sqlite3.Error, psycopg.Error) as exc:
        return Probe(name, False, _now(), _first_line(str(exc)))
    return Probe(name, True, _now())


async def _credit(platforms: PlatformsSettings, client: httpx.AsyncClient) -> None:
    answer = await client.get(f"{platforms.credit.url.rstrip('/')}/api/v2/changes")
    _expect(answer, {401}, "credit platform")
    try:
        code = answer.json().get("code")
    except (ValueError, AttributeError):
        code = None
    if not isinstance(code, str):
        raise _Unhealthy("credit platform: answer is not in the platform's envelope")


async def _procurement(platforms: PlatformsSettings, client: httpx.AsyncClient) -> None:
    answer = await client.get(platforms.procurement.url, params={"wsdl": ""})
    _expect(answer, {200}, "procurement system")
    if b"definitions" not in answer.content:
        raise _Unhealthy("procurement system: no WSDL served")


async def _court(platforms: PlatformsSettings, client: httpx.AsyncClient) -> None:
    court = platforms.court
    answer = await client.post(
        f"{court.url.rstrip('/')}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": court.client_id,
            "client_secret": court.client_secret.get_secret_value(),
        },
    )
    _expect(answer, {200}, "court interface")


async def _archive(archive: ArchiveSettings) -> None:
    if archive.dsn.startswith("sqlite:///"):
        await asyncio.to_thread(_sqlite_query, archive.dsn.removeprefix("sqlite:///"))
        return
    async with await psycopg.AsyncConnection.connect(archive.dsn, autocommit=True) as connection:
        await connection.execute("SELECT person_id FROM cs_person LIMIT 1")


def _sqlite_query(path: str) -> None:
    # mode=ro: the probe must never create an empty database where none exists.
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        connection.execute("SELECT person_id FROM cs_person LIMIT 1").fetchall()


def _expect(answer: httpx.Response, statuses: set[int], platform: str) -> None:
    if answer.status_code not in statuses:
        raise _Unhealthy(f"{platform}: unexpected HTTP {answer.status_code}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "error"


def _now() -> dt.datetime:
    return dt.datetime.now(_SHANGHAI)
