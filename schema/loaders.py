"""Per-request DataLoaders: the shared cache first, then one batched upstream call.

A resolver asks a loader for one key; all keys asked in the same tick go
together, first to the process's level-1 cache (`SourceCache`), then — only
the misses — to the connector in ONE call, which splits them only by the
platform's batch limit. Concurrent identical misses share that call (the
cache's flight: in this process, and across replicas with Redis), and what it
answered is stored for the next request. The cache holds what the platform
said, before any visibility rule or mask, so it is the same for every role.
The loader's own memo lives for one request only (a new `Loaders` per request,
over the load functions `PlatformReads` builds once per process).

Each key resolves to a `Fetched`: the value, or the `SourceError` of the chunk
it was in, plus when the data was fetched (`SourceStatus.asOf`) and how old it
is (`cacheAgeSeconds`). An entry is used while it is within its time to live
and its platform's freshness limit; past either it is fetched again, and when
that fails the old value comes back marked `stale` WITH the error: a listing
may show it (marked), a verdict never rests on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar, cast

from strawberry.dataloader import DataLoader

from connectors.archive_scan import ArchiveScan
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

from .basis import AnswerBasis

__all__ = ["Fetched", "Loaders", "PlatformReads", "SourceCache"]

# What a level-1 entry can be keyed by (`RecordKey.subject`).
K = TypeVar("K", bound=SubjectKey | str | AwardQuery)
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """One key's outcome: `value` when the platform answered, else `error`.

    `stale`: the platform failed and `value` is an old cached answer, shown to
    listings only. `cache_key` names the level-1 entry a good value is (for the
    report cache's dependencies); `held` is the entry when the value came from
    the cache (a hit), for the answer cache's basis."""

    value: T | None
    status: CallStatus
    error: SourceError | None = None
    age_s: float | None = None
    stale: bool = False
    cache_key: RecordKey | None = None
    held: Entry[Any] | None = None


@dataclass(frozen=True)
class SourceCache:
    """The process's cache as loaders and `vet` use it: the entries, the flight
    that shares misses, and by platform its `cache_ttl_s` and `freshness_s`."""

    records: RecordCache
    flight: Flight
    ttl_s: Mapping[str, float]
    freshness_s: Mapping[str, float]
    # False for `[cache] backend = "none"`: nothing is read or stored, so no key
    # is hashed and no entry built (the clock and freshness limits still apply).
    keeps: bool = True

    def now(self) -> dt.datetime:
        return self.records.now()

    async def evict_subjects(self, identifiers: Iterable[str]) -> None:
        """Forget everything about these subjects, at both levels and in every
        replica (for a change the gateway itself makes, such as an objection)."""
        await self.records.evict_subjects(identifiers)

    def usable(self, entry: Entry[Any], platform: str, now: dt.datetime) -> bool:
        return not entry.stale(now) and entry.age_s(now) <= self.freshness_s[platform]


LoadFunction = Callable[[Sequence[K]], Awaitable[list["Fetched[T]"]]]


def _load_function(
    platform: str,
    operation: str,
    call: Callable[[Iterable[K]], Awaitable[SourceResult[K, T]]],
    cache: SourceCache | None,
) -> LoadFunction[K, T]:
    """What a loader of `platform.operation` does with the keys of one batch."""
    clock = cache.now if cache is not None else now_shanghai

    async def fetch(keys: Sequence[RecordKey]) -> dict[RecordKey, Fetched[T]]:
        """ONE connector call for `keys`; what it answered goes into the cache."""
        asked_at = clock()
        result = await call([cast(K, key.subject) for key in keys])
        now = clock()
        # The platform's own as-of, kept within the call: its clock is not ours.
        fetched_at = min(max(result.status.as_of or now, asked_at), now)
        answered = CallStatus(platform, True, fetched_at)
        age_s = (now - fetched_at).total_seconds()
        outcomes: dict[RecordKey, Fetched[T]] = {}
        for key in keys:
            error = result.errors.get(cast(K, key.subject))
            if error is not None:
                outcomes[key] = Fetched(None, CallStatus(platform, False, None, error), error)
            else:
                value = result.values[cast(K, key.subject)]
                outcomes[key] = Fetched(value, answered, age_s=age_s, cache_key=key)
        if cache is not None and cache.keeps:
            good = {key: got.value for key, got in outcomes.items() if got.error is None}
            await cache.records.store_records(good, fetched_at=fetched_at, asked_at=asked_at)
        return outcomes

    async def uncached(keys: Sequence[K]) -> list[Fetched[T]]:
        wanted = [RecordKey(platform, operation, key) for key in keys]
        fetched = await fetch(wanted)
        return [fetched[key] for key in wanted]

    if cache is None or not cache.keeps:
        # Identical chunks in flight are still shared, by the connector's platform.
        return uncached

    async def lookup(keys: Sequence[RecordKey]) -> dict[RecordKey, Fetched[T]]:
        """What is cached now (another request's or replica's load)."""
        now = clock()
        held = await cache.records.records(keys)
        return {
            key: _hit(key, entry, now)
            for key, entry in held.items()
            if cache.usable(entry, platform, now)
        }

    async def load(keys: Sequence[K]) -> list[Fetched[T]]:
        wanted = [RecordKey(platform, operation, key) for key in keys]
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

    return load


def _hit(key: RecordKey, entry: Entry[Any], now: dt.datetime) -> Fetched[Any]:
    status = CallStatus(key.platform, True, entry.fetched_at)
    return Fetched(entry.value, status, age_s=entry.age_s(now), cache_key=key, held=entry)


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


class PlatformReads:
    """Each platform operation's load function, built once per process around the
    connectors and the cache (`cache` None: every key goes to its platform)."""

    def __init__(self, connectors: Connectors, cache: SourceCache | None = None) -> None:
        self.connectors = connectors
        self.cache = cache
        self.credit = _load_function("credit", "subjects", connectors.credit.subjects, cache)
        self.archive = _load_function("archive", "files", connectors.archive.files, cache)
        self.enforcement = _load_function("court", "entries", connectors.court.entries, cache)
        self.restrictions = _load_function(
            "court", "restrictions", connectors.court.restrictions, cache
        )
        procurement = connectors.procurement
        self.suppliers = _load_function("procurement", "suppliers", procurement.suppliers, cache)
        self.representatives = _load_function(
            "procurement", "representatives", procurement.representatives, cache
        )
        self.purchasers = _load_function("procurement", "purchasers", procurement.purchasers, cache)
        self.awards = _load_function("procurement", "awards", procurement.awards, cache)


class Loaders:
    """The loaders of one request: their memo is this request's alone.

    Each load function is wrapped to tell the request's `AnswerBasis` what the
    answer rests on: a cache hit's entry, or — for anything the platform had to
    be asked for — that the answer is not made of cached data only. A loader is
    made when the request first uses it: most requests use a few of them.
    """

    def __init__(self, reads: PlatformReads, basis: AnswerBasis) -> None:
        self.cache = reads.cache
        self._reads = reads
        self._basis = basis

    @cached_property
    def credit(self) -> DataLoader[SubjectKey, Fetched[CreditSubject]]:
        return DataLoader(self._tracked("credit", self._reads.credit))

    @cached_property
    def archive(self) -> DataLoader[str, Fetched[CivilServantFile | None]]:
        return DataLoader(self._tracked("archive", self._reads.archive))

    @cached_property
    def enforcement(self) -> DataLoader[str, Fetched[tuple[EnforcementEntry, ...]]]:
        return DataLoader(self._tracked("court", self._reads.enforcement))

    @cached_property
    def restrictions(self) -> DataLoader[str, Fetched[tuple[ConsumptionRestriction, ...]]]:
        return DataLoader(self._tracked("court", self._reads.restrictions))

    @cached_property
    def suppliers(self) -> DataLoader[str, Fetched[SupplierStatus]]:
        return DataLoader(self._tracked("procurement", self._reads.suppliers))

    @cached_property
    def representatives(self) -> DataLoader[str, Fetched[Representative]]:
        return DataLoader(self._tracked("procurement", self._reads.representatives))

    @cached_property
    def purchasers(self) -> DataLoader[str, Fetched[PurchaserPerformance]]:
        return DataLoader(self._tracked("procurement", self._reads.purchasers))

    @cached_property
    def awards(self) -> DataLoader[AwardQuery, Fetched[tuple[Award, ...]]]:
        return DataLoader(self._tracked("procurement", self._reads.awards))

    @property
    def archive_scan(self) -> ArchiveScan:
        """Whole-archive pages for the auditors' queries: a scan, never cached."""
        self._basis.reads_live("archive scan")
        return self._scan

    @cached_property
    def _scan(self) -> ArchiveScan:
        return ArchiveScan(self._reads.connectors.archive)

    def _tracked(self, platform: str, load: LoadFunction[K, T]) -> LoadFunction[K, T]:
        basis = self._basis
        freshness_s = self.cache.freshness_s[platform] if self.cache is not None else 0.0

        async def tracked(keys: Sequence[K]) -> list[Fetched[T]]:
            outcomes = await load(keys)
            for outcome in outcomes:
                if outcome.held is None:
                    basis.reads_live(platform)
                else:
                    basis.rests_on(outcome.held, (freshness_s,))
            return outcomes

        return tracked
