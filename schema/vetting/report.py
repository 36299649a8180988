"""What an evaluation returns: a verdict, when the subject becomes eligible, and why.

Plain frozen values; the GraphQL types of a report are built from them, and
record visibility and masking apply to them like to any record: a finding with
`restricted=True` rests on a record the caller may use only to decide, so its
`summary` and `record_ref` must be hidden from every role but credit_admin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from schema.types import Purpose, SourceName, SubjectKind

from .evidence import Missing
from .rules import Effect

__all__ = ["NOTICE", "Finding", "MissingSource", "Report", "Verdict"]

NOTICE = (
    "This report supports a human decision and does not replace it (PIPL art. 24);"
    " record the outcome with recordUsage."
)


class Verdict(Enum):
    CLEAR = "CLEAR"
    FLAGGED = "FLAGGED"
    INELIGIBLE = "INELIGIBLE"
    INCOMPLETE = "INCOMPLETE"


@dataclass(frozen=True)
class Finding:
    """One rule fired by one record."""

    rule_id: str
    title: str  # the rule's
    effect: Effect
    legal_basis: str
    source: SourceName
    until: dt.date | None  # first free day; None when open-ended (or a FLAG without end)
    disputed: bool  # the record is under objection: a BAR on it only flags
    restricted: bool  # decide-only: details hidden except from credit_admin
    summary: str
    record_ref: str  # "SOURCE:kind:id"


@dataclass(frozen=True)
class MissingSource:
    """A source the purpose needs that could not be used."""

    source: SourceName
    reason: Missing


@dataclass(frozen=True)
class Report:
    purpose: Purpose
    subject: SubjectKind
    as_of: dt.date
    verdict: Verdict
    eligible_from: dt.date | None  # only when INELIGIBLE
    findings: tuple[Finding, ...]
    missing: tuple[MissingSource, ...]
    rule_set_version: str
    notice: str = NOTICE

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules that fired, sorted, each once."""
        return tuple(sorted({finding.rule_id for finding in self.findings}))
