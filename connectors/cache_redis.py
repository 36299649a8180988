"""The shared cache in Redis: aiocache's RedisCache, entries encrypted, failures degraded.

    RedisLink.from_url(url)      one connection pool, guarded by a breaker; shared by
                                 the cache, the invalidation bus, the single-flight
                                 locks, the pollers' cursors and leases
    EncryptedRedisCache(link, keys, codec)
                                 the `CacheBackend` for `cache.backend = "redis"`

Layout (every name opaque: entry keys and tags are HMACs, see `connectors.cache`):

    cg:1:… / cg:2:…   an entry: AES-GCM sealed (`cache_crypto`) tagged JSON
                      (`cache_codec`) of (fetched_at, fresh_until, expires_at,
                      tags, value); PX = until `expires_at`
    cg:i:TAG          set of the entry keys carrying TAG; lives as long as its
                      longest-lived entry
    cg:x:TAG          tombstone: when TAG was last evicted (ms), kept a minute

A put and an eviction are each one Lua script, so they are atomic with respect
to each other: a put refused by a tombstone never lands after the eviction.
Each eviction is then published on `CHANNEL` (tags and time only), for the
other replicas' local tiers (`cache_invalidation.InvalidationBus`).

Redis down: every call fails fast (short socket timeouts), the breaker opens
and reads miss, writes are dropped, and `health()` says so. Evictions that
could not reach Redis are kept and replayed (and published) before the next
read once it is back, so nothing they should have removed is served after the
outage; if too many pile up, every entry is dropped instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

import redis.asyncio as redis
from aiocache import RedisCache  # type: ignore[import-untyped]
from aiocache.serializers import NullSerializer  # type: ignore[import-untyped]
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .cache import CacheHealth, Stored
from .cache_codec import Codec, CodecError
from .cache_crypto import EncryptionKeys
from .errors import CircuitOpen, SourceUnavailable
from .resilience import BreakerState, CircuitBreaker

__all__ = ["CHANNEL", "EncryptedRedisCache", "RedisLink", "Unavailable"]

T = TypeVar("T")
PREFIX = "cg:"
CHANNEL = "credgate:cache:evictions"  # {"o": origin, "at": ms, "t": [tags]}
_TAGS_PER_SCRIPT = 200
MAX_CONNECTIONS = 64  # per process: requests, the eviction listener, locks, pollers
_PENDING_LIMIT = 100_000

# KEYS: entry, n index keys, n tombstones. ARGV: payload, ttl ms, asked-at ms.
_PUT = """
local n = (#KEYS - 1) / 2
for i = 1, n do
  local evicted = redis.call('GET', KEYS[1 + n + i])
  if evicted and tonumber(evicted) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 1, n do
  redis.call('SADD', KEYS[1 + i], KEYS[1])
  redis.call('PEXPIRE', KEYS[1 + i], ARGV[2], 'NX')
  redis.call('PEXPIRE', KEYS[1 + i], ARGV[2], 'GT')
end
return 1
"""

# KEYS: n index keys, n tombstones. ARGV: eviction time ms, tombstone ttl ms.
_EVICT = """
local n = #KEYS / 2
local dropped = 0
for i = 1, n do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    dropped = dropped + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
  redis.call('SET', KEYS[n + i], ARGV[1], 'PX', ARGV[2])
end
return dropped
"""


class Unavailable:
    """What a guarded call gives when Redis could not be used."""


UNAVAILABLE = Unavailable()


class RedisLink:
    """A Redis connection pool whose failures degrade the cache instead of failing requests."""

    def __init__(self, aio: Any, *, breaker: CircuitBreaker | None = None) -> None:
        """`aio` is an aiocache `RedisCache` whose serializer leaves bytes alone."""
        self.aio = aio
        self.client: redis.Redis = aio.client
        self.breaker = breaker or CircuitBreaker("cache", failure_threshold=1, reset_after_s=1.0)
        self.failures = 0
        self.last_error: str | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 0.5) -> RedisLink:
        """`redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS)."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError("cache.redis_url must be redis://host[:port][/db]")
        pool_options: dict[str, Any] = {
            "socket_timeout": timeout_s,
            # One attempt: the breaker, not the client, decides when to try again.
            "retry": Retry(NoBackoff(), 0),
            # A burst of requests waits (this long at most) for a free connection:
            # redis-py's default pool refuses at once when all are in use, and one
            # refusal would open the breaker and degrade a healthy cache.
            "timeout": timeout_s,
        }
        if parts.username:
            pool_options["username"] = urllib.parse.unquote(parts.username)
        aio = RedisCache(
            endpoint=parts.hostname,
            port=parts.port or 6379,
            db=int(parts.path.strip("/") or 0),
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            ssl=parts.scheme == "rediss",
            create_connection_timeout=timeout_s,
            connection_pool_class=redis.BlockingConnectionPool,
            pool_max_size=MAX_CONNECTIONS,
            connection_pool_kwargs=pool_options,
            serializer=NullSerializer(encoding=None),
            timeout=None,
        )
        return cls(aio)

    @property
    def ok(self) -> bool:
        return self.breaker.state is BreakerState.CLOSED

    async def run(self, work: Callable[[redis.Redis], Awaitable[T]]) -> T | Unavailable:
        """`work(client)`, or UNAVAILABLE when Redis failed or is being left alone."""

        async def attempt() -> T:
            try:
                return await work(self.client)
            except (RedisError, OSError, TimeoutError) as exc:
                raise SourceUnavailable("cache", f"Redis failed ({type(exc).__name__})") from None

        try:
            return await self.breaker.call(attempt)
        except CircuitOpen:
            return UNAVAILABLE  # left alone after a failure; `last_error` says which
        except SourceUnavailable as exc:
            self.failures += 1
            self.last_error = exc.message
            return UNAVAILABLE

    async def close(self) -> None:
        await self.client.aclose()


class EncryptedRedisCache:
    """The shared cache backend; see the module docstring for what it stores."""

    name = "redis"

    def __init__(
        self, link: RedisLink, keys: EncryptionKeys, codec: Codec, *, tombstone_s: float = 60.0
    ) -> None:
        self.link = link
        self.origin = secrets.token_hex(8)  # names this replica's eviction messages
        self._keys = keys
        self._codec = codec
        self._tombstone_ms = int(tombstone_s * 1000)
        self._put_script = link.client.register_script(_PUT)
        self._evict_script = link.client.register_script(_EVICT)
        self._pending: dict[str, int] = {}  # evictions Redis has not seen: tag -> ms
        self._drop_all = False  # too many pending evictions: drop every entry instead
        self.unreadable = 0  # entries that did not open or decode: a wrong key, an old model

    async def get_many(self, keys: Sequence[str], now: dt.datetime) -> list[Stored | None]:
        # aiocache's RedisCache reads (its serializer leaves the sealed bytes alone).
        blobs = await self._when_caught_up(lambda _: self.link.aio.multi_get(list(keys)))
        if isinstance(blobs, Unavailable):
            return [None] * len(keys)
        return [self._open(key, blob, now) for key, blob in zip(keys, blobs, strict=True)]

    async def put_many(
        self, items: Sequence[Stored], now: dt.datetime, asked_at: dt.datetime | None = None
    ) -> None:
        async def put(client: redis.Redis) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for item in items:
                    ttl_ms = math.ceil((item.expires_at - now).total_seconds() * 1000)
                    if ttl_ms <= 0:
                        continue
                    tags = item.tags
                    await self._put_script(
                        keys=[item.key, *(f"{PREFIX}i:{t}" for t in tags)]
                        + [f"{PREFIX}x:{t}" for t in tags],
                        args=[self._seal(item), ttl_ms, _ms(asked_at or item.fetched_at)],
                        client=pipe,
                    )
                await pipe.execute()

        await self._when_caught_up(put)

    async def evict(self, tags: Collection[str], at: dt.datetime) -> None:
        for tag in tags:
            self._pending[tag] = max(self._pending.get(tag, 0), _ms(at))
        await self._catch_up()

    async def clear(self) -> None:
        await self.link.run(self._delete_all)

    def health(self) -> CacheHealth:
        ok = self.link.ok and not self._pending and not self._drop_all
        error = None if ok else (self.link.last_error or "evictions waiting for Redis")
        counters = {
            "redis_failures": self.link.failures,
            "redis_unreadable": self.unreadable,
            "redis_pending_evictions": len(self._pending),
        }
        return CacheHealth(self.name, ok, error, counters)

    async def close(self) -> None:
        await self.link.close()

    async def _when_caught_up(self, work: Callable[[redis.Redis], Awaitable[T]]) -> T | Unavailable:
        if not await self._catch_up():
            return UNAVAILABLE
        return await self.link.run(work)

    async def _catch_up(self) -> bool:
        """Apply the evictions Redis has not seen yet; False while it cannot be reached."""
        if len(self._pending) > _PENDING_LIMIT:
            self._drop_all, self._pending = True, {}
        if self._drop_all:
            if isinstance(await self.link.run(self._delete_all), Unavailable):
                return False
            self._drop_all = False
        while self._pending:
            batch = dict(list(self._pending.items())[:_TAGS_PER_SCRIPT])
            done = await self.link.run(functools.partial(self._evict_batch, batch=batch))
            if isinstance(done, Unavailable):
                return False
            for tag, at in batch.items():
                if self._pending.get(tag) == at:
                    del self._pending[tag]
        return True

    async def _evict_batch(self, client: redis.Redis, *, batch: dict[str, int]) -> None:
        # One script per eviction time; the batch nearly always shares one. The
        # others hear of it only once it is done, so they cannot read it back.
        for at in sorted(set(batch.values())):
            tags = [tag for tag, when in batch.items() if when == at]
            keys = [f"{PREFIX}i:{t}" for t in tags] + [f"{PREFIX}x:{t}" for t in tags]
            await self._evict_script(keys=keys, args=[at, self._tombstone_ms], client=client)
            message = {"o": self.origin, "at": at, "t": sorted(tags)}
            await client.publish(CHANNEL, json.dumps(message, separators=(",", ":")))

    @staticmethod
    async def _delete_all(client: redis.Redis) -> None:
        batch: list[Any] = []
        async for key in client.scan_iter(match=f"{PREFIX}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch = []
        if batch:
            await client.delete(*batch)

    def _seal(self, item: Stored) -> bytes:
        envelope = (item.fetched_at, item.fresh_until, item.expires_at, item.tags)
        return self._keys.seal(self._codec.encode((*envelope, item.value)), item.key.encode())

    def _open(self, key: str, blob: bytes | None, now: dt.datetime) -> Stored | None:
        if blob is None:
            return None
        plain = self._keys.open(blob, key.encode())
        try:
            if plain is None:
                raise CodecError("sealed with a key this replica does not hold")
            fetched_at, fresh_until, expires_at, tags, value = self._codec.decode(plain)
        except (CodecError, ValueError, TypeError):
            self.unreadable += 1
            return None
        if now >= expires_at:
            return None
        return Stored(key, value, fetched_at, fresh_until, expires_at, tuple(tags))


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
