"""The archive harness: a real SQLite exchange database and a connector reading it.

The archive has no HTTP, so its faults come from `FaultyDatabase`, a test-only
wrapper around any `ArchiveDatabase` that plays the platform's part: it counts
the statements it receives (a `cs_person` statement is one "request": one per
chunk), delays every statement, sends the next N (or, while down, every)
statement to a database that cannot be reached — so the errors are the driver's
own — and rewrites the next `cs_person` answer to lie.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from connectors.archive import ArchiveConnector
from connectors.archive_db import ArchiveDatabase, Row, SqliteDatabase
from connectors.base import Platform, SourceResult
from connectors.records import CivilServantFile
from connectors.resilience import RetryPolicy
from connectors.settings import ArchiveSettings
from simulators.archive import load_archive
from tests.connectors.harness import Lie
from tests.support import credit_code, id_number

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
# A chunk of known persons is seven statements; with 100 ms latency each it
# must still fit in one attempt.
TIMEOUT_S, ATTEMPT_TIMEOUT_S = 1.5, 1.0

UNIT_A = credit_code(1, prefix="11210100")
UNIT_B = credit_code(2, prefix="11210100")
UNIT_EMPTY = credit_code(3, prefix="11210100")
PERSON_1, PERSON_2, PERSON_3 = id_number(1), id_number(2), id_number(3)
FOREIGN = id_number(999, birth="19991231")


def _person(person_id: str, number: str, **fields: Any) -> dict[str, Any]:
    row = {
        "person_id": person_id,
        "id_number": number,
        "name": "欧阳明",
        "gender": "M",
        "birth_date": "1985-03-12",
        "unit_code": UNIT_A,
        "unit_name": "某市财政局",
        "position": "科长",
        "rank_level": "四级主任科员",
        "status": "ACTIVE",
        "updated_at": "2025-01-02T09:00:00+08:00",
    }
    row.update(fields)
    return row


# Every child table has rows, and P-1 and P-2 share most tables, so a row landing
# in the wrong file shows.
TABLES: dict[str, list[dict[str, Any]]] = {
    "cs_person": [
        _person("P-1", PERSON_1),
        _person("P-2", PERSON_2, name="李娜", gender="F", status="RETIRED", position=None),
        _person("P-3", PERSON_3, name="王强", unit_code=UNIT_B, unit_name="某区审计局"),
    ],
    "cs_position_history": [
        {"person_id": "P-1", "position": "科长", "rank_level": "四级主任科员",
         "unit_code": UNIT_A, "start_date": "2021-07-01", "end_date": None},
        {"person_id": "P-1", "position": "副科长", "rank_level": "一级科员",
         "unit_code": UNIT_B, "start_date": "2017-03-01", "end_date": "2021-06-30"},
        {"person_id": "P-2", "position": "科员", "rank_level": "二级科员",
         "unit_code": UNIT_A, "start_date": "2010-01-01", "end_date": "2024-12-31"},
    ],
    "cs_assessment": [
        {"person_id": "P-1", "year": 2024, "grade": "COMPETENT"},
        {"person_id": "P-1", "year": 2023, "grade": "EXCELLENT"},
        {"person_id": "P-2", "year": 2024, "grade": "BASICALLY_COMPETENT"},
        {"person_id": "P-3", "year": 2024, "grade": "NOT_GRADED"},
    ],
    "cs_sanction": [
        {"sanction_id": "S-1", "person_id": "P-1", "kind": "GOV_DEMERIT",
         "decision_no": "市监委〔2024〕7号", "authority": "某市监察委员会",
         "decision_date": "2024-05-01", "period_months": None, "reason": "违规发放津贴",
         "disclosure": "CONDITIONAL", "revoked_date": None,
         "updated_at": "2024-05-02T10:30:00+08:00"},
        {"sanction_id": "S-2", "person_id": "P-2", "kind": "PARTY_PROBATION",
         "decision_no": "市纪委〔2023〕3号", "authority": "某市纪律检查委员会",
         "decision_date": "2023-02-01", "period_months": 12, "reason": "违反廉洁纪律",
         "disclosure": "RESTRICTED", "revoked_date": "2024-01-15",
         "updated_at": "2024-01-15T16:00:00+08:00"},
    ],
    "cs_investigation": [
        {"case_id": "C-1", "person_id": "P-2", "authority": "某市监察委员会",
         "opened_date": "2025-03-01", "closed_date": None, "disclosure": "RESTRICTED"},
    ],
    "cs_matters_report_check": [
        {"person_id": "P-1", "year": 2024, "check_date": "2025-04-10",
         "result": "MINOR_OMISSION"},
    ],
    "cs_honour": [
        {"person_id": "P-1", "year": 2022, "title": "优秀公务员", "level": "CITY"},
    ],
}  # fmt: skip


def write_dataset(root: Path, tables: dict[str, list[dict[str, Any]]] = TABLES) -> Path:
    folder = root / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (folder / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    return root


def settings_for(dsn: str) -> ArchiveSettings:
    return ArchiveSettings(dsn=dsn, timeout_s=TIMEOUT_S, attempt_timeout_s=ATTEMPT_TIMEOUT_S)


def fast_platform(settings: ArchiveSettings, retry: RetryPolicy = FAST_RETRY) -> Platform:
    return Platform("archive", settings, ArchiveConnector.batch_limit, retry=retry)


def is_files_statement(sql: str) -> bool:
    """The main operation's statement: the `cs_person` lookup of one chunk."""
    return "FROM cs_person WHERE id_number IN" in " ".join(sql.split())


def lie_about(kind: Lie, rows: list[Row]) -> list[Row]:
    """An honest `cs_person` answer turned into the given lie."""
    first = dict(rows[0])
    match kind:
        case "malformed":
            first["birth_date"] = "12/03/1985"
        case "wrong_count":
            # One subject answered twice: more rows than the UNIQUE id_number allows.
            return [*rows, first]
        case "foreign_subject":
            first["id_number"] = FOREIGN
        case "bad_check_digit":
            number = str(first["id_number"])
            first["id_number"] = number[:-1] + ("1" if number[-1] != "1" else "2")
    return [first, *rows[1:]]


class FaultyDatabase:
    """An `ArchiveDatabase` that misbehaves on request; see the module docstring."""

    def __init__(self, inner: ArchiveDatabase, unreachable: ArchiveDatabase) -> None:
        self.inner = inner
        self.unreachable = unreachable
        self.placeholder = inner.placeholder
        self.statements = 0
        self.files_statements = 0
        self.latency_s = 0.0
        self.failing = 0
        self.down = False
        self.next_lie: Lie | None = None

    async def query(self, sql: str, params: Sequence[object], timeout_s: float) -> list[Row]:
        self.statements += 1
        main = is_files_statement(sql)
        self.files_statements += main
        if self.latency_s:
            # Simulated network time, as the HTTP stand-ins' latency knob does.
            await asyncio.sleep(self.latency_s)
        target = self.inner
        if self.down or self.failing:
            self.failing = max(0, self.failing - 1)
            target = self.unreachable
        rows = await target.query(sql, params, max(timeout_s - self.latency_s, 0.001))
        if main and self.next_lie is not None and rows:
            kind, self.next_lie = self.next_lie, None
            rows = lie_about(kind, rows)
        return rows

    async def close(self) -> None:
        await self.inner.close()
        await self.unreachable.close()


class ArchiveHarness:
    """The hand-written archive in a SQLite file and an `ArchiveConnector` reading it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.settings = settings_for(f"sqlite:///{path}")
        self.database = FaultyDatabase(
            SqliteDatabase(str(path)), SqliteDatabase(str(path.with_name("absent.db")))
        )
        self.connector = ArchiveConnector(
            self.settings, platform=fast_platform(self.settings), database=self.database
        )
        self.platform = self.connector.platform
        self.known_keys: Sequence[str] = (PERSON_1, PERSON_2, PERSON_3)

    def unknown_keys(self, count: int) -> list[str]:
        return [id_number(n % 1000, birth=f"{1950 + n // 1000}0101") for n in range(count)]

    async def fetch(self, keys: Sequence[str]) -> SourceResult[str, CivilServantFile | None]:
        return await self.connector.files(keys)

    def has_records(self, value: CivilServantFile | None) -> bool:
        return value is not None

    async def upstream_requests(self) -> int:
        return self.database.files_statements

    async def fail_next(self, count: int) -> None:
        self.database.failing = count

    async def set_down(self, down: bool) -> None:
        self.database.down = down

    async def set_latency_ms(self, latency_ms: float) -> None:
        self.database.latency_s = latency_ms / 1000

    async def stop(self) -> None:
        # The DSN no longer names a file: what a vanished exchange database looks like.
        self.path.rename(self.path.with_name("stopped.db"))

    async def lie(self, kind: Lie) -> None:
        self.database.next_lie = kind


@contextlib.asynccontextmanager
async def harness(tmp_path: Path) -> AsyncIterator[ArchiveHarness]:
    path = tmp_path / "archive.db"
    load_archive(write_dataset(tmp_path / "dataset"), f"sqlite:///{path}")
    running = ArchiveHarness(path)
    try:
        yield running
    finally:
        await running.connector.close()
