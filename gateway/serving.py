"""Slow clients: uvicorn's HTTP protocol with a header deadline and a connection bound.

uvicorn bounds how long a kept-alive connection may sit idle between requests
(`timeout_keep_alive`, from `[limits] keep_alive_s`) but not how long a
request's headers may take: a client sending one header line every few seconds
holds its connection, and a file descriptor, for as long as it likes. Its
`limit_concurrency` does not help: it counts those connections too and answers
real callers with a plain-text 503 once they fill it.

`GuardedHttpToolsProtocol` adds, per worker:

- a header deadline: the request line and headers must all arrive within
  `[limits] header_timeout_s` of the connection opening (or of the request's
  first byte, on a kept-alive connection); past it the connection is answered
  408 and closed;
- a connection bound: when a new connection makes more than
  `[limits] max_connections`, the connection that has waited longest for its
  headers is closed to make room (a real caller's headers arrive at once, a
  slow client's do not); with none waiting, the new connection is refused.

The body's deadline is the admission layer's (`gateway/admission.py`). Both
read their values from the worker's configuration (`CREDGATE_CONFIG`), since
uvicorn builds protocols by import path in each worker process.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import LimitsSettings, load_settings

__all__ = ["GuardedHttpToolsProtocol", "worker_limits"]

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TOO_MANY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@functools.cache
def worker_limits() -> LimitsSettings:
    """This worker's `[limits]`, read once."""
    return load_settings().limits


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection bound."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = worker_limits()
        self._header_timeout_s = limits.header_timeout_s
        self._max_connections = limits.max_connections
        self._header_timer: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None  # headers expected since (loop time)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()
        if len(self.connections) > self._max_connections:
            self._make_room()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.waiting_since is None:  # the next request on a kept-alive connection
            self._expect_headers()

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def _expect_headers(self) -> None:
        self.waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._close, _TIMED_OUT)

    def _headers_arrived(self) -> None:
        self.waiting_since = None
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _close(self, answer: bytes) -> None:
        self._headers_arrived()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def _make_room(self) -> None:
        waiting = [
            other
            for other in self.connections
            if isinstance(other, GuardedHttpToolsProtocol) and other.waiting_since is not None
        ]
        oldest = min(waiting, key=lambda other: other.waiting_since or 0.0, default=None)
        (oldest or self)._close(_TOO_MANY)
