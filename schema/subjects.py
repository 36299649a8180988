"""What Person and Organization share: consulting a platform for one subject."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import TypeVar

from strawberry.dataloader import DataLoader

from connectors.records import SubjectKey

from .errors import source_unavailable
from .in_force import credit_record_in_force, enforcement_in_force
from .loaders import Fetched, Loaders
from .records import CreditRecord, EnforcementEntry
from .types import SourceName, SourceStatus

__all__ = ["Consulted", "source_status"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Consulted:
    """The platforms a subject's purpose consults, and the as-of date of the question."""

    def __init__(self, sources: frozenset[SourceName], as_of: dt.date) -> None:
        self.sources = sources
        self.as_of = as_of

    async def load(self, source: SourceName, loader: DataLoader[K, Fetched[T]], key: K) -> T | None:
        """The platform's answer for `key`; None when the purpose does not consult
        it; a SOURCE_UNAVAILABLE error (the field becomes null) when it failed."""
        if source not in self.sources:
            return None
        fetched = await loader.load(key)
        if fetched.error is not None:
            raise source_unavailable(fetched.error)
        return fetched.value

    async def credit_records(
        self, loaders: Loaders, key: SubjectKey, include_inactive: bool | None
    ) -> list[CreditRecord] | None:
        subject = await self.load(SourceName.CREDIT_PLATFORM, loaders.credit, key)
        if subject is None:
            return None
        return [
            CreditRecord.of(record, self.as_of)
            for record in subject.records
            if include_inactive or credit_record_in_force(record, self.as_of)
        ]

    async def enforcement(
        self, loaders: Loaders, key: str, include_inactive: bool | None
    ) -> list[EnforcementEntry] | None:
        entries = await self.load(SourceName.COURT, loaders.enforcement, key)
        if entries is None:
            return None
        return [
            EnforcementEntry.of(entry, self.as_of)
            for entry in entries
            if include_inactive or enforcement_in_force(entry, self.as_of)
        ]

    async def statuses(
        self, checks: Mapping[SourceName, Callable[[], Awaitable[SourceStatus]]]
    ) -> list[SourceStatus]:
        """The status of every consulted platform, asked concurrently."""
        consulted = [check() for source, check in checks.items() if source in self.sources]
        return list(await asyncio.gather(*consulted))


async def source_status(
    source: SourceName, loader: DataLoader[K, Fetched[T]], key: K
) -> SourceStatus:
    fetched = await loader.load(key)
    status = fetched.status
    return SourceStatus(
        source=source,
        ok=status.ok,
        as_of=status.as_of,
        error=status.error.message if status.error else None,
    )
