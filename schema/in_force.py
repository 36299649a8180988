"""Is a record in force on a date? DOMAIN.md "Dates: one convention everywhere".

End dates in the data (`publicity_end`, `listingEnd`, debarment `EndDate`) are
the LAST day a record applies; change dates (`revoked_date`, `closed_date`,
`ResolvedDate`, `removedDate`) are the first day it no longer does. A record
with no start date is not known to have started, so it is not in force.
These predicates know nothing of roles: who may see a record is decided later.
"""

from __future__ import annotations

import calendar
import datetime as dt

from connectors.records import (
    ConsumptionRestriction,
    CreditRecord,
    Debarment,
    EnforcementEntry,
    Investigation,
    PurchaserIssue,
    Sanction,
)

__all__ = [
    "add_months",
    "credit_record_in_force",
    "debarment_in_force",
    "enforcement_in_force",
    "investigation_open",
    "issue_open",
    "restriction_active",
    "sanction_in_force",
    "sanction_until",
]

_WITHDRAWN = frozenset({"REPAIRED", "REVOKED"})


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's end (31 Jan + 1 m = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _between(start: dt.date | None, on: dt.date, last: dt.date | None) -> bool:
    return start is not None and start <= on and (last is None or on <= last)


def _before_change(on: dt.date, changed: dt.date | None) -> bool:
    return changed is None or on < changed


def credit_record_in_force(record: CreditRecord, on: dt.date) -> bool:
    """Decided, still in publicity, and neither repaired nor revoked."""
    return record.status not in _WITHDRAWN and _between(
        record.decision_date, on, record.publicity_end
    )


def enforcement_in_force(entry: EnforcementEntry, on: dt.date) -> bool:
    """Published, not past its listing end, and listed (or removed only later)."""
    listed = entry.status == "LISTED" or (
        entry.removed_date is not None and on < entry.removed_date
    )
    return listed and _between(entry.publish_date, on, entry.listing_end)


def restriction_active(restriction: ConsumptionRestriction, on: dt.date) -> bool:
    """A LIFTED order has no lifting date, so it counts as no longer in force."""
    return restriction.status == "ACTIVE" and _between(restriction.issued_date, on, None)


def debarment_in_force(debarment: Debarment, on: dt.date) -> bool:
    return _between(debarment.start_date, on, debarment.end_date)


def investigation_open(investigation: Investigation, on: dt.date) -> bool:
    return _between(investigation.opened_date, on, None) and _before_change(
        on, investigation.closed_date
    )


def issue_open(issue: PurchaserIssue, on: dt.date) -> bool:
    """Open from its due date until the day it was resolved."""
    return _between(issue.due_date, on, None) and _before_change(on, issue.resolved_date)


# Months a sanction stays in force from its decision date (DOMAIN.md CS-01..CS-03);
# None = permanent. ORG_* kinds take a non-null period_months instead, and
# PARTY_PROBATION runs its own period_months plus 24 months.
SANCTION_MONTHS: dict[str, int | None] = {
    "GOV_WARNING": 6,
    "GOV_DEMERIT": 12,
    "GOV_MAJOR_DEMERIT": 18,
    "GOV_DEMOTION": 24,
    "GOV_REMOVAL": 24,
    "GOV_DISMISSAL": None,
    "PARTY_WARNING": 12,
    "PARTY_SERIOUS_WARNING": 18,
    "PARTY_POST_REMOVAL": 24,
    "PARTY_EXPULSION": None,
    "ADMONISHMENT": 6,
    "ORG_RESIGNATION_ORDERED": 24,
    "ORG_DISMISSED": 24,
    "ORG_POST_ADJUSTED": 12,
}


def sanction_until(sanction: Sanction) -> dt.date | None:
    """The first free day after a sanction's period, before any revocation;
    None when permanent (or of a kind with no known period)."""
    if sanction.decision_date is None:
        return None
    if sanction.kind == "PARTY_PROBATION":
        months: int | None = (sanction.period_months or 24) + 24
    elif sanction.kind.startswith("ORG_") and sanction.period_months is not None:
        months = sanction.period_months
    else:
        months = SANCTION_MONTHS.get(sanction.kind)
    return None if months is None else add_months(sanction.decision_date, months)


def sanction_in_force(sanction: Sanction, on: dt.date) -> bool:
    """From the decision date until its period ends or it is revoked."""
    until = sanction_until(sanction)
    return (
        _between(sanction.decision_date, on, None)
        and (until is None or on < until)
        and _before_change(on, sanction.revoked_date)
    )
