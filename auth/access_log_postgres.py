"""The access log in PostgreSQL through psycopg 3 (async to write, sync to verify).

Durability: COMMIT returns once the server has flushed its WAL. That holds with
`synchronous_commit` on (or stronger); a server configured with it off would
acknowledge commits it may still lose, so the writer's session turns it on.
One group is one transaction, so one flush.

The writer keeps one connection. If that connection turns out to be dead
before COMMIT was sent (killed, or the server restarted while it sat idle),
nothing of the group can have been committed, so the group is retried once on
a new connection. A failure during or after COMMIT is never retried here: the
commit may have happened, so the waiters fail and the log re-reads its chain
head before the next group.

Reads (search, report, head) open a connection each: they are rare (audit
screens, a data subject's history, recordUsage) and must not queue behind the
writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .access_log_chain import ChainedEntry, ChainHead
from .access_log_entry import AccessLogUnreadable, Entry, ReportRow
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
from .outbox_item import OUTBOX_POSTGRES_DDL, outbox_insert_sql, outbox_values

__all__ = ["APPLICATION_NAME", "PostgresStore", "read_postgres_log"]

APPLICATION_NAME = "credgate-access-log"
"""The writer's `application_name`, so operators can tell its session apart."""

_CONNECT_TIMEOUT_S = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_log (
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    unit text NOT NULL,
    purpose text NOT NULL,
    subjects text[] NOT NULL,
    fields text[] NOT NULL,
    verdicts text[] NOT NULL,
    policy_version text NOT NULL,
    rule_set_version text NOT NULL,
    request_id text NOT NULL,
    outcome text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
CREATE INDEX IF NOT EXISTS access_log_actor_at ON access_log (actor, at);
CREATE INDEX IF NOT EXISTS access_log_subjects ON access_log USING gin (subjects);
CREATE TABLE IF NOT EXISTS access_log_reports (
    report_id text PRIMARY KEY,
    chain_id text NOT NULL,
    seq bigint NOT NULL,
    actor text NOT NULL,
    subject text NOT NULL,
    purpose text NOT NULL,
    as_of date NOT NULL,
    verdict text NOT NULL,
    credit_record_ids text[] NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_reports_entry ON access_log_reports (chain_id, seq);
CREATE TABLE IF NOT EXISTS access_log_chains (
    chain_id text PRIMARY KEY,
    head_seq bigint NOT NULL,
    head_hash text NOT NULL
);
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$;
CREATE OR REPLACE TRIGGER access_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
CREATE OR REPLACE TRIGGER access_log_reports_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log_reports
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
"""
# The triggers guard against mistakes; against a deliberate owner, deny the
# gateway's account UPDATE/DELETE/TRUNCATE/DDL and rely on the hash chain.

_TABLES_PRESENT = (
    "SELECT count(to_regclass(name)) "
    "FROM unnest(ARRAY['access_log', 'access_log_reports', 'access_log_chains', 'outbox'])"
    " AS name"
)
_INSERT_ENTRY = insert_sql("access_log", ENTRY_COLUMNS, "%s")
_INSERT_REPORT = insert_sql("access_log_reports", REPORT_COLUMNS, "%s")
_INSERT_OUTBOX = outbox_insert_sql("%s")
_UPSERT_HEAD = head_upsert_sql("%s")
_SELECT_HEAD = "SELECT chain_id, head_seq, head_hash FROM access_log_chains"
_SELECT_REPORT = f"SELECT {', '.join(REPORT_COLUMNS)} FROM access_log_reports WHERE report_id = %s"  # noqa: S608
_SUBJECT_CONDITION = "subjects @> %s"  # served by the GIN index


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a text array")
    return value


def _time(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError("expected a timestamptz")
    return value


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError("expected a date")
    return value


_CODEC = Codec(strings=_strings, time=_time, date=_date)

_Connection = psycopg.AsyncConnection[tuple[Any, ...]]


class PostgresStore:
    """The access log in one PostgreSQL database; use `await PostgresStore.open(dsn)`."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._connection: _Connection | None = None

    @classmethod
    async def open(cls, dsn: str) -> PostgresStore:
        """Connect, creating the tables if missing (one replica at a time).

        When the tables exist nothing is created, so an account without DDL
        rights (as production should use) works once they have been made.
        """
        async with (
            await psycopg.AsyncConnection.connect(
                dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
            ) as connection,
            connection.transaction(),
        ):
            cursor = await connection.execute(_TABLES_PRESENT)
            if (await cursor.fetchone()) != (4,):
                # Replicas starting together would race on CREATE ... IF NOT EXISTS.
                await connection.execute("SELECT pg_advisory_xact_lock(hashtext('access_log'))")
                await connection.execute(_SCHEMA)
                await connection.execute(OUTBOX_POSTGRES_DDL)
        return cls(dsn)

    async def _writer(self) -> tuple[_Connection, bool]:
        """The writing connection, and whether it was already open (maybe stale)."""
        if self._connection is not None and not self._connection.closed:
            return self._connection, True
        connection = await psycopg.AsyncConnection.connect(
            self._dsn, application_name=APPLICATION_NAME, connect_timeout=_CONNECT_TIMEOUT_S
        )
        cursor = await connection.execute("SELECT current_setting('synchronous_commit')")
        if (await cursor.fetchone()) == ("off",):
            await connection.execute("SET synchronous_commit = on")
        await connection.commit()
        self._connection = connection
        return connection, False

    async def write(self, batch: Sequence[ChainedEntry]) -> None:
        """Commit the batch in one transaction; retried once on a stale connection."""
        for attempt in (1, 2):
            connection, reused = await self._writer()
            committing = False
            try:
                async with connection.cursor() as cursor:
                    await cursor.executemany(_INSERT_ENTRY, [entry_values(row) for row in batch])
                    reports = [values for row in batch for values in report_values(row)]
                    if reports:
                        await cursor.executemany(_INSERT_REPORT, reports)
                    owed = [
                        values
                        for row in batch
                        for values in outbox_values(row.chain_id, row.seq, row.entry.outbox)
                    ]
                    if owed:
                        await cursor.executemany(_INSERT_OUTBOX, owed)
                    last = batch[-1]
                    await cursor.execute(_UPSERT_HEAD, (last.chain_id, last.seq, last.hash))
                committing = True
                await connection.commit()
                return
            except psycopg.Error:
                stale = connection.broken
                await self._end_failed(connection)
                if committing or not (reused and stale) or attempt == 2:
                    raise

    async def _end_failed(self, connection: _Connection) -> None:
        """Roll back; a connection that cannot even do that is dropped."""
        if not connection.broken:
            with contextlib.suppress(psycopg.Error):
                await connection.rollback()
                return
        with contextlib.suppress(psycopg.Error):
            await connection.close()
        self._connection = None

    async def head(self, chain_id: str) -> ChainHead | None:
        """The chain's committed head record."""
        rows = await self._read(f"{_SELECT_HEAD} WHERE chain_id = %s", (chain_id,))
        return None if not rows else ChainHead(**_head_fields(rows[0]))

    async def search(self, query: LogQuery) -> list[Entry]:
        """Matching entries, newest first, without their report rows."""
        subject = [query.subject] if query.subject is not None else None
        statement, params = search_sql(query, "%s", _SUBJECT_CONDITION, subject)
        return [entry_from_row(row, _CODEC).entry for row in await self._read(statement, params)]

    async def report(self, report_id: str) -> ReportRow | None:
        """The stored report row, or None."""
        rows = await self._read(_SELECT_REPORT, (report_id,))
        return report_from_row(rows[0], _CODEC) if rows else None

    async def _read(self, statement: str, params: Sequence[object]) -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(
            self._dsn, autocommit=True, row_factory=dict_row, connect_timeout=_CONNECT_TIMEOUT_S
        ) as connection:
            cursor = await connection.execute(statement, params)
            return await cursor.fetchall()

    async def close(self) -> None:
        """Close the writing connection."""
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


def _head_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {"chain_id": row["chain_id"], "seq": row["head_seq"], "hash": row["head_hash"]}


@contextlib.contextmanager
def read_postgres_log(dsn: str) -> Iterator[LogSnapshot]:
    """Heads and rows of the log, from one REPEATABLE READ, read-only transaction."""
    try:
        with psycopg.connect(
            dsn, row_factory=dict_row, connect_timeout=_CONNECT_TIMEOUT_S
        ) as connection:
            # One snapshot for heads and rows, so writers committing meanwhile
            # cannot make them disagree.
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            heads = {
                row["chain_id"]: ChainHead(**_head_fields(row))
                for row in connection.execute(_SELECT_HEAD).fetchall()
            }
            # Server-side cursors: the log is walked without being held in memory.
            entries_sql, reports_sql = verify_sql('COLLATE "C"')  # byte order, as Python sorts
            with (
                connection.cursor(name="access_log_verify") as entries,
                connection.cursor(name="access_log_verify_reports") as reports,
            ):
                # Rows per round trip: an entry may hold thousands of subjects, a
                # report row a few ids.
                entries.itersize, reports.itersize = 50, 2_000
                entries.execute(entries_sql)
                reports.execute(reports_sql)
                yield LogSnapshot(heads, assemble(entries, reports, _CODEC))
    except psycopg.Error as exc:
        raise AccessLogUnreadable(f"cannot read the access log: {exc}") from exc
