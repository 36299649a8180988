"""What Person and Organization share: consulting a platform for one subject."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from auth.visibility import Access, Viewer, credit_access
from connectors.records import SubjectKey

from .errors import forbidden_argument, source_unavailable
from .in_force import credit_record_in_force, enforcement_in_force
from .loaders import Fetched
from .records import CreditRecord, EnforcementEntry
from .types import SourceName, SourceStatus

if TYPE_CHECKING:
    from .context import RequestContext

__all__ = ["Consulted", "source_status"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")


class Consulted:
    """One subject's question: the platforms its purpose consults, the as-of date,
    and who asks (the viewer whose record visibility applies)."""

    def __init__(self, sources: frozenset[SourceName], as_of: dt.date, viewer: Viewer) -> None:
        self.sources = sources
        self.as_of = as_of
        self.viewer = viewer

    async def load(self, source: SourceName, loader: DataLoader[K, Fetched[T]], key: K) -> T | None:
        """The platform's answer for `key`; None when the purpose does not consult
        it; a SOURCE_UNAVAILABLE error (the field becomes null) when it failed and
        no earlier answer is cached. An earlier answer stands in while the
        platform is down (a listing, not a verdict): `sources` marks it stale."""
        if source not in self.sources:
            return None
        fetched = await loader.load(key)
        # A stale stand-in exists because someone asked before: only those who may
        # learn that a person was looked up are shown it (schema/freshness.py).
        if fetched.error is not None and not (fetched.stale and self.viewer.sees_everything):
            raise source_unavailable(fetched.error)
        return fetched.value

    def with_inactive(
        self, info: Info[RequestContext, None], include_inactive: bool | None
    ) -> bool:
        """Whether a listing shows records not in force (expired, removed, repaired,
        revoked): only when asked for, by credit_admin or a data subject about
        itself, and the access log says it was asked. Anyone else asking is refused
        with FORBIDDEN_ARGUMENT (a denial in the log): for them such records do
        not exist."""
        if not include_inactive:
            return False
        if not self.viewer.sees_everything:
            raise forbidden_argument("includeInactive")
        path = ".".join(str(step) for step in info.path.as_list())
        info.context.disclosure.events.append(f"includeInactive:{path}")
        return True

    def current(self, rows: Iterable[R], in_force: Callable[[R, dt.date], bool]) -> list[R]:
        """`rows` as a listing without an includeInactive argument shows them: all
        to credit_admin and a data subject about itself (each marked), only those
        in force on the as-of date to anyone else."""
        if self.viewer.sees_everything:
            return list(rows)
        return [row for row in rows if in_force(row, self.as_of)]

    async def credit_records(
        self, info: Info[RequestContext, None], key: SubjectKey, include_inactive: bool | None
    ) -> list[CreditRecord] | None:
        inactive_too = self.with_inactive(info, include_inactive)
        subject = await self.load(SourceName.CREDIT_PLATFORM, info.context.loaders.credit, key)
        if subject is None:
            return None
        records = [
            record
            for record in subject.records
            if inactive_too or credit_record_in_force(record, self.as_of)
        ]
        access = [credit_access(r.disclosure, r.share_scope, self.viewer) for r in records]
        self.note_decide_only(info, access.count(Access.DECIDE_ONLY))
        return [
            CreditRecord.of(record, self.as_of)
            for record, seen in zip(records, access, strict=True)
            if seen is Access.SHOW
        ]

    def note_decide_only(self, info: Info[RequestContext, None], omitted: int) -> None:
        """RESTRICTED records only decide: they are left out of listings, and the
        answer says so, so an omission never reads as "no data"."""
        if omitted:
            info.context.disclosure.note(info, "RESTRICTED_OMITTED", count=omitted)

    async def enforcement(
        self, info: Info[RequestContext, None], key: str, include_inactive: bool | None
    ) -> list[EnforcementEntry] | None:
        inactive_too = self.with_inactive(info, include_inactive)
        entries = await self.load(SourceName.COURT, info.context.loaders.enforcement, key)
        if entries is None:
            return None
        return [
            EnforcementEntry.of(entry, self.as_of)
            for entry in entries
            if inactive_too or enforcement_in_force(entry, self.as_of)
        ]

    async def statuses(
        self, checks: Mapping[SourceName, Callable[[], Awaitable[SourceStatus]]]
    ) -> list[SourceStatus]:
        """The status of every consulted platform, asked concurrently; a stale
        stand-in is a plain failure to those who may not see it."""
        consulted = [check() for source, check in checks.items() if source in self.sources]
        statuses = await asyncio.gather(*consulted)
        if self.viewer.sees_everything:
            return statuses
        return [
            SourceStatus(source=s.source, ok=False, error=s.error) if s.stale else s
            for s in statuses
        ]


async def source_status(
    source: SourceName, loader: DataLoader[K, Fetched[T]], key: K
) -> SourceStatus:
    fetched = await loader.load(key)
    status = fetched.status
    return SourceStatus(
        source=source,
        ok=status.ok,
        as_of=status.as_of,
        age_s=fetched.age_s,
        stale=fetched.stale,
        error=status.error.message if status.error else None,
    )
