"""What the engine is given about one subject: each source's records, or why they are missing.

The caller fetches the platforms the purpose consults, applies record visibility
rules 3 and 4 of DOMAIN.md (disclosure and share scope for its role, purpose)
and hands over what may be used. Each source is either its records or a
`Missing` reason; a source left out counts as `Missing.UNAVAILABLE`, so
forgetting one fails closed (INCOMPLETE), never CLEAR.

`restricted` holds the record references (`record_ref`) of records the caller may
use only to decide (RESTRICTED disclosure for a role other than credit_admin):
their findings carry `restricted=True`, and the caller's masking hides their details.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from connectors.records import (
    CivilServantFile,
    ConsumptionRestriction,
    CreditRecord,
    EnforcementEntry,
    PurchaserPerformance,
    Representative,
    SupplierStatus,
)

__all__ = ["CourtRecords", "Evidence", "Missing", "ProcurementRecords"]


class Missing(Enum):
    """Why a source cannot be used for a verdict."""

    UNAVAILABLE = "UNAVAILABLE"  # the platform failed or was not asked
    STALE = "STALE"  # its data is older than the platform's freshness limit


@dataclass(frozen=True)
class CourtRecords:
    """A party's dishonest-debtor entries and consumption restrictions (all statuses)."""

    entries: tuple[EnforcementEntry, ...] = ()
    restrictions: tuple[ConsumptionRestriction, ...] = ()


@dataclass(frozen=True)
class ProcurementRecords:
    """The procurement system's answers about the subject.

    An organisation: `supplier` (its registration, debarments and violations;
    None is read as NOT_REGISTERED) and `purchaser` (its issues as a buyer).
    A person: `representative` (the suppliers they represent or hold shares in).
    """

    supplier: SupplierStatus | None = None
    purchaser: PurchaserPerformance | None = None
    representative: Representative | None = None


@dataclass(frozen=True)
class Evidence:
    """Per-source inputs of one evaluation.

    `archive` is None when the person is not a civil servant. Sources the purpose
    does not consult are ignored, whatever they hold.
    """

    credit: tuple[CreditRecord, ...] | Missing = Missing.UNAVAILABLE
    court: CourtRecords | Missing = Missing.UNAVAILABLE
    archive: CivilServantFile | Missing | None = Missing.UNAVAILABLE
    procurement: ProcurementRecords | Missing = Missing.UNAVAILABLE
    restricted: frozenset[str] = frozenset()
