"""The access log on SQLite and PostgreSQL.

Appends are durable when they return and share commits when concurrent; a
failed commit fails its whole group and the log carries on; verify catches
edits, deletions and reordering and names the first broken link; reports are
stored with their entry; searches filter by subject, actor and time; and a
writer killed mid-burst loses nothing it had acknowledged.

`Database` reaches the tables directly, beside the code under test, with a new
connection per call — the way a second reader (or a tamperer) would.
"""

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from auth.access_log import (
    AccessLog,
    AccessLogClosed,
    AccessLogUnreadable,
    AccessLogWriteError,
    BreakKind,
    ChainHead,
    Entry,
    LogStore,
    ReportRow,
    Seal,
    open_access_log,
    open_store,
    verify,
)
from auth.access_log_chain import GENESIS, ChainedEntry, entry_hash
from auth.access_log_postgres import APPLICATION_NAME
from auth.access_log_store import ENTRY_COLUMNS, REPORT_COLUMNS, LogQuery

KEY = b"chain-key-of-the-tests-0123456789abcdef"
SEAL = Seal(chain_key=KEY)
CHINA = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2025, 6, 30, 9, 0, tzinfo=CHINA)
REPO = Path(__file__).resolve().parents[2]


class Database:
    """Plain SQL on the log's database; `?` placeholders on both backends."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.is_sqlite = dsn.startswith("sqlite:///")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.is_sqlite:
            lite = sqlite3.connect(self.dsn.removeprefix("sqlite:///"), isolation_level=None)
            try:
                yield lite
            finally:
                lite.close()
        else:
            with psycopg.connect(self.dsn, autocommit=True) as postgres:
                yield postgres

    def _dialect(self, statement: str) -> str:
        return statement if self.is_sqlite else statement.replace("?", "%s")

    def _params(self, params: tuple[object, ...]) -> tuple[object, ...] | None:
        # psycopg sends a statement without parameters as a simple query, which
        # is what lets a function body hold `$$ ... $$`.
        return params if params or self.is_sqlite else None

    def rows(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        with self._connect() as connection:
            return list(
                connection.execute(self._dialect(statement), self._params(params)).fetchall()
            )

    def execute(self, *statements: str, params: tuple[object, ...] = ()) -> None:
        with self._connect() as connection:
            for statement in statements:
                connection.execute(self._dialect(statement), self._params(params))

    def request_ids(self) -> set[str]:
        return {row[0] for row in self.rows("SELECT request_id FROM access_log")}

    def seqs(self, chain_id: str) -> list[int]:
        query = "SELECT seq FROM access_log WHERE chain_id = ? ORDER BY seq"
        return [row[0] for row in self.rows(query, chain_id)]

    def drop_guards(self) -> None:
        """What a tamperer with DDL rights does first."""
        if self.is_sqlite:
            self.execute(
                *(
                    f"DROP TRIGGER {table}_no_{op}"
                    for table in ("access_log", "access_log_reports")
                    for op in ("update", "delete")
                )
            )
        else:
            self.execute(
                "DROP TRIGGER access_log_append_only ON access_log",
                "DROP TRIGGER access_log_reports_append_only ON access_log_reports",
            )

    def refuse_writes(self) -> None:
        """Make every transaction that inserts an entry fail (at COMMIT on PostgreSQL)."""
        if self.is_sqlite:
            self.execute(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            self.execute(
                "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
                "CREATE CONSTRAINT TRIGGER test_refuse AFTER INSERT ON access_log "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse()",
            )

    def allow_writes(self) -> None:
        self.execute(
            "DROP TRIGGER test_refuse"
            if self.is_sqlite
            else "DROP TRIGGER test_refuse ON access_log"
        )


def make_entry(
    n: int,
    *,
    actor: str = "alice",
    subjects: list[str] | None = None,
    at: dt.datetime | None = None,
    reports: tuple[ReportRow, ...] = (),
) -> Entry:
    return Entry(
        time=at or T0 + dt.timedelta(minutes=n),
        actor=actor,
        role="hr_officer",
        unit="UNIT-A",
        purpose="CADRE_SELECTION",
        subjects=subjects if subjects is not None else [f"person:{n}"],
        fields=["person.name", "person.idNumber"],
        verdicts=["CLEAR"],
        policy_version="policy-1",
        rule_set_version="rules-1",
        request_id=f"req-{n}",
        outcome="OK",
        reports=reports,
    )


def make_report(n: int, actor: str = "alice") -> ReportRow:
    return ReportRow(
        report_id=f"report-{n}",
        actor=actor,
        subject=f"person:{n}",
        purpose="CADRE_SELECTION",
        as_of=dt.date(2025, 6, 30),
        verdict="INELIGIBLE",
        credit_record_ids=[f"CR-{n}-1", f"CR-{n}-2"],
    )


@pytest.fixture
async def log(dsn: str) -> AsyncIterator[AccessLog]:
    access_log = await open_access_log(dsn, SEAL)
    yield access_log
    await access_log.close()


# --- durability and group commit ------------------------------------------------


async def test_each_entry_is_committed_and_chained_when_append_returns(
    dsn: str, log: AccessLog
) -> None:
    db = Database(dsn)
    previous = GENESIS
    for n in range(1, 6):
        await log.append(make_entry(n))
        [(seq, prev_hash, digest)] = db.rows(
            "SELECT seq, prev_hash, hash FROM access_log WHERE request_id = ?", f"req-{n}"
        )
        assert (seq, prev_hash) == (n, previous)
        assert db.rows("SELECT head_seq, head_hash FROM access_log_chains") == [(n, digest)]
        previous = digest
    assert log.commits == 5
    report = verify(dsn, KEY)
    assert (report.ok, report.chains, report.entries) == (True, 1, 5)
    assert report.summary() == "access log intact: 1 chain, 5 entries verified"


async def test_concurrent_appends_share_commits_and_return_only_once_readable(
    dsn: str, log: AccessLog
) -> None:
    db = Database(dsn)

    async def append_then_read(n: int) -> None:
        await log.append(make_entry(n))
        # A new connection, opened the moment append returns, must see the entry.
        assert db.rows("SELECT seq FROM access_log WHERE request_id = ?", f"req-{n}")

    await asyncio.gather(*(append_then_read(n) for n in range(200)))
    assert 1 <= log.commits <= 10
    assert db.seqs(log.chain_id) == list(range(1, 201))
    assert verify(dsn, KEY).ok


async def test_a_group_holds_at_most_max_batch_entries(dsn: str) -> None:
    async with await open_access_log(dsn, SEAL, max_batch=8) as log:
        await asyncio.gather(*(log.append(make_entry(n)) for n in range(50)))
        assert log.commits == 7  # 6 x 8 + 2
    assert verify(dsn, KEY).entries == 50


async def test_close_commits_what_is_queued_and_refuses_more(dsn: str) -> None:
    log = await open_access_log(dsn, SEAL)
    # gather runs the appends' first steps (queueing) before close() starts.
    await asyncio.gather(*(log.append(make_entry(n)) for n in range(20)), log.close())
    assert Database(dsn).seqs(log.chain_id) == list(range(1, 21))
    with pytest.raises(AccessLogClosed):
        await log.append(make_entry(21))


# --- failures -------------------------------------------------------------------


async def test_a_failed_commit_fails_every_waiter_of_its_group_and_the_log_recovers(
    dsn: str, log: AccessLog
) -> None:
    db = Database(dsn)
    for n in range(3):
        await log.append(make_entry(n))
    db.refuse_writes()
    failing = [make_entry(n, reports=(make_report(n),)) for n in range(100, 130)]
    results = await asyncio.gather(*(log.append(e) for e in failing), return_exceptions=True)
    assert all(isinstance(result, AccessLogWriteError) for result in results)
    assert log.failed_commits >= 1
    assert log.commits == 3
    assert db.request_ids() == {"req-0", "req-1", "req-2"}
    assert db.rows("SELECT count(*) FROM access_log_reports") == [(0,)]

    db.allow_writes()
    for n in range(3, 6):
        await log.append(make_entry(n))
    assert db.seqs(log.chain_id) == [1, 2, 3, 4, 5, 6]
    assert verify(dsn, KEY).ok


class LosesOneAcknowledgement:
    """A store whose next write commits but then fails, as a COMMIT whose reply was lost."""

    def __init__(self, store: LogStore) -> None:
        self.store = store
        self.armed = False

    async def write(self, batch: Sequence[ChainedEntry]) -> None:
        await self.store.write(batch)
        if self.armed:
            self.armed = False
            raise ConnectionResetError("the reply to COMMIT was lost")

    async def head(self, chain_id: str) -> ChainHead | None:
        return await self.store.head(chain_id)

    async def search(self, query: LogQuery) -> list[Entry]:
        return await self.store.search(query)

    async def report(self, report_id: str) -> ReportRow | None:
        return await self.store.report(report_id)

    async def close(self) -> None:
        await self.store.close()


async def test_after_an_unacknowledged_commit_the_chain_continues_from_its_head(
    dsn: str,
) -> None:
    store = LosesOneAcknowledgement(await open_store(dsn))
    async with AccessLog(store, SEAL) as log:
        await log.append(make_entry(1))
        store.armed = True
        with pytest.raises(AccessLogWriteError):
            await log.append(make_entry(2))
        await log.append(make_entry(3))
    # The refused request's entry did reach the log; the chain stays gapless.
    assert Database(dsn).seqs(log.chain_id) == [1, 2, 3]
    assert verify(dsn, KEY).ok


async def test_a_dead_postgres_connection_is_replaced_without_failing_anyone(
    postgres_dsn: str,
) -> None:
    db = Database(postgres_dsn)
    async with await open_access_log(postgres_dsn, SEAL) as log:
        await log.append(make_entry(0))
        [(killed,)] = db.rows(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = ? AND datname = current_database()",
            APPLICATION_NAME,
        )
        assert killed == 1
        await asyncio.gather(*(log.append(make_entry(n)) for n in range(1, 11)))
        assert log.failed_commits == 0
    assert verify(postgres_dsn, KEY).entries == 11


async def test_an_unreachable_postgres_fails_the_group_then_the_log_recovers(
    postgres_dsn: str,
) -> None:
    db = Database(postgres_dsn)
    name = postgres_dsn.rsplit("/", 1)[1]
    admin_dsn = postgres_dsn.rsplit("/", 1)[0] + "/postgres"

    def allow_connections(allowed: bool) -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                    sql.Identifier(name), sql.Literal(allowed)
                )
            )
            if not allowed:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )

    async with await open_access_log(postgres_dsn, SEAL) as log:
        await log.append(make_entry(0))
        allow_connections(False)
        try:
            results = await asyncio.gather(
                *(log.append(make_entry(n)) for n in range(1, 11)), return_exceptions=True
            )
        finally:
            allow_connections(True)
        assert all(isinstance(result, AccessLogWriteError) for result in results)
        await log.append(make_entry(11))
    assert db.request_ids() == {"req-0", "req-11"}
    assert verify(postgres_dsn, KEY).ok


# --- tamper evidence ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Written:
    chain_id: str
    entries: list[Entry]


@pytest.fixture
async def written(dsn: str) -> Written:
    """Six entries on one chain (seq 2 carries a report), guards dropped."""
    entries = [make_entry(n, reports=(make_report(n),) if n == 2 else ()) for n in range(1, 7)]
    async with await open_access_log(dsn, SEAL) as log:
        for entry in entries:
            await log.append(entry)
    assert verify(dsn, KEY).ok
    Database(dsn).drop_guards()
    return Written(log.chain_id, entries)


def rehash(db: Database, written: Written, seq: int, key: bytes = b"not the chain key" * 2) -> None:
    """Edit seq's actor and store a hash recomputed over the edit, under a key that
    is not the chain key (the database holder does not have it)."""
    [(prev_hash,)] = db.rows("SELECT prev_hash FROM access_log WHERE seq = ?", seq)
    forged = dataclasses.replace(written.entries[seq - 1], actor="mallory")
    digest = entry_hash(key, written.chain_id, seq, prev_hash, forged)
    db.execute(
        "UPDATE access_log SET actor = 'mallory', hash = ? WHERE seq = ?", params=(digest, seq)
    )


def swap(db: Database, first: int, second: int) -> None:
    """Exchange two entries' places in the chain."""
    for statement, params in (
        ("UPDATE access_log SET seq = -1 WHERE seq = ?", (first,)),
        ("UPDATE access_log SET seq = ? WHERE seq = ?", (first, second)),
        ("UPDATE access_log SET seq = ? WHERE seq = -1", (second,)),
    ):
        db.execute(statement, params=params)


Tampering = Callable[[Database, Written], None]

TAMPERING: list[Any] = [
    pytest.param(
        lambda db, w: db.execute("UPDATE access_log SET actor = 'mallory' WHERE seq = 3"),
        3,
        BreakKind.EDITED,
        "its content does not match its hash",
        id="field edited",
    ),
    pytest.param(
        lambda db, w: db.execute("UPDATE access_log_reports SET verdict = 'CLEAR'"),
        2,
        BreakKind.EDITED,
        "its content does not match its hash",
        id="report edited",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log_reports"),
        2,
        BreakKind.EDITED,
        "its content does not match its hash",
        id="report deleted",
    ),
    pytest.param(
        lambda db, w: rehash(db, w, 3),
        3,
        BreakKind.EDITED,
        "its content does not match its hash",
        id="edited with its hash recomputed without the key",
    ),
    pytest.param(
        lambda db, w: rehash(db, w, 6),
        6,
        BreakKind.EDITED,
        "its content does not match its hash",
        id="last entry edited with its hash recomputed without the key",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log WHERE seq = 3"),
        3,
        BreakKind.MISSING,
        "entry seq 3 is absent",
        id="middle deleted",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log WHERE seq = 1"),
        1,
        BreakKind.MISSING,
        "entry seq 1 is absent",
        id="first deleted",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log WHERE seq >= 5"),
        5,
        BreakKind.MISSING,
        "entries seq 5..6 are absent",
        id="tail deleted",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log"),
        1,
        BreakKind.MISSING,
        "entries seq 1..6 are absent",
        id="every entry deleted",
    ),
    pytest.param(
        lambda db, w: db.execute("DELETE FROM access_log_chains"),
        6,
        BreakKind.MISSING,
        "the chain's head record is missing",
        id="head record deleted",
    ),
    pytest.param(
        lambda db, w: db.execute(
            "INSERT INTO access_log (chain_id, seq, at, actor, role, unit, purpose, subjects, "
            "fields, verdicts, policy_version, rule_set_version, request_id, outcome, prev_hash, "
            "hash) SELECT chain_id, 0, at, actor, role, unit, purpose, subjects, fields, "
            "verdicts, policy_version, rule_set_version, request_id, outcome, prev_hash, hash "
            "FROM access_log WHERE seq = 1"
        ),
        0,
        BreakKind.EDITED,
        "seq 0 is outside the chain's numbering",
        id="entry inserted before the start",
    ),
    pytest.param(
        lambda db, w: swap(db, 3, 4),
        3,
        BreakKind.REORDERED,
        "the entry stored at seq 3 was written as seq 4",
        id="two entries swapped",
    ),
]


@pytest.mark.parametrize(("tamper", "seq", "kind", "detail"), TAMPERING)
async def test_verify_names_the_first_broken_link(
    dsn: str, written: Written, tamper: Tampering, seq: int, kind: BreakKind, detail: str
) -> None:
    tamper(Database(dsn), written)
    report = verify(dsn, KEY)
    assert report.broken is not None
    assert (report.broken.chain_id, report.broken.seq, report.broken.kind) == (
        written.chain_id,
        seq,
        kind,
    )
    assert detail in report.broken.detail
    assert not report.ok
    assert report.summary().startswith(f"access log BROKEN: chain {written.chain_id} seq {seq}")


STORED_COLUMNS = [
    *(("access_log", column, 3) for column in ENTRY_COLUMNS if column not in ("chain_id", "seq")),
    *(("access_log_reports", column, 2) for column in REPORT_COLUMNS if column != "seq"),
]


@pytest.mark.parametrize(("table", "column", "seq"), STORED_COLUMNS)
async def test_every_stored_column_is_covered_by_the_hash(
    dsn: str, written: Written, table: str, column: str, seq: int
) -> None:
    db = Database(dsn)
    value: object = "tampered"
    if column in ("subjects", "fields", "verdicts", "credit_record_ids"):
        value = '["tampered"]' if db.is_sqlite else ["tampered"]
    elif column in ("at", "as_of"):
        day = dt.date(2020, 1, 1) if column == "as_of" else T0 - dt.timedelta(days=1)
        value = day.isoformat() if db.is_sqlite else day
    db.execute(f"UPDATE {table} SET {column} = ? WHERE seq = ?", params=(value, seq))  # noqa: S608
    broken = verify(dsn, KEY).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (seq, BreakKind.EDITED)


async def test_an_undecodable_row_is_reported_as_edited(tmp_path: Path) -> None:
    dsn = f"sqlite:///{tmp_path / 'access.db'}"
    async with await open_access_log(dsn, SEAL) as log:
        for n in range(3):
            await log.append(make_entry(n))
    db = Database(dsn)
    db.drop_guards()
    db.execute("UPDATE access_log SET subjects = 'not json' WHERE seq = 2")
    broken = verify(dsn, KEY).broken
    assert broken is not None
    assert (broken.seq, broken.kind) == (2, BreakKind.EDITED)
    assert "cannot be read" in broken.detail


async def test_verify_walks_every_chain_in_order(dsn: str) -> None:
    async with (
        await open_access_log(dsn, SEAL) as first,
        await open_access_log(dsn, SEAL) as second,
    ):
        for n in range(3):
            await first.append(make_entry(n))
            await second.append(make_entry(100 + n))
    report = verify(dsn, KEY)
    assert (report.ok, report.chains, report.entries) == (True, 2, 6)
    assert sorted(head.chain_id for head in report.heads) == sorted(
        [first.chain_id, second.chain_id]
    )
    later = max(first.chain_id, second.chain_id)
    db = Database(dsn)
    db.drop_guards()
    db.execute("DELETE FROM access_log WHERE chain_id = ? AND seq = 2", params=(later,))
    broken = verify(dsn, KEY)
    assert broken.broken is not None
    assert (broken.broken.chain_id, broken.broken.seq) == (later, 2)
    assert broken.entries == 4  # the intact chain, then seq 1 of the broken one


async def test_the_tables_refuse_updates_and_deletes(dsn: str, log: AccessLog) -> None:
    await log.append(make_entry(1, reports=(make_report(1),)))
    db = Database(dsn)
    for statement in (
        "UPDATE access_log SET actor = 'mallory'",
        "DELETE FROM access_log",
        "UPDATE access_log_reports SET actor = 'mallory'",
        "DELETE FROM access_log_reports",
    ):
        with pytest.raises((sqlite3.Error, psycopg.Error), match="append-only"):
            db.execute(statement)
    assert verify(dsn, KEY).ok


def test_verify_needs_a_log(tmp_path: Path, postgres_dsn: str) -> None:
    with pytest.raises(AccessLogUnreadable, match="no access log"):
        verify(f"sqlite:///{tmp_path / 'missing.db'}", KEY)
    with pytest.raises(AccessLogUnreadable):
        verify(postgres_dsn, KEY)  # an empty database: no tables
    with pytest.raises(ValueError, match="DSN"):
        verify("mysql://somewhere", KEY)


# --- reports and searches -------------------------------------------------------


async def test_reports_are_stored_with_their_entry(dsn: str, log: AccessLog) -> None:
    reports = (make_report(1), make_report(2, actor="alice"))
    await log.append(make_entry(1, reports=reports))
    assert await log.report("report-1") == reports[0]
    assert await log.report("report-2") == reports[1]
    assert await log.report("report-unknown") is None
    [(chain_id, seq)] = Database(dsn).rows("SELECT DISTINCT chain_id, seq FROM access_log_reports")
    assert (chain_id, seq) == (log.chain_id, 1)


async def test_search_by_subject_actor_and_time(dsn: str, log: AccessLog) -> None:
    e1 = make_entry(1, actor="alice", subjects=["s1", "s2"], at=T0)
    e2 = make_entry(2, actor="bob", subjects=["s2"], at=T0 + dt.timedelta(hours=1))
    e3 = make_entry(3, actor="alice", subjects=["s3"], at=T0 + dt.timedelta(hours=2))
    e4 = make_entry(4, actor="alice", subjects=["s2"], at=T0 + dt.timedelta(hours=3))
    for entry in (e1, e2, e3, e4):
        await log.append(entry)

    assert await log.search(subject="s2") == [e4, e2, e1]
    assert await log.search(actor="alice") == [e4, e3, e1]
    assert await log.search(subject="s2", actor="alice") == [e4, e1]
    assert await log.search(subject="s") == []
    # start inclusive, end exclusive; any offset is accepted.
    start_utc = (T0 + dt.timedelta(hours=1)).astimezone(dt.UTC)
    assert await log.search(start=start_utc, end=T0 + dt.timedelta(hours=3)) == [e3, e2]
    assert await log.search(limit=2) == [e4, e3]
    with pytest.raises(ValueError, match="timezone-aware"):
        await log.search(start=dt.datetime(2025, 6, 30, 9, 0))
    with pytest.raises(ValueError, match="limit"):
        await log.search(limit=0)


async def test_search_sees_every_writer(dsn: str, log: AccessLog) -> None:
    async with await open_access_log(dsn, SEAL) as other:
        await other.append(make_entry(7, subjects=["shared"]))
    await log.append(make_entry(8, subjects=["shared"]))
    found = await log.search(subject="shared")
    assert [entry.request_id for entry in found] == ["req-8", "req-7"]


def test_entries_are_checked_and_normalised() -> None:
    entry = make_entry(1, at=dt.datetime(2025, 6, 30, 1, 0, tzinfo=dt.UTC))
    assert entry.time.utcoffset() == dt.timedelta(hours=8)
    assert entry.time.hour == 9
    assert entry.subjects == ("person:1",)
    with pytest.raises(ValueError, match="timezone-aware"):
        make_entry(1, at=dt.datetime(2025, 6, 30, 9, 0))
    with pytest.raises(TypeError, match="subjects"):
        dataclasses.replace(entry, subjects="person:1")
    with pytest.raises(ValueError, match="distinct"):
        make_entry(1, reports=(make_report(1), make_report(1)))


# --- crash ----------------------------------------------------------------------


def _read_until(process: subprocess.Popen[bytes], lines: int, timeout_s: float) -> bytes:
    """The child's stdout until it holds `lines` complete lines (or the child ends)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    output = b""
    deadline = time.monotonic() + timeout_s
    while output.count(b"\n") < lines:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the writer printed too little in time"
        ready, _, _ = select.select([fd], [], [], remaining)
        chunk = os.read(fd, 65_536) if ready else b""
        if ready and not chunk:
            break  # the child ended
        output += chunk
    return output


def test_a_killed_writer_loses_nothing_it_acknowledged(dsn: str) -> None:
    writer = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.auth.access_log_crash_writer", dsn, KEY.decode()],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        output = _read_until(writer, 400, timeout_s=60)
        assert output.count(b"\n") >= 400, writer.stderr.read().decode() if writer.stderr else ""
        writer.send_signal(signal.SIGKILL)  # mid-burst: sixteen appends are in flight
        writer.wait()
        assert writer.stdout is not None
        output += writer.stdout.read()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL
    printed = output.decode().split("\n")[:-1]  # the last piece is empty or cut short
    assert set(printed) <= Database(dsn).request_ids()
    report = verify(dsn, KEY)
    assert report.ok, report.summary()
    assert report.entries >= len(printed)
