"""Reading a dataset directory (layout in UPSTREAMS.md) line by line.

Any directory in that layout can be served, not only a generated one. Only the
identifier keys of a row are required; unknown keys are ignored; a missing file
means no rows. A malformed line stops the load with a `DatasetError` that names
the file and the line number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DatasetError", "Manifest", "Row", "read_jsonl", "read_manifest", "row_date"]

Row = dict[str, Any]


class DatasetError(ValueError):
    """A dataset file could not be read; the message names file and line."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about a dataset (all optional)."""

    as_of: dt.date | None
    seed: int | None
    counts: dict[str, int]


def read_jsonl(
    path: Path,
    required: tuple[str, ...],
    check: Callable[[Row], str | None] | None = None,
) -> Iterator[Row]:
    """Yield the JSON object on each non-blank line of `path`.

    `required` keys must be present and non-empty; `check` may return a reason
    to refuse a row (for example a failed check digit). Nothing is yielded for
    a file that does not exist.
    """
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(path, number, f"not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(path, number, "a line must hold one JSON object")
            missing = [key for key in required if row.get(key) in (None, "")]
            if missing:
                raise DatasetError(path, number, f"missing required key(s) {', '.join(missing)}")
            reason = check(row) if check is not None else None
            if reason is not None:
                raise DatasetError(path, number, reason)
            yield row


def row_date(row: Row, key: str) -> dt.date | None:
    """The ISO date in `row[key]`, None when absent; ValueError when malformed."""
    value = row.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a YYYY-MM-DD string")
    return dt.date.fromisoformat(value)


def read_manifest(dataset: Path) -> Manifest:
    """The dataset's manifest, or an empty one when the file is absent."""
    path = dataset / "manifest.json"
    if not path.exists():
        return Manifest(as_of=None, seed=None, counts={})
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        as_of = raw.get("as_of")
        return Manifest(
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            seed=raw.get("seed"),
            counts=dict(raw.get("counts", {})),
        )
    except (json.JSONDecodeError, ValueError, AttributeError, TypeError) as exc:
        raise DatasetError(path, None, f"malformed manifest ({exc})") from None
