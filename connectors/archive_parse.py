"""Reading the exchange database's rows without trusting them.

The tables and their columns are UPSTREAMS.md section 4; `PERSON_COLUMNS` and
`CHILD_TABLES` say what the connector selects and how each row becomes a record.
Rows are accepted only when all of this holds, and are otherwise refused whole
with `SourceProtocolError` (never a crash, never partial data):

- every `cs_person` row is about an ID number that was asked for, passes its
  check digit, and appears once; `person_id`s are unique;
- every child row belongs to a person of this answer; record ids are unique;
- every enumeration holds a value UPSTREAMS.md / DOMAIN.md lists;
- every value has its column's kind (`archive_columns`: text, integer, date,
  timestamp).

Messages name the table and column, never a value: values may identify a person.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .archive_columns import Columns, Refused
from .errors import SourceProtocolError
from .identifiers import is_valid_id_number
from .records import (
    Assessment,
    CivilServantFile,
    Honour,
    Investigation,
    MattersReportCheck,
    PositionChange,
    Sanction,
)

__all__ = [
    "CHILD_TABLES",
    "PERSON_COLUMNS",
    "ChildTable",
    "assemble",
    "read_children",
    "read_members",
    "read_persons",
]

GENDERS = frozenset({"M", "F"})
PERSON_STATUSES = frozenset({"ACTIVE", "RETIRED", "DISMISSED"})
GRADES = frozenset({"EXCELLENT", "COMPETENT", "BASICALLY_COMPETENT", "INCOMPETENT", "NOT_GRADED"})
CHECK_RESULTS = frozenset({"CONSISTENT", "MINOR_OMISSION", "CONCEALMENT"})
DISCLOSURES = frozenset({"PUBLIC", "CONDITIONAL", "RESTRICTED"})
# DOMAIN.md: 政务处分, 党纪处分, 诫勉, 组织处理. An unknown kind is refused rather
# than passed on: the vetting rules could not weigh it, and would say nothing.
SANCTION_KINDS = frozenset(
    {
        *("GOV_WARNING", "GOV_DEMERIT", "GOV_MAJOR_DEMERIT", "GOV_DEMOTION"),
        *("GOV_REMOVAL", "GOV_DISMISSAL"),
        *("PARTY_WARNING", "PARTY_SERIOUS_WARNING", "PARTY_POST_REMOVAL"),
        *("PARTY_PROBATION", "PARTY_EXPULSION"),
        "ADMONISHMENT",
        *("ORG_POST_ADJUSTED", "ORG_RESIGNATION_ORDERED", "ORG_DISMISSED"),
    }
)

PERSON_COLUMNS = (
    "person_id",
    "id_number",
    "name",
    "gender",
    "birth_date",
    "unit_code",
    "unit_name",
    "position",
    "rank_level",
    "status",
    "updated_at",
)


@dataclass(frozen=True)
class ChildTable:
    """One table of a person's file: what to select, how to read a row, where it goes."""

    name: str
    field: str  # the CivilServantFile field its records fill
    columns: tuple[str, ...]  # selected besides person_id
    order_by: str
    read: Callable[[Columns], object]
    unique: str | None = None  # a column no two rows may share


def _position(row: Columns) -> PositionChange:
    return PositionChange(
        position=row.text("position"),
        rank_level=row.text("rank_level"),
        unit_code=row.text("unit_code"),
        start_date=row.date("start_date"),
        end_date=row.date("end_date"),
    )


def _assessment(row: Columns) -> Assessment:
    return Assessment(year=row.required_integer("year"), grade=row.required_choice("grade", GRADES))


def _sanction(row: Columns) -> Sanction:
    return Sanction(
        sanction_id=row.required_text("sanction_id"),
        kind=row.required_choice("kind", SANCTION_KINDS),
        decision_no=row.text("decision_no"),
        authority=row.text("authority"),
        decision_date=row.date("decision_date"),
        period_months=row.integer("period_months"),
        reason=row.text("reason"),
        disclosure=row.choice("disclosure", DISCLOSURES),
        revoked_date=row.date("revoked_date"),
        updated_at=row.timestamp("updated_at"),
    )


def _investigation(row: Columns) -> Investigation:
    return Investigation(
        case_id=row.required_text("case_id"),
        authority=row.text("authority"),
        opened_date=row.date("opened_date"),
        closed_date=row.date("closed_date"),
        disclosure=row.choice("disclosure", DISCLOSURES),
    )


def _matters_check(row: Columns) -> MattersReportCheck:
    return MattersReportCheck(
        year=row.required_integer("year"),
        check_date=row.required_date("check_date"),
        result=row.required_choice("result", CHECK_RESULTS),
    )


def _honour(row: Columns) -> Honour:
    return Honour(
        year=row.required_integer("year"),
        title=row.required_text("title"),
        level=row.text("level"),
    )


# The ORDER BY columns make every answer come back in one order on both
# databases; NULLS FIRST is spelt out because their defaults differ.
CHILD_TABLES: tuple[ChildTable, ...] = (
    ChildTable(
        "cs_position_history",
        "position_history",
        ("position", "rank_level", "unit_code", "start_date", "end_date"),
        "start_date NULLS FIRST, end_date NULLS FIRST, position NULLS FIRST",
        _position,
    ),
    ChildTable(
        "cs_assessment", "assessments", ("year", "grade"), "year NULLS FIRST, grade", _assessment
    ),
    ChildTable(
        "cs_sanction",
        "sanctions",
        (
            *("sanction_id", "kind", "decision_no", "authority", "decision_date"),
            *("period_months", "reason", "disclosure", "revoked_date", "updated_at"),
        ),
        "decision_date NULLS FIRST, sanction_id",
        _sanction,
        unique="sanction_id",
    ),
    ChildTable(
        "cs_investigation",
        "investigations",
        ("case_id", "authority", "opened_date", "closed_date", "disclosure"),
        "opened_date NULLS FIRST, case_id",
        _investigation,
        unique="case_id",
    ),
    ChildTable(
        "cs_matters_report_check",
        "matters_report_checks",
        ("year", "check_date", "result"),
        "check_date NULLS FIRST, year NULLS FIRST, result",
        _matters_check,
    ),
    ChildTable(
        "cs_honour", "honours", ("year", "title", "level"), "year NULLS FIRST, title", _honour
    ),
)


@contextlib.contextmanager
def _refusing(platform: str) -> Iterator[None]:
    try:
        yield
    except Refused as refusal:
        raise SourceProtocolError(platform, str(refusal)) from None


def read_persons(
    platform: str, asked: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> dict[str, dict[str, Any]]:
    """The `cs_person` rows as CivilServantFile fields, by person_id."""
    with _refusing(platform):
        return _persons(asked, rows)


def read_children(
    platform: str,
    table: ChildTable,
    persons: Mapping[str, object],
    rows: Iterable[Mapping[str, object]],
) -> dict[str, list[object]]:
    """One child table's records by person_id, in the order the rows came."""
    with _refusing(platform):
        return _children(table, persons, rows)


def assemble(
    asked: Sequence[str],
    persons: Mapping[str, Mapping[str, Any]],
    children: Mapping[str, Mapping[str, Sequence[object]]],
) -> dict[str, CivilServantFile | None]:
    """A file for every asked ID number (None: not a civil servant).

    `children` holds each child table's records by person_id, under the
    CivilServantFile field they fill.
    """
    files: dict[str, CivilServantFile | None] = dict.fromkeys(asked)
    for person_id, fields in persons.items():
        # Typed by CHILD_TABLES' readers, not by mypy: the fields are data there.
        records: dict[str, Any] = {
            field: tuple(by_person.get(person_id, ())) for field, by_person in children.items()
        }
        files[fields["id_number"]] = CivilServantFile(**fields, **records)
    return files


def read_members(
    platform: str, asked: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> dict[str, tuple[str, ...]]:
    """ID numbers of each asked unit's civil servants (an empty tuple: none)."""
    with _refusing(platform):
        return _members(asked, rows)


def _persons(
    asked: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> dict[str, dict[str, Any]]:
    wanted = set(asked)
    seen: set[str] = set()
    persons: dict[str, dict[str, Any]] = {}
    for row in rows:
        columns = Columns("cs_person", row)
        id_number = columns.required_text("id_number")
        if not is_valid_id_number(id_number):
            raise Refused("a cs_person row carries an ID number that fails its check digit")
        if id_number not in wanted:
            raise Refused("a cs_person row is about a subject that was not asked about")
        if id_number in seen:
            raise Refused("cs_person answers one subject more than once")
        seen.add(id_number)
        person_id = columns.required_text("person_id")
        if person_id in persons:
            raise Refused("two cs_person rows share a person_id")
        persons[person_id] = {
            "person_id": person_id,
            "id_number": id_number,
            "name": columns.text("name"),
            "gender": columns.choice("gender", GENDERS),
            "birth_date": columns.date("birth_date"),
            "unit_code": columns.text("unit_code"),
            "unit_name": columns.text("unit_name"),
            "position": columns.text("position"),
            "rank_level": columns.text("rank_level"),
            "status": columns.choice("status", PERSON_STATUSES),
            "updated_at": columns.timestamp("updated_at"),
        }
    return persons


def _children(
    table: ChildTable, persons: Mapping[str, object], rows: Iterable[Mapping[str, object]]
) -> dict[str, list[object]]:
    records: dict[str, list[object]] = {}
    seen: set[str] = set()
    for row in rows:
        columns = Columns(table.name, row)
        person_id = columns.required_text("person_id")
        if person_id not in persons:
            raise Refused(f"a {table.name} row is about a person that was not asked about")
        if table.unique is not None:
            key = columns.required_text(table.unique)
            if key in seen:
                raise Refused(f"{table.name}.{table.unique} repeats")
            seen.add(key)
        records.setdefault(person_id, []).append(table.read(columns))
    return records


def _members(
    asked: Sequence[str], rows: Iterable[Mapping[str, object]]
) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {unit: [] for unit in asked}
    for row in rows:
        columns = Columns("cs_person", row)
        unit = columns.required_text("unit_code")
        if unit not in members:
            raise Refused("a cs_person row is about a unit that was not asked about")
        id_number = columns.required_text("id_number")
        if not is_valid_id_number(id_number):
            raise Refused("a cs_person row carries an ID number that fails its check digit")
        members[unit].append(id_number)
    return {unit: tuple(ids) for unit, ids in members.items()}
