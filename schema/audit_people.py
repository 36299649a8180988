"""The audit queries that scan civil servants: conflicts of interest, promotions during bars.

conflictsOfInterest(unitCode)
    Every civil servant of the archive (of one unit, when asked) is looked up in
    the procurement system (QuerySuppliersByRepresentative, 50 a request); a
    role in a registered supplier (ACTIVE, SUSPENDED or CANCELLED — a
    NOT_REGISTERED company is no supplier) is a conflict. `awardsFromOwnUnit`
    are the contracts that supplier won from the civil servant's current unit
    (`cs_person.unit_code`) in the 15 years up to today — the retention period
    of procurement files (政府采购法 art. 42) — asked once per unit
    (QueryAwards), whatever the number of conflicts in it.

promotionsDuringBars(from, to)
    Every `cs_position_history` entry starting in [from, to] is judged with the
    CADRE_SELECTION rule set as of its start date, on what the auditor may use
    (record visibility for the AUDIT sector); it is reported with the
    undisputed BAR findings of that day (a BAR on a disputed record only flags,
    DOMAIN.md). Changes come by civil servant, then start date; a person's
    evidence is fetched once, however many changes they have in the range.

Only the subjects an answer names are recorded for the access log: the civil
servants, suppliers and units reported, not everyone the scan went through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from connectors import records as r
from connectors.archive_scan import ChangeRow, ServantRow
from connectors.procurement import AwardQuery

from . import vetting
from .audit_scan import PURCHASERS_PER_PAGE, AuditCall, answered, bounded, pages_of
from .audit_types import ConflictOfInterest, ImproperPromotion
from .in_force import add_months
from .person import PositionChange
from .records import Award
from .reports import Finding
from .types import Purpose, SubjectKind, SubjectRef
from .vetting import Effect, evaluate

__all__ = ["AWARD_YEARS", "conflicts_of_interest", "promotions_during_bars"]

AWARD_YEARS = 15
REGISTERED = frozenset({"ACTIVE", "SUSPENDED", "CANCELLED"})


@dataclass(frozen=True)
class _Tie:
    servant: ServantRow
    role: r.BusinessRole


async def conflicts_of_interest(call: AuditCall, unit_code: str | None) -> list[ConflictOfInterest]:
    async def page(servants: Sequence[ServantRow]) -> list[_Tie]:
        found = await call.loaders.representatives.load_many([s.id_number for s in servants])
        return [
            _Tie(servant, role)
            for servant, fetched in zip(servants, found, strict=True)
            for role in answered(fetched).roles
            if role.registration_status in REGISTERED
        ]

    ties = await bounded(call.scan.servants(unit_code), page)
    awards = await _own_unit_awards(call, ties)
    conflicts = []
    for tie in ties:
        servant, role = tie.servant, tie.role
        call.disclosure.touch(SubjectKind.PERSON, servant.id_number)
        call.disclosure.touch(SubjectKind.ORGANIZATION, role.supplier_code)
        unit = None
        if servant.unit_code:
            call.disclosure.touch(SubjectKind.ORGANIZATION, servant.unit_code)
            unit = SubjectRef.organization(servant.unit_code, servant.unit_name)
        won = awards.get(servant.unit_code or "", ())
        conflicts.append(
            ConflictOfInterest(
                civil_servant=SubjectRef.person(servant.id_number, servant.name),
                unit=unit,
                supplier=SubjectRef.organization(role.supplier_code, role.supplier_name),
                role=role.role,
                awards_from_own_unit=[
                    Award.of(a) for a in won if a.supplier_code == role.supplier_code
                ],
            )
        )
    return conflicts


async def _own_unit_awards(call: AuditCall, ties: list[_Tie]) -> dict[str, tuple[r.Award, ...]]:
    """The awards of every unit with a conflict, over the last AWARD_YEARS years."""
    today = call.today
    start = add_months(today, -12 * AWARD_YEARS)
    units = sorted({tie.servant.unit_code for tie in ties if tie.servant.unit_code})

    async def page(codes: Sequence[str]) -> list[tuple[str, tuple[r.Award, ...]]]:
        queries = [AwardQuery(code, start, today) for code in codes]
        found = await call.loaders.awards.load_many(queries)
        return [(code, answered(f)) for code, f in zip(codes, found, strict=True)]

    return dict(await bounded(pages_of(units, PURCHASERS_PER_PAGE), page))


async def promotions_during_bars(
    call: AuditCall, first: dt.date, last: dt.date
) -> list[ImproperPromotion]:
    rule_set = call.vetting.rule_set
    cadre = Purpose.CADRE_SELECTION

    async def page(changes: Sequence[ChangeRow]) -> list[ImproperPromotion]:
        people = list(dict.fromkeys(change.id_number for change in changes))
        gathered = await asyncio.gather(
            *(call.evidence(SubjectKind.PERSON, person, cadre) for person in people)
        )
        evidence = dict(zip(people, gathered, strict=True))
        found = []
        for row in changes:
            report = evaluate(
                rule_set, cadre, SubjectKind.PERSON, row.start_date, evidence[row.id_number]
            )
            bars = [f for f in report.findings if f.effect is Effect.BAR and not f.disputed]
            if bars:
                found.append(_improper(call, row, bars))
        return found

    return await bounded(call.scan.position_changes(first, last), page)


def _improper(call: AuditCall, row: ChangeRow, bars: list[vetting.Finding]) -> ImproperPromotion:
    change = row.change
    call.disclosure.touch(SubjectKind.PERSON, row.id_number)
    return ImproperPromotion(
        civil_servant=SubjectRef.person(row.id_number, row.name),
        change=PositionChange(
            position=change.position,
            rank_level=change.rank_level,
            unit=SubjectRef.organization(change.unit_code, None),
            start_date=change.start_date,
            end_date=change.end_date,
        ),
        bars=[Finding.of(bar) for bar in bars],
    )
