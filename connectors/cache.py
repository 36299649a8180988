"""Our cache interface: two levels of role-independent entries over pluggable backends.

    level 1  RecordKey(platform, operation, subject)     a connector's normalised answer
    level 2  ReportKey(subject, purpose, as-of date,     a vetting report
             rule-set version, policy version, visibility class)

    RecordCache.records(keys, allow_stale=False)   -> {key: Entry} for the keys held
    RecordCache.store_records(values, fetched_at=, asked_at=)
    RecordCache.report(key)                        -> Entry | None
    RecordCache.store_report(key, report, ttl_s=, depends_on=, fetched_at=, asked_at=)
    RecordCache.evict(tags) / evict_subjects(identifiers, platform=None)
    RecordCache.health()                           -> CacheHealth (for /readyz, metrics)

Level 1 holds what a platform said, before any visibility rule or mask: masking
happens on the way out, so no role can be served another role's view. Level 2
holds reports per visibility class, because record visibility shapes a report.

Backends (`cache_backends`: none, bounded in-memory LRU, local + Redis tiers;
`cache_redis`: Redis, encrypted) see only opaque keys and `Stored` entries. Keys
and tags never hold an identifier: each is an HMAC under the pseudonym key with
a label of its own (`CacheKeys`). Lifetimes and tags follow `cache_rules`.

Time comes from the injected `clock` (aware datetimes), so tests and the
development mode's fake "now" move it; entries remember when their data was
fetched, which gives `SourceStatus.cacheAgeSeconds` and freshness. The clock
must advance (a fake "now" is an offset from real time, not a fixed instant):
expiry and the order of evictions and puts are both judged on it, and every
replica must use the same one.

A put is refused when one of its tags was evicted after `asked_at` (the moment
the upstream call began): an answer fetched before a change was noticed must
not be cached after the change's eviction ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .base import now_shanghai
from .cache_rules import (
    CACHE_KEY_MIN_BYTES,
    INCLUSIVE_ENDS,
    CacheKeys,
    EndRule,
    RecordKey,
    ReportKey,
    Tag,
    expiry,
    record_tags,
    report_tags,
)
from .settings import PlatformsSettings

__all__ = [
    "CACHE_KEY_MIN_BYTES",
    "PLATFORMS",
    "CacheBackend",
    "CacheHealth",
    "CacheKeys",
    "Entry",
    "RecordCache",
    "RecordKey",
    "ReportKey",
    "Stored",
    "Tag",
    "ttl_by_platform",
]

T = TypeVar("T")
PLATFORMS = ("credit", "procurement", "court", "archive")


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """A cached value as a reader gets it."""

    value: T
    fetched_at: dt.datetime
    fresh_until: dt.datetime
    tags: tuple[str, ...] = ()  # hashed, as stored: what evicts it

    def age_s(self, now: dt.datetime) -> float:
        return max((now - self.fetched_at).total_seconds(), 0.0)

    def stale(self, now: dt.datetime) -> bool:
        """Past its time to live; served only when asked to (the platform is down)."""
        return now >= self.fresh_until


@dataclass(frozen=True, slots=True)
class Stored:
    """An entry as a backend holds it: opaque key and tags, and two deadlines."""

    key: str
    value: object
    fetched_at: dt.datetime
    fresh_until: dt.datetime
    expires_at: dt.datetime  # >= fresh_until; never served after it, stale or not
    tags: tuple[str, ...]  # sorted, each once


@dataclass(frozen=True)
class CacheHealth:
    """How a backend is doing: `ok` False means degraded (answers go to the platforms)."""

    backend: str
    ok: bool
    error: str | None = None
    counters: Mapping[str, int] = field(default_factory=dict)


class CacheBackend(Protocol):
    """Where entries live. Never raises for an unreachable store: a miss, a no-op."""

    name: str

    async def get_many(self, keys: Sequence[str], now: dt.datetime) -> list[Stored | None]:
        """The entries not yet expired at `now`, in the order asked (None: not held)."""
        ...

    async def put_many(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None = None
    ) -> None:
        """Store each item unless a tag was evicted at or after `asked_at` (default:
        the item's `fetched_at`)."""
        ...

    async def evict(self, tags: Collection[str], at: dt.datetime) -> None:
        """Drop every entry carrying one of `tags`; remember the eviction time."""
        ...

    async def clear(self) -> None: ...

    def health(self) -> CacheHealth: ...

    async def close(self) -> None: ...


def ttl_by_platform(platforms: PlatformsSettings) -> dict[str, float]:
    """Each platform's configured `cache_ttl_s`."""
    return {name: getattr(platforms, name).cache_ttl_s for name in PLATFORMS}


class RecordCache:
    """The two cache levels over one backend; what loaders and the vetting code use."""

    def __init__(
        self,
        backend: CacheBackend,
        keys: CacheKeys,
        *,
        ttl_s: Mapping[str, float],
        clock: Callable[[], dt.datetime] = now_shanghai,
        ends: Mapping[type, EndRule] = INCLUSIVE_ENDS,
        stale_grace_s: float = 0.0,
    ) -> None:
        """`ttl_s` is each platform's `cache_ttl_s` (absent: not cached); `ends` the
        end-date rules (pass `{**INCLUSIVE_ENDS, Sanction: sanction_until}`);
        `stale_grace_s` how long past its time to live a level-1 entry is kept for
        stale reads (never past a record's end)."""
        self.backend = backend
        self.keys = keys
        self._ttl_s = dict(ttl_s)
        self._clock = clock
        self._ends = ends
        self._grace_s = stale_grace_s
        self.hits = 0
        self.misses = 0

    def now(self) -> dt.datetime:
        return self._clock()

    async def records(
        self, keys: Sequence[RecordKey], *, allow_stale: bool = False
    ) -> dict[RecordKey, Entry[Any]]:
        """The level-1 entries held for `keys`: fresh ones, and stale ones if allowed."""
        now = self._clock()
        found = await self.backend.get_many([self.keys.record(key) for key in keys], now)
        entries: dict[RecordKey, Entry[Any]] = {}
        for key, stored in zip(keys, found, strict=True):
            if stored is not None and (allow_stale or now < stored.fresh_until):
                entries[key] = Entry(
                    stored.value, stored.fetched_at, stored.fresh_until, stored.tags
                )
        self.hits += len(entries)
        self.misses += len(keys) - len(entries)
        return entries

    async def store_records(
        self,
        values: Mapping[RecordKey, object],
        *,
        fetched_at: dt.datetime | None = None,
        asked_at: dt.datetime | None = None,
    ) -> None:
        """Cache platform answers; `fetched_at` is the answer's as-of time (default now)."""
        now = self._clock()
        items = [
            self._stored(
                self.keys.record(key),
                value,
                fetched_at or now,
                now,
                self._ttl_s.get(key.platform, 0.0),
                self._grace_s,
                [value],
                record_tags(key, value),
            )
            for key, value in values.items()
        ]
        await self._put(items, now, asked_at)

    async def report(self, key: ReportKey) -> Entry[Any] | None:
        now = self._clock()
        (stored,) = await self.backend.get_many([self.keys.report(key)], now)
        if stored is None or now >= stored.fresh_until:
            self.misses += 1
            return None
        self.hits += 1
        return Entry(stored.value, stored.fetched_at, stored.fresh_until, stored.tags)

    async def store_report(
        self,
        key: ReportKey,
        report: object,
        *,
        ttl_s: float,
        depends_on: Mapping[RecordKey, object],
        fetched_at: dt.datetime | None = None,
        asked_at: dt.datetime | None = None,
    ) -> None:
        """Cache a report built from the level-1 values in `depends_on`: it expires
        with the earliest of their end dates and is evicted with any of their tags.
        `fetched_at` is the oldest as-of among its sources."""
        now = self._clock()
        item = self._stored(
            self.keys.report(key),
            report,
            fetched_at or now,
            now,
            ttl_s,
            0.0,
            depends_on.values(),
            report_tags(key, depends_on),
        )
        await self._put([item], now, asked_at)

    async def evict(self, tags: Iterable[Tag]) -> None:
        """Drop every entry, at both levels, depending on one of `tags` (with Redis,
        in every replica: the shared tier tells the others' local tiers)."""
        hashed = frozenset(self.keys.tag(tag) for tag in tags)
        if hashed:
            await self.backend.evict(hashed, self._clock())

    async def evict_subjects(
        self, identifiers: Iterable[str], *, platform: str | None = None
    ) -> None:
        """Forget what one platform (default: every platform) said about these subjects,
        and every report that rested on it."""
        platforms = PLATFORMS if platform is None else (platform,)
        tags: set[Tag] = set()
        for identifier in identifiers:
            tags.update(Tag.subject(name, identifier) for name in platforms)
            if platform is None:
                tags.add(Tag.report(identifier))
        await self.evict(tags)

    def health(self) -> CacheHealth:
        return self.backend.health()

    def _stored(
        self,
        key: str,
        value: object,
        fetched_at: dt.datetime,
        now: dt.datetime,
        ttl_s: float,
        grace_s: float,
        records: Iterable[object],
        tags: Iterable[Tag],
    ) -> Stored:
        listed = list(records)
        fresh_until = expiry(listed, now, ttl_s, self._ends)
        return Stored(
            key=key,
            value=value,
            fetched_at=fetched_at,
            fresh_until=fresh_until,
            expires_at=expiry(listed, now, ttl_s + grace_s, self._ends) if grace_s else fresh_until,
            tags=tuple(sorted({self.keys.tag(tag) for tag in tags})),
        )

    async def _put(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None
    ) -> None:
        # An entry with no time left (TTL 0, or a record ending this instant) is not kept.
        keep = [item for item in items if item.fresh_until > now]
        if keep:
            await self.backend.put_many(keep, now, asked_at)
