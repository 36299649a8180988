"""Concurrent calls for different subjects merged into one upstream call (`coalesce`).

Against the archive's real SQLite exchange database: two callers asking in the
same moment are one statement set for the platform, and each gets only its own
subjects' files and its own failures.
"""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from connectors.archive import ArchiveConnector
from connectors.errors import SourceProtocolError, SourceUnavailable
from connectors.resilience import RetryPolicy
from simulators.archive import load_archive
from tests.connectors.harnesses.archive import (
    PERSON_1,
    PERSON_2,
    PERSON_3,
    fast_platform,
    settings_for,
    write_dataset,
)

NO_RETRY = RetryPolicy(max_attempts=1)


def archive_at(path: Path, *, window_ms: float = 5.0) -> ArchiveConnector:
    settings = settings_for(f"sqlite:///{path}").model_copy(update={"merge_window_ms": window_ms})
    return ArchiveConnector(settings, platform=fast_platform(settings, NO_RETRY))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    load_archive(write_dataset(tmp_path / "dataset"), f"sqlite:///{path}")
    return path


async def test_two_callers_for_different_subjects_make_one_call_and_each_gets_its_own(database):
    archive = archive_at(database)
    alone = archive_at(database, window_ms=0)
    expected = (await alone.files([PERSON_1])).values, (await alone.files([PERSON_2])).values
    first, second = await asyncio.gather(archive.files([PERSON_1]), archive.files([PERSON_2]))
    assert archive.platform.requests == 1
    assert archive.platform.merger.merged == 1
    assert (first.values, second.values) == expected
    assert set(first.values) == {PERSON_1}
    assert set(second.values) == {PERSON_2}
    assert first.status.ok
    assert second.status.ok
    await archive.close()
    await alone.close()


async def test_without_a_window_each_caller_makes_its_own_call(database):
    archive = archive_at(database, window_ms=0)
    await asyncio.gather(archive.files([PERSON_1]), archive.files([PERSON_2]))
    assert archive.platform.requests == 2
    assert archive.platform.merger.merged == 0
    await archive.close()


async def test_one_callers_untrustworthy_row_fails_that_caller_alone(database):
    with sqlite3.connect(database) as db:
        db.execute("UPDATE cs_person SET gender = 'X' WHERE id_number = ?", [PERSON_1])
    archive = archive_at(database)
    bad, good, both = await asyncio.gather(
        archive.files([PERSON_1]), archive.files([PERSON_2]), archive.files([PERSON_3, PERSON_1])
    )
    assert isinstance(bad.errors[PERSON_1], SourceProtocolError)
    assert "cs_person.gender" in bad.errors[PERSON_1].message
    assert bad.values == {}
    assert good.status.ok
    assert set(good.values) == {PERSON_2}
    # A caller that asked for the bad subject among others fails as it would alone.
    assert isinstance(both.status.error, SourceProtocolError)
    assert set(both.errors) == {PERSON_3, PERSON_1}
    # The merged call, then each caller of the refused chunk alone.
    assert archive.platform.requests == 1 + 3
    await archive.close()


async def test_an_unavailable_platform_fails_every_caller_with_one_call(tmp_path):
    archive = archive_at(tmp_path / "missing.db")
    first, second = await asyncio.gather(archive.files([PERSON_1]), archive.files([PERSON_2]))
    assert isinstance(first.errors[PERSON_1], SourceUnavailable)
    assert isinstance(second.errors[PERSON_2], SourceUnavailable)
    assert set(first.errors) == {PERSON_1}
    assert set(second.errors) == {PERSON_2}
    assert archive.platform.requests == 1  # not asked again per caller
    await archive.close()


async def test_a_caller_that_gives_up_leaves_the_merged_call_to_the_others(database):
    archive = archive_at(database)
    quitter = asyncio.create_task(archive.files([PERSON_1]))
    stayer = asyncio.create_task(archive.files([PERSON_2]))
    await asyncio.sleep(0)  # both run up to their wait for the merged answer
    assert archive.platform.merger.waiting("files") == 2
    quitter.cancel()
    kept = await stayer
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert kept.status.ok
    assert set(kept.values) == {PERSON_2}
    assert archive.platform.requests == 1
    await archive.close()
