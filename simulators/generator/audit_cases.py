"""The auditors' golden cases: planted subjects each audit query must (or must not) find.

Planted after the vetting golden cases, with the same `Planter`, so no earlier
row changes. `AuditGolden.row()` is the document an audit test reads — what an
`audit_golden.json` would hold. It is not written into the dataset (whose file
set the generator's tests pin) but rebuilt from the same options:
`build_golden(build_world(options)).audit`, never from the clock.

conflictsOfInterest — civil servants of a planted audit unit: one legal
    representative of an ACTIVE supplier, one shareholder of another, one legal
    representative of a CANCELLED (still registered) supplier; a fourth
    represents a company that is no supplier (not found). The audit unit buys
    nothing, so `awardsFromOwnUnit` is empty for all three (planted subjects
    never appear in awards: random data may not touch them, and awards between
    random subjects are the random data's own business).
promotionsDuringBars — civil servants of the audit unit promoted between
    m(A,-6) and m(A,-1), each while a CADRE_SELECTION bar was (or was not) in
    force: a GOV_DEMERIT (CS-01), an open investigation (CS-04), a listing
    (CS-08), a SERIOUS record (CS-09) — one RESTRICTED but shared with AUDIT
    (found, details hidden from the auditor), one CONDITIONAL not shared with
    AUDIT (found for credit_admin only) —, a CONCEALMENT check (CS-07), and two
    bars at once (CS-01 + CS-02). Not found: a warning over before the
    promotion, a sanction revoked before it, a disputed SERIOUS record (its BAR
    only flags), a MINOR_OMISSION (a FLAG), a sanction decided after it.
governmentDebtors — planted units, each with one civil servant so the archive
    names it: an open-ended listing; an open LATE_PAYMENT; an open BREACH plus a
    listing. Not debtors: a listing removed, a late payment resolved, an open
    ACCEPTANCE_DELAY, a term listing already over. All of it holds on every day
    from the as-of date on, so the expectation does not depend on the clock.
awardsToIneligibleSuppliers — `audit_awards.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .audit_awards import PlantedAward, plant_awards
from .dates import add_months
from .golden_plant import Planter, Servant
from .organisations import Org
from .units import Unit
from .writer import ENTRIES, ISSUES

__all__ = ["AuditGolden", "plant_audit_cases"]

AUDITOR, ADMIN = "auditor", "credit_admin"


@dataclass(frozen=True)
class Promotion:
    """A planted position change, and the bars it must be reported with (none: not reported)."""

    id_number: str
    start_date: dt.date
    rules: tuple[str, ...]
    roles: tuple[str, ...] = (AUDITOR, ADMIN)  # who may see the bars it rests on


@dataclass
class AuditGolden:
    """What each audit query must find among the planted subjects."""

    unit: str = ""  # the audit unit: its civil servants' conflicts and promotions
    window: tuple[dt.date, dt.date] = (dt.date.min, dt.date.min)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)
    debtors: list[dict[str, Any]] = field(default_factory=list)
    not_debtors: list[str] = field(default_factory=list)
    awards: list[PlantedAward] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        """The expectations as one JSON document."""
        return {
            "conflictsOfInterest": {"unitCode": self.unit, "expected": self.conflicts},
            "promotionsDuringBars": {
                "from": self.window[0].isoformat(),
                "to": self.window[1].isoformat(),
                "expected": [
                    {
                        "idNumber": p.id_number,
                        "startDate": p.start_date.isoformat(),
                        "rules": list(p.rules),
                        "roles": list(p.roles),
                    }
                    for p in self.promotions
                    if p.rules
                ],
                "notExpected": [
                    {"idNumber": p.id_number, "startDate": p.start_date.isoformat()}
                    for p in self.promotions
                    if not p.rules
                ],
            },
            "governmentDebtors": {"expected": self.debtors, "notExpected": self.not_debtors},
            "awardsToIneligibleSuppliers": {
                "expected": [a.row() for a in self.awards if a.rule],
                "notExpected": [a.row() for a in self.awards if not a.rule],
            },
        }


def plant_audit_cases(p: Planter) -> AuditGolden:
    """Plant every audit case with `p`; returns what the queries must find."""
    golden = AuditGolden()
    audit, unit = _new_unit(p)
    golden.unit = audit.code
    _conflicts(p, unit, golden)
    _promotions(p, unit, golden)
    _debtors(p, golden)
    golden.awards = plant_awards(p)
    return golden


def _conflicts(p: Planter, unit: Unit, golden: AuditGolden) -> None:
    def conflict(servant: Servant, supplier: Org, role: str) -> None:
        golden.conflicts.append(
            {
                "idNumber": servant.person.id_number,
                "supplier": supplier.code,
                "role": role,
            }
        )

    s = p.servant(unit=unit)
    conflict(s, p.supplier(representative=s.person), "LEGAL_REPRESENTATIVE")
    s = p.servant(unit=unit)
    conflict(s, p.supplier(shareholders=[s.person]), "SHAREHOLDER")
    s = p.servant(unit=unit)
    conflict(s, p.supplier("CANCELLED", representative=s.person), "LEGAL_REPRESENTATIVE")
    s = p.servant(unit=unit)
    p.enterprise(representative=s.person)  # no supplier: the procurement system knows nothing


def _promotions(p: Planter, unit: Unit, golden: AuditGolden) -> None:
    golden.window = (p.m(-6), p.m(-1))

    def promoted(months: int, rules: str, roles: tuple[str, ...] = (AUDITOR, ADMIN)) -> Servant:
        day = p.m(months)
        s = p.servant(unit=unit, promoted=day)
        golden.promotions.append(Promotion(s.person.id_number, day, tuple(rules.split()), roles))
        return s

    def serious(s: Servant, decided: int, **options: Any) -> None:
        p.credit(s.person.subject, "SERIOUS_DISHONESTY", p.m(decided), 36, **options)

    p.sanction(promoted(-4, "CS-01"), "GOV_DEMERIT", p.m(-10))
    p.investigation(promoted(-3, "CS-04"), p.m(-8), None)
    s = promoted(-2, "CS-08")
    p.listing(s.person.subject, p.m(-9), behaviour=1, listing_end=None)
    serious(promoted(-5, "CS-09"), -12, penalties=("OTHER",))
    p.check(promoted(-2, "CS-07"), p.m(-7), "CONCEALMENT")
    restricted = ("AUDIT", "CREDIT_OFFICE")
    serious(promoted(-3, "CS-09"), -11, disclosure="RESTRICTED", scope=restricted)
    s = promoted(-3, "CS-09", roles=(ADMIN,))
    serious(s, -11, disclosure="CONDITIONAL", scope=("ORG_HR", "CREDIT_OFFICE"))
    s = promoted(-2, "CS-01 CS-02")
    p.sanction(s, "GOV_WARNING", p.m(-3))
    p.sanction(s, "PARTY_WARNING", p.m(-4))

    p.sanction(promoted(-4, ""), "GOV_WARNING", p.m(-12))  # over since m(-6)
    p.sanction(promoted(-4, ""), "GOV_DEMERIT", p.m(-10), revoked=p.m(-6))
    serious(promoted(-3, ""), -8, status="OBJECTION_PENDING", penalties=("OTHER",))
    p.check(promoted(-3, ""), p.m(-6), "MINOR_OMISSION")
    p.sanction(promoted(-4, ""), "GOV_DEMERIT", p.m(-2))


def _debtors(p: Planter, golden: AuditGolden) -> None:
    def unit(debtor: bool) -> Org:
        org, planted = _new_unit(p)
        p.servant(unit=planted)  # so the archive names the unit
        if not debtor:
            golden.not_debtors.append(org.code)
        return org

    def expect(org: Org, first_row: int) -> None:
        planted = p.rows[first_row:]
        golden.debtors.append(
            {
                "creditCode": org.code,
                "entries": [r["entryId"] for name, r in planted if name == ENTRIES],
                "openIssues": [r["contract_no"] for name, r in planted if name == ISSUES],
            }
        )

    u = unit(True)
    first = len(p.rows)
    p.listing(u.subject, p.m(-5), behaviour=1, listing_end=None, org=u)
    expect(u, first)
    u = unit(True)
    first = len(p.rows)
    p.issue(u, "LATE_PAYMENT", p.m(-4), None)
    expect(u, first)
    u = unit(True)
    first = len(p.rows)
    p.issue(u, "BREACH", p.m(-3), None)
    p.listing(u.subject, p.m(-7), behaviour=1, listing_end=None, org=u)
    expect(u, first)

    u = unit(False)
    p.listing(u.subject, p.m(-14), behaviour=1, listing_end=None, removed=p.m(-2), org=u)
    u = unit(False)
    p.issue(u, "LATE_PAYMENT", p.m(-8), p.m(-2))
    u = unit(False)
    p.issue(u, "ACCEPTANCE_DELAY", p.m(-4), None)
    u = unit(False)
    published = p.m(-30)
    p.listing(u.subject, published, behaviour=2, listing_end=add_months(published, 24), org=u)


def _new_unit(p: Planter) -> tuple[Org, Unit]:
    org = p.unit()
    if org.unit is None:  # never: a planted unit carries its Unit
        raise ValueError("a planted unit without its unit record")
    return org, org.unit
