"""The cache backends that live in this process, and the tiering over a shared one.

    NoCache       `cache.backend = "none"`: every read misses, every write is dropped
    MemoryCache   `"memory"`: aiocache's SimpleMemoryCache under an LRU bound
    TieredCache   `"redis"`: this replica's MemoryCache in front of the shared
                  `cache_redis.RedisCache`

aiocache's memory backend has no size bound, so `MemoryCache` keeps its own LRU
order (an `OrderedDict` of keys, oldest first) and deletes the least recently
used entry from the aiocache store whenever a put goes past `max_entries`. Its
tag index finds the entries an eviction must drop; the tombstones (tag ->
eviction time, kept `tombstone_s`) refuse a late put of data fetched before the
eviction. Values are held as they are, not encoded: they are frozen records,
and every request reads the same object. An expired entry is dropped when it
is read or pushed out by the bound (no timer per entry), so memory stays
within the cap however entries come and go.

A MemoryCache may also be bounded by bytes (`max_bytes`, with a `weigh`
function giving each value's size): least recently used entries go until
both bounds hold.

A MemoryCache may pass its evictions on (`mirror_evictions`): the gateway keeps
its final answers (level 3) in a MemoryCache of their own, under their own
bound, which every eviction of the local tier reaches — whether it came from
this process or was heard from another replica.

`TieredCache` reads the local tier first and the shared one for the misses,
copying what it found into the local tier (a tombstone there refuses a copy
older than an eviction this replica has heard of). Other replicas' local tiers
are told about evictions by `cache_invalidation.InvalidationBus`.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence

from aiocache import SimpleMemoryCache  # type: ignore[import-untyped]

from .cache import CacheBackend, CacheHealth, Stored

__all__ = ["DEFAULT_MAX_ENTRIES", "MemoryCache", "NoCache", "TieredCache"]

DEFAULT_MAX_ENTRIES = 50_000
DEFAULT_TOMBSTONE_S = 60.0  # longer than any upstream call's deadline


class NoCache:
    """No caching at all: the "cold" configuration."""

    name = "none"

    async def get_many(self, keys: Sequence[str], now: dt.datetime) -> list[Stored | None]:
        return [None] * len(keys)

    async def put_many(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None = None
    ) -> None:
        return None

    async def evict(self, tags: Collection[str], at: dt.datetime) -> None:
        return None

    async def clear(self) -> None:
        return None

    def health(self) -> CacheHealth:
        return CacheHealth(self.name, True)

    async def close(self) -> None:
        return None


class MemoryCache:
    """A bounded LRU cache in this process's memory."""

    name = "memory"

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        *,
        tombstone_s: float = DEFAULT_TOMBSTONE_S,
        max_bytes: int | None = None,
        weigh: Callable[[object], int] | None = None,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if (max_bytes is None) != (weigh is None):
            raise ValueError("max_bytes and weigh go together")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._weigh = weigh
        self._weights: dict[str, int] = {}
        self.bytes = 0
        self._tombstone = dt.timedelta(seconds=tombstone_s)
        # No per-call timeout: a dict lookup needs none, and aiocache would start a task for it.
        self._store = SimpleMemoryCache(timeout=None)
        self._order: OrderedDict[str, tuple[str, ...]] = OrderedDict()  # key -> its tags
        # tag -> its key, or a set once it has several: most tags name one entry,
        # and a set per tag would be the biggest thing held per entry.
        self._by_tag: dict[str, str | set[str]] = {}
        self._evicted_at: dict[str, dt.datetime] = {}  # tag -> last eviction, oldest first
        self._mirrors: list[MemoryCache] = []
        self.lru_evictions = 0

    def __len__(self) -> int:
        return len(self._order)

    async def get_many(self, keys: Sequence[str], now: dt.datetime) -> list[Stored | None]:
        found: list[Stored | None] = await self._store.multi_get(list(keys))
        answer: list[Stored | None] = []
        for key, stored in zip(keys, found, strict=True):
            if stored is None or now >= stored.expires_at:
                if key in self._order:
                    await self._drop(key)
                answer.append(None)
                continue
            self._order.move_to_end(key)
            answer.append(stored)
        return answer

    async def put_many(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None = None
    ) -> None:
        for item in items:
            if now >= item.expires_at or self._evicted_since(item, asked_at or item.fetched_at):
                continue
            if item.key in self._order:
                await self._drop(item.key)
            # No aiocache TTL: its timer per entry would cost memory and a loop
            # callback each; an expired entry is dropped when read or pushed out.
            await self._store.set(item.key, item)
            self._order[item.key] = item.tags
            if self._weigh is not None:
                weight = self._weigh(item.value)
                self._weights[item.key] = weight
                self.bytes += weight
            for tag in item.tags:
                held = self._by_tag.setdefault(tag, item.key)
                if isinstance(held, set):
                    held.add(item.key)
                elif held != item.key:
                    self._by_tag[tag] = {held, item.key}
        while len(self._order) > self.max_entries or (
            self.max_bytes is not None and self.bytes > self.max_bytes
        ):
            oldest = next(iter(self._order))
            await self._drop(oldest)
            self.lru_evictions += 1

    def mirror_evictions(self, other: MemoryCache) -> None:
        """Evict from `other` whatever is evicted here, and empty it with this one: a
        store of entries made from this one's (the gateway's kept answers) kept
        under a bound of its own."""
        self._mirrors.append(other)

    async def evict(self, tags: Collection[str], at: dt.datetime) -> None:
        for mirror in self._mirrors:
            await mirror.evict(tags, at)
        self._forget_tombstones(at)
        doomed: set[str] = set()
        for tag in tags:
            held = self._by_tag.get(tag)
            if held is not None:
                doomed |= held if isinstance(held, set) else {held}
            # Re-inserted, so the dict stays in eviction order for pruning.
            self._evicted_at.pop(tag, None)
            self._evicted_at[tag] = at
        for key in doomed:
            await self._drop(key)

    async def clear(self) -> None:
        for mirror in self._mirrors:
            await mirror.clear()
        await self._store.clear()
        self._order.clear()
        self._by_tag.clear()
        self._weights.clear()
        self.bytes = 0

    def health(self) -> CacheHealth:
        counters = {"entries": len(self._order), "lru_evictions": self.lru_evictions}
        if self.max_bytes is not None:
            counters["bytes"] = self.bytes
        return CacheHealth(self.name, True, counters=counters)

    async def close(self) -> None:
        await self.clear()

    def _evicted_since(self, item: Stored, since: dt.datetime) -> bool:
        return any(
            (at := self._evicted_at.get(tag)) is not None and at >= since for tag in item.tags
        )

    def _forget_tombstones(self, now: dt.datetime) -> None:
        while self._evicted_at:
            tag, at = next(iter(self._evicted_at.items()))
            if now - at < self._tombstone:
                return
            del self._evicted_at[tag]

    async def _drop(self, key: str) -> None:
        self.bytes -= self._weights.pop(key, 0)
        for tag in self._order.pop(key, ()):
            held = self._by_tag.get(tag)
            if isinstance(held, set):
                held.discard(key)
                if len(held) == 1:
                    self._by_tag[tag] = held.pop()
            elif held == key:
                del self._by_tag[tag]
        await self._store.delete(key)


class TieredCache:
    """This replica's memory in front of a cache shared by every replica."""

    name = "redis"

    def __init__(self, local: MemoryCache, shared: CacheBackend) -> None:
        self.local = local
        self.shared = shared

    async def get_many(self, keys: Sequence[str], now: dt.datetime) -> list[Stored | None]:
        answer = await self.local.get_many(keys, now)
        missing = [i for i, stored in enumerate(answer) if stored is None]
        if not missing:
            return answer
        shared = await self.shared.get_many([keys[i] for i in missing], now)
        for i, stored in zip(missing, shared, strict=True):
            answer[i] = stored
        copies = [stored for stored in shared if stored is not None]
        if copies:
            await self.local.put_many(copies, now)
        return answer

    async def put_many(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None = None
    ) -> None:
        await self.local.put_many(items, now, asked_at)
        await self.shared.put_many(items, now, asked_at)

    async def evict(self, tags: Collection[str], at: dt.datetime) -> None:
        await self.local.evict(tags, at)
        await self.shared.evict(tags, at)

    async def clear(self) -> None:
        await self.local.clear()
        await self.shared.clear()

    def health(self) -> CacheHealth:
        shared = self.shared.health()
        counters = {**self.local.health().counters, **shared.counters}
        return CacheHealth(self.name, shared.ok, shared.error, counters)

    async def close(self) -> None:
        await self.local.close()
        await self.shared.close()
