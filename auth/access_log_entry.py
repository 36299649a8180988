"""What one access-log entry holds, and the errors the access log raises.

    AccessLogError              the access log could not do what was asked
    ├── AccessLogWriteError     entries were not committed: fail their requests, no data
    ├── AccessLogClosed         append after close()
    └── AccessLogUnreadable     verify / search could not read the log (no such file, ...)

An `Entry` is what the gateway records for one request that touched personal
data (DOMAIN.md, Accountability). Subject keys are stored exactly as given: the
gateway passes keyed HMACs of identifiers, so the log can be searched by subject
without holding raw numbers. `ReportRow`s ride along with their entry and are
committed in the same transaction (ARCHITECTURE.md, Access log and reports).

Times are normalised to +08:00 (China has one offset and no daylight saving), so
every stored time has one textual form and the hash over it is reproducible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from .outbox_item import OutboxItem

__all__ = [
    "CHINA_TZ",
    "AccessLogClosed",
    "AccessLogError",
    "AccessLogUnreadable",
    "AccessLogWriteError",
    "Entry",
    "ReportRow",
]

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


class AccessLogError(Exception):
    """The access log could not do what was asked."""


class AccessLogWriteError(AccessLogError):
    """The entries of one group were not committed; their requests must fail."""


class AccessLogClosed(AccessLogError):
    """`append` was called after `close`."""


class AccessLogUnreadable(AccessLogError):
    """The log could not be read (missing database, missing tables, unreachable)."""


def _strings(name: str, values: Sequence[str]) -> tuple[str, ...]:
    # A str is itself a Sequence[str]; storing "abc" as ("a", "b", "c") would be
    # a silent corruption of the evidence, so refuse it.
    if isinstance(values, str) or not all(isinstance(value, str) for value in values):
        raise TypeError(f"{name} must be a list of strings")
    return tuple(values)


@dataclass(frozen=True)
class ReportRow:
    """One vetting report answered to `actor`, looked up later by `recordUsage`."""

    report_id: str
    actor: str
    subject: str
    purpose: str
    as_of: dt.date
    verdict: str
    credit_record_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "credit_record_ids", _strings("credit_record_ids", self.credit_record_ids)
        )
        if isinstance(self.as_of, dt.datetime) or not isinstance(self.as_of, dt.date):
            raise TypeError("as_of must be a date")


@dataclass(frozen=True)
class Entry:
    """One request that touched personal data.

    `outcome` is e.g. "OK", "DENIED", "ERROR", "PARTIAL"; `verdicts` may be
    empty. Sequences are stored as tuples, `time` as +08:00 (it must be aware).
    """

    time: dt.datetime
    actor: str
    role: str
    unit: str
    purpose: str
    subjects: Sequence[str]
    fields: Sequence[str]
    verdicts: Sequence[str]
    policy_version: str
    rule_set_version: str
    request_id: str
    outcome: str
    reports: Sequence[ReportRow] = field(default=())
    # What the request owes the credit platform, stored in the entry's transaction
    # (auth/outbox_item.py); not part of the entry's hash: delivery updates it.
    outbox: Sequence[OutboxItem] = field(default=())

    def __post_init__(self) -> None:
        if self.time.utcoffset() is None:
            raise ValueError("an access-log time must be timezone-aware")
        object.__setattr__(self, "time", self.time.astimezone(CHINA_TZ))
        for name in ("subjects", "fields", "verdicts"):
            object.__setattr__(self, name, _strings(name, getattr(self, name)))
        reports = tuple(self.reports)
        if not all(isinstance(report, ReportRow) for report in reports):
            raise TypeError("reports must be ReportRow values")
        if len({report.report_id for report in reports}) != len(reports):
            raise ValueError("report ids within one entry must be distinct")
        object.__setattr__(self, "reports", reports)
        object.__setattr__(self, "outbox", tuple(self.outbox))
