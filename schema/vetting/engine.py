"""The vetting engine: apply a rule set to one subject's evidence on an as-of date.

    evaluate(rule_set, purpose, subject, as_of, evidence) -> Report

1. `rule_set.applicable(purpose, subject)` gives the rules and the sources the
   purpose consults (NotApplicable for AUDIT and any pair without rules).
2. A consulted source given as `Missing` (or not given) is reported missing
   and its clauses are not evaluated; sources the purpose does not consult
   are never read, whatever the evidence holds.
3. Every clause's condition yields matches; the clause's generic filters
   (`within_months`, `start_in_as_of_year`) and its `until` make findings.
   `otherwise` clauses run last, on records no finding rests on yet. One record
   fires a rule once: several clauses of a rule on the same record give the
   strongest finding (BAR over FLAG, then the later until, open being latest).
4. The verdict, exactly as DOMAIN.md:
   INELIGIBLE  any BAR on an undisputed record;
   INCOMPLETE  else any needed source missing (never CLEAR on partial data);
   FLAGGED     else any FLAG, or a BAR on a disputed record;
   CLEAR       else.
   MERIT findings are reported and never weigh: any verdict may carry them.
   `eligible_from` only when INELIGIBLE: the latest until among undisputed
   BARs; None when one of them is open-ended or a needed source is missing
   (a longer bar may hide there).

The engine is pure: no clock (the caller picks the as-of date, by default today
in Asia/Shanghai), no I/O, no roles. Visibility rules 1 and 2 (in force on the
as-of date; not REPAIRED / REVOKED) are applied by the conditions themselves;
rules 3 and 4 (disclosure, share scope, purpose) are the caller's.

Where DOMAIN.md is silent, this engine decides:
- The sources a verdict needs are the platforms the purpose consults
  (DOMAIN.md, schema/purposes.py), not only those its rules read: SELF_CHECK
  of a unit is INCOMPLETE without the archive. Fail closed. (HONOURS of a
  person does not consult procurement, so its absence never counts.)
- A BAR on a disputed record is reported as it is (effect BAR, disputed=True)
  and weighed as a FLAG; only credit records can be disputed (OBJECTION_PENDING).
- A change date after the as-of date caps the until of every finding, FLAGs
  included (an open LATE_PAYMENT resolved later gets that resolution day).
- A FLAG the rules table gives no end (CS-00, CS-06, CS-10, CS-11, HN-01 on
  NOT_GRADED, HO-03, PE-02, PE-06) has until None; only BARs bear on eligibleFrom.
- Findings come in rule-file order, then clause order, then record order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from schema.in_force import add_months
from schema.types import Purpose, SourceName, SubjectKind

from .evidence import CourtRecords, Evidence, Missing, ProcurementRecords
from .matches import Match, Records
from .report import Finding, MissingSource, Report, Verdict
from .rules import Clause, Effect, Rule, RuleSet, Until

__all__ = ["evaluate"]


def evaluate(
    rule_set: RuleSet,
    purpose: Purpose,
    subject: SubjectKind,
    as_of: dt.date,
    evidence: Evidence,
) -> Report:
    """Judge one subject for `purpose` on `as_of` from `evidence`."""
    applicable = rule_set.applicable(purpose, subject)
    missing = _missing(evidence, applicable.sources)
    gone = {m.source for m in missing}
    records = _records(evidence)
    findings: dict[tuple[str, str], Finding] = {}
    for last_pass in (False, True):
        fired = {key[1] for key in findings}
        for rule in applicable.rules:
            for clause in rule.clauses:
                if clause.otherwise is not last_pass or clause.source in gone:
                    continue
                for match in _matches(clause, records, as_of):
                    if last_pass and match.ref in fired:
                        continue
                    found = _finding(rule, clause, match, as_of, evidence.restricted)
                    key = (rule.id, match.ref)
                    findings[key] = _stronger(findings.get(key), found)
    verdict, eligible_from = _verdict(tuple(findings.values()), bool(missing))
    return Report(
        purpose=purpose,
        subject=subject,
        as_of=as_of,
        verdict=verdict,
        eligible_from=eligible_from,
        findings=tuple(findings.values()),
        missing=missing,
        rule_set_version=rule_set.version,
    )


def _missing(evidence: Evidence, needed: frozenset[SourceName]) -> tuple[MissingSource, ...]:
    given = {
        SourceName.CREDIT_PLATFORM: evidence.credit,
        SourceName.PROCUREMENT: evidence.procurement,
        SourceName.COURT: evidence.court,
        SourceName.ARCHIVE: evidence.archive,
    }
    return tuple(
        MissingSource(source, value)
        for source, value in given.items()
        if source in needed and isinstance(value, Missing)
    )


def _records(evidence: Evidence) -> Records:
    """The records given; a missing source reads as empty (its clauses are skipped)."""
    court = evidence.court if isinstance(evidence.court, CourtRecords) else CourtRecords()
    procurement = (
        evidence.procurement
        if isinstance(evidence.procurement, ProcurementRecords)
        else ProcurementRecords()
    )
    representative = procurement.representative
    return Records(
        credit=() if isinstance(evidence.credit, Missing) else evidence.credit,
        entries=court.entries,
        restrictions=court.restrictions,
        servant=None if isinstance(evidence.archive, Missing) else evidence.archive,
        supplier=procurement.supplier,
        purchaser=procurement.purchaser,
        roles=representative.roles if representative else (),
    )


def _matches(clause: Clause, records: Records, as_of: dt.date) -> Iterator[Match]:
    """The condition's matches that pass the clause's generic filters."""
    for match in clause.condition.find(records, as_of, clause.params):
        start = match.start
        if clause.within_months is not None and (
            start is None or not start <= as_of < add_months(start, clause.within_months)
        ):
            continue
        if clause.start_in_as_of_year and (start is None or start.year != as_of.year):
            continue
        yield match


def _finding(
    rule: Rule, clause: Clause, match: Match, as_of: dt.date, restricted: frozenset[str]
) -> Finding:
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        effect=clause.effect,
        legal_basis=rule.basis,
        source=clause.source,
        until=_earliest(_natural_until(clause, match, as_of), match.changed),
        disputed=match.disputed,
        restricted=match.ref in restricted,
        summary=f"{rule.title}: {match.summary}",
        record_ref=match.ref,
    )


def _natural_until(clause: Clause, match: Match, as_of: dt.date) -> dt.date | None:
    if clause.until is Until.RECORD_END:
        return match.end
    if clause.until is Until.WINDOW_END:
        # Validation guarantees within_months; the window filter guarantees a start.
        window = clause.within_months or 0
        start = match.start or as_of
        return _earliest(add_months(start, window), match.end)
    if clause.until is Until.YEAR_END:
        return _earliest(dt.date(as_of.year + 1, 1, 1), match.end)
    return None


def _earliest(first: dt.date | None, second: dt.date | None) -> dt.date | None:
    """The earlier of two ends, None meaning no end."""
    if first is None or second is None:
        return first or second
    return min(first, second)


def _stronger(old: Finding | None, new: Finding) -> Finding:
    """Of two findings of one rule on one record, the one that weighs more."""
    if old is None:
        return new

    def weight(f: Finding) -> tuple[bool, bool, dt.date]:
        return (f.effect is Effect.BAR, f.until is None, f.until or dt.date.min)

    return new if weight(new) > weight(old) else old


def _verdict(findings: tuple[Finding, ...], missing: bool) -> tuple[Verdict, dt.date | None]:
    # A MERIT speaks for the subject to the human who decides; it never weighs here.
    weighed = [f for f in findings if f.effect is not Effect.MERIT]
    bars = [f for f in weighed if f.effect is Effect.BAR and not f.disputed]
    if bars:
        untils = [f.until for f in bars]
        if missing or None in untils:
            return Verdict.INELIGIBLE, None
        return Verdict.INELIGIBLE, max(u for u in untils if u is not None)
    if missing:
        return Verdict.INCOMPLETE, None
    if weighed:  # FLAGs, or BARs on disputed records
        return Verdict.FLAGGED, None
    return Verdict.CLEAR, None
