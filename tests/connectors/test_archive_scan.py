"""The whole-archive scans of the audit queries, on SQLite and PostgreSQL.

A generated dataset is loaded into each database; every scan, read in small
pages, must give exactly the rows of the dataset's files, one statement a page.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from connectors.archive import ArchiveConnector
from connectors.archive_scan import ArchiveScan
from connectors.errors import SourceError
from connectors.settings import ArchiveSettings
from simulators.archive import load_archive
from simulators.generator import GeneratorOptions, generate

PAGE = 40


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scan")
    generate(out, GeneratorOptions(persons=400, orgs=120, seed=3))
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request: pytest.FixtureRequest, dataset: Path, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        target = request.getfixturevalue("postgres_dsn")
    load_archive(dataset, target)
    return target


def table(dataset: Path, name: str) -> list[dict[str, Any]]:
    with (dataset / "archive" / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


async def collect(pages: Any) -> list[Any]:
    return [page async for page in pages]


async def test_every_scan_gives_the_files_rows_page_by_page(dataset, dsn):
    archive = ArchiveConnector(ArchiveSettings(dsn=dsn))
    scan = ArchiveScan(archive, page_size=PAGE)
    people = table(dataset, "cs_person")
    history = table(dataset, "cs_position_history")
    try:
        units = await scan.units()
        assert [u.unit_code for u in units] == sorted(
            {row["unit_code"] for row in [*people, *history]}
        )
        named = {row["unit_code"]: row["unit_name"] for row in people}
        assert all(u.unit_name == named.get(u.unit_code) for u in units)

        archive.statements = 0
        pages = await collect(scan.servants())
        servants = [s.id_number for page in pages for s in page]
        assert servants == sorted(row["id_number"] for row in people)
        assert all(len(page) == PAGE for page in pages[:-1])
        assert archive.statements == len(people) // PAGE + 1

        unit = people[0]["unit_code"]
        mine = [s.id_number for page in await collect(scan.servants(unit)) for s in page]
        assert mine == sorted(row["id_number"] for row in people if row["unit_code"] == unit)

        first, last = dt.date(2015, 1, 1), dt.date(2021, 12, 31)
        pages = await collect(scan.position_changes(first, last))
        found = Counter(
            (row.id_number, row.change.start_date, row.change.position, row.change.end_date)
            for page in pages
            for row in page
        )
        ids = {row["person_id"]: row["id_number"] for row in people}
        expected = Counter(
            (ids[row["person_id"]], _day(row["start_date"]), row["position"], _day(row["end_date"]))
            for row in history
            if first.isoformat() <= row["start_date"] <= last.isoformat()
        )
        assert found == expected
        owners = [{row.id_number for row in page} for page in pages]
        assert all(not a & b for a, b in itertools.pairwise(owners))  # never split
        order = [(row.id_number, row.start_date) for page in pages for row in page]
        assert order == sorted(order)
    finally:
        await archive.close()


async def test_an_unreachable_archive_fails_the_scan(tmp_path):
    missing = ArchiveSettings(
        dsn=f"sqlite:///{tmp_path / 'missing.db'}", timeout_s=0.5, attempt_timeout_s=0.5
    )
    scan = ArchiveScan(ArchiveConnector(missing))
    with pytest.raises(SourceError):
        await scan.units()
    with pytest.raises(SourceError):
        await collect(scan.servants())


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
