"""A lean HTTP/1.1 load loop for benchmarks: keep-alive connections on raw asyncio streams.

A general-purpose client spends more time per request than the servers measured
here (httpx costs about 2 ms of CPU a request on this machine, a raw stream
well under 0.3 ms), so a load loop built on it measures the client. This one
writes prepared request bytes and reads exactly one response per request
(status line, headers, Content-Length or chunked body). A 200 answer whose body
holds a GraphQL `"errors"` member or a source that is not ok (`"ok":false`)
is counted apart, so a benchmark can tell a fast failure from a fast answer.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "http_request", "run_load"]


@dataclass
class LoadResult:
    requests: int = 0
    not_ok: int = 0
    with_errors: int = 0  # HTTP 200, but the body holds errors or a failed source
    first_error: bytes = b""  # the first such body
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.per_second:8.0f} requests/s  p50 {median:6.1f} ms  "
            f"p99 {self.percentile(0.99):6.1f} ms  "
            f"({self.requests} requests, {self.not_ok} not 200"
            f"{f', {self.with_errors} with errors' if self.with_errors else ''})"
        )


def http_request(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in {"POST", "PUT"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and the body of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        body += (await reader.readexactly(size + 2))[:size]
        if size == 0:
            return status, bytes(body)


async def run_load(
    url: str,
    make_request: Callable[[], bytes | None],
    *,
    concurrency: int,
    seconds: float,
) -> LoadResult:
    """Drive `url`'s host with `concurrency` connections for `seconds`, or until
    `make_request` returns None (a fixed set of requests, each sent once)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    stop_at = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at and (request := make_request()) is not None:
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.requests += 1
                result.not_ok += status != 200
                if status == 200 and (b'"errors":' in body or b'"ok":false' in body):
                    result.with_errors += 1
                    result.first_error = result.first_error or body
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
