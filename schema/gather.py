"""Collecting a subject's evidence for the vetting engine, as the viewer may use it.

Every consulted platform is asked through the request's DataLoaders (so a batch
of subjects makes one batched call per platform). What the viewer may not use
(record visibility rule 3) is dropped; what it may use only to decide
(RESTRICTED) is kept and named in `Evidence.restricted`, so its findings are
reported without details. A failed platform is `Missing.UNAVAILABLE` — even when
a stale cached answer stood in for it — and data older than the platform's
freshness limit is `Missing.STALE`: the engine then answers INCOMPLETE rather
than CLEAR. (The loaders fetch again whatever is past its freshness limit, so
the second is a safety net.) `Gathered.depends_on` names the cache entries the
evidence came from, for the report cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from auth.visibility import Access, Viewer, archive_access, credit_access
from connectors.cache import RecordKey
from connectors.records import SubjectKey, SubjectType

from .loaders import Fetched, Loaders
from .types import SourceName, SourceStatus, SubjectKind
from .vetting import CourtRecords, Evidence, Missing, ProcurementRecords, record_ref

__all__ = ["Gathered", "gather_evidence"]


@dataclass(frozen=True)
class Gathered:
    evidence: Evidence
    sources: list[SourceStatus]
    credit_record_ids: tuple[str, ...]  # the credit records the verdict rested on
    depends_on: dict[RecordKey, Any]  # the level-1 entries used, by cache key


async def gather_evidence(
    loaders: Loaders,
    kind: SubjectKind,
    key: str,
    consulted: frozenset[SourceName],
    viewer: Viewer,
    freshness_s: Callable[[SourceName], float],
) -> Gathered:
    """Ask every consulted platform about one subject and build the engine's input."""
    subject_type = SubjectType.PERSON if kind is SubjectKind.PERSON else SubjectType.ORG
    asks: dict[SourceName, Callable[[], Awaitable[Any]]] = {
        SourceName.CREDIT_PLATFORM: lambda: loaders.credit.load(SubjectKey(subject_type, key)),
        SourceName.COURT: lambda: asyncio.gather(
            loaders.enforcement.load(key), loaders.restrictions.load(key)
        ),
        SourceName.ARCHIVE: lambda: loaders.archive.load(key),
        SourceName.PROCUREMENT: (
            (lambda: loaders.representatives.load(key))
            if kind is SubjectKind.PERSON
            else (lambda: asyncio.gather(loaders.suppliers.load(key), loaders.purchasers.load(key)))
        ),
    }
    wanted = [source for source in SourceName if source in consulted]
    answers = await asyncio.gather(*(asks[source]() for source in wanted))
    fetched: dict[SourceName, list[Fetched[Any]]] = {
        source: list(answer) if isinstance(answer, list) else [answer]
        for source, answer in zip(wanted, answers, strict=True)
    }
    statuses = [_status(source, parts, freshness_s(source)) for source, parts in fetched.items()]
    usable = {status.source for status in statuses if status.ok and not status.stale}

    def value(source: SourceName, index: int = 0) -> Any:
        return fetched[source][index].value

    restricted: set[str] = set()
    credit: tuple[Any, ...] | Missing = _missing(SourceName.CREDIT_PLATFORM, statuses)
    credit_ids: tuple[str, ...] = ()
    if SourceName.CREDIT_PLATFORM in usable:
        kept = []
        for record in value(SourceName.CREDIT_PLATFORM).records:
            access = credit_access(record.disclosure, record.share_scope, viewer)
            if access is Access.NONE:
                continue
            if access is Access.DECIDE_ONLY:
                restricted.add(record_ref(record))
            kept.append(record)
        credit = tuple(kept)
        credit_ids = tuple(record.record_id for record in kept)
    archive: Any = _missing(SourceName.ARCHIVE, statuses)
    if SourceName.ARCHIVE in usable:
        archive = value(SourceName.ARCHIVE)
        if archive is not None and archive_access(None, viewer) is Access.NONE:
            archive = None  # this viewer may not use the archive at all
        elif archive is not None:
            for row in (*archive.sanctions, *archive.investigations):
                if archive_access(row.disclosure, viewer) is Access.DECIDE_ONLY:
                    restricted.add(record_ref(row))
    court: CourtRecords | Missing = _missing(SourceName.COURT, statuses)
    if SourceName.COURT in usable:
        court = CourtRecords(value(SourceName.COURT, 0), value(SourceName.COURT, 1))
    procurement: ProcurementRecords | Missing = _missing(SourceName.PROCUREMENT, statuses)
    if SourceName.PROCUREMENT in usable:
        procurement = (
            ProcurementRecords(representative=value(SourceName.PROCUREMENT))
            if kind is SubjectKind.PERSON
            else ProcurementRecords(
                supplier=value(SourceName.PROCUREMENT, 0),
                purchaser=value(SourceName.PROCUREMENT, 1),
            )
        )
    evidence = Evidence(
        credit=credit,
        court=court,
        archive=archive,
        procurement=procurement,
        restricted=frozenset(restricted),
    )
    depends_on = {
        part.cache_key: part.value
        for parts in fetched.values()
        for part in parts
        if part.cache_key is not None and part.error is None
    }
    return Gathered(evidence, statuses, credit_ids, depends_on)


def _status(source: SourceName, parts: list[Fetched[Any]], freshness_s: float) -> SourceStatus:
    error = next((part.error for part in parts if part.error is not None), None)
    if error is not None:
        return SourceStatus(source=source, ok=False, error=error.message)
    as_of = min((p.status.as_of for p in parts if p.status.as_of is not None), default=None)
    age = max((p.age_s for p in parts if p.age_s is not None), default=None)
    stale = age is not None and age > freshness_s
    return SourceStatus(source=source, ok=True, as_of=as_of, age_s=age, stale=stale)


def _missing(source: SourceName, statuses: list[SourceStatus]) -> Missing:
    status = next((s for s in statuses if s.source is source), None)
    return (
        Missing.STALE if status is not None and status.ok and status.stale else Missing.UNAVAILABLE
    )
