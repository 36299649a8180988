"""The HTTP client the connectors share: httpx's API over aiohttp's connection pool.

httpcore 1.0's pool scans every pooled connection on every request (a `poll()`
on each idle socket to see whether it has expired), so with a few dozen
connections open to the platforms that scan was about half of the gateway's
CPU on a cold query. `httpx-aiohttp`'s transport keeps httpx's request and
response types, timeouts and errors (what the connectors and the OpenTelemetry
instrumentation use) and hands the connection to aiohttp, whose pool takes an
idle connection off a per-host list.

The aiohttp session keeps no cookies: the platforms' answers are not a browsing
session, and nothing one caller's lookup made a platform say may ride along on
another caller's request.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["MAX_CONNECTIONS", "upstream_client"]

MAX_CONNECTIONS = 200  # to all platforms together, as httpx's pool was bounded
# An idle connection is dropped well before a server would close it (uvicorn: 5 s),
# so a request is never written onto a connection the platform is closing.
KEEPALIVE_S = 2.0


def upstream_client(max_connections: int = MAX_CONNECTIONS) -> httpx.AsyncClient:
    """A client for the platforms; close it with `aclose()` (or `async with`)."""

    def session() -> aiohttp.ClientSession:
        # Made on the first request, inside the running event loop, as aiohttp wants.
        connector = aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=KEEPALIVE_S)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return httpx.AsyncClient(transport=AiohttpTransport(client=session))
