"""Per-request DataLoaders: one batched upstream call per platform operation.

A resolver asks a loader for one key; all keys asked in the same tick go to the
connector together, which splits them only by the platform's batch limit. The
loader's own cache lives for one request only (a new `Loaders` per request), so
nothing one caller fetched is handed to another through it.

Each key resolves to a `Fetched`: the value, or the `SourceError` of the chunk it
was in, plus the call's status for `sources`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader

from connectors.base import CallStatus, SourceResult
from connectors.bundle import Connectors
from connectors.errors import SourceError
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

__all__ = ["Fetched", "Loaders"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """One key's outcome: `value` when the platform answered, else `error`."""

    value: T | None
    status: CallStatus
    error: SourceError | None = None


def _loader(
    operation: Callable[[Iterable[K]], Awaitable[SourceResult[K, T]]],
) -> DataLoader[K, Fetched[T]]:
    async def load(keys: Sequence[K]) -> list[Fetched[T]]:
        result = await operation(keys)
        answered = CallStatus(result.status.platform, True, result.status.as_of)
        return [
            Fetched(
                None,
                CallStatus(result.status.platform, False, None, result.errors[key]),
                result.errors[key],
            )
            if key in result.errors
            else Fetched(result.values[key], answered)
            for key in keys
        ]

    return DataLoader(load_fn=load)


class Loaders:
    """The loaders of one request."""

    def __init__(self, connectors: Connectors) -> None:
        self.credit: DataLoader[SubjectKey, Fetched[CreditSubject]] = _loader(
            connectors.credit.subjects
        )
        self.archive: DataLoader[str, Fetched[CivilServantFile | None]] = _loader(
            connectors.archive.files
        )
        self.enforcement: DataLoader[str, Fetched[tuple[EnforcementEntry, ...]]] = _loader(
            connectors.court.entries
        )
        self.restrictions: DataLoader[str, Fetched[tuple[ConsumptionRestriction, ...]]] = _loader(
            connectors.court.restrictions
        )
        self.suppliers: DataLoader[str, Fetched[SupplierStatus]] = _loader(
            connectors.procurement.suppliers
        )
        self.representatives: DataLoader[str, Fetched[Representative]] = _loader(
            connectors.procurement.representatives
        )
        self.purchasers: DataLoader[str, Fetched[PurchaserPerformance]] = _loader(
            connectors.procurement.purchasers
        )
        self.awards: DataLoader[AwardQuery, Fetched[tuple[Award, ...]]] = _loader(
            connectors.procurement.awards
        )
