"""What condition kinds take and give: the records, the parameters, the matches.

    Records        the usable records of one subject (a missing source reads as empty)
    Params         a clause's condition parameters, read from the rule file
    Period         how long a sanction kind applies (part of Params)
    Match          one record meeting a condition, with the dates that time its finding
    ConditionKind  a named condition: its source, its parameters, its finder
    record_ref     "SOURCE:kind:id", the reference a finding carries

The condition kinds themselves, and the registry of them, are in conditions.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.records import (
    BusinessRole,
    CivilServantFile,
    ConsumptionRestriction,
    CreditRecord,
    Debarment,
    EnforcementEntry,
    Investigation,
    PurchaserIssue,
    PurchaserPerformance,
    Sanction,
    SupplierStatus,
    Violation,
)
from schema.in_force import add_months
from schema.types import SourceName

__all__ = ["ConditionKind", "Finder", "Match", "Params", "Period", "Records", "record_ref"]


@dataclass(frozen=True)
class Records:
    """The usable records of one subject; a missing source reads as empty (never asked)."""

    credit: tuple[CreditRecord, ...] = ()
    entries: tuple[EnforcementEntry, ...] = ()
    restrictions: tuple[ConsumptionRestriction, ...] = ()
    servant: CivilServantFile | None = None
    supplier: SupplierStatus | None = None
    purchaser: PurchaserPerformance | None = None
    roles: tuple[BusinessRole, ...] = ()


@dataclass(frozen=True)
class Match:
    """One record meeting a condition on the as-of date."""

    ref: str
    summary: str
    start: dt.date | None = None
    end: dt.date | None = None
    changed: dt.date | None = None
    disputed: bool = False


@dataclass(frozen=True)
class Period:
    """How long a sanction kind applies from its decision date.

    `months` None is permanent. `plus_period_months` adds the sanction's own
    period_months (PARTY_PROBATION: its 12 or 24 months, then 24 more), taking
    `default_period_months` when the archive left it null; with
    `period_months_override` a non-null period_months replaces `months` (ORG_*).
    """

    months: int | None
    plus_period_months: bool = False
    default_period_months: int | None = None
    period_months_override: bool = False

    def first_free_day(self, sanction: Sanction) -> dt.date | None:
        if sanction.decision_date is None:
            return None
        months = self.months
        if self.period_months_override and sanction.period_months is not None:
            months = sanction.period_months
        elif self.plus_period_months and months is not None:
            extra = sanction.period_months
            months += extra if extra is not None else (self.default_period_months or 0)
        return None if months is None else add_months(sanction.decision_date, months)


@dataclass(frozen=True)
class Params:
    """A clause's condition parameters; None / empty = not constrained (see the kinds table)."""

    categories: frozenset[str] | None = None
    severities: frozenset[str] | None = None
    penalty_types: frozenset[str] | None = None
    min_fine: Decimal | None = None
    periods: Mapping[str, Period] = field(default_factory=dict, hash=False)
    year_offsets: frozenset[int] = frozenset()
    grades: frozenset[str] = frozenset()
    results: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()


Finder = Callable[[Records, dt.date, Params], Iterator[Match]]


@dataclass(frozen=True)
class ConditionKind:
    """A named condition: the source it reads, the parameters it takes, its finder."""

    name: str
    source: SourceName
    find: Finder
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()


def record_ref(
    record: CreditRecord
    | Sanction
    | Investigation
    | EnforcementEntry
    | ConsumptionRestriction
    | Debarment
    | Violation
    | PurchaserIssue,
) -> str:
    """The reference a finding on `record` carries (and `Evidence.restricted` holds)."""
    if isinstance(record, CreditRecord):
        return f"CREDIT_PLATFORM:record:{record.record_id}"
    if isinstance(record, Sanction):
        return f"ARCHIVE:sanction:{record.sanction_id}"
    if isinstance(record, Investigation):
        return f"ARCHIVE:investigation:{record.case_id}"
    if isinstance(record, EnforcementEntry):
        return f"COURT:entry:{record.entry_id}"
    if isinstance(record, ConsumptionRestriction):
        return f"COURT:restriction:{record.order_id}"
    if isinstance(record, Debarment):
        return f"PROCUREMENT:debarment:{record.record_no}"
    if isinstance(record, Violation):
        return f"PROCUREMENT:violation:{record.record_no}"
    return f"PROCUREMENT:issue:{record.contract_no}"
