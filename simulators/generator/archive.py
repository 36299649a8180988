"""The civil-service integrity archive: one civil servant's rows in every table.

Careers start at 21-28, move up the rank ladder every three to six years, and
sometimes through another unit; heads of units hold their unit's top post.
Annual assessments cover the last six years (mostly COMPETENT, some EXCELLENT;
a demerit or heavier 政务处分 leaves the years of its period NOT_GRADED, any
sanction rules out EXCELLENT that year). About 4% have a sanction, a few are
under investigation, leading cadres have their personal-matters reports
checked now and then, and excellent years bring honours. Retirement is at 60.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .dates import ONE_DAY, add_months, day_between, stamp
from .people import Person
from .units import Unit
from .world import World

__all__ = [
    "ARCHIVE_TABLES",
    "GRADES",
    "RANKS",
    "SANCTION_KINDS",
    "assessment_row",
    "check_row",
    "history_row",
    "honour_row",
    "investigation_row",
    "person_row",
    "random_servant_rows",
    "sanction_row",
]

ARCHIVE_TABLES = (
    "cs_person",
    "cs_position_history",
    "cs_assessment",
    "cs_sanction",
    "cs_investigation",
    "cs_matters_report_check",
    "cs_honour",
)
GRADES = ("EXCELLENT", "COMPETENT", "BASICALLY_COMPETENT", "INCOMPETENT", "NOT_GRADED")
PERSON_STATUSES = ("ACTIVE", "RETIRED", "DISMISSED")
CHECK_RESULTS = ("CONSISTENT", "MINOR_OMISSION", "CONCEALMENT")
RANKS = (
    "一级科员",
    "四级主任科员",
    "三级主任科员",
    "二级主任科员",
    "一级主任科员",
    "四级调研员",
    "三级调研员",
    "二级调研员",
    "一级调研员",
    "二级巡视员",
    "一级巡视员",
)
_TOP_RANK = {"DISTRICT": 8, "CITY": 9, "PROVINCE": 10}
_HEAD_RANK = {"DISTRICT": 8, "CITY": 9, "PROVINCE": 10}
_SECTIONS = ("办公室", "综合科", "法规科", "财务科", "人事科", "业务一科", "业务二科", "监督科")
_DIVISIONS = ("办公室", "综合处", "法规处", "财务处", "人事处", "业务一处", "业务二处", "监督处")

# kind -> weight among random sanctions, and who decides it ("party", "supervision", "org").
SANCTION_KINDS: dict[str, tuple[int, str]] = {
    "GOV_WARNING": (20, "supervision"),
    "GOV_DEMERIT": (15, "supervision"),
    "GOV_MAJOR_DEMERIT": (6, "supervision"),
    "GOV_DEMOTION": (3, "supervision"),
    "GOV_REMOVAL": (2, "supervision"),
    "GOV_DISMISSAL": (1, "supervision"),
    "PARTY_WARNING": (18, "party"),
    "PARTY_SERIOUS_WARNING": (10, "party"),
    "PARTY_POST_REMOVAL": (2, "party"),
    "PARTY_PROBATION": (2, "party"),
    "PARTY_EXPULSION": (1, "party"),
    "ADMONISHMENT": (15, "party"),
    "ORG_POST_ADJUSTED": (3, "org"),
    "ORG_RESIGNATION_ORDERED": (1, "org"),
    "ORG_DISMISSED": (1, "org"),
}
# 政务处分 periods during which the yearly assessment gives no grade (考核规定).
_UNGRADED_MONTHS = {
    "GOV_DEMERIT": 12,
    "GOV_MAJOR_DEMERIT": 18,
    "GOV_DEMOTION": 24,
    "GOV_REMOVAL": 24,
}
_REASONS = (
    "违反中央八项规定精神，违规收受礼品礼金",
    "违反工作纪律，履职不力，造成不良影响",
    "违规发放津贴补贴",
    "违反廉洁纪律，利用职务便利为他人谋取利益",
    "形式主义、官僚主义问题突出",
    "违反组织纪律，不如实报告个人有关事项",
)
_HONOUR_TITLES = ("嘉奖", "记三等功", "优秀公务员")
_HONOUR_LEVEL = {"PROVINCE": "省级", "CITY": "市级", "DISTRICT": "县级"}


def servant_id(key: int) -> str:
    """The archive's person_id of a civil servant."""
    return f"CS{key:08d}"


def decider(unit: Unit, organ: str) -> tuple[str, str]:
    """(authority name, document word) of the organ deciding a sanction for `unit`'s staff."""
    area = unit.area
    if organ == "party":
        return f"中共{area}纪律检查委员会", "纪处"
    if organ == "supervision":
        return f"{area}监察委员会", "监处"
    return f"中共{area}委组织部", "组干"


def person_row(
    *,
    person: Person,
    person_id: str,
    unit: Unit,
    position: str,
    rank: str,
    status: str,
    updated_at: str,
) -> dict[str, Any]:
    """One line of archive/cs_person.jsonl."""
    return {
        "person_id": person_id,
        "id_number": person.id_number,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth.isoformat(),
        "unit_code": unit.code,
        "unit_name": unit.name,
        "position": position,
        "rank_level": rank,
        "status": status,
        "updated_at": updated_at,
    }


def history_row(
    person_id: str, position: str, rank: str, unit: Unit, start: dt.date, end: dt.date | None
) -> dict[str, Any]:
    """One line of archive/cs_position_history.jsonl (end: last day in post, None if current)."""
    return {
        "person_id": person_id,
        "position": position,
        "rank_level": rank,
        "unit_code": unit.code,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else None,
    }


def assessment_row(person_id: str, year: int, grade: str) -> dict[str, Any]:
    """One line of archive/cs_assessment.jsonl."""
    return {"person_id": person_id, "year": year, "grade": grade}


def sanction_row(
    *,
    sanction_id: str,
    person_id: str,
    kind: str,
    decision_no: str,
    authority: str,
    decision_date: dt.date,
    period_months: int | None,
    reason: str,
    disclosure: str,
    revoked_date: dt.date | None,
    updated_at: str,
) -> dict[str, Any]:
    """One line of archive/cs_sanction.jsonl."""
    return {
        "sanction_id": sanction_id,
        "person_id": person_id,
        "kind": kind,
        "decision_no": decision_no,
        "authority": authority,
        "decision_date": decision_date.isoformat(),
        "period_months": period_months,
        "reason": reason,
        "disclosure": disclosure,
        "revoked_date": revoked_date.isoformat() if revoked_date else None,
        "updated_at": updated_at,
    }


def investigation_row(
    *,
    case_id: str,
    person_id: str,
    authority: str,
    opened: dt.date,
    closed: dt.date | None,
    disclosure: str,
) -> dict[str, Any]:
    """One line of archive/cs_investigation.jsonl."""
    return {
        "case_id": case_id,
        "person_id": person_id,
        "authority": authority,
        "opened_date": opened.isoformat(),
        "closed_date": closed.isoformat() if closed else None,
        "disclosure": disclosure,
    }


def check_row(person_id: str, year: int, check_date: dt.date, result: str) -> dict[str, Any]:
    """One line of archive/cs_matters_report_check.jsonl (`year`: the year reported on)."""
    return {
        "person_id": person_id,
        "year": year,
        "check_date": check_date.isoformat(),
        "result": result,
    }


def honour_row(person_id: str, year: int, title: str, level: str) -> dict[str, Any]:
    """One line of archive/cs_honour.jsonl."""
    return {"person_id": person_id, "year": year, "title": title, "level": level}


def position_title(rng: random.Random, rank: int, unit: Unit) -> str:
    """A post fitting a rank: staff or chief of a section (科) or division (处), deputy head."""
    if rank >= 9 or (rank >= 7 and unit.level == "DISTRICT"):
        return "副" + unit.head_title
    if unit.level == "DISTRICT":
        return rng.choice(_SECTIONS) + ("科员" if rank <= 1 else "副科长" if rank <= 3 else "科长")
    return rng.choice(_DIVISIONS) + ("科员" if rank <= 3 else "副处长" if rank <= 6 else "处长")


@dataclass(frozen=True)
class _Career:
    history: list[dict[str, Any]]
    position: str
    rank: int
    joined: dt.date
    last_change: dt.date


def _career(
    world: World, rng: random.Random, person: Person, person_id: str, unit: Unit, head: bool
) -> _Career:
    as_of = world.as_of
    joined = add_months(person.birth, 12 * rng.randint(21, 28) + rng.randint(0, 11))
    joined = min(joined, as_of - dt.timedelta(days=rng.randint(60, 400)))
    retired = add_months(person.birth, 720)
    end = min(as_of, retired)
    top = _TOP_RANK[unit.level]
    posts: list[tuple[dt.date, int, Unit]] = []
    start, rank = joined, 0
    while start < end:
        here = unit if rng.random() < 0.7 else world.units[rng.randrange(len(world.units))]
        posts.append((start, rank, here))
        start = add_months(start, 12 * rng.randint(3, 6) + rng.randint(0, 11))
        rank = min(rank + 1, top)
    posts[-1] = (posts[-1][0], posts[-1][1], unit)  # the current post is in the own unit
    titles = [position_title(rng, rank, here) for _, rank, here in posts]
    if head:
        since = max(posts[-1][0], day_between(rng, add_months(end, -96), end - ONE_DAY))
        rank = max(posts[-1][1], _HEAD_RANK[unit.level])
        if since > posts[-1][0]:
            posts.append((since, rank, unit))
            titles.append(unit.head_title)
        else:
            posts[-1] = (since, rank, unit)
            titles[-1] = unit.head_title
    history = []
    for number, ((start, rank, here), title) in enumerate(zip(posts, titles, strict=True)):
        last_day = posts[number + 1][0] - ONE_DAY if number + 1 < len(posts) else None
        if last_day is None and retired <= as_of:
            last_day = retired - ONE_DAY
        history.append(history_row(person_id, title, RANKS[rank], here, start, last_day))
    return _Career(history, titles[-1], posts[-1][1], joined, posts[-1][0])


def _sanctions(
    rng: random.Random, as_of: dt.date, unit: Unit, key: int, person_id: str, joined: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(sanctions, investigations): about 4% sanctioned, a few more investigated."""
    sanctions: list[dict[str, Any]] = []
    investigations: list[dict[str, Any]] = []
    if rng.random() < 0.04:
        kinds = list(SANCTION_KINDS)
        weights = [SANCTION_KINDS[kind][0] for kind in kinds]
        for number in range(1, rng.choice((1, 1, 1, 2)) + 1):
            kind = rng.choices(kinds, weights=weights)[0]
            decided = day_between(rng, max(joined, add_months(as_of, -72)), as_of - ONE_DAY)
            organ = SANCTION_KINDS[kind][1]
            authority, word = decider(unit, organ)
            period = None
            if kind == "PARTY_PROBATION":
                period = rng.choice((12, 24))
            elif kind.startswith("ORG_") and rng.random() < 0.1:
                period = rng.choice((6, 12, 18))
            revoked = None
            if rng.random() < 0.03:  # overturned on appeal (申诉)
                candidate = decided + dt.timedelta(days=rng.randint(60, 400))
                revoked = candidate if candidate < as_of else None
            sanctions.append(
                sanction_row(
                    sanction_id=f"S{key:08d}{number:02d}",
                    person_id=person_id,
                    kind=kind,
                    decision_no=f"{unit.abbr}{word}〔{decided.year}〕{rng.randint(1, 300)}号",
                    authority=authority,
                    decision_date=decided,
                    period_months=period,
                    reason=rng.choice(_REASONS),
                    disclosure=rng.choices(("PUBLIC", "CONDITIONAL", "RESTRICTED"), (3, 6, 1))[0],
                    revoked_date=revoked,
                    updated_at=stamp(rng, revoked or decided + dt.timedelta(days=3), as_of),
                )
            )
            if number == 1 and organ != "org" and rng.random() < 0.4:
                # The sanction closed an investigation (立案审查调查) opened months before.
                investigations.append(
                    investigation_row(
                        case_id=f"AJ{key:08d}01",
                        person_id=person_id,
                        authority=decider(unit, "supervision")[0],
                        opened=add_months(decided, -rng.randint(2, 8)),
                        closed=decided,
                        disclosure="RESTRICTED",
                    )
                )
    elif rng.random() < 0.005:
        opened = day_between(rng, add_months(as_of, -18), as_of - ONE_DAY)
        closed = opened + dt.timedelta(days=rng.randint(60, 360))
        investigations.append(
            investigation_row(
                case_id=f"AJ{key:08d}01",
                person_id=person_id,
                authority=decider(unit, "supervision")[0],
                opened=opened,
                closed=closed if closed < as_of and rng.random() < 0.6 else None,
                disclosure=rng.choice(("RESTRICTED", "CONDITIONAL")),
            )
        )
    return sanctions, investigations


def _assessments(
    rng: random.Random, person_id: str, years: range, sanctions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One grade a year; sanctions in force leave no grade or rule out EXCELLENT."""
    assessments = []
    for year in years:
        grade = rng.choices(GRADES, weights=(150, 800, 20, 5, 25))[0]
        for row in sanctions:
            if row["revoked_date"] is not None:
                continue
            decided = dt.date.fromisoformat(row["decision_date"])
            months = _UNGRADED_MONTHS.get(row["kind"])
            if months is not None and decided.year <= year <= add_months(decided, months).year:
                grade = "NOT_GRADED"
            elif decided.year == year and grade == "EXCELLENT":
                grade = "COMPETENT"
        assessments.append(assessment_row(person_id, year, grade))
    return assessments


def _checks(
    rng: random.Random, as_of: dt.date, person_id: str, years: range
) -> list[dict[str, Any]]:
    """Random checks (抽查) of a leading cadre's reports, the year after each report."""
    checks = []
    for year in years:
        if rng.random() < 0.2:
            checked = day_between(rng, dt.date(year + 1, 3, 1), dt.date(year + 1, 11, 30))
            if checked < as_of:
                result = rng.choices(CHECK_RESULTS, weights=(88, 10, 2))[0]
                checks.append(check_row(person_id, year, checked, result))
    return checks


def random_servant_rows(
    world: World, rng: random.Random, person: Person, servant: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) for every archive row of civil servant `servant`."""
    as_of = world.as_of
    unit = world.units[world.service.unit_of(servant)]
    head = world.service.heads[unit.index] == servant
    person_id = servant_id(person.key)
    career = _career(world, rng, person, person_id, unit, head)
    sanctions, investigations = _sanctions(rng, as_of, unit, person.key, person_id, career.joined)
    retired = add_months(person.birth, 720)
    status = "RETIRED" if retired <= as_of else "ACTIVE"
    last_year = min(as_of.year - 1, retired.year - 1)
    for row in sanctions:
        if row["kind"] == "GOV_DISMISSAL" and row["revoked_date"] is None:
            status = "DISMISSED"
            dismissed = dt.date.fromisoformat(row["decision_date"])
            last_year = min(last_year, dismissed.year - 1)
            current = career.history[-1]
            if current["end_date"] is None and current["start_date"] < row["decision_date"]:
                current["end_date"] = (dismissed - ONE_DAY).isoformat()
    # A new recruit's first year is not assessed when they join in the last quarter.
    first_year = max(career.joined.year + (career.joined.month > 9), as_of.year - 6)
    assessments = _assessments(rng, person_id, range(first_year, last_year + 1), sanctions)
    checks = []
    if career.rank >= 5 or head:
        checks = _checks(rng, as_of, person_id, range(as_of.year - 6, last_year + 1))
    honours = [
        honour_row(person_id, row["year"], rng.choice(_HONOUR_TITLES), _HONOUR_LEVEL[unit.level])
        for row in assessments
        if row["grade"] == "EXCELLENT" and rng.random() < 0.25
    ]
    decided = [dt.date.fromisoformat(row["decision_date"]) for row in sanctions]
    yield (
        "cs_person",
        person_row(
            person=person,
            person_id=person_id,
            unit=unit,
            position=career.position,
            rank=RANKS[career.rank],
            status=status,
            updated_at=stamp(rng, max([career.last_change, *decided]), as_of),
        ),
    )
    for table, rows in (
        ("cs_position_history", career.history),
        ("cs_assessment", assessments),
        ("cs_sanction", sanctions),
        ("cs_investigation", investigations),
        ("cs_matters_report_check", checks),
        ("cs_honour", honours),
    ):
        for row in rows:
            yield table, row
