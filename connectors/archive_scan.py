"""Whole-archive scans for the auditors' queries, in pages, through the archive connector.

    ArchiveScan(archive).units()                          -> tuple[UnitRow, ...]
    ArchiveScan(archive).servants(unit_code=None)         -> async pages of ServantRow
    ArchiveScan(archive).position_changes(first, last)    -> async pages of ChangeRow

`ArchiveConnector` answers "these N ID numbers"; an audit asks about everyone,
so it needs the list first. Each page is ONE read-only SELECT on the
connector's database, counted in `ArchiveConnector.statements` and run through
the connector's `Platform` (retries, breaker, deadline) like any other archive
call; a failure is the connector's own `SourceError`. Pages are keyset pages on
the unique ID number (`WHERE id_number > last ORDER BY id_number LIMIT n`), so a
page costs the same however deep into the table it is, and a scan holds one
page at a time.

Rows are checked before they are believed, as `archive_parse` does: ID numbers
must pass their check digit, unit codes their check character, dates and text
must have their column's kind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .archive import ArchiveConnector
from .archive_columns import Columns, Refused
from .archive_db import DRIVER_ERRORS, translate_error
from .archive_parse import CHILD_TABLES
from .base import SourceResult, now_shanghai
from .errors import SourceProtocolError
from .identifiers import is_valid_credit_code, is_valid_id_number
from .records import PositionChange

__all__ = ["PAGE_SIZE", "ArchiveScan", "ChangeRow", "ServantRow", "UnitRow"]

PAGE_SIZE = 500
T = TypeVar("T")
_POSITION = next(table for table in CHILD_TABLES if table.name == "cs_position_history")


@dataclass(frozen=True)
class UnitRow:
    """A government unit the archive names (a civil servant's unit, now or before)."""

    unit_code: str
    unit_name: str | None


@dataclass(frozen=True)
class ServantRow:
    """One civil servant as `cs_person` lists them."""

    id_number: str
    name: str | None
    unit_code: str | None
    unit_name: str | None


@dataclass(frozen=True)
class ChangeRow:
    """One `cs_position_history` entry, with the ID number and name of its person."""

    id_number: str
    name: str | None
    change: PositionChange
    start_date: dt.date  # the change's start date, never null in a date-range scan


@dataclass(frozen=True)
class _Page(Generic[T]):
    rows: tuple[T, ...]
    full: bool  # as many rows as asked for: there may be more


class ArchiveScan:
    """Keyset-paged scans of the exchange database, through `archive`'s machinery."""

    def __init__(self, archive: ArchiveConnector, *, page_size: int = PAGE_SIZE) -> None:
        self.archive = archive
        self.page_size = page_size

    async def units(self) -> tuple[UnitRow, ...]:
        """Every unit code of `cs_person` and `cs_position_history`, in code order.

        One statement: there are a few thousand units at most, however many people.
        """
        sql = (
            "SELECT unit_code, MAX(unit_name) AS unit_name FROM ("
            " SELECT unit_code, unit_name FROM cs_person WHERE unit_code IS NOT NULL"
            " UNION ALL"
            " SELECT unit_code, NULL AS unit_name FROM cs_position_history"
            " WHERE unit_code IS NOT NULL"
            ") AS units GROUP BY unit_code ORDER BY unit_code"
        )
        page = await self._page("units", (), sql, (), "cs_person", _unit)
        return page.rows

    async def servants(self, unit_code: str | None = None) -> AsyncIterator[tuple[ServantRow, ...]]:
        """Every civil servant (of `unit_code` only, when given), in ID-number order."""
        p = self.archive.database.placeholder
        where = f"id_number > {p}" + (f" AND unit_code = {p}" if unit_code else "")
        sql = (
            "SELECT id_number, name, unit_code, unit_name FROM cs_person"  # noqa: S608
            f" WHERE {where} ORDER BY id_number LIMIT {p}"
        )
        after = ""
        while True:
            params = (after, unit_code, self.page_size) if unit_code else (after, self.page_size)
            key = (unit_code, after)
            page = await self._page("servants", key, sql, params, "cs_person", _servant)
            if page.rows:
                yield page.rows
            if not page.full:
                return
            after = page.rows[-1].id_number

    async def position_changes(
        self, first: dt.date, last: dt.date
    ) -> AsyncIterator[tuple[ChangeRow, ...]]:
        """Every position change starting on a day in [first, last], by ID number and
        start date; one person's changes never straddle two pages.

        Paged by person: the archive walks `cs_person` by its unique ID number and
        each person's history by its person_id index, so a page costs its own
        rows, never a sort of the whole history.
        """
        p = self.archive.database.placeholder
        columns = ", ".join(f"h.{column}" for column in _POSITION.columns)
        sql = (
            f"SELECT p.id_number, p.name, {columns}"  # noqa: S608
            " FROM cs_position_history h JOIN cs_person p ON p.person_id = h.person_id"
            f" WHERE h.start_date >= {p} AND h.start_date <= {p} AND p.id_number > {p}"
            " ORDER BY p.id_number, h.start_date, h.position, h.rank_level, h.unit_code"
            f" LIMIT {p}"
        )
        after = ""
        while True:
            # Dates are bound as ISO text: SQLite keeps them so, PostgreSQL casts it to DATE.
            params = (first.isoformat(), last.isoformat(), after, self.page_size)
            key = (first, last, after)
            table = "cs_position_history"
            page = await self._page("position_changes", key, sql, params, table, _change)
            rows = _without_last_person(page.rows) if page.full else page.rows
            if rows:
                yield rows
            if not page.full:
                return
            after = rows[-1].id_number

    async def _page(
        self,
        operation: str,
        key: object,
        sql: str,
        params: Sequence[object],
        table: str,
        read: Callable[[Columns], T],
    ) -> _Page[T]:
        """One statement through the connector's platform; raises its SourceError.

        `key` names the page among the platform's calls in flight (identical
        pages asked at once are read once).
        """

        async def fetch(
            chunk: Sequence[object], timeout_s: float
        ) -> tuple[Mapping[object, _Page[T]], dt.datetime]:
            name = self.archive.platform.name
            self.archive.statements += 1
            try:
                async with asyncio.timeout(timeout_s):
                    rows = await self.archive.database.query(sql, params, timeout_s)
            except (TimeoutError, *DRIVER_ERRORS) as error:
                raise translate_error(name, error) from None
            try:
                read_rows = tuple(read(Columns(table, row)) for row in rows)
            except Refused as refusal:
                raise SourceProtocolError(name, str(refusal)) from None
            return {chunk[0]: _Page(read_rows, len(read_rows) >= self.page_size)}, now_shanghai()

        result: SourceResult[object, _Page[T]] = await self.archive.platform.batched(
            f"scan:{operation}",
            [key],
            fetch,
            merge=False,  # each page's own statement
        )
        if key in result.errors:
            raise result.errors[key]
        return result.values[key]


def _id_number(row: Columns) -> str:
    id_number = row.required_text("id_number")
    if not is_valid_id_number(id_number):
        raise Refused(f"a {row.table} row carries an ID number that fails its check digit")
    return id_number


def _unit_code(row: Columns) -> str | None:
    code = row.text("unit_code")
    if code is not None and not is_valid_credit_code(code):
        raise Refused(f"a {row.table} row carries a unit code that fails its check character")
    return code


def _unit(row: Columns) -> UnitRow:
    code = _unit_code(row)
    if code is None:
        raise Refused(f"a {row.table} row lacks unit_code")
    return UnitRow(code, row.text("unit_name"))


def _servant(row: Columns) -> ServantRow:
    return ServantRow(_id_number(row), row.text("name"), _unit_code(row), row.text("unit_name"))


def _change(row: Columns) -> ChangeRow:
    change = _POSITION.read(row)  # the connector's own reading of a position row
    if not isinstance(change, PositionChange) or change.start_date is None:
        raise Refused("a cs_position_history row in a date range has no start_date")
    return ChangeRow(_id_number(row), row.text("name"), change, change.start_date)


def _without_last_person(rows: tuple[ChangeRow, ...]) -> tuple[ChangeRow, ...]:
    """A full page less the rows of its last person, who may have more rows beyond
    it: the next page starts after the last person kept, so that one is read whole."""
    last = rows[-1].id_number
    kept = tuple(row for row in rows if row.id_number != last)
    if not kept:
        raise SourceProtocolError(
            "archive", "one person has more position changes than a page holds"
        )
    return kept
