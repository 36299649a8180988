"""Per-request DataLoaders: the shared cache first, then one batched upstream call.

A resolver asks a loader for one key; all keys asked in the same tick go
together, first to the process's level-1 cache (`SourceCache`), then — only
the misses — to the connector in ONE call, which splits them only by the
platform's batch limit. Concurrent identical misses share that call (the
cache's flight: in this process, and across replicas with Redis), and what it
answered is stored for the next request. The cache holds what the platform
said, before any visibility rule or mask, so it is the same for every role.
The loader's own memo lives for one request only (a new `Loaders` per request).

Each key resolves to a `Fetched`: the value, or the `SourceError` of the chunk
it was in, plus when the data was fetched (`SourceStatus.asOf`) and how old it
is (`cacheAgeSeconds`). An entry is used while it is within its time to live
and its platform's freshness limit; past either it is fetched again, and when
that fails the old value comes back marked `stale` WITH the error: a listing
may show it (marked), a verdict never rests on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from connectors.base import CallStatus, SourceResult, now_shanghai
from connectors.bundle import Connectors
from connectors.cache import Entry, RecordCache, RecordKey
from connectors.cache_flight import Flight
from connectors.errors import SourceError, SourceUnavailable
from connectors.procurement import AwardQuery
from connectors.records import (
    Award,
    CivilServantFile,
    ConsumptionRestriction,
    CreditSubject,
    EnforcementEntry,
    PurchaserPerformance,
    Representative,
    SubjectKey,
    SupplierStatus,
)

__all__ = ["Fetched", "Loaders", "SourceCache"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """One key's outcome: `value` when the platform answered, else `error`.

    `stale`: the platform failed and `value` is an old cached answer, shown to
    listings only. `cache_key` names the level-1 entry a good value is (for the
    report cache's dependencies)."""

    value: T | None
    status: CallStatus
    error: SourceError | None = None
    age_s: float | None = None
    stale: bool = False
    cache_key: RecordKey | None = None


@dataclass(frozen=True)
class SourceCache:
    """The process's level-1 cache as loaders use it: entries, the flight that
    shares misses, and each platform's freshness limit (`[platforms.X] freshness_s`)."""

    records: RecordCache
    flight: Flight
    freshness_s: Mapping[str, float]

    def now(self) -> dt.datetime:
        return self.records.now()

    async def evict_subjects(self, identifiers: Iterable[str]) -> None:
        """Forget everything about these subjects, at both levels and in every
        replica (for a change the gateway itself makes, such as an objection)."""
        await self.records.evict_subjects(identifiers)

    def usable(self, entry: Entry[Any], platform: str, now: dt.datetime) -> bool:
        return not entry.stale(now) and entry.age_s(now) <= self.freshness_s[platform]


def _loader(
    platform: str,
    operation: str,
    call: Callable[[Iterable[K]], Awaitable[SourceResult[K, T]]],
    cache: SourceCache | None,
) -> DataLoader[K, Fetched[T]]:
    clock = cache.now if cache is not None else now_shanghai

    async def fetch(keys: Sequence[RecordKey]) -> dict[RecordKey, Fetched[T]]:
        """ONE connector call for `keys`; what it answered goes into the cache."""
        asked_at = clock()
        result = await call([key.subject for key in keys])  # type: ignore[misc]
        now = clock()
        # The platform's own as-of, kept within the call: its clock is not ours.
        fetched_at = min(max(result.status.as_of or now, asked_at), now)
        answered = CallStatus(platform, True, fetched_at)
        age_s = (now - fetched_at).total_seconds()
        outcomes: dict[RecordKey, Fetched[T]] = {}
        for key in keys:
            error = result.errors.get(key.subject)  # type: ignore[call-overload]
            if error is not None:
                outcomes[key] = Fetched(None, CallStatus(platform, False, None, error), error)
            else:
                value = result.values[key.subject]  # type: ignore[index]
                outcomes[key] = Fetched(value, answered, age_s=age_s, cache_key=key)
        if cache is not None:
            good = {key: got.value for key, got in outcomes.items() if got.error is None}
            await cache.records.store_records(good, fetched_at=fetched_at, asked_at=asked_at)
        return outcomes

    async def lookup(keys: Sequence[RecordKey]) -> dict[RecordKey, Fetched[T]]:
        """What is cached now (another request's or replica's load), fit to use."""
        assert cache is not None
        now = clock()
        held = await cache.records.records(keys)
        return {key: _hit(key, entry, now) for key, entry in held.items()}

    async def load(keys: Sequence[K]) -> list[Fetched[T]]:
        wanted = [RecordKey(platform, operation, key) for key in keys]
        if cache is None:
            fetched = await fetch(wanted)
            return [fetched[key] for key in wanted]
        now = clock()
        held = await cache.records.records(wanted, allow_stale=True)
        hits = {k: _hit(k, e, now) for k, e in held.items() if cache.usable(e, platform, now)}
        misses = [key for key in wanted if key not in hits]
        loaded: Mapping[RecordKey, Fetched[T]] = {}
        if misses:
            loaded = await cache.flight.run(
                misses, name=cache.records.keys.record, lookup=lookup, load=fetch
            )
        return [hits.get(key) or _fallback(key, loaded, held, now) for key in wanted]

    return DataLoader(load_fn=load)


def _hit(key: RecordKey, entry: Entry[Any], now: dt.datetime) -> Fetched[Any]:
    status = CallStatus(key.platform, True, entry.fetched_at)
    return Fetched(entry.value, status, age_s=entry.age_s(now), cache_key=key)


def _fallback(
    key: RecordKey,
    loaded: Mapping[RecordKey, Fetched[T]],
    held: Mapping[RecordKey, Entry[Any]],
    now: dt.datetime,
) -> Fetched[T]:
    """The platform's answer; when it failed, the old entry (if any) marked stale."""
    got = loaded.get(key)
    if got is None:  # never: a flight answers every key it was given
        error: SourceError = SourceUnavailable(key.platform, "no answer for a key")
        got = Fetched(None, CallStatus(key.platform, False, None, error), error)
    old = held.get(key)
    if got.error is None or old is None:
        return got
    status = CallStatus(key.platform, False, old.fetched_at, got.error)
    return Fetched(old.value, status, got.error, age_s=old.age_s(now), stale=True)


class Loaders:
    """The loaders of one request; `cache` None: every key goes to its platform."""

    def __init__(self, connectors: Connectors, cache: SourceCache | None = None) -> None:
        self.cache = cache
        self.credit: DataLoader[SubjectKey, Fetched[CreditSubject]] = _loader(
            "credit", "subjects", connectors.credit.subjects, cache
        )
        self.archive: DataLoader[str, Fetched[CivilServantFile | None]] = _loader(
            "archive", "files", connectors.archive.files, cache
        )
        self.enforcement: DataLoader[str, Fetched[tuple[EnforcementEntry, ...]]] = _loader(
            "court", "entries", connectors.court.entries, cache
        )
        self.restrictions: DataLoader[str, Fetched[tuple[ConsumptionRestriction, ...]]] = _loader(
            "court", "restrictions", connectors.court.restrictions, cache
        )
        self.suppliers: DataLoader[str, Fetched[SupplierStatus]] = _loader(
            "procurement", "suppliers", connectors.procurement.suppliers, cache
        )
        self.representatives: DataLoader[str, Fetched[Representative]] = _loader(
            "procurement", "representatives", connectors.procurement.representatives, cache
        )
        self.purchasers: DataLoader[str, Fetched[PurchaserPerformance]] = _loader(
            "procurement", "purchasers", connectors.procurement.purchasers, cache
        )
        self.awards: DataLoader[AwardQuery, Fetched[tuple[Award, ...]]] = _loader(
            "procurement", "awards", connectors.procurement.awards, cache
        )
