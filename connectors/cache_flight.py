"""Stampede protection: many concurrent misses for the same keys make one upstream call.

    LocalFlight()           identical misses in this process share one load
                            (`resilience.SingleFlight`); the memory cache's flight
    RedisFlight(link)       the same, and across replicas: a short Redis lock per
                            cache key decides which replica loads it

    await flight.run(keys, name=, lookup=, load=) -> {key: value}

`name(key)` is the key's opaque cache key; `lookup(keys)` reads the cache (what
another replica stored); `load(keys)` asks the platform AND stores the answer
in the shared cache, so the replicas waiting on its locks find it there.

Across replicas: for the keys it misses, a replica takes each key's lock
(`SET NX PX`). It loads the keys it got and waits for the others: it reads the
cache again, with growing pauses, until each key is there or its lock is gone —
then it tries to take that lock itself (the holder failed, or its answer was
not cacheable). A lock lives `lock_ttl_s`, longer than an upstream call's
deadline, so a replica that died holding one delays the others by at most
that; past it, a waiter loads for itself. Redis down: every lock counts as
taken, so the flight falls back to this process alone.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import redis.asyncio as redis

from .cache_redis import RedisLink, Unavailable
from .resilience import SingleFlight

__all__ = ["Flight", "LocalFlight", "RedisFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Lookup = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Flight(Protocol):
    async def run(
        self,
        keys: Sequence[K],
        *,
        name: Callable[[K], str],
        lookup: Lookup[K, V],
        load: Lookup[K, V],
    ) -> dict[K, V]: ...


class LocalFlight:
    """Identical concurrent misses in this process share one load."""

    def __init__(self) -> None:
        self._flights: SingleFlight[tuple[str, ...], dict[Any, Any]] = SingleFlight()

    async def run(
        self,
        keys: Sequence[K],
        *,
        name: Callable[[K], str],
        lookup: Lookup[K, V],
        load: Lookup[K, V],
    ) -> dict[K, V]:
        async def once() -> dict[Any, Any]:
            return dict(await load(keys))

        shared: dict[K, V] = await self._flights.run(tuple(name(key) for key in keys), once)
        return shared


class RedisFlight:
    """One load per key across every replica sharing the Redis."""

    def __init__(
        self,
        link: RedisLink,
        *,
        lock_ttl_s: float = 5.0,
        first_pause_s: float = 0.005,
        longest_pause_s: float = 0.05,
    ) -> None:
        self.link = link
        self._lock_ttl_ms = int(lock_ttl_s * 1000)
        self._pauses = (first_pause_s, longest_pause_s)
        self._release = link.client.register_script(_RELEASE)
        self._local: SingleFlight[tuple[str, ...], dict[Any, Any]] = SingleFlight()
        self.loads = 0  # loads this replica led
        self.waits = 0  # misses that waited for another replica's load

    async def run(
        self,
        keys: Sequence[K],
        *,
        name: Callable[[K], str],
        lookup: Lookup[K, V],
        load: Lookup[K, V],
    ) -> dict[K, V]:
        async def across() -> dict[Any, Any]:
            return await self._across(keys, name, lookup, load)

        shared: dict[K, V] = await self._local.run(tuple(name(key) for key in keys), across)
        return shared

    async def _across(
        self, keys: Sequence[K], name: Callable[[K], str], lookup: Lookup[K, V], load: Lookup[K, V]
    ) -> dict[K, V]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lock_ttl_ms / 1000
        result: dict[K, V] = {}
        remaining = list(keys)
        first = True
        while remaining:
            if not first:  # a lock just went: its holder may have stored the answer
                result.update(found := await lookup(remaining))
                remaining = [key for key in remaining if key not in found]
            first = False
            held = await self._acquire([name(key) for key in remaining])
            leading = [key for key in remaining if name(key) in held]
            waiting = [key for key in remaining if name(key) not in held]
            if leading:
                self.loads += 1
                try:
                    result.update(await load(leading))
                finally:
                    await self._release_all(held)
            found, remaining = await self._wait(waiting, name, lookup, deadline)
            result.update(found)
            if remaining and loop.time() >= deadline:
                result.update(await load(remaining))  # the holder is gone or stuck
                break
        return result

    async def _acquire(self, names: Sequence[str]) -> dict[str, str]:
        """The locks taken now: name -> token ("" for all of them when Redis is down)."""
        tokens = [secrets.token_hex(8) for _ in names]

        async def take(client: redis.Redis) -> list[Any]:
            async with client.pipeline(transaction=False) as pipe:
                for lock, token in zip(names, tokens, strict=True):
                    pipe.set(_lock(lock), token, nx=True, px=self._lock_ttl_ms)
                return list(await pipe.execute())

        taken = await self.link.run(take)
        if isinstance(taken, Unavailable):
            return dict.fromkeys(names, "")
        return {lock: token for lock, token, ok in zip(names, tokens, taken, strict=True) if ok}

    async def _release_all(self, held: Mapping[str, str]) -> None:
        async def release(client: redis.Redis) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for lock, token in held.items():
                    await self._release(keys=[_lock(lock)], args=[token], client=pipe)
                await pipe.execute()

        if any(held.values()):
            await self.link.run(release)

    async def _wait(
        self,
        waiting: list[K],
        name: Callable[[K], str],
        lookup: Lookup[K, V],
        deadline: float,
    ) -> tuple[dict[K, V], list[K]]:
        """Until every waited key is cached or unlocked: (what was found, what is not)."""
        loop = asyncio.get_running_loop()
        found: dict[K, V] = {}
        pause, longest = self._pauses
        self.waits += bool(waiting)
        while waiting and loop.time() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)
            found.update(hits := await lookup(waiting))
            waiting = [key for key in waiting if key not in hits]
            if waiting and not await self._all_locked([name(key) for key in waiting]):
                break
        return found, waiting

    async def _all_locked(self, names: Sequence[str]) -> bool:
        async def count(client: redis.Redis) -> int:
            return int(await client.exists(*(_lock(lock) for lock in names)))

        locked = await self.link.run(count)
        return not isinstance(locked, Unavailable) and locked == len(names)


def _lock(name: str) -> str:
    return f"credgate:flight:{name}"
