"""Where the access log is kept: the storage interface and what both databases share.

    LogStore.write(batch)       ONE transaction: the entries, their report rows and
                                the chain's head record; returns once committed
    LogStore.head(chain_id)     a chain's committed head (to resume after a failure)
    LogStore.search(query)      entries, newest first
    LogStore.report(report_id)  one stored report row
    LogSnapshot                 a consistent read of heads and rows, for verify

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
import itertools
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
# The report columns the verify join reads, prefixed `r_` there since actor and
# purpose are columns of both tables.
_JOINED_REPORT_COLUMNS = tuple(
    column for column in REPORT_COLUMNS if column not in ("chain_id", "seq")
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


def verify_sql(collate: str) -> str:
    """Every entry joined with its report rows, in chain order (`collate`: byte order)."""
    entry = ", ".join(f"e.{column}" for column in ENTRY_COLUMNS)
    reports = ", ".join(f"r.{column} AS r_{column}" for column in _JOINED_REPORT_COLUMNS)
    return (
        f"SELECT {entry}, {reports} FROM access_log e "  # noqa: S608
        "LEFT JOIN access_log_reports r ON r.chain_id = e.chain_id AND r.seq = e.seq "
        f"ORDER BY e.chain_id {collate}, e.seq, r.report_id"
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


def report_from_row(row: Mapping[str, object], codec: Codec, prefix: str = "") -> ReportRow:
    """A report row read back; `prefix` names its columns in a join."""
    return ReportRow(
        report_id=_text(row[f"{prefix}report_id"]),
        actor=_text(row[f"{prefix}actor"]),
        subject=_text(row[f"{prefix}subject"]),
        purpose=_text(row[f"{prefix}purpose"]),
        as_of=codec.date(row[f"{prefix}as_of"]),
        verdict=_text(row[f"{prefix}verdict"]),
        credit_record_ids=codec.strings(row[f"{prefix}credit_record_ids"]),
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
    rows: Iterable[Mapping[str, object]], codec: Codec
) -> Iterator[ChainedEntry | UnreadableEntry]:
    """Group the verify join's rows (one per entry x report) back into entries."""
    for (chain_id, seq), group in itertools.groupby(
        rows, key=lambda row: (row["chain_id"], row["seq"])
    ):
        joined = list(group)
        try:
            reports = [
                report_from_row(row, codec, prefix="r_")
                for row in joined
                if row["r_report_id"] is not None
            ]
            yield entry_from_row(joined[0], codec, reports)
        except (ValueError, TypeError) as exc:
            # Only SQLite's loose typing lets a seq be anything but an integer.
            place = seq if isinstance(seq, int) and not isinstance(seq, bool) else 0
            yield UnreadableEntry(str(chain_id), place, str(exc))


def china_time(value: dt.datetime) -> dt.datetime:
    """An aware time at +08:00; naive times are refused (their instant is unknown)."""
    if value.utcoffset() is None:
        raise ValueError("search times must be timezone-aware")
    return value.astimezone(CHINA_TZ)
