"""The files of `credgate vet`: the identifiers read in, the report written out.

Input is a CSV with a header row naming an `id_number` or a `credit_code`
column (or both; `ID_NUMBER_HEADERS`, `CREDIT_CODE_HEADERS`). It may come from
Excel in either of its encodings — UTF-8 with a byte-order mark, or GBK — so the
file is tried as UTF-8 first and read as GB18030 (a superset of GBK) when it is
not valid UTF-8. Blank lines are skipped, cells are stripped, and every other
column is carried through to the report untouched. A row is not sent when it
cannot be a subject: no identifier or both (`SubjectInput` is `@oneOf`: one such
entry would fail the whole call), or one that Excel turned into a number
(`2.10904E+17`: its last digits are gone); its report row says what happened.

Both sides stream: `InputTable.chunks` yields the rows a chunk at a time and a
`ReportWriter` writes each row as it comes, so a million rows need no more
memory than one chunk. The report is written next to its final name and moved
into place only when the run succeeds, so a report file is never half a report.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from connectors.error_codes import Code

__all__ = [
    "CREDIT_CODE_HEADERS",
    "ENCODINGS",
    "ID_NUMBER_HEADERS",
    "REPORT_COLUMNS",
    "FindingRow",
    "InputError",
    "InputRow",
    "InputTable",
    "ReportRow",
    "ReportWriter",
    "RowProblem",
    "open_report",
    "open_table",
    "report_kind",
]

ENCODINGS = ("utf-8-sig", "gb18030")

# Header names each identifier column is known by, compared after `_normalise`
# (so `ID Number`, `id-number` and `IDNUMBER` are `id_number` too).
ID_NUMBER_HEADERS = ("id_number", "身份证号", "身份证号码", "公民身份号码")
CREDIT_CODE_HEADERS = ("credit_code", "统一社会信用代码", "信用代码")

OPEN_ENDED = "open-ended"
REPORT_COLUMNS = (
    "verdict",
    "eligible_from",
    "rule_ids",
    "findings",
    "rule_set_version",
    "sources",
    "error",
    "error_detail",
    "report_id",
)


class InputError(Exception):
    """The input file cannot be used as it is (missing, undecodable, no identifier column)."""


def _normalise(name: str) -> str:
    """A header name compared loosely: `ID Number`, `id-number` and `idNumber` are one."""
    return re.sub(r"[\s_\-]", "", name.replace("\ufeff", "")).lower()


_ID_NUMBER_NAMES = {_normalise(name) for name in ID_NUMBER_HEADERS}
_CREDIT_CODE_NAMES = {_normalise(name) for name in CREDIT_CODE_HEADERS}
# What Excel shows for a long number in a General-format cell: 2.10904E+17.
_SCIENTIFIC = re.compile(r"\d+(\.\d+)?E\+?\d+", re.IGNORECASE)


@dataclass(frozen=True)
class RowProblem:
    """Why a row is not sent: its report row's error code and detail."""

    code: str
    detail: str
    excel: bool = False  # an identifier Excel turned into a number


def _problem(subject: dict[str, str]) -> RowProblem | None:
    if len(subject) != 1:
        return RowProblem(Code.INVALID_SUBJECT, "give exactly one of id_number and credit_code")
    (cell,) = subject.values()
    if not _SCIENTIFIC.fullmatch(cell):
        return None
    detail = (
        f"{cell} is what Excel made of an identifier: it took the column for numbers and "
        "wrote this one in scientific notation, losing its last digits. Format the column "
        "as Text before entering the identifiers (or import the CSV with that column as "
        "Text) and export again"
    )
    return RowProblem(Code.INVALID_IDENTIFIER, detail, excel=True)


@dataclass(frozen=True)
class InputRow:
    """One subject: its cells (one per header column) and what `vetBatch` is asked."""

    cells: tuple[str, ...]
    subject: dict[str, str]
    problem: RowProblem | None = None  # why it is not sent


@dataclass
class InputTable:
    """A header and a way to read the rows under it, a chunk at a time."""

    path: Path
    encoding: str
    header: tuple[str, ...]
    total: int  # data rows, blank lines not counted
    id_column: int | None
    code_column: int | None

    def chunks(self, size: int) -> Iterator[list[InputRow]]:
        """The rows in file order, `size` at a time; only the current chunk is held."""
        with self.path.open(encoding=self.encoding, newline="") as file:
            rows = _data_rows(csv.reader(file))
            next(rows, None)  # the header
            while chunk := list(itertools.islice(rows, size)):
                yield [self._row(cells) for cells in chunk]

    def _row(self, cells: list[str]) -> InputRow:
        # Short rows (Excel drops trailing empty cells) are padded; cells beyond
        # the header have no name to carry them under and are left out.
        width = len(self.header)
        padded = tuple((cells + [""] * width)[:width])
        subject = {}
        if self.id_column is not None and padded[self.id_column]:
            subject["idNumber"] = padded[self.id_column]
        if self.code_column is not None and padded[self.code_column]:
            subject["creditCode"] = padded[self.code_column]
        return InputRow(padded, subject, _problem(subject))


def _data_rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """Rows with their cells stripped; blank lines (and rows of blank cells) skipped."""
    for row in reader:
        cells = [cell.strip() for cell in row]
        if any(cells):
            yield cells


def open_table(path: Path) -> InputTable:
    """Find the encoding, the header and the row count of `path` (one pass, streamed)."""
    for encoding in ENCODINGS:
        try:
            with path.open(encoding=encoding, newline="") as file:
                rows = _data_rows(csv.reader(file))
                header = next(rows, None)
                total = sum(1 for _ in rows)
        except UnicodeDecodeError:
            continue
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
        except csv.Error as exc:
            raise InputError(f"{path} is not a readable CSV file: {exc}") from None
        if header is None:
            raise InputError(f"{path} is empty: expected a header and one row per subject")
        return _table(path, encoding, tuple(cell.replace("\ufeff", "") for cell in header), total)
    raise InputError(f"{path} is neither UTF-8 nor GBK/GB18030 text")


def _table(path: Path, encoding: str, header: tuple[str, ...], total: int) -> InputTable:
    names = [_normalise(name) for name in header]
    id_column = next((i for i, name in enumerate(names) if name in _ID_NUMBER_NAMES), None)
    code_column = next((i for i, name in enumerate(names) if name in _CREDIT_CODE_NAMES), None)
    if id_column is None and code_column is None:
        # The first row is not echoed: without a header it is someone's identifier.
        raise InputError(
            f"{path}: the first row must be a header naming an id_number or a "
            "credit_code column (or both)"
        )
    return InputTable(path, encoding, header, total, id_column, code_column)


# -- the report -----------------------------------------------------------------


@dataclass(frozen=True)
class FindingRow:
    """One finding as the report gives it."""

    rule: str
    title: str
    effect: str  # BAR or FLAG
    until: str | None  # the first free day; None: open-ended
    legal_basis: str

    def text(self) -> str:
        return (
            f"{self.rule} {self.title}: {self.effect} until {self.until or OPEN_ENDED} "
            f"({self.legal_basis})"
        )

    def item(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "title": self.title,
            "effect": self.effect,
            "until": self.until or OPEN_ENDED,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True)
class ReportRow:
    """What the report says about one input row."""

    cells: tuple[str, ...]
    verdict: str  # a Verdict, or ERROR when the gateway refused the entry
    eligible_from: str | None = None  # "open-ended" for an INELIGIBLE without one
    rule_ids: tuple[str, ...] = ()
    findings: tuple[FindingRow, ...] = ()
    rule_set_version: str | None = None  # the rules that explain rule_ids (`credgate rules`)
    sources: tuple[tuple[str, str], ...] = ()  # (source, "ok" | "stale" | "failed")
    error: str | None = None  # the error code
    error_detail: str | None = None
    report_id: str | None = None


class ReportWriter(Protocol):
    def write(self, rows: Sequence[ReportRow]) -> None: ...


@contextlib.contextmanager
def open_report(
    out: Path | None, header: Sequence[str], stdout: IO[bytes] | None = None
) -> Iterator[ReportWriter]:
    """A writer for the report: CSV, or JSON by the suffix of `out`; stdout (CSV) if None.

    Input columns named like a report column (a previous report vetted again)
    are left out, so the new verdict does not sit beside a stale one.
    """
    kept = [i for i, name in enumerate(header) if _normalise(name) not in _REPORT_NAMES]
    names = _unique([header[i] or f"column{i + 1}" for i in kept])
    if out is None:
        sys.stdout.flush()
        text = _text(stdout if stdout is not None else sys.stdout.buffer)
        try:
            yield _CsvReport(text, kept, names)
        finally:
            text.detach()  # flushed, and stdout left open
        return
    kind = report_kind(out)
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: no such directory {out.parent}")
    # Owner-only (mkstemp's 0600), as the report names people and their verdicts.
    descriptor, partial = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(descriptor, "wb") as binary:
            text = _text(binary)
            writer = (
                _CsvReport(text, kept, names)
                if kind == "csv"
                else _JsonReport(text, kept, names, lines=kind == "jsonl")
            )
            yield writer
            writer.finish()
            text.detach()
        os.replace(partial, out)
    except BaseException:
        os.unlink(partial)
        raise


_REPORT_NAMES = {_normalise(name) for name in REPORT_COLUMNS}
_KINDS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def report_kind(out: Path) -> str:
    """The report's format by the suffix of `out`: csv, json (an array) or jsonl (a line each)."""
    try:
        return _KINDS[out.suffix.lower()]
    except KeyError:
        raise InputError(f"--out {out}: a report is .csv, .json or .jsonl") from None


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (JSON keys must be): a repeated name gets `_2`, `_3`."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=True)


class _CsvReport:
    """UTF-8 with a byte-order mark: without it Excel reads the names as mojibake."""

    def __init__(self, text: IO[str], kept: list[int], names: list[str]) -> None:
        self.kept = kept
        self.csv = csv.writer(text)
        text.write("\ufeff")
        self.csv.writerow([*names, *REPORT_COLUMNS])

    def write(self, rows: Sequence[ReportRow]) -> None:
        self.csv.writerows(
            [
                *(row.cells[i] for i in self.kept),
                row.verdict,
                row.eligible_from or "",
                ";".join(row.rule_ids),
                # Legal bases hold ";" and ",": findings are set apart by " | ".
                " | ".join(finding.text() for finding in row.findings),
                row.rule_set_version or "",
                ";".join(f"{source}:{state}" for source, state in row.sources),
                row.error or "",
                row.error_detail or "",
                row.report_id or "",
            ]
            for row in rows
        )

    def finish(self) -> None:
        pass  # a CSV has no closing line


class _JsonReport:
    """A JSON array, or JSON Lines; rule ids and findings as lists, sources as an object."""

    def __init__(self, text: IO[str], kept: list[int], names: list[str], *, lines: bool) -> None:
        self.text = text
        self.kept = kept
        self.names = names
        self.lines = lines
        self.first = True
        if not self.lines:
            text.write("[")

    def write(self, rows: Sequence[ReportRow]) -> None:
        for row in rows:
            item: dict[str, Any] = {
                name: row.cells[i] for name, i in zip(self.names, self.kept, strict=True)
            }
            item.update(
                verdict=row.verdict,
                eligible_from=row.eligible_from,
                rule_ids=list(row.rule_ids),
                findings=[finding.item() for finding in row.findings],
                rule_set_version=row.rule_set_version,
                sources=dict(row.sources),
                error=row.error,
                error_detail=row.error_detail,
                report_id=row.report_id,
            )
            encoded = json.dumps(item, ensure_ascii=False)
            if self.lines:
                self.text.write(encoded + "\n")
            else:
                self.text.write(("\n" if self.first else ",\n") + encoded)
            self.first = False

    def finish(self) -> None:
        if not self.lines:
            self.text.write("\n]\n")
