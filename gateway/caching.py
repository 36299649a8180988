"""The cache of one gateway process, built from `[cache]` and run by the app's lifespan.

    backend "none"     NoCache and a local flight; no change feeds (nothing to evict)
            "memory"   a bounded MemoryCache, a local flight, and a poller per
                       platform whose cursor is kept in `cursor_dir`
            "redis"    this process's MemoryCache in front of the encrypted Redis
                       tier (TieredCache); single-flight across replicas
                       (RedisFlight); evictions heard from the other replicas
                       (InvalidationBus); cursors in Redis and one replica at a
                       time polling each platform (RedisLease)

While Redis cannot be reached each replica's pollers follow the feeds for its
own tier, from the last cursor they knew (`ChangePoller`, "alone" in
`/readyz`), so a change still evicts while the replicas cannot tell each other.

`Caching.start()` subscribes the bus and starts the pollers, and returns once
each poller has caught up with its feed (or `CATCH_UP_S` passed), so the app
starts with its cache true to the platforms. `status()` is what `/readyz`
shows: a Redis that cannot be reached degrades the cache (answers then come
from the platforms and this process's tier) but not the gateway.

Time: every part reads the same clock. `CREDGATE_FAKE_NOW` (development mode
only) moves it: it names an instant, and the clock runs on from there — an
offset from real time, never a frozen one, because expiry and the order of
evictions and writes are judged on it.

A cursor means something only on the feed it came from, so each is saved with
a pin (an HMAC of the platform's address under the pseudonym key): one saved
against another platform instance or deployment is ignored and the feed is
read from the start. With the memory backend each process keeps its own
progress (its cache is its own) and the file is only where the next start
begins; with Redis the cursor is the replicas' shared progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from connectors.base import SHANGHAI, now_shanghai
from connectors.bundle import Connectors
from connectors.cache import (
    PLATFORMS,
    CacheBackend,
    CacheKeys,
    RecordCache,
    Tag,
    ttl_by_platform,
)
from connectors.cache_backends import MemoryCache, NoCache, TieredCache
from connectors.cache_codec import RECORD_TYPES, Codec
from connectors.cache_crypto import EncryptionKeys
from connectors.cache_flight import Flight, LocalFlight, RedisFlight
from connectors.cache_invalidation import (
    ChangePoller,
    CursorStore,
    FileCursors,
    InvalidationBus,
    RedisCursors,
    RedisLease,
)
from connectors.cache_redis import EncryptedRedisCache, RedisLink
from connectors.cache_rules import INCLUSIVE_ENDS
from connectors.changes import (
    ArchiveChanges,
    ChangeFeed,
    CourtChanges,
    CreditChanges,
    ProcurementChanges,
)
from connectors.court import CourtConnector
from connectors.records import Sanction
from connectors.settings import PlatformsSettings
from schema.in_force import sanction_until
from schema.loaders import SourceCache
from schema.vet import REPORT_TYPES

from .keys import pseudonym_key
from .settings import ConfigError, Settings

__all__ = ["CATCH_UP_S", "Caching", "build_caching", "clock_from_environment"]

logger = logging.getLogger(__name__)

CATCH_UP_S = 10.0  # how long a start waits for the change feeds (then goes on)
FAKE_NOW = "CREDGATE_FAKE_NOW"
Clock = Callable[[], dt.datetime]


def clock_from_environment(settings: Settings) -> Clock:
    """The real clock, or in development mode one running from `CREDGATE_FAKE_NOW`."""
    text = os.environ.get(FAKE_NOW, "").strip()
    if not text:
        return now_shanghai
    if settings.gateway.mode != "development":
        raise ConfigError(f"{FAKE_NOW} is refused in production mode")
    try:
        fake = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{FAKE_NOW}: not an ISO 8601 date or time") from None
    if fake.tzinfo is None:
        fake = fake.replace(tzinfo=SHANGHAI)
    offset = fake - now_shanghai()

    def clock() -> dt.datetime:
        return now_shanghai() + offset

    return clock


class _Poller(ChangePoller):
    """A poller that says when its first round is over (caught up, refused or failed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_round = asyncio.Event()

    async def poll_once(self) -> int:
        try:
            return await super().poll_once()
        finally:
            self.first_round.set()


class _PinnedCursors:
    """Cursors saved with the pin of the feed they belong to (see the module docstring)."""

    def __init__(self, inner: CursorStore, pins: Mapping[str, str], *, own: bool) -> None:
        self._inner = inner
        self._pins = pins
        self._own: dict[str, str] | None = {} if own else None  # this process's progress

    async def load(self, platform: str) -> str | None:
        if self._own is not None and platform in self._own:
            return self._own[platform]
        try:
            saved = await self._inner.load(platform)
        except OSError:
            if self._own is None:
                raise
            saved = None  # an unreadable file: start from the beginning
        pin, _, cursor = (saved or "").partition(" ")
        return cursor if cursor and pin == self._pins[platform] else None

    async def save(self, platform: str, cursor: str) -> None:
        if self._own is None:
            await self._inner.save(platform, f"{self._pins[platform]} {cursor}")
            return
        self._own[platform] = cursor
        try:
            await self._inner.save(platform, f"{self._pins[platform]} {cursor}")
        except OSError as error:  # the next start reads more; nothing is missed
            logger.warning("change cursor of %s not saved: %s", platform, error.strerror)


@dataclass
class Caching:
    """One process's cache and what keeps it true; see the module docstring."""

    settings: Settings
    sources: SourceCache
    backend: CacheBackend
    keys: CacheKeys
    link: RedisLink | None = None
    bus: InvalidationBus | None = None
    pollers: list[_Poller] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None

    @property
    def records(self) -> RecordCache:
        return self.sources.records

    def new_answer_store(self, weigh: Callable[[object], int]) -> MemoryCache | None:
        """A store for level 3 (kept answers) under `[cache] max_answers` and
        `max_answer_bytes` (`weigh` sizes an answer), evicted with this process's
        tier; None when nothing is cached or level 3 is off."""
        local = self.backend.local if isinstance(self.backend, TieredCache) else self.backend
        cache = self.settings.cache
        if not isinstance(local, MemoryCache) or cache.max_answers == 0:
            return None
        store = MemoryCache(cache.max_answers, max_bytes=cache.max_answer_bytes, weigh=weigh)
        local.mirror_evictions(store)
        return store

    def now(self) -> dt.datetime:
        return self.sources.now()

    def today(self) -> dt.date:
        return self.sources.now().date()

    async def start(self, connectors: Connectors) -> None:
        """Listen for other replicas' evictions, start the pollers, wait for them to catch up."""
        if self.settings.cache.backend == "none":
            return
        if self.bus is not None:
            await self.bus.start()
        # The feeds' own connection pool: background traffic, no part of any request
        # (nor of its trace), does not queue behind the queries.
        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=8))
        self.pollers = self._pollers(connectors, self._client)
        for poller in self.pollers:
            poller.start()
        try:
            async with asyncio.timeout(CATCH_UP_S):
                await asyncio.gather(*(p.first_round.wait() for p in self.pollers))
        except TimeoutError:
            logger.warning("the change feeds were not read within %g s; going on", CATCH_UP_S)

    async def stop(self) -> None:
        for poller in self.pollers:
            await poller.stop()
        if self._client is not None:
            await self._client.aclose()
        if self.bus is not None:
            await self.bus.stop()
        await self.backend.close()

    async def status(self) -> dict[str, Any]:
        """The cache's state for `/readyz`: "ok" or "degraded", and why."""
        if self.link is not None:
            # Asked now, so an idle gateway notices Redis going and coming back.
            await self.link.run(lambda client: client.ping())
        health = self.records.health()
        listening = self.bus is None or self.bus.subscribed
        ok = health.ok and listening
        error = health.error or (None if listening else "not hearing other replicas' evictions")
        return {
            "status": "ok" if ok else "degraded",
            "backend": health.backend,
            "error": None if ok else error,
            "counters": self.counters(),
            "changeFeeds": {
                poller.platform: {
                    "ok": poller.last_error is None,
                    "error": poller.last_error,
                    # Redis down: this replica follows the feed for its own tier only.
                    "alone": poller.alone,
                    # When it last read the feed to its end (or, without the lease,
                    # found another replica reading it); null until then.
                    "lastSuccess": (
                        None if poller.last_success is None else poller.last_success.isoformat()
                    ),
                }
                for poller in self.pollers
            },
        }

    def observe(self, meter_provider: MeterProvider) -> None:
        """Export the cache's state as metrics, read whenever the exporter collects."""
        meter = meter_provider.get_meter("credgate.cache")

        def degraded(options: CallbackOptions) -> Iterable[Observation]:
            listening = self.bus is None or self.bus.subscribed
            yield Observation(int(not (self.records.health().ok and listening)))

        def counted(options: CallbackOptions) -> Iterable[Observation]:
            for name, value in self.counters().items():
                yield Observation(value, {"counter": name})

        meter.create_observable_gauge(
            "credgate.cache.degraded", [degraded], description="1 while Redis cannot be used"
        )
        meter.create_observable_counter(
            "credgate.cache.events", [counted], description="hits, misses, evictions, ..."
        )

    def counters(self) -> dict[str, int]:
        """Hits, misses and the backend's own counts, for metrics."""
        counters = {"hits": self.records.hits, "misses": self.records.misses}
        counters.update(self.records.health().counters)
        if isinstance(self.sources.flight, RedisFlight):
            counters["flight_loads"] = self.sources.flight.loads
            counters["flight_waits"] = self.sources.flight.waits
        if self.bus is not None:
            counters["evictions_heard"] = self.bus.heard
        counters["changes_seen"] = sum(poller.changes_seen for poller in self.pollers)
        return counters

    def _pollers(self, connectors: Connectors, client: httpx.AsyncClient) -> list[_Poller]:
        platforms = self.settings.platforms
        feeds: list[ChangeFeed] = [
            CreditChanges(platforms.credit, client),
            ProcurementChanges(platforms.procurement, client),
            # A session of its own: the feed's token comes and goes apart from the queries'.
            CourtChanges(CourtConnector(platforms.court, client), client),
            ArchiveChanges(connectors.archive.database, timeout_s=platforms.archive.timeout_s),
        ]
        pins = _pins(self.keys, platforms)
        cache = self.settings.cache
        if self.link is None:
            inner: CursorStore = FileCursors(Path(cache.cursor_dir) / "cursors.json")
            cursors = _PinnedCursors(inner, pins, own=True)
        else:
            cursors = _PinnedCursors(RedisCursors(self.link), pins, own=False)
        link = self.link
        return [
            _Poller(
                feed,
                self.records,
                cursors,
                interval_s=cache.poll_interval_s,
                lease=RedisLease(link, f"{feed.platform}:{pins[feed.platform]}") if link else None,
                clock=self.now,
            )
            for feed in feeds
        ]


def build_caching(settings: Settings, *, clock: Clock | None = None) -> Caching:
    """The cache `settings` ask for (nothing is connected yet); ConfigError when unusable."""
    clock = clock or clock_from_environment(settings)
    cache = settings.cache
    codec = Codec((*RECORD_TYPES, *REPORT_TYPES))
    secret = pseudonym_key(settings)
    keys = CacheKeys(secret, version=codec.fingerprint)
    link: RedisLink | None = None
    bus: InvalidationBus | None = None
    flight: Flight = LocalFlight()
    backend: CacheBackend
    if cache.backend == "none":
        backend = NoCache()
    elif cache.backend == "memory":
        backend = MemoryCache(cache.max_entries)
    else:
        try:
            link = RedisLink.from_url(cache.redis_url, timeout_s=cache.redis_timeout_s)
        except ValueError as error:
            raise ConfigError(f"cache.redis_url: {error}") from None
        local = MemoryCache(cache.max_entries)
        shared = EncryptedRedisCache(link, _encryption_keys(settings, secret), codec)
        backend = TieredCache(local, shared)
        bus = InvalidationBus(link, local, origin=shared.origin)
        # A lock outlives the slowest load it guards: a platform's deadline counts
        # platform time and may wait as long again while this process is behind
        # (connectors.loop_stall), and a lock that lapsed mid-load would let
        # another replica load the same keys.
        slowest = max(getattr(settings.platforms, name).timeout_s for name in PLATFORMS)
        flight = RedisFlight(link, lock_ttl_s=max(5.0, 2 * slowest + 1))
    records = RecordCache(
        backend,
        keys,
        ttl_s=ttl_by_platform(settings.platforms),
        clock=clock,
        ends={**INCLUSIVE_ENDS, Sanction: sanction_until},
        stale_grace_s=cache.stale_grace_s,
    )
    freshness = {name: getattr(settings.platforms, name).freshness_s for name in PLATFORMS}
    sources = SourceCache(
        records,
        flight,
        ttl_by_platform(settings.platforms),
        freshness,
        keeps=cache.backend != "none",
    )
    return Caching(settings, sources, backend, keys, link=link, bus=bus)


def _encryption_keys(settings: Settings, pseudonym_secret: bytes) -> EncryptionKeys:
    """The configured key files; in development without one, a key derived from the
    pseudonym key (HKDF under the cache's own label, so no other use shares it)."""
    cache = settings.cache
    try:
        if cache.encryption_key_file:
            return EncryptionKeys.from_files(
                Path(cache.encryption_key_file), [Path(p) for p in cache.previous_key_files]
            )
    except ValueError as error:
        raise ConfigError(f"cache.encryption_key_file: {error}") from None
    return EncryptionKeys(pseudonym_secret)


def _pins(keys: CacheKeys, platforms: PlatformsSettings) -> dict[str, str]:
    """Each platform's address as a short HMAC (an archive DSN may hold a password)."""
    addresses = {
        "credit": platforms.credit.url,
        "procurement": platforms.procurement.url,
        "court": platforms.court.url,
        "archive": platforms.archive.dsn,
    }
    return {name: keys.tag(Tag("cursor", name, at))[:16] for name, at in addresses.items()}
