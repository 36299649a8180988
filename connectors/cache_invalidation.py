"""Keeping cached entries true to the platforms: evictions told to every replica,
and a poller per platform following its change feed.

    InvalidationBus(link, local, origin=)
                                   listens on Redis pub/sub: what another replica
                                   evicted (`cache_redis.EncryptedRedisCache`
                                   publishes every eviction) leaves this replica's
                                   local tier too
    ChangePoller(feed, cache, cursors, lease=)
                                   reads a `changes.ChangeFeed` until an empty page,
                                   evicting each page's tags, saving the cursor after
    FileCursors(path) / RedisCursors(link)
                                   where the cursor survives restarts: a small file
                                   (memory cache), or Redis (shared by the replicas)
    RedisLease(link, name)         with Redis, one replica at a time polls a platform

A listener that lost its subscription may have missed evictions, so once it is
subscribed again it empties the local tier. While Redis is down every replica
follows the feeds itself, for its own tier, from the last cursor it knew. A
poller saves its cursor only after the page's eviction ran, so a crash re-reads
a page rather than skipping one; an eviction Redis could not take is replayed
by the cache itself.
Messages carry tag HMACs only, never an identifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import RedisError

from .base import SHANGHAI, now_shanghai
from .cache import RecordCache
from .cache_backends import MemoryCache
from .cache_redis import CHANNEL, RedisLink, Unavailable
from .changes import ChangeFeed
from .errors import SourceError, SourceProtocolError, SourceUnavailable

__all__ = [
    "ChangePoller",
    "CursorStore",
    "CursorUnavailable",
    "FileCursors",
    "InvalidationBus",
    "Lease",
    "RedisCursors",
    "RedisLease",
]

log = logging.getLogger(__name__)


class InvalidationBus:
    """Evictions heard from every other replica, applied to this one's local tier."""

    def __init__(
        self, link: RedisLink, local: MemoryCache, *, origin: str, retry_s: float = 1.0
    ) -> None:
        """`origin` is this replica's shared tier's (`EncryptedRedisCache.origin`):
        its own evictions are applied locally already."""
        self.link = link
        self.local = local
        self.origin = origin
        self._retry_s = retry_s
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self.subscribed = False
        self.failures = 0  # subscriptions lost or refused
        self.heard = 0  # eviction messages from other replicas applied here

    async def start(self) -> None:
        """Start listening; returns once subscribed (or after the first failure)."""
        self._task = asyncio.create_task(self._listen())
        async with self._changed:
            await self._changed.wait_for(lambda: self.subscribed or self.failures > 0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait_for(self, state: Callable[[], bool]) -> None:
        """Until `state()` holds; checked whenever the bus hears or (un)subscribes."""
        async with self._changed:
            await self._changed.wait_for(state)

    async def _listen(self) -> None:
        lost = False
        while True:
            pubsub = self.link.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                if lost:
                    await self.local.clear()  # what was said meanwhile is unknown
                await self._set_subscribed(True)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        await self._apply(message.get("data"))
            except (RedisError, OSError, TimeoutError) as exc:
                lost = True
                self.link.last_error = f"eviction channel lost ({type(exc).__name__})"
                self.failures += 1
                await self._set_subscribed(False)
                await asyncio.sleep(self._retry_s)
            finally:
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _apply(self, data: object) -> None:
        try:
            message = json.loads(data) if isinstance(data, bytes | str) else {}
            origin, at_ms, tags = message["o"], message["at"], message["t"]
            if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
                raise TypeError("tags")
            at = dt.datetime.fromtimestamp(int(at_ms) / 1000, SHANGHAI)
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a malformed cache eviction message")
            return
        if origin == self.origin:
            return
        await self.local.evict(frozenset(tags), at)
        async with self._changed:
            self.heard += 1
            self._changed.notify_all()

    async def _set_subscribed(self, subscribed: bool) -> None:
        async with self._changed:
            self.subscribed = subscribed
            self._changed.notify_all()


class CursorStore(Protocol):
    async def load(self, platform: str) -> str | None: ...

    async def save(self, platform: str, cursor: str) -> None: ...


class FileCursors:
    """Cursors in a small JSON file, replaced atomically on every save."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self, platform: str) -> str | None:
        cursor = (await asyncio.to_thread(self._read)).get(platform)
        return cursor if isinstance(cursor, str) else None

    async def save(self, platform: str, cursor: str) -> None:
        await asyncio.to_thread(self._write, platform, cursor)

    def _read(self) -> dict[str, Any]:
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return content if isinstance(content, dict) else {}

    def _write(self, platform: str, cursor: str) -> None:
        content = {**self._read(), platform: cursor}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".cursors-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(content, handle)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


class CursorUnavailable(SourceUnavailable):
    """Redis, where the cursor lives, cannot be reached: the poll is tried again later."""


class RedisCursors:
    """Cursors in Redis, shared by every replica (`credgate:cursor:PLATFORM`)."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    async def load(self, platform: str) -> str | None:
        value = await self.link.run(lambda client: client.get(f"credgate:cursor:{platform}"))
        if isinstance(value, Unavailable):
            raise CursorUnavailable("cache", "the change cursor cannot be read")
        return value.decode() if isinstance(value, bytes) else None

    async def save(self, platform: str, cursor: str) -> None:
        done = await self.link.run(lambda client: client.set(f"credgate:cursor:{platform}", cursor))
        if isinstance(done, Unavailable):
            raise CursorUnavailable("cache", "the change cursor cannot be saved")


_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


class RedisLease:
    """A renewable lease: the replica holding it polls the platform, the others rest."""

    def __init__(self, link: RedisLink, name: str, *, ttl_s: float = 10.0) -> None:
        self.link = link
        self._key = f"credgate:lease:{name}"
        self._owner = secrets.token_hex(8)
        self._ttl_ms = int(ttl_s * 1000)
        self._hold = link.client.register_script(_HOLD)

    async def hold(self) -> bool:
        """Take or renew the lease; False when another replica holds it or Redis is down."""
        held = await self.link.run(
            lambda _: self._hold(keys=[self._key], args=[self._owner, self._ttl_ms])
        )
        return not isinstance(held, Unavailable) and bool(held)


class Lease(Protocol):
    async def hold(self) -> bool: ...


class ChangePoller:
    """Follows one platform's change feed and evicts what it names."""

    def __init__(
        self,
        feed: ChangeFeed,
        cache: RecordCache,
        cursors: CursorStore,
        *,
        interval_s: float = 1.0,
        max_backoff_s: float = 30.0,
        lease: Lease | None = None,
        clock: Callable[[], dt.datetime] = now_shanghai,
    ) -> None:
        self.feed = feed
        self.platform = feed.platform
        self._cache = cache
        self._cursors = cursors
        self._interval_s = interval_s
        self._max_backoff_s = max_backoff_s
        self._lease = lease
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._known: str | None = None  # the last cursor seen, here or in the store
        self.alone = False  # reading for this replica only: the cursor store is down
        self.changes_seen = 0
        self.last_success: dt.datetime | None = None
        self.last_error: str | None = None

    async def poll_once(self) -> int:
        """Read pages until an empty one (up to date); the number of changes read.

        When the cursor store cannot be reached (Redis down: no replica can hold
        the lease, keep the shared cursor or tell the others what it evicted),
        this replica reads the feed for its own tier, from the last cursor it
        knew, keeping its progress in memory until the store is back. What was
        read alone may be read again once a replica holds the lease: evicting
        twice does no harm, missing a change would."""
        try:
            cursor = await self._cursors.load(self.platform)
        except CursorUnavailable:
            self.alone = True
            return await self._follow(self._known, shared=False)
        self.alone = False
        if cursor is not None:
            self._known = cursor
        return await self._follow(cursor, shared=True)

    async def _follow(self, cursor: str | None, *, shared: bool) -> int:
        read, restarted = 0, False
        while not shared or self._lease is None or await self._lease.hold():
            try:
                page = await self.feed.read(cursor)
            except SourceProtocolError:
                if cursor is None or restarted:
                    raise
                # A cursor the platform no longer knows (its feed was rebuilt):
                # start again from the beginning, once; evicting twice does no harm.
                log.warning("%s refused the change cursor; reading from the start", self.platform)
                cursor, restarted = None, True
                continue
            if page.size == 0:
                break
            await self._cache.evict(page.tags)
            if page.cursor is not None:
                cursor = self._known = page.cursor
                if shared:
                    await self._cursors.save(self.platform, cursor)
            read += page.size
            self.changes_seen += page.size
        self.last_success, self.last_error = self._clock(), None
        return read

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._interval_s
        while True:
            try:
                await self.poll_once()
                delay = self._interval_s
            except SourceError as error:
                self.last_error = error.message
                log.warning("change feed of %s: %s", self.platform, error.message)
                delay = min(max(delay * 2, self._interval_s), self._max_backoff_s)
            except Exception:
                # A poller that stopped would leave changes unnoticed until entries
                # expire: note the fault and keep going, more slowly.
                self.last_error = "unexpected failure"
                log.exception("change feed of %s failed unexpectedly", self.platform)
                delay = self._max_backoff_s
            await asyncio.sleep(delay)
