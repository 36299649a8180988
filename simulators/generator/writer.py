"""Streaming the dataset to disk: one open JSONL file per table, rows in write order.

Rows are serialised compactly (separators "," and ":"), keys in the order the
row builders create them, non-ASCII text as is. Every row written to an
archive table also gets its cs_change_log line (one INSERT, seq counting from
1); the log's timestamps describe the archive's initial publication to the
exchange database, 1,000 rows a second from 01:00 on the day before the as-of
date, so `at` never decreases along `seq`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .archive import ARCHIVE_TABLES
from .dates import midnight

__all__ = [
    "AWARDS",
    "CHANGE_LOG",
    "DATASET_FILES",
    "ENTRIES",
    "GOLDEN",
    "ISSUES",
    "RECORDS",
    "RESTRICTIONS",
    "SUBJECTS",
    "SUPPLIERS",
    "DatasetWriter",
    "archive_file",
    "dump",
]

RECORDS = "credit_platform/records.jsonl"
SUBJECTS = "credit_platform/subjects.jsonl"
SUPPLIERS = "procurement/suppliers.jsonl"
ISSUES = "procurement/purchaser_issues.jsonl"
AWARDS = "procurement/awards.jsonl"
ENTRIES = "court/entries.jsonl"
RESTRICTIONS = "court/restrictions.jsonl"
CHANGE_LOG = "archive/cs_change_log.jsonl"
GOLDEN = "golden.jsonl"


def archive_file(table: str) -> str:
    """The dataset file of an exchange-database table."""
    return f"archive/{table}.jsonl"


DATASET_FILES = (
    RECORDS,
    SUBJECTS,
    SUPPLIERS,
    ISSUES,
    AWARDS,
    ENTRIES,
    RESTRICTIONS,
    *(archive_file(table) for table in ARCHIVE_TABLES),
    CHANGE_LOG,
    GOLDEN,
)
_TABLE_OF = {archive_file(table): table for table in ARCHIVE_TABLES}
_PUBLISH_RATE = 1_000  # change-log rows per second of the initial publication


def dump(row: Any) -> str:
    """The one JSON serialisation used for every line and the manifest."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


class DatasetWriter:
    """Writes rows to the dataset's files and counts them; a context manager."""

    def __init__(self, out: Path, as_of: dt.date) -> None:
        self._out = out
        self._publish_start = dt.datetime(
            as_of.year, as_of.month, as_of.day, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))
        ) - dt.timedelta(days=1)
        self._files: dict[str, IO[str]] = {}
        self.counts: dict[str, int] = dict.fromkeys(DATASET_FILES, 0)

    def __enter__(self) -> DatasetWriter:
        for name in DATASET_FILES:
            path = self._out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            # newline="\n": the same bytes on every platform.
            self._files[name] = path.open("w", encoding="utf-8", newline="\n")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for handle in self._files.values():
            handle.close()

    def write(self, name: str, row: dict[str, Any]) -> None:
        """Append `row` to file `name`; an archive row also gets its change-log INSERT."""
        self._files[name].write(dump(row) + "\n")
        self.counts[name] += 1
        table = _TABLE_OF.get(name)
        if table is not None:
            seq = self.counts[CHANGE_LOG] + 1
            at = self._publish_start + dt.timedelta(seconds=seq // _PUBLISH_RATE)
            entry = {
                "seq": seq,
                "table_name": table,
                "person_id": row["person_id"],
                "op": "INSERT",
                "at": at.isoformat(),
            }
            self._files[CHANGE_LOG].write(dump(entry) + "\n")
            self.counts[CHANGE_LOG] = seq

    def write_manifest(self, seed: int, as_of: dt.date) -> None:
        """manifest.json: generation time (the as-of midnight), seed, as-of, row counts."""
        manifest = {
            "generated_at": midnight(as_of),
            "seed": seed,
            "as_of": as_of.isoformat(),
            "counts": dict(self.counts),
        }
        (self._out / "manifest.json").write_text(
            dump(manifest) + "\n", encoding="utf-8", newline="\n"
        )
