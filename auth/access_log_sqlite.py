"""The access log in a SQLite file: WAL, synchronous=FULL, one writer thread.

Durability: in WAL mode with `synchronous = FULL` every COMMIT syncs the WAL
file before it returns, so a committed group survives a crash or a power cut.
One group is one `BEGIN IMMEDIATE ... COMMIT`, so one sync.

Threads: the writing connection lives on one dedicated thread (a one-worker
executor) and is never touched from another. Reads open their own read-only
connection per call; WAL lets them run while the writer commits, and they see
exactly what has been committed. Several processes may share one file: each
keeps its own chain, and BEGIN IMMEDIATE with a busy timeout takes turns.

Searching by subject scans `json_each` over the rows the other conditions
leave; SQLite is the development default, PostgreSQL (with a GIN index) the
production store.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .access_log_chain import ChainedEntry, ChainHead
from .access_log_entry import CHINA_TZ, AccessLogUnreadable, Entry, ReportRow
from .access_log_store import (
    ENTRY_COLUMNS,
    REPORT_COLUMNS,
    Codec,
    LogQuery,
    LogSnapshot,
    assemble,
    entry_from_row,
    entry_values,
    head_upsert_sql,
    insert_sql,
    report_from_row,
    report_values,
    search_sql,
    verify_sql,
)
from .outbox_item import OUTBOX_SQLITE_DDL, outbox_insert_sql, outbox_values

__all__ = ["SqliteStore", "read_sqlite_log"]

_T = TypeVar("_T")
_BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS access_log (
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT NOT NULL,
    purpose TEXT NOT NULL,
    subjects TEXT NOT NULL,
    fields TEXT NOT NULL,
    verdicts TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    rule_set_version TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
CREATE INDEX IF NOT EXISTS access_log_actor_at ON access_log (actor, at);
CREATE TABLE IF NOT EXISTS access_log_reports (
    report_id TEXT PRIMARY KEY,
    chain_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    as_of TEXT NOT NULL,
    verdict TEXT NOT NULL,
    credit_record_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_reports_entry ON access_log_reports (chain_id, seq);
CREATE TABLE IF NOT EXISTS access_log_chains (
    chain_id TEXT PRIMARY KEY,
    head_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL
);
"""
# Guards against mistakes, not against the file's owner (who can drop them);
# the hash chain is what makes tampering visible.
_GUARDS = "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;\n"
    for table in ("access_log", "access_log_reports")
    for op in ("UPDATE", "DELETE")
)

_INSERT_ENTRY = insert_sql("access_log", ENTRY_COLUMNS, "?")
_INSERT_REPORT = insert_sql("access_log_reports", REPORT_COLUMNS, "?")
_INSERT_OUTBOX = outbox_insert_sql("?")
_UPSERT_HEAD = head_upsert_sql("?")
_SELECT_HEAD = "SELECT chain_id, head_seq, head_hash FROM access_log_chains"
_SELECT_REPORT = f"SELECT {', '.join(REPORT_COLUMNS)} FROM access_log_reports WHERE report_id = ?"  # noqa: S608
_SUBJECT_CONDITION = (
    "EXISTS (SELECT 1 FROM json_each(access_log.subjects) WHERE json_each.value = ?)"
)


def _encode(values: Sequence[object]) -> tuple[object, ...]:
    """Lists as JSON text, times as +08:00 ISO text with microseconds, dates as ISO."""

    def one(value: object) -> object:
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, dt.datetime):
            # Fixed offset and width, so text order is time order in range queries.
            return value.astimezone(CHINA_TZ).isoformat(timespec="microseconds")
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return tuple(one(value) for value in values)


def _strings(value: object) -> list[str]:
    decoded = json.loads(value) if isinstance(value, str) else None
    if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
        raise TypeError("expected a JSON list of strings")
    return decoded


def _time(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("expected an ISO time")
    return dt.datetime.fromisoformat(value)


def _date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise TypeError("expected an ISO date")
    return dt.date.fromisoformat(value)


_CODEC = Codec(strings=_strings, time=_time, date=_date)


def _read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: a missing file is an error, never a new empty log. Percent-encoded
    # so a '?' or '#' in the path cannot become URI syntax.
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    connection.row_factory = sqlite3.Row
    return connection


class SqliteStore:
    """The access log in one SQLite file; use `await SqliteStore.open(path)`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="access-log-sqlite")
        self._connection: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        """Open (creating the file and tables if missing) the log at `path`."""
        store = cls(path)
        try:
            await store._on_writer_thread(store._open)
        except BaseException:
            store._thread.shutdown(wait=False)
            raise
        return store

    async def _on_writer_thread(self, call: Callable[..., _T], *args: object) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, call, *args)

    def _open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode != "wal":
                raise AccessLogUnreadable(f"{self._path} cannot use write-ahead logging")
            connection.execute("PRAGMA synchronous = FULL")
            connection.executescript(_SCHEMA + OUTBOX_SQLITE_DDL + _GUARDS + "COMMIT;")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _writer(self) -> sqlite3.Connection:
        if self._connection is None:
            raise AccessLogUnreadable("the SQLite access log is closed")
        return self._connection

    async def write(self, batch: Sequence[ChainedEntry]) -> None:
        """Commit the batch in one transaction (one WAL sync)."""
        await self._on_writer_thread(self._write, batch)

    def _write(self, batch: Sequence[ChainedEntry]) -> None:
        connection = self._writer()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(_INSERT_ENTRY, [_encode(entry_values(row)) for row in batch])
            reports = [_encode(values) for row in batch for values in report_values(row)]
            connection.executemany(_INSERT_REPORT, reports)
            owed = [
                values
                for row in batch
                for values in outbox_values(row.chain_id, row.seq, row.entry.outbox)
            ]
            connection.executemany(_INSERT_OUTBOX, owed)
            last = batch[-1]
            connection.execute(_UPSERT_HEAD, (last.chain_id, last.seq, last.hash))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            raise

    async def head(self, chain_id: str) -> ChainHead | None:
        """The chain's committed head record."""
        return await self._on_writer_thread(self._head, chain_id)

    def _head(self, chain_id: str) -> ChainHead | None:
        row = self._writer().execute(f"{_SELECT_HEAD} WHERE chain_id = ?", (chain_id,)).fetchone()
        return None if row is None else ChainHead(*row)

    async def search(self, query: LogQuery) -> list[Entry]:
        """Matching entries, newest first, without their report rows."""
        statement, params = search_sql(query, "?", _SUBJECT_CONDITION, query.subject)
        rows = await asyncio.to_thread(self._read, statement, _encode(params))
        return [entry_from_row(row, _CODEC).entry for row in rows]

    async def report(self, report_id: str) -> ReportRow | None:
        """The stored report row, or None."""
        rows = await asyncio.to_thread(self._read, _SELECT_REPORT, (report_id,))
        return report_from_row(rows[0], _CODEC) if rows else None

    def _read(self, statement: str, params: Sequence[object]) -> list[dict[str, object]]:
        connection = _read_only(self._path)
        try:
            return [dict(row) for row in connection.execute(statement, tuple(params))]
        finally:
            connection.close()

    async def close(self) -> None:
        """Close the writing connection and its thread."""
        await self._on_writer_thread(self._close)
        self._thread.shutdown(wait=True)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextlib.contextmanager
def read_sqlite_log(path: Path) -> Iterator[LogSnapshot]:
    """Heads and rows of the log at `path`, from one read transaction."""
    if not path.is_file():
        raise AccessLogUnreadable(f"no access log at {path}")
    try:
        connection = _read_only(path)
        try:
            # One read transaction: heads and rows come from the same snapshot,
            # so a writer committing meanwhile cannot make them disagree.
            connection.execute("BEGIN")
            heads = {row[0]: ChainHead(*row) for row in connection.execute(_SELECT_HEAD).fetchall()}
            entries_sql, reports_sql = verify_sql("")
            # Two cursors of the same read transaction, each read as it is walked.
            entries = (dict(row) for row in connection.execute(entries_sql))
            reports = (dict(row) for row in connection.cursor().execute(reports_sql))
            yield LogSnapshot(heads, assemble(entries, reports, _CODEC))
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise AccessLogUnreadable(f"cannot read the access log at {path}: {exc}") from exc
