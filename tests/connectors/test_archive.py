"""The archive connector against its real exchange database, on SQLite and PostgreSQL.

The contract suite covers batching and faults on SQLite; these tests cover what
is the archive's own: the same answers from both databases, statements per
chunk, the read-only guarantee, how driver errors and bad rows are translated.
"""

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from connectors.archive import ArchiveConnector
from connectors.archive_db import PostgresDatabase, SqliteDatabase, translate_error
from connectors.errors import (
    SourceError,
    SourceProtocolError,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.records import (
    Assessment,
    CivilServantFile,
    Honour,
    Investigation,
    MattersReportCheck,
    PositionChange,
    Sanction,
)
from connectors.resilience import RetryPolicy
from connectors.settings import ArchiveSettings
from simulators.archive import load_archive
from tests.connectors.harnesses.archive import (
    PERSON_1,
    PERSON_2,
    PERSON_3,
    UNIT_A,
    UNIT_B,
    UNIT_EMPTY,
    fast_platform,
    settings_for,
    write_dataset,
)
from tests.support import id_number

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
STRANGER = id_number(500, birth="19700101")
NO_RETRY = RetryPolicy(max_attempts=1)

EXPECTED = {
    PERSON_1: CivilServantFile(
        person_id="P-1",
        id_number=PERSON_1,
        name="欧阳明",
        gender="M",
        birth_date=dt.date(1985, 3, 12),
        unit_code=UNIT_A,
        unit_name="某市财政局",
        position="科长",
        rank_level="四级主任科员",
        status="ACTIVE",
        updated_at=dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI),
        position_history=(
            PositionChange("副科长", "一级科员", UNIT_B, dt.date(2017, 3, 1), dt.date(2021, 6, 30)),
            PositionChange("科长", "四级主任科员", UNIT_A, dt.date(2021, 7, 1), None),
        ),
        assessments=(Assessment(2023, "EXCELLENT"), Assessment(2024, "COMPETENT")),
        sanctions=(
            Sanction(
                sanction_id="S-1",
                kind="GOV_DEMERIT",
                decision_no="市监委〔2024〕7号",
                authority="某市监察委员会",
                decision_date=dt.date(2024, 5, 1),
                period_months=None,
                reason="违规发放津贴",
                disclosure="CONDITIONAL",
                revoked_date=None,
                updated_at=dt.datetime(2024, 5, 2, 10, 30, tzinfo=SHANGHAI),
            ),
        ),
        investigations=(),
        matters_report_checks=(MattersReportCheck(2024, dt.date(2025, 4, 10), "MINOR_OMISSION"),),
        honours=(Honour(2022, "优秀公务员", "CITY"),),
    ),
    PERSON_2: CivilServantFile(
        person_id="P-2",
        id_number=PERSON_2,
        name="李娜",
        gender="F",
        birth_date=dt.date(1985, 3, 12),
        unit_code=UNIT_A,
        unit_name="某市财政局",
        position=None,
        rank_level="四级主任科员",
        status="RETIRED",
        updated_at=dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI),
        position_history=(
            PositionChange("科员", "二级科员", UNIT_A, dt.date(2010, 1, 1), dt.date(2024, 12, 31)),
        ),
        assessments=(Assessment(2024, "BASICALLY_COMPETENT"),),
        sanctions=(
            Sanction(
                sanction_id="S-2",
                kind="PARTY_PROBATION",
                decision_no="市纪委〔2023〕3号",
                authority="某市纪律检查委员会",
                decision_date=dt.date(2023, 2, 1),
                period_months=12,
                reason="违反廉洁纪律",
                disclosure="RESTRICTED",
                revoked_date=dt.date(2024, 1, 15),
                updated_at=dt.datetime(2024, 1, 15, 16, 0, tzinfo=SHANGHAI),
            ),
        ),
        investigations=(
            Investigation("C-1", "某市监察委员会", dt.date(2025, 3, 1), None, "RESTRICTED"),
        ),
        matters_report_checks=(),
        honours=(),
    ),
    PERSON_3: CivilServantFile(
        person_id="P-3",
        id_number=PERSON_3,
        name="王强",
        gender="M",
        birth_date=dt.date(1985, 3, 12),
        unit_code=UNIT_B,
        unit_name="某区审计局",
        position="科长",
        rank_level="四级主任科员",
        status="ACTIVE",
        updated_at=dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI),
        position_history=(),
        assessments=(Assessment(2024, "NOT_GRADED"),),
        sanctions=(),
        investigations=(),
        matters_report_checks=(),
        honours=(),
    ),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_dsn(request, tmp_path):
    """The hand-written archive, loaded into a fresh database of either kind."""
    if request.param == "sqlite":
        dsn = f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        dsn = request.getfixturevalue("postgres_dsn")
    load_archive(write_dataset(tmp_path / "dataset"), dsn)
    return dsn


@pytest.fixture
async def connector(archive_dsn):
    settings = settings_for(archive_dsn)
    archive = ArchiveConnector(settings, platform=fast_platform(settings))
    yield archive
    await archive.close()


@contextlib.contextmanager
def writable(dsn) -> Iterator[Any]:
    """A read-write connection of the test's own, to change the archive under the connector."""
    if dsn.startswith("sqlite:///"):
        connection = sqlite3.connect(dsn.removeprefix("sqlite:///"), isolation_level=None)
        with contextlib.closing(connection):
            yield connection
    else:
        with psycopg.connect(dsn, autocommit=True) as pg_connection:
            yield pg_connection


def assert_safe(error: SourceError) -> None:
    """Error messages carry no personal identifier, SQL or database location."""
    text = str(error)
    for secret in (PERSON_1, PERSON_2, PERSON_3, STRANGER, "SELECT", "sqlite", "127.0.0.1"):
        assert secret not in text


async def test_files_are_whole_and_each_row_lands_in_its_own_file(connector):
    result = await connector.files([PERSON_1, STRANGER, PERSON_2, PERSON_3])
    assert result.status.ok, result.status.error
    assert result.status.as_of is not None
    assert dict(result.values) == {**EXPECTED, STRANGER: None}
    assert dict(result.errors) == {}


async def test_a_chunk_is_one_person_statement_plus_one_per_child_table(connector):
    await connector.files([STRANGER])
    assert connector.statements == 1  # nobody found: no child table is asked

    await connector.files([PERSON_1, PERSON_2])
    assert connector.statements == 1 + 7

    strangers = [id_number(n, birth="19700101") for n in range(498)]
    result = await connector.files([PERSON_1, PERSON_2, PERSON_3, *strangers])
    assert result.status.ok, result.status.error
    # 501 keys: a chunk of 500 holding the known persons (7), one of a stranger (1).
    assert connector.statements == 1 + 7 + 8
    assert connector.platform.requests == 1 + 1 + 2


async def test_unit_members_lists_each_units_civil_servants(connector):
    result = await connector.unit_members([UNIT_A, UNIT_B, UNIT_EMPTY])
    assert result.status.ok, result.status.error
    assert dict(result.values) == {
        UNIT_A: tuple(sorted([PERSON_1, PERSON_2])),
        UNIT_B: (PERSON_3,),
        UNIT_EMPTY: (),
    }
    assert connector.statements == 1


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO cs_honour (person_id, year, title) VALUES ({0}, 2025, 'x')",
        "UPDATE cs_person SET name = 'x' WHERE person_id = {0}",
        "DELETE FROM cs_sanction WHERE person_id = {0}",
    ],
)
async def test_the_connector_cannot_write(archive_dsn, connector, statement):
    await connector.files([PERSON_1])  # a PostgreSQL connection is now held for reuse
    sql = statement.format(connector.database.placeholder)
    with pytest.raises((sqlite3.OperationalError, psycopg.errors.ReadOnlySqlTransaction)) as caught:
        await connector.database.query(sql, ["P-1"], 1.0)
    if archive_dsn.startswith("sqlite"):
        assert getattr(caught.value, "sqlite_errorname", None) == "SQLITE_READONLY"
    after = await connector.files([PERSON_1])
    assert after.values[PERSON_1] == EXPECTED[PERSON_1]


async def test_a_missing_sqlite_file_is_unavailable_and_is_not_created(tmp_path):
    path = tmp_path / "nowhere" / "archive.db"
    settings = settings_for(f"sqlite:///{path}")
    archive = ArchiveConnector(settings, platform=fast_platform(settings))
    result = await archive.files([PERSON_1])
    assert isinstance(result.status.error, SourceUnavailable)
    assert not isinstance(result.status.error, SourceTimeout)
    assert set(result.errors) == {PERSON_1}
    assert_safe(result.status.error)
    assert not path.exists()
    assert not path.parent.exists()
    assert archive.platform.requests == 3  # unavailability is retried


async def test_an_unreachable_postgresql_server_is_unavailable():
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    settings = settings_for("postgresql://credgate@127.0.0.1:1/archive")
    archive = ArchiveConnector(settings, platform=fast_platform(settings))
    result = await archive.files([PERSON_1])
    await archive.close()
    assert isinstance(result.status.error, SourceUnavailable)
    assert not isinstance(result.status.error, SourceTimeout)
    assert_safe(result.status.error)


async def test_a_missing_table_is_a_protocol_error(archive_dsn, connector):
    with writable(archive_dsn) as db:
        db.execute("DROP TABLE cs_honour")
    result = await connector.files([PERSON_1])
    assert isinstance(result.status.error, SourceProtocolError)
    assert "structure" in result.status.error.message
    assert_safe(result.status.error)
    assert connector.platform.requests == 1  # not retried: asking again cannot help


async def test_a_locked_sqlite_file_is_unavailable_not_a_timeout(tmp_path):
    path = tmp_path / "archive.db"
    load_archive(write_dataset(tmp_path / "dataset"), f"sqlite:///{path}")
    settings = ArchiveSettings(dsn=f"sqlite:///{path}", timeout_s=0.4, attempt_timeout_s=0.2)
    archive = ArchiveConnector(settings, platform=fast_platform(settings, NO_RETRY))
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # a writer mid-commit: readers must wait
        locked = await archive.files([PERSON_1])
        holder.execute("ROLLBACK")
    assert type(locked.status.error) is SourceUnavailable
    assert (await archive.files([PERSON_1])).status.ok


# Statements that run far longer than the test allows them.
SLOW = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " SELECT count(*) AS c FROM n",
        [10**12],
    ),
    "postgresql": ("SELECT pg_sleep(%s)", [30]),
}


async def test_a_statement_past_the_servers_deadline_is_a_timeout(archive_dsn):
    kind = archive_dsn.split(":", 1)[0]
    sql, params = SLOW[kind]
    if kind == "sqlite":
        # SQLite's "server-side" deadline is the timeout given with the statement.
        database: SqliteDatabase | PostgresDatabase = SqliteDatabase(
            archive_dsn.removeprefix("sqlite:///")
        )
        expected: type[Exception] = sqlite3.OperationalError
    else:
        database = PostgresDatabase(archive_dsn, statement_timeout_s=0.05)
        expected = psycopg.errors.QueryCanceled
    with pytest.raises(expected) as caught:
        await database.query(sql, params, 0.05 if kind == "sqlite" else 5.0)
    await database.close()
    error = translate_error("archive", caught.value)
    assert isinstance(error, SourceTimeout)
    assert_safe(error)


async def test_a_postgresql_statement_past_the_callers_deadline_is_cut_off(postgres_dsn):
    database = PostgresDatabase(postgres_dsn, statement_timeout_s=30)
    with pytest.raises(TimeoutError) as caught:
        await database.query("SELECT pg_sleep(%s)", [30], 0.05)
    assert isinstance(translate_error("archive", caught.value), SourceTimeout)
    # The interrupted connection was dropped; the next statement gets a sound one.
    assert await database.query("SELECT %s::int AS n", [1], 5.0) == [{"n": 1}]
    await database.close()


@pytest.mark.parametrize(
    ("corruption", "column"),
    [
        ("UPDATE cs_assessment SET grade = 'GOOD'", "cs_assessment.grade"),
        ("UPDATE cs_sanction SET kind = 'FINE'", "cs_sanction.kind"),
        ("UPDATE cs_investigation SET disclosure = 'SECRET'", "cs_investigation.disclosure"),
        ("UPDATE cs_person SET gender = 'X'", "cs_person.gender"),
        ("UPDATE cs_person SET status = 'ON_LEAVE'", "cs_person.status"),
        ("UPDATE cs_sanction SET decision_date = '2024/05/01'", "cs_sanction.decision_date"),
        ("UPDATE cs_position_history SET end_date = '2021-02-30'", "cs_position_history.end_date"),
        ("UPDATE cs_honour SET year = 'MMXXII'", "cs_honour.year"),
        ("UPDATE cs_person SET updated_at = 'yesterday'", "cs_person.updated_at"),
        ("UPDATE cs_matters_report_check SET check_date = NULL", "cs_matters_report_check"),
        ("UPDATE cs_assessment SET year = NULL", "cs_assessment.year"),
    ],
)
async def test_rows_that_cannot_be_trusted_are_a_protocol_error(tmp_path, corruption, column):
    path = tmp_path / "archive.db"
    load_archive(write_dataset(tmp_path / "dataset"), f"sqlite:///{path}")
    with writable(f"sqlite:///{path}") as db:
        db.execute(corruption)
    settings = settings_for(f"sqlite:///{path}")
    archive = ArchiveConnector(settings, platform=fast_platform(settings))
    result = await archive.files([PERSON_1, PERSON_2, PERSON_3])
    assert isinstance(result.status.error, SourceProtocolError)
    assert column in result.status.error.message
    assert dict(result.values) == {}
    assert_safe(result.status.error)


@pytest.mark.parametrize(
    "stored",
    ["2025-01-02 09:00:00", "2025-01-02T09:00:00+08:00", "2025-01-02T01:00:00Z"],
)
async def test_timestamps_are_aware_and_in_local_time(tmp_path, stored):
    path = tmp_path / "archive.db"
    load_archive(write_dataset(tmp_path / "dataset"), f"sqlite:///{path}")
    with writable(f"sqlite:///{path}") as db:
        db.execute("UPDATE cs_person SET updated_at = ? WHERE person_id = 'P-1'", [stored])
    settings = settings_for(f"sqlite:///{path}")
    archive = ArchiveConnector(settings, platform=fast_platform(settings))
    file = (await archive.files([PERSON_1])).values[PERSON_1]
    assert file is not None
    updated_at = file.updated_at
    assert updated_at is not None
    assert updated_at.utcoffset() == dt.timedelta(hours=8)
    assert updated_at == dt.datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI)
