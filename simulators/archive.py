"""The civil-service integrity archive's exchange database (前置库), built from a dataset.

The archive has no HTTP interface: the gateway reads its exchange database with
SQL. This module creates that database from the dataset's `archive/<table>.jsonl`
files — a SQLite file by default (`sqlite:///path`), PostgreSQL when given a
`postgresql://` DSN — with the tables of UPSTREAMS.md section 4. Dates are ISO
text in SQLite and DATE in PostgreSQL. `cs_change_log` is loaded from the
dataset when present, else derived (one INSERT per row, in load order).

A SQLite database is built in a temporary file beside the target and renamed
into place, so a reader never sees a half-loaded archive. A PostgreSQL load
replaces the eight tables inside one transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from connectors.identifiers import is_valid_id_number

from .dataset import DatasetError, Row, read_jsonl

__all__ = ["ARCHIVE_TABLES", "ArchiveLoad", "Column", "Table", "load_archive", "sqlite_path"]

_BATCH = 5_000


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # "TEXT" | "INTEGER" | "DATE" | "TIMESTAMP"
    constraint: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    indexes: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _cols(spec: str) -> tuple[Column, ...]:
    """Columns from "name:TYPE[:constraint], ..." — the tables below read like DDL."""
    columns = []
    for item in spec.split(","):
        name, sql_type, *constraint = item.strip().split(":")
        columns.append(Column(name, sql_type, " ".join(constraint)))
    return tuple(columns)


ARCHIVE_TABLES: tuple[Table, ...] = (
    Table(
        "cs_person",
        _cols(
            "person_id:TEXT:PRIMARY KEY, id_number:TEXT:NOT NULL UNIQUE, name:TEXT, gender:TEXT,"
            " birth_date:DATE, unit_code:TEXT, unit_name:TEXT, position:TEXT, rank_level:TEXT,"
            " status:TEXT, updated_at:TIMESTAMP"
        ),
        required=("person_id", "id_number"),
        indexes=("unit_code",),
    ),
    Table(
        "cs_position_history",
        _cols(
            "person_id:TEXT:NOT NULL, position:TEXT, rank_level:TEXT, unit_code:TEXT,"
            " start_date:DATE, end_date:DATE"
        ),
        required=("person_id",),
        indexes=("person_id",),
    ),
    Table(
        "cs_assessment",
        _cols("person_id:TEXT:NOT NULL, year:INTEGER, grade:TEXT"),
        required=("person_id",),
        indexes=("person_id",),
    ),
    Table(
        "cs_sanction",
        _cols(
            "sanction_id:TEXT:PRIMARY KEY, person_id:TEXT:NOT NULL, kind:TEXT, decision_no:TEXT,"
            " authority:TEXT, decision_date:DATE, period_months:INTEGER, reason:TEXT,"
            " disclosure:TEXT, revoked_date:DATE, updated_at:TIMESTAMP"
        ),
        required=("sanction_id", "person_id"),
        indexes=("person_id",),
    ),
    Table(
        "cs_investigation",
        _cols(
            "case_id:TEXT:PRIMARY KEY, person_id:TEXT:NOT NULL, authority:TEXT, opened_date:DATE,"
            " closed_date:DATE, disclosure:TEXT"
        ),
        required=("case_id", "person_id"),
        indexes=("person_id",),
    ),
    Table(
        "cs_matters_report_check",
        _cols("person_id:TEXT:NOT NULL, year:INTEGER, check_date:DATE, result:TEXT"),
        required=("person_id",),
        indexes=("person_id",),
    ),
    Table(
        "cs_honour",
        _cols("person_id:TEXT:NOT NULL, year:INTEGER, title:TEXT, level:TEXT"),
        required=("person_id",),
        indexes=("person_id",),
    ),
    Table(
        "cs_change_log",
        _cols("seq:INTEGER:PRIMARY KEY, table_name:TEXT, person_id:TEXT, op:TEXT, at:TIMESTAMP"),
        required=("seq",),
    ),
)
_CHANGE_LOG = ARCHIVE_TABLES[-1]
_PG_TYPES = {"TEXT": "TEXT", "INTEGER": "BIGINT", "DATE": "DATE", "TIMESTAMP": "TIMESTAMPTZ"}


@dataclass(frozen=True)
class ArchiveLoad:
    """What a load wrote: rows per table."""

    dsn: str
    counts: dict[str, int]


class _Cursor(Protocol):
    def executemany(self, query: Any, params_seq: Any, /) -> Any: ...


def sqlite_path(dsn: str) -> Path:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` -> the file."""
    prefix = "sqlite:///"
    if not dsn.startswith(prefix) or dsn == prefix:
        raise ValueError("a SQLite DSN looks like sqlite:///path/to/file.db")
    return Path(dsn[len(prefix) :])


def load_archive(dataset: Path, dsn: str) -> ArchiveLoad:
    """Build the exchange database at `dsn` from `dataset/archive/*.jsonl`."""
    if dsn.startswith("sqlite:"):
        return ArchiveLoad(dsn, _load_sqlite(dataset, sqlite_path(dsn)))
    if dsn.startswith(("postgresql://", "postgres://")):
        return ArchiveLoad(dsn, _load_postgres(dataset, dsn))
    raise ValueError("the archive DSN must start with sqlite:/// or postgresql://")


def _load_sqlite(dataset: Path, target: Path) -> dict[str, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.loading")
    partial.unlink(missing_ok=True)
    try:
        with sqlite3.connect(partial) as connection:
            for table in ARCHIVE_TABLES:
                connection.execute(_create_sql(table, {}))
                for column in table.indexes:
                    connection.execute(_index_sql(table, column))
            counts = _insert_all(dataset, connection.cursor(), "?")
        connection.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def _load_postgres(dataset: Path, dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        for table in reversed(ARCHIVE_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {table.name}")
        for table in ARCHIVE_TABLES:
            cursor.execute(_create_sql(table, _PG_TYPES))
            for column in table.indexes:
                cursor.execute(_index_sql(table, column))
        return _insert_all(dataset, cursor, "%s")


def _create_sql(table: Table, types: dict[str, str]) -> str:
    columns = ", ".join(
        f"{c.name} {types.get(c.sql_type, c.sql_type)} {c.constraint}".rstrip()
        for c in table.columns
    )
    return f"CREATE TABLE {table.name} ({columns})"


def _index_sql(table: Table, column: str) -> str:
    return f"CREATE INDEX {table.name}_{column}_idx ON {table.name} ({column})"


def _insert_all(dataset: Path, cursor: _Cursor, placeholder: str) -> dict[str, int]:
    """Insert every table's rows; derive the change log when the dataset has none."""
    counts: dict[str, int] = {}
    derived: list[tuple[str, str, str]] = []
    log_file = dataset / "archive" / f"{_CHANGE_LOG.name}.jsonl"
    for table in ARCHIVE_TABLES[:-1]:
        rows = _rows(dataset, table)
        if not log_file.exists():
            rows = _noting_inserts(rows, table.name, derived)
        counts[table.name] = _insert(cursor, table, rows, placeholder)
    if log_file.exists():
        counts[_CHANGE_LOG.name] = _insert(
            cursor, _CHANGE_LOG, _rows(dataset, _CHANGE_LOG), placeholder
        )
    else:
        changes = (
            {"seq": seq, "table_name": name, "person_id": person, "op": "INSERT", "at": at}
            for seq, (name, person, at) in enumerate(derived, start=1)
        )
        counts[_CHANGE_LOG.name] = _insert(cursor, _CHANGE_LOG, changes, placeholder)
    return counts


def _noting_inserts(
    rows: Iterator[Row], table: str, derived: list[tuple[str, str, str]]
) -> Iterator[Row]:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))).isoformat()
    for row in rows:
        derived.append((table, str(row["person_id"]), str(row.get("updated_at") or epoch)))
        yield row


def _rows(dataset: Path, table: Table) -> Iterator[Row]:
    check = _check_person if table.name == "cs_person" else None
    return read_jsonl(dataset / "archive" / f"{table.name}.jsonl", table.required, check)


def _check_person(row: Row) -> str | None:
    if not is_valid_id_number(str(row["id_number"])):
        return "id_number is not a valid 18-character resident ID number"
    return None


def _insert(cursor: _Cursor, table: Table, rows: Iterable[Row], placeholder: str) -> int:
    names = table.column_names
    # Table and column names come from ARCHIVE_TABLES above, never from the dataset.
    values = ", ".join([placeholder] * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values})"  # noqa: S608
    count = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(_value(row.get(name)) for name in names))
        if len(batch) == _BATCH:
            count += _flush(cursor, sql, batch, table)
    return count + _flush(cursor, sql, batch, table)


def _flush(cursor: _Cursor, sql: str, batch: list[tuple[Any, ...]], table: Table) -> int:
    if not batch:
        return 0
    try:
        cursor.executemany(sql, batch)
    except (sqlite3.Error, psycopg.Error) as exc:
        # The message names the table; the offending row's line is not known here.
        raise DatasetError(Path("archive") / f"{table.name}.jsonl", None, str(exc)) from None
    size = len(batch)
    batch.clear()
    return size


def _value(value: Any) -> Any:
    return None if value == "" else value
