"""The audit queries that scan government units: debtors, awards to ineligible suppliers.

The government units are the units the archive names (`cs_person.unit_code`
and `cs_position_history.unit_code`), as far as their credit code says they
are organs of state (prefix `11`): no platform lists "every unit" otherwise.

governmentDebtors
    Each unit's dishonest-debtor entries (court, 200 parties a request) and its
    record as a purchaser (procurement, 50 a request), judged on today's date
    (Asia/Shanghai): an entry in force (schema/in_force.py), an open
    LATE_PAYMENT or BREACH issue. A unit with either is reported with them.

awardsToIneligibleSuppliers(purchaserCode, from, to)
    The awards of each unit (or of `purchaserCode` only) between the two dates
    (QueryAwards, one purchaser a request, every page); each supplier's
    PROCUREMENT_ELIGIBILITY evidence is fetched once, and each award judged on
    its award date. It is reported when an undisputed BAR held that day, with
    every finding of that day. PE-02 is left out of the judgement: the
    registration status is only known as it is now, so it cannot show what the
    supplier's status was on an earlier award date (a supplier cancelled last
    year did not win last decade's contracts ineligibly).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

from connectors import records as r
from connectors.archive_scan import UnitRow
from connectors.procurement import AwardQuery

from . import vetting
from .audit_scan import PURCHASERS_PER_PAGE, AuditCall, answered, bounded, pages_of, scanned
from .audit_types import GovernmentDebtor, IneligibleAward
from .in_force import enforcement_in_force, issue_open
from .organization import GOVERNMENT_UNIT_PREFIX
from .records import Award, EnforcementEntry, PurchaserIssue
from .reports import Finding
from .types import Purpose, SubjectKind, SubjectRef
from .vetting import Effect, evaluate

__all__ = ["OWED", "UNDATED_RULES", "awards_to_ineligible_suppliers", "government_debtors"]

OWED = frozenset({"LATE_PAYMENT", "BREACH"})
UNDATED_RULES = frozenset({"PE-02"})  # rest on a status with no date: not for past days
_COURT_PAGE = 200  # the court's batch limit: one request per operation per page


async def government_units(call: AuditCall) -> list[UnitRow]:
    units = await scanned(call.scan.units)
    return [unit for unit in units if unit.unit_code.startswith(GOVERNMENT_UNIT_PREFIX)]


async def government_debtors(call: AuditCall) -> list[GovernmentDebtor]:
    today = call.today

    async def page(units: Sequence[UnitRow]) -> list[GovernmentDebtor]:
        codes = [unit.unit_code for unit in units]
        entries, performance = await asyncio.gather(
            call.loaders.enforcement.load_many(codes), call.loaders.purchasers.load_many(codes)
        )
        found = []
        for unit, listed, bought in zip(units, entries, performance, strict=True):
            in_force = [e for e in answered(listed) if enforcement_in_force(e, today)]
            owing = [i for i in answered(bought).issues if i.type in OWED and issue_open(i, today)]
            if in_force or owing:
                call.disclosure.touch(SubjectKind.ORGANIZATION, unit.unit_code)
                found.append(
                    GovernmentDebtor(
                        unit=SubjectRef.organization(unit.unit_code, unit.unit_name),
                        enforcement=[EnforcementEntry.of(e, today) for e in in_force],
                        open_issues=[PurchaserIssue.of(i, today) for i in owing],
                    )
                )
        return found

    return await bounded(pages_of(await government_units(call), _COURT_PAGE), page)


async def awards_to_ineligible_suppliers(
    call: AuditCall, purchaser_code: str | None, first: dt.date, last: dt.date
) -> list[IneligibleAward]:
    units = await government_units(call)
    if purchaser_code is not None:
        named = [unit for unit in units if unit.unit_code == purchaser_code]
        units = named or [UnitRow(purchaser_code, None)]  # a purchaser the archive does not name
    rule_set = call.vetting.rule_set
    eligibility = Purpose.PROCUREMENT_ELIGIBILITY

    async def page(purchasers: Sequence[UnitRow]) -> list[IneligibleAward]:
        queries = [AwardQuery(unit.unit_code, first, last) for unit in purchasers]
        fetched = await call.loaders.awards.load_many(queries)
        awards = [
            (unit, award)
            for unit, found in zip(purchasers, fetched, strict=True)
            for award in answered(found)
        ]
        suppliers = list(dict.fromkeys(award.supplier_code for _, award in awards))
        gathered = await asyncio.gather(
            *(call.evidence(SubjectKind.ORGANIZATION, code, eligibility) for code in suppliers)
        )
        evidence = dict(zip(suppliers, gathered, strict=True))
        reported = []
        for unit, award in awards:
            report = evaluate(
                rule_set,
                eligibility,
                SubjectKind.ORGANIZATION,
                award.award_date,
                evidence[award.supplier_code],
            )
            findings = [f for f in report.findings if f.rule_id not in UNDATED_RULES]
            if any(f.effect is Effect.BAR and not f.disputed for f in findings):
                reported.append(_ineligible(call, unit, award, findings))
        return reported

    return await bounded(pages_of(units, PURCHASERS_PER_PAGE), page)


def _ineligible(
    call: AuditCall, unit: UnitRow, award: r.Award, findings: Sequence[vetting.Finding]
) -> IneligibleAward:
    call.disclosure.touch(SubjectKind.ORGANIZATION, unit.unit_code)
    call.disclosure.touch(SubjectKind.ORGANIZATION, award.supplier_code)
    return IneligibleAward(
        award=Award.of(award),
        purchaser=SubjectRef.organization(unit.unit_code, unit.unit_name),
        findings=[Finding.of(f) for f in findings],
    )
