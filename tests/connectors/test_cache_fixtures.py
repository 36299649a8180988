"""What the cache tests share: a movable clock, records, caches, and Redis on loopback.

Redis tests use the server on 127.0.0.1:6379 and skip, with the reason in the
summary, only when nothing answers there. Every cache a test builds has a
fresh random key secret, so its entries (HMAC-named) never meet another
test's, and nothing here flushes the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import SHANGHAI
from connectors.cache import CacheBackend, CacheKeys, RecordCache, RecordKey
from connectors.cache_backends import MemoryCache, TieredCache
from connectors.cache_codec import Codec
from connectors.cache_crypto import EncryptionKeys
from connectors.cache_invalidation import InvalidationBus
from connectors.cache_redis import EncryptedRedisCache, RedisLink
from connectors.cache_rules import INCLUSIVE_ENDS
from connectors.records import CreditRecord, CreditSubject, Sanction, SubjectKey, SubjectType
from connectors.resilience import CircuitBreaker
from schema.in_force import sanction_until
from tests.support import credit_code, id_number

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
ENDS = {**INCLUSIVE_ENDS, Sanction: sanction_until}
TTL_S = {"credit": 300.0, "procurement": 300.0, "court": 300.0, "archive": 300.0}

PERSON = id_number(11)
OTHER_PERSON = id_number(12)
ORG = credit_code(11)


@dataclass
class Clock:
    """Now, as the cache sees it: moved by tests, never by waiting."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime(2025, 6, 30, 12, tzinfo=SHANGHAI))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def credit_record(code: str, record_id: str = "R-1", **fields: Any) -> CreditRecord:
    values: dict[str, Any] = {
        "record_id": record_id,
        "category": "ADMIN_PENALTY",
        "subject_type": SubjectType.PERSON,
        "subject_code": code,
        "subject_name": "张三",
        "decision_no": "辽市监罚〔2025〕12号",
        "violation_type": "未按规定公示年度报告",
        "penalty_types": ("WARNING", "FINE"),
        "penalty_content": "警告并处罚款",
        "fine_amount": Decimal("2500.00"),
        "decision_date": dt.date(2025, 1, 10),
        "authority_name": "某市市场监督管理局",
        "authority_code": credit_code(900),
        "severity": "GENERAL",
        "publicity_end": dt.date(2099, 1, 10),
        "disclosure": "PUBLIC",
        "share_scope": ("ORG_HR",),
        "status": "EFFECTIVE",
        "updated_at": dt.datetime(2025, 1, 10, 9, tzinfo=SHANGHAI),
    }
    values.update(fields)
    return CreditRecord(**values)


def credit_subject(code: str, *records: CreditRecord) -> CreditSubject:
    return CreditSubject(
        SubjectKey(SubjectType.PERSON, code), "张三", records or (credit_record(code),)
    )


def credit_key(code: str) -> RecordKey:
    return RecordKey("credit", "subjects", SubjectKey(SubjectType.PERSON, code))


def new_keys(secret: bytes | None = None) -> CacheKeys:
    return CacheKeys(secret or secrets.token_bytes(32), version=Codec().fingerprint)


def record_cache(
    backend: CacheBackend, keys: CacheKeys, clock: Callable[[], dt.datetime], **options: Any
) -> RecordCache:
    return RecordCache(backend, keys, ttl_s=TTL_S, clock=clock, ends=ENDS, **options)


def redis_reachable() -> str | None:
    """None when Redis answers on loopback, else why not."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            if not connection.recv(16).startswith(b"+PONG"):
                return f"something other than Redis answers on {REDIS_HOST}:{REDIS_PORT}"
    except OSError as exc:
        return f"Redis unreachable at {REDIS_HOST}:{REDIS_PORT}: {exc}"
    return None


def require_redis() -> str:
    """The loopback Redis's URL; skips the test (reason printed) when it is not there.

    Test modules wrap this in their own `redis_url` fixture."""
    reason = redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    return REDIS_URL


@dataclass
class Replica:
    """One gateway replica's cache parts: local tier, shared tier, bus, front."""

    link: RedisLink
    local: MemoryCache
    shared: EncryptedRedisCache
    bus: InvalidationBus
    cache: RecordCache

    async def close(self) -> None:
        await self.bus.stop()
        await self.link.close()


@contextlib.asynccontextmanager
async def replica(
    url: str,
    keys: CacheKeys,
    clock: Callable[[], dt.datetime],
    *,
    encryption: EncryptionKeys | None = None,
    breaker_clock: Callable[[], float] | None = None,
    listen: bool = True,
    timeout_s: float = 0.5,
) -> AsyncIterator[Replica]:
    """A replica on the Redis at `url`, with the cache key secret in `keys`;
    `timeout_s` bounds each Redis call (past it the cache degrades)."""
    link = RedisLink.from_url(url, timeout_s=timeout_s)
    if breaker_clock is not None:
        link.breaker = CircuitBreaker(
            "cache", failure_threshold=1, reset_after_s=1.0, clock=breaker_clock
        )
    local = MemoryCache(1000)
    shared = EncryptedRedisCache(link, encryption or EncryptionKeys(b"k" * 32), Codec())
    bus = InvalidationBus(link, local, origin=shared.origin, retry_s=0.05)
    cache = record_cache(TieredCache(local, shared), keys, clock)
    if listen:
        await bus.start()
    running = Replica(link, local, shared, bus, cache)
    try:
        yield running
    finally:
        await running.close()


class Proxy:
    """A TCP proxy to Redis that a test can stop and start: Redis "down", then back."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connect, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(REDIS_HOST, REDIS_PORT)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(_pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        sink.close()


def no_identifier_in(texts: Iterator[bytes | str], *identifiers: str) -> list[str]:
    """The identifiers found in any of `texts` (bytes are searched as UTF-8)."""
    found = []
    for text in texts:
        raw = text if isinstance(text, bytes) else text.encode()
        found += [identifier for identifier in identifiers if identifier.encode() in raw]
    return found
