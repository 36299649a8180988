"""`credgate vet FILE.csv --purpose P`: batch vetting through the gateway.

    read a chunk of rows -> one `vetBatch` call over HTTP -> write its report rows -> next

The gateway is called like any client calls it, a chunk of at most 1,000
subjects per call, so every subject passes the same access control, masking
and access log as a single `vet`. Only one chunk is held at a time: a million
rows run in the memory of a thousand.

Before the first row is sent, one small query checks what the command was
given: that `--url` is a credgate GraphQL endpoint and that it accepts the
token — or, with no token, that it wants none (access control off, development
only); otherwise the run stops there, naming `--token` and `CREDGATE_TOKEN`.

Exit status: 0 when every row was vetted, whatever the verdicts. 3 when the run
went through but some rows could not be vetted (an invalid identifier, a purpose
that does not apply to the subject): their rows say why, and so does the
summary. 1 when the run itself failed (gateway unreachable, token refused,
purpose not granted); 2 when the input cannot be used (no such file, no
identifier column, no token). Either way one line on stderr says why; a report
file is only written whole.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from connectors.error_codes import Code

from .vet_csv import (
    CREDIT_CODE_HEADERS,
    ENCODINGS,
    ID_NUMBER_HEADERS,
    OPEN_ENDED,
    REPORT_COLUMNS,
    FindingRow,
    InputError,
    InputRow,
    ReportRow,
    open_report,
    open_table,
    report_kind,
)

__all__ = ["MissingToken", "RunFailed", "VetOptions", "add_vet_parser", "run_vet", "vet_file"]

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
MAX_CHUNK = 1_000  # vetBatch's limit
PURPOSES = ("CADRE_SELECTION", "HONOURS", "PROCUREMENT_ELIGIBILITY", "SELF_CHECK")
VERDICTS = ("CLEAR", "FLAGGED", "INELIGIBLE", "INCOMPLETE")
RATE_LIMIT_WAITS = 5  # 429 answers waited out per chunk before the run gives up
MAX_WAIT_S = 60.0

VET_BATCH = """
query CredgateVet($subjects: [SubjectInput!]!, $purpose: Purpose!, $asOf: Date) {
  vetBatch(subjects: $subjects, purpose: $purpose, asOf: $asOf) {
    reportId verdict eligibleFrom ruleSetVersion
    findings { ruleId title effect until legalBasis }
    sources { source ok stale }
  }
}
"""
# Asked once before the run: the address is a credgate endpoint and takes the token.
CHECK = "query CredgateVetCheck { __typename }"
EXIT_NOT_ALL_VETTED = 3

# Refusals of the caller rather than of one subject: no later chunk can succeed.
_RUN_ERRORS = {
    Code.UNAUTHENTICATED,
    Code.FORBIDDEN_PURPOSE,
    Code.LIMIT_EXCEEDED,
    Code.BATCH_TOO_LARGE,
}


class RunFailed(Exception):
    """The run cannot go on; the message is the one line the user sees."""


class MissingToken(RunFailed):
    """No token was given and the gateway wants one (found before the first row)."""


@dataclass(frozen=True)
class VetOptions:
    source: Path
    purpose: str
    as_of: dt.date | None = None
    out: Path | None = None
    url: str = DEFAULT_URL
    token: str | None = None
    chunk_size: int = MAX_CHUNK


# -- the command line -------------------------------------------------------------


def add_vet_parser(commands: Any) -> None:
    """Add `vet` to the sub-commands of `credgate` (`commands` from add_subparsers)."""
    vet: argparse.ArgumentParser = commands.add_parser(
        "vet",
        help="vet the subjects of a CSV file through the gateway",
        description="Vet every subject of a CSV file through the gateway (vetBatch).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    vet.add_argument("file", type=Path, metavar="FILE.csv", help="a header, then one row each")
    vet.add_argument(
        "--purpose", required=True, type=str.upper, choices=PURPOSES, metavar="PURPOSE",
        help=f"one of {', '.join(p.lower() for p in PURPOSES)} (any case)",
    )  # fmt: skip
    vet.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="default: today")
    vet.add_argument(
        "--out", type=_report_path, metavar="F.csv|F.json|F.jsonl", help="default: CSV to stdout"
    )
    vet.add_argument("--url", default=DEFAULT_URL, help=f"GraphQL endpoint (default {DEFAULT_URL})")
    vet.add_argument("--token", help="bearer token (default: $CREDGATE_TOKEN)")
    vet.add_argument(
        "--chunk-size", type=_chunk_size, default=MAX_CHUNK, metavar="N",
        help=f"subjects per vetBatch call (1..{MAX_CHUNK}, default {MAX_CHUNK})",
    )  # fmt: skip
    vet.set_defaults(command=run_vet)


_EPILOG = f"""\
input:
  A CSV file whose first row is a header. The identifier columns are found by
  their header (case, spaces, '_' and '-' do not matter):
    ID numbers     {", ".join(ID_NUMBER_HEADERS)}
    credit codes   {", ".join(CREDIT_CODE_HEADERS)}
  One or both per row; every other column is carried into the report as it is.
  Encodings: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"), or
  GBK/GB18030 (Excel's "CSV" on Chinese Windows); tried in that order
  ({", ".join(ENCODINGS)}).
  In Excel, format identifier columns as Text: otherwise Excel stores an ID
  number as a number (2.10904E+17) and its last digits are lost; such rows are
  not sent and their row says so.

report (CSV with a byte-order mark, .json or .jsonl): the input columns, then
  {", ".join(REPORT_COLUMNS)}.
  eligible_from is "{OPEN_ENDED}" for an INELIGIBLE subject whose bar has no end;
  each finding gives rule, title, effect, until and legal basis.

exit status:
  0 every row vetted; 3 some rows could not be vetted (their error column says
  why); 1 the run failed (gateway unreachable, token refused, purpose not
  granted); 2 the input cannot be used, or no token was given.
"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _report_path(text: str) -> Path:
    try:
        report_kind(Path(text))
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Path(text)


def _chunk_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_CHUNK:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_CHUNK}")
    return int(text)


def run_vet(args: argparse.Namespace, *, sleep: Callable[[float], None] = time.sleep) -> int:
    """`credgate vet`: the exit status; failures end in one line on stderr.

    `sleep` waits out the gateway's rate limit (tests give one that returns at once).
    """
    options = VetOptions(
        source=args.file,
        purpose=args.purpose,
        as_of=args.as_of,
        out=args.out,
        url=args.url,
        token=args.token or os.environ.get("CREDGATE_TOKEN") or None,
        chunk_size=args.chunk_size,
    )
    try:
        with httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0)) as client:
            summary = vet_file(options, client, sys.stderr, sleep=sleep)
    except (InputError, MissingToken) as exc:
        print(f"credgate vet: {exc}", file=sys.stderr)
        return 2
    except (RunFailed, OSError) as exc:
        print(f"credgate vet: {exc}", file=sys.stderr)
        return 1
    print(summary.table(options), file=sys.stderr)
    return EXIT_NOT_ALL_VETTED if summary.not_vetted else 0


# -- the run ----------------------------------------------------------------------


@dataclass
class Summary:
    """Subjects per verdict (and per error code), calls made, wall time."""

    verdicts: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    excel_numbers: int = 0
    calls: int = 0
    seconds: float = 0.0

    def add(self, rows: Sequence[ReportRow]) -> None:
        self.verdicts.update(row.verdict for row in rows)
        self.errors.update(row.error for row in rows if row.error)

    @property
    def not_vetted(self) -> int:
        return self.verdicts["ERROR"]

    def table(self, options: VetOptions) -> str:
        lines = [f"{'verdict':<14} {'subjects':>10}"]
        for verdict in (*VERDICTS, "ERROR"):
            lines.append(f"{verdict:<14} {self.verdicts[verdict]:>10,}")
        if self.errors:
            lines[-1] += "   " + ", ".join(f"{c} {n:,}" for c, n in sorted(self.errors.items()))
        lines += [
            f"{'total':<14} {sum(self.verdicts.values()):>10,}",
            f"{'vetBatch calls':<14} {self.calls:>10,}",
            f"{'wall time':<14} {self.seconds:>8.2f} s",
            f"{options.purpose} report: {options.out or 'stdout'}",
        ]
        if self.not_vetted:
            total = sum(self.verdicts.values())
            lines.append(
                f"NOT ALL VETTED: {self.not_vetted:,} of {total:,} subjects could not be "
                "vetted; their rows' error and error_detail columns say why "
                f"(exit status {EXIT_NOT_ALL_VETTED})"
            )
        if self.excel_numbers:
            lines.append(
                f"{self.excel_numbers:,} identifiers were turned into numbers by Excel "
                "(like 2.10904E+17) and lost digits: format the column as Text and export again"
            )
        return "\n".join(lines)


def vet_file(
    options: VetOptions,
    client: httpx.Client,
    stderr: IO[str],
    *,
    stdout: IO[bytes] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Summary:
    """Vet every row of `options.source`, writing the report as it goes."""
    started = time.perf_counter()
    table = open_table(options.source)
    gateway = _Gateway(client, options, stderr, sleep)
    gateway.check()
    summary = Summary()
    progress = Progress(table.total, stderr)
    with open_report(options.out, table.header, stdout) as report:
        for chunk in table.chunks(options.chunk_size):
            rows = gateway.vet(chunk)
            report.write(rows)
            summary.add(rows)
            summary.excel_numbers += sum(
                row.problem is not None and row.problem.excel for row in chunk
            )
            progress.advance(len(rows))
    summary.calls = gateway.calls
    progress.done()
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Gateway:
    """`vetBatch` over HTTP, answers turned into report rows."""

    client: httpx.Client
    options: VetOptions
    stderr: IO[str]
    sleep: Callable[[float], None]
    calls: int = 0  # vetBatch calls made

    def check(self) -> None:
        """Fail before the run when the address is not a credgate endpoint taking the token."""
        url = self.options.url
        body = self._post({"query": CHECK})
        # In production a gateway may run trusted documents only: refusing this one
        # it has already accepted the token, and shown itself a credgate endpoint.
        trusted_only = any(
            _code(e) == Code.PERSISTED_QUERY_NOT_FOUND for e in body.get("errors") or ()
        )
        if not trusted_only and (body.get("data") or {}).get("__typename") != "Query":
            detail = _first_message(body) or "no GraphQL answer"
            raise RunFailed(
                f"{url} does not answer as a credgate GraphQL endpoint ({detail}): "
                "give the gateway's /graphql address with --url"
            )

    def vet(self, chunk: list[InputRow]) -> list[ReportRow]:
        """Report rows for `chunk`; rows with a problem of their own are not sent."""
        sent = [row for row in chunk if row.problem is None]
        answered = iter(self._vet_batch(sent) if sent else [])
        return [
            ReportRow(row.cells, "ERROR", error=row.problem.code, error_detail=row.problem.detail)
            if row.problem is not None
            else next(answered)
            for row in chunk
        ]

    def _vet_batch(self, chunk: list[InputRow]) -> list[ReportRow]:
        self.calls += 1
        variables = {
            "subjects": [row.subject for row in chunk],
            "purpose": self.options.purpose,
            "asOf": self.options.as_of.isoformat() if self.options.as_of else None,
        }
        body = self._post({"query": VET_BATCH, "variables": variables})
        reports = (body.get("data") or {}).get("vetBatch")
        errors = body.get("errors") or []
        for error in errors:
            code = _code(error)
            if code in _RUN_ERRORS or len(error.get("path") or []) < 2:
                raise RunFailed(f"the gateway refused the run: {code}: {error.get('message')}")
        if not isinstance(reports, list) or len(reports) != len(chunk):
            raise RunFailed("the gateway's answer has no report for every subject")
        by_entry = {error["path"][1]: error for error in errors}
        return [
            _report_row(row, report, by_entry.get(i))
            for i, (row, report) in enumerate(zip(chunk, reports, strict=True))
        ]

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        url, token = self.options.url, self.options.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        waits = 0
        while True:
            try:
                answer = self.client.post(url, json=payload, headers=headers)
            except httpx.HTTPError as exc:
                raise RunFailed(
                    f"the gateway at {url} did not answer: {exc} (is it running? "
                    f"`make demo` serves {DEFAULT_URL}; another address: --url)"
                ) from None
            if answer.status_code != 429:
                break
            # A long run may outpace the per-caller limit: wait as told, a few times.
            if waits == RATE_LIMIT_WAITS:
                raise RunFailed(f"the gateway at {url} kept refusing: too many requests (HTTP 429)")
            waits += 1
            wait = _retry_after(answer)
            print(f"rate limited by the gateway; waiting {wait:g} s", file=self.stderr)
            self.sleep(wait)
        try:
            body: dict[str, Any] = answer.json()
        except ValueError:
            body = {}
        if answer.status_code == 401 and not token:
            raise MissingToken(
                "no token: the gateway wants one; give it with --token TOKEN or in "
                "CREDGATE_TOKEN (the demo prints one per role; in development: "
                "credgate token --role hr_officer --sub NAME)"
            )
        if answer.status_code == 401:
            reason = _first_message(body) or "no reason given"
            raise RunFailed(
                f"the gateway refused the token (HTTP 401): {reason} "
                "(give a valid one with --token or CREDGATE_TOKEN)"
            )
        if answer.status_code != 200 or not isinstance(body, dict):
            detail = _first_message(body) or answer.reason_phrase
            raise RunFailed(
                f"{url} answered HTTP {answer.status_code} ({detail}): is it the gateway's "
                "/graphql address? (--url)"
            )
        return body


def _retry_after(answer: httpx.Response) -> float:
    try:
        return min(max(float(answer.headers.get("Retry-After", "1")), 0.0), MAX_WAIT_S)
    except ValueError:
        return 1.0


def _code(error: dict[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code", Code.INTERNAL))


def _first_message(body: Any) -> str | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    return str(errors[0].get("message")) if errors else None


def _report_row(
    row: InputRow, report: dict[str, Any] | None, error: dict[str, Any] | None
) -> ReportRow:
    if report is None:
        code = _code(error) if error else Code.INTERNAL
        # "subjects[3].idNumber: ..." -> "idNumber: ...": the index is the chunk's, not the file's.
        detail = re.sub(r"^subjects\[\d+\]\.?", "", str((error or {}).get("message", "")))
        return ReportRow(row.cells, "ERROR", error=code, error_detail=detail or None)
    eligible_from = report["eligibleFrom"]
    if report["verdict"] == "INELIGIBLE" and eligible_from is None:
        eligible_from = OPEN_ENDED  # a bar with no end: not "unknown"
    return ReportRow(
        row.cells,
        report["verdict"],
        eligible_from=eligible_from,
        rule_ids=tuple(sorted({finding["ruleId"] for finding in report["findings"]})),
        findings=tuple(
            FindingRow(f["ruleId"], f["title"], f["effect"], f["until"], f["legalBasis"])
            for f in report["findings"]
        ),
        rule_set_version=report["ruleSetVersion"],
        sources=tuple((s["source"], _state(s)) for s in report["sources"]),
        report_id=report["reportId"],
    )


def _state(source: dict[str, Any]) -> str:
    if not source["ok"]:
        return "failed"
    return "stale" if source["stale"] else "ok"


# -- progress -----------------------------------------------------------------------


class Progress:
    """A bar redrawn in place on a terminal; elsewhere (a log, CI) a line per tenth."""

    WIDTH = 30

    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total = total
        self.stream = stream
        self.done_rows = 0
        self.terminal = stream.isatty()
        self.tenths_shown = 0

    def advance(self, rows: int) -> None:
        self.done_rows += rows
        if self.terminal:
            filled = self.WIDTH * self.done_rows // max(self.total, 1)
            bar = "#" * filled + " " * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done_rows:,}/{self.total:,} subjects")
            self.stream.flush()
            return
        tenths = 10 * self.done_rows // max(self.total, 1)
        if tenths > self.tenths_shown:
            self.tenths_shown = tenths
            self.stream.write(f"vetted {self.done_rows:,}/{self.total:,} subjects\n")
            self.stream.flush()

    def done(self) -> None:
        if self.terminal and self.done_rows:
            self.stream.write("\n")
            self.stream.flush()
