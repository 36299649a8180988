"""The civil-service integrity archive connector: civil servants' files, read by SQL.

    ArchiveConnector.files(id_numbers)        -> SourceResult[str, CivilServantFile | None]
    ArchiveConnector.unit_members(unit_codes) -> SourceResult[str, tuple[str, ...]]

The archive has no HTTP: the gateway reads its exchange database (前置库) with a
read-only account, SQLite or PostgreSQL by DSN (`archive_db`). Its "requests"
are SQL statements, counted in `statements`. A chunk of up to 500 ID numbers is
read with one `cs_person` statement (`id_number IN (...)`) and, when anyone was
found, one statement per child table (`person_id IN (...)`): at most seven
statements, never one per subject. They run one after another, each its own
read-only transaction, so at most one connection per chunk is busy; a change
landing between them can at worst add a child record newer than its person
row — every child row is still checked to belong to a person of this chunk.
Rows are checked before they are believed (`archive_parse`).

Driver errors are translated here, once, with `archive_db.translate_error`:

    file missing / unreachable server, locked or busy,
    I/O error, connection lost                    SourceUnavailable    retried
    a statement or the attempt past its deadline  SourceTimeout        not retried
    authentication or privilege refused           SourceAuthError      not retried
    missing table or column, anything else;
    rows that cannot be trusted                   SourceProtocolError  not retried
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from .archive_db import DRIVER_ERRORS, ArchiveDatabase, Row, open_database, translate_error
from .archive_parse import (
    CHILD_TABLES,
    PERSON_COLUMNS,
    ChildTable,
    assemble,
    read_children,
    read_members,
    read_persons,
)
from .base import Platform, SourceResult, now_shanghai
from .records import CivilServantFile
from .settings import ArchiveSettings

__all__ = ["ArchiveConnector"]


class ArchiveConnector:
    """Client of the civil-service integrity archive's exchange database (UPSTREAMS.md §4)."""

    batch_limit = 500

    def __init__(
        self,
        settings: ArchiveSettings,
        *,
        platform: Platform | None = None,
        database: ArchiveDatabase | None = None,
    ) -> None:
        """`database` defaults to the one `settings.dsn` names (tests wrap it to
        inject faults); `platform` carries breaker, retry policy and single-flight."""
        self.settings = settings
        self.platform = platform or Platform("archive", settings, self.batch_limit)
        self.database = database or open_database(
            settings.dsn, statement_timeout_s=settings.attempt_timeout_s
        )
        self.statements = 0  # SQL statements sent: the archive's "requests"

    async def files(self, id_numbers: Iterable[str]) -> SourceResult[str, CivilServantFile | None]:
        """The archive file of every ID number; None when it is no civil servant's.

        ID numbers must be canonical (the gateway validates them first): the
        archive is matched on the exact text.
        """
        return await self.platform.batched("files", id_numbers, self._fetch_files)

    async def unit_members(self, unit_codes: Iterable[str]) -> SourceResult[str, tuple[str, ...]]:
        """The ID numbers of each unit's civil servants (by `cs_person.unit_code`),
        in ID-number order; an empty tuple for a unit with none."""
        return await self.platform.batched("unit_members", unit_codes, self._fetch_members)

    async def close(self) -> None:
        """Close the database connections held for reuse."""
        await self.database.close()

    async def _fetch_files(
        self, chunk: Sequence[str], timeout_s: float
    ) -> tuple[Mapping[str, CivilServantFile | None], dt.datetime]:
        name = self.platform.name
        deadline = asyncio.get_running_loop().time() + timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                rows = await self._query(self._person_sql(len(chunk)), chunk, deadline)
                persons = read_persons(name, chunk, rows)
                children: dict[str, dict[str, list[object]]] = {}
                if persons:
                    person_ids = list(persons)
                    for table in CHILD_TABLES:
                        sql = self._child_sql(table, len(person_ids))
                        rows = await self._query(sql, person_ids, deadline)
                        children[table.field] = read_children(name, table, persons, rows)
        except (TimeoutError, *DRIVER_ERRORS) as error:
            raise translate_error(name, error) from None
        return assemble(chunk, persons, children), now_shanghai()

    async def _fetch_members(
        self, chunk: Sequence[str], timeout_s: float
    ) -> tuple[Mapping[str, tuple[str, ...]], dt.datetime]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                rows = await self._query(self._members_sql(len(chunk)), chunk, deadline)
        except (TimeoutError, *DRIVER_ERRORS) as error:
            raise translate_error(self.platform.name, error) from None
        return read_members(self.platform.name, chunk, rows), now_shanghai()

    async def _query(self, sql: str, params: Sequence[str], deadline: float) -> list[Row]:
        self.statements += 1
        left = deadline - asyncio.get_running_loop().time()
        return await self.database.query(sql, params, max(left, 0.001))

    # Table and column names below come from constants, never from input; every
    # value is a bound parameter.

    def _in_list(self, count: int) -> str:
        return ", ".join([self.database.placeholder] * count)

    def _person_sql(self, count: int) -> str:
        columns = ", ".join(PERSON_COLUMNS)
        return (
            f"SELECT {columns} FROM cs_person"  # noqa: S608
            f" WHERE id_number IN ({self._in_list(count)})"
        )

    def _child_sql(self, table: ChildTable, count: int) -> str:
        columns = ", ".join(("person_id", *table.columns))
        return (
            f"SELECT {columns} FROM {table.name}"  # noqa: S608
            f" WHERE person_id IN ({self._in_list(count)})"
            f" ORDER BY person_id, {table.order_by}"
        )

    def _members_sql(self, count: int) -> str:
        return (
            "SELECT unit_code, id_number FROM cs_person"  # noqa: S608
            f" WHERE unit_code IN ({self._in_list(count)})"
            " ORDER BY unit_code, id_number"
        )
