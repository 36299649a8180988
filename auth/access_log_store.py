"""Where the access log is kept: the storage interface and what both databases share.

    LogStore.write(batch)       ONE transaction: the entries, their report rows and
                                the chain's head record; returns once committed
    LogStore.head(chain_id)     a chain's committed head (to resume after a failure)
    LogStore.search(query)      entries, newest first
    LogStore.report(report_id)  one stored report row
    LogSnapshot                 a consistent read of heads and rows, for verify

Verify reads entries and report rows as two streams in the same order
(chain_id in byte order, seq, report_id) and merges them, so it holds one
entry and its report rows at a time, whatever the size of the log or of an
entry (a join would copy an entry's lists into each of its report rows).

Three tables, the same in SQLite (`access_log_sqlite`) and PostgreSQL
(`access_log_postgres`): `access_log` (one row per entry, key (chain_id, seq)),
`access_log_reports` (key report_id, pointing at its entry) and
`access_log_chains` (one head record per chain). Every stored column of the
first two is covered by the entry's hash; the head record is checked against
the chain's last entry. Lists are JSON text in SQLite and text[] in PostgreSQL,
times ISO text (+08:00, microseconds) and timestamptz; each backend passes a
`Codec` that reads its own representation back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .access_log_chain import ChainedEntry, ChainHead, UnreadableEntry
from .access_log_entry import CHINA_TZ, Entry, ReportRow

__all__ = [
    "ENTRY_COLUMNS",
    "REPORT_COLUMNS",
    "Codec",
    "LogQuery",
    "LogSnapshot",
    "LogStore",
    "assemble",
    "china_time",
    "entry_from_row",
    "entry_values",
    "head_upsert_sql",
    "insert_sql",
    "report_from_row",
    "report_values",
    "search_sql",
    "verify_sql",
]

ENTRY_COLUMNS = (
    "chain_id",
    "seq",
    "at",
    "actor",
    "role",
    "unit",
    "purpose",
    "subjects",
    "fields",
    "verdicts",
    "policy_version",
    "rule_set_version",
    "request_id",
    "outcome",
    "prev_hash",
    "hash",
)
REPORT_COLUMNS = (
    "report_id",
    "chain_id",
    "seq",
    "actor",
    "subject",
    "purpose",
    "as_of",
    "verdict",
    "credit_record_ids",
)


@dataclass(frozen=True)
class LogQuery:
    """A search: every given condition must hold; `start` inclusive, `end` exclusive."""

    subject: str | None
    actor: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    limit: int


class LogStore(Protocol):
    """One database holding the access log."""

    async def write(self, batch: Sequence[ChainedEntry]) -> None:
        """Commit the batch (one chain, consecutive seqs) in one durable transaction."""
        ...

    async def head(self, chain_id: str) -> ChainHead | None:
        """The chain's committed head record, or None before its first commit."""
        ...

    async def search(self, query: LogQuery) -> list[Entry]:
        """Matching entries, newest first (without their report rows)."""
        ...

    async def report(self, report_id: str) -> ReportRow | None:
        """The stored report row, or None."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


@dataclass(frozen=True)
class LogSnapshot:
    """Heads and rows read in one transaction, so a live writer cannot skew them."""

    heads: Mapping[str, ChainHead]
    rows: Iterator[ChainedEntry | UnreadableEntry]


@dataclass(frozen=True)
class Codec:
    """How one backend's stored lists, times and dates read back as Python values."""

    strings: Callable[[object], list[str]]
    time: Callable[[object], dt.datetime]
    date: Callable[[object], dt.date]


def insert_sql(table: str, columns: Sequence[str], placeholder: str) -> str:
    marks = ", ".join([placeholder] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


def head_upsert_sql(placeholder: str) -> str:
    p = placeholder
    return (
        f"INSERT INTO access_log_chains (chain_id, head_seq, head_hash) VALUES ({p}, {p}, {p}) "  # noqa: S608
        "ON CONFLICT (chain_id) DO UPDATE "
        "SET head_seq = excluded.head_seq, head_hash = excluded.head_hash"
    )


def search_sql(
    query: LogQuery, placeholder: str, subject_condition: str, subject_param: object
) -> tuple[str, list[object]]:
    """The search statement; `subject_condition` is the backend's list-membership test."""
    conditions: list[str] = []
    params: list[object] = []
    for condition, value in (
        (subject_condition, subject_param if query.subject is not None else None),
        (f"actor = {placeholder}", query.actor),
        (f"at >= {placeholder}", query.start),
        (f"at < {placeholder}", query.end),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    params.append(query.limit)
    return (
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM access_log {where}"  # noqa: S608
        f"ORDER BY at DESC, chain_id, seq DESC LIMIT {placeholder}",
        params,
    )


def verify_sql(collate: str) -> tuple[str, str]:
    """Every entry, and every report row, each in chain order (`collate`: byte order)."""
    return (
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM access_log "  # noqa: S608
        f"ORDER BY chain_id {collate}, seq",
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM access_log_reports "  # noqa: S608
        f"ORDER BY chain_id {collate}, seq, report_id",
    )


def entry_values(row: ChainedEntry) -> tuple[object, ...]:
    """The `access_log` values of a chained entry, in ENTRY_COLUMNS order."""
    entry = row.entry
    return (
        row.chain_id,
        row.seq,
        entry.time,
        entry.actor,
        entry.role,
        entry.unit,
        entry.purpose,
        list(entry.subjects),
        list(entry.fields),
        list(entry.verdicts),
        entry.policy_version,
        entry.rule_set_version,
        entry.request_id,
        entry.outcome,
        row.prev_hash,
        row.hash,
    )


def report_values(row: ChainedEntry) -> list[tuple[object, ...]]:
    """The `access_log_reports` values of a chained entry, in REPORT_COLUMNS order."""
    return [
        (
            report.report_id,
            row.chain_id,
            row.seq,
            report.actor,
            report.subject,
            report.purpose,
            report.as_of,
            report.verdict,
            list(report.credit_record_ids),
        )
        for report in row.entry.reports
    ]


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, found {type(value).__name__}")
    return value


def report_from_row(row: Mapping[str, object], codec: Codec) -> ReportRow:
    """A report row read back."""
    return ReportRow(
        report_id=_text(row["report_id"]),
        actor=_text(row["actor"]),
        subject=_text(row["subject"]),
        purpose=_text(row["purpose"]),
        as_of=codec.date(row["as_of"]),
        verdict=_text(row["verdict"]),
        credit_record_ids=codec.strings(row["credit_record_ids"]),
    )


def entry_from_row(
    row: Mapping[str, object], codec: Codec, reports: Sequence[ReportRow] = ()
) -> ChainedEntry:
    """An `access_log` row read back; raises ValueError / TypeError on undecodable data."""
    entry = Entry(
        time=codec.time(row["at"]),
        actor=_text(row["actor"]),
        role=_text(row["role"]),
        unit=_text(row["unit"]),
        purpose=_text(row["purpose"]),
        subjects=codec.strings(row["subjects"]),
        fields=codec.strings(row["fields"]),
        verdicts=codec.strings(row["verdicts"]),
        policy_version=_text(row["policy_version"]),
        rule_set_version=_text(row["rule_set_version"]),
        request_id=_text(row["request_id"]),
        outcome=_text(row["outcome"]),
        reports=reports,
    )
    return ChainedEntry(
        chain_id=_text(row["chain_id"]),
        seq=_integer(row["seq"]),
        prev_hash=_text(row["prev_hash"]),
        hash=_text(row["hash"]),
        entry=entry,
    )


def assemble(
    entries: Iterable[Mapping[str, object]],
    reports: Iterable[Mapping[str, object]],
    codec: Codec,
) -> Iterator[ChainedEntry | UnreadableEntry]:
    """Merge the two verify streams back into entries, one entry at a time.

    A report row whose entry is gone is passed over: the entry's absence is
    what verification reports (a gap, or a head that names it)."""
    pending = _Reports(reports)
    for row in entries:
        place = _place(row)
        try:
            found = [] if place is None else pending.take(place)
            yield entry_from_row(row, codec, [report_from_row(r, codec) for r in found])
        except (ValueError, TypeError) as exc:
            seq = place[1] if place is not None else 0
            yield UnreadableEntry(str(row["chain_id"]), seq, str(exc))


_Place = tuple[str, int]


def _place(row: Mapping[str, object]) -> _Place | None:
    """(chain_id, seq), or None when SQLite's loose typing let either be something else."""
    chain_id, seq = row["chain_id"], row["seq"]
    if isinstance(chain_id, str) and isinstance(seq, int) and not isinstance(seq, bool):
        return chain_id, seq
    return None


class _Reports:
    """The report-row stream, read up to the entry being assembled."""

    def __init__(self, rows: Iterable[Mapping[str, object]]) -> None:
        self._rows = iter(rows)
        self._next: tuple[_Place, Mapping[str, object]] | None = None
        self._advance()

    def _advance(self) -> None:
        for row in self._rows:
            place = _place(row)
            if place is not None:
                self._next = place, row
                return
        self._next = None

    def take(self, place: _Place) -> list[Mapping[str, object]]:
        """The report rows of the entry at `place` (rows of earlier places are passed over)."""
        found = []
        while self._next is not None and self._next[0] <= place:
            if self._next[0] == place:
                found.append(self._next[1])
            self._advance()
        return found


def china_time(value: dt.datetime) -> dt.datetime:
    """An aware time at +08:00; naive times are refused (their instant is unknown)."""
    if value.utcoffset() is None:
        raise ValueError("search times must be timezone-aware")
    return value.astimezone(CHINA_TZ)
