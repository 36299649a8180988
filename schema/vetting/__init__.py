"""Vetting: a versioned rule set (rules.toml) applied to one subject's records on a date.

    rule_set = load_rule_set()                      # validated; RuleSetError otherwise
    report = evaluate(rule_set, Purpose.CADRE_SELECTION, SubjectKind.PERSON, as_of,
                      Evidence(credit=records, court=CourtRecords(entries, restrictions),
                               archive=civil_servant_file, procurement=Missing.STALE))
    report.verdict, report.eligible_from, report.findings, report.missing

Modules: `rules` (the rule set and its validation, with `rule_file`), `rule_book`
(every version shipped, to explain a report by the version it names),
`conditions` (the generic condition kinds the rules name), `evidence` (the
engine's inputs), `engine` (evaluation and verdict precedence), `report` (its
outputs).
"""

from __future__ import annotations

from .conditions import CONDITIONS
from .engine import evaluate
from .evidence import CourtRecords, Evidence, Missing, ProcurementRecords
from .matches import record_ref
from .report import NOTICE, Finding, MissingSource, Report, Verdict
from .rules import (
    Applicability,
    Effect,
    NotApplicable,
    Rule,
    RuleSet,
    RuleSetError,
    load_rule_set,
    parse_rule_set,
)

__all__ = [
    "CONDITIONS",
    "NOTICE",
    "Applicability",
    "CourtRecords",
    "Effect",
    "Evidence",
    "Finding",
    "Missing",
    "MissingSource",
    "NotApplicable",
    "ProcurementRecords",
    "Report",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "Verdict",
    "evaluate",
    "load_rule_set",
    "parse_rule_set",
    "record_ref",
]
