"""The rule set: a versioned TOML file read into frozen objects, strictly validated.

    RuleSet      version, rules (file order), and which rules apply to which
                 purpose x subject kind (`applicable`)
    Rule         id, title, purposes, subject kinds, legal basis, clauses (OR-ed)
    Clause       source, condition kind + parameters, effect, until, and the
                 generic filters `within_months`, `start_in_as_of_year`, `otherwise`

Errors:

    RuleSetError(ValueError)    the file is not a valid rule set; the message names the place
    NotApplicable(ValueError)   no rules apply to that purpose for that kind of subject

The file's format is documented at its top (rules.toml). Validation refuses
unknown keys everywhere, unknown condition kinds, parameters a kind does not
take, a clause whose source is not the one its condition reads, duplicate rule
ids, a rule without legal basis, and a rule reading a source its purpose does
not consult (schema/purposes.py: minimum necessary).

Until, the first free day of a finding (DOMAIN.md "Dates"), from the clause's
`until` and the match (conditions.py):

    record_end   the record's own end (None: open-ended)
    window_end   start + within_months, at most the record's own end
    year_end     1 January after the as-of year, at most the record's own end
    open         none

A change date after the as-of date (revocation, closure, removal, resolution)
caps every until, and so also ends an open one. "At most the record's own end"
extends PE-03's explicit cap to every until of a credit record: a record no
longer in publicity is no longer used (visibility rule 1), so HO-01's "to 31
Dec" ends earlier when the publicity does.

Effects: BAR and FLAG weigh in the verdict; MERIT (守信激励) is reported and
never weighs. A clause that reads RED_LIST records must be a MERIT: a red list
never bars or flags. A rule's `subject` may list both kinds of subject; it then
applies to those of its purposes' [[applies]] pairs.

Every version shipped stays loadable (rule_book.py): a report is explained by
the version it names.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path

from schema.purposes import sources_for
from schema.types import Purpose, SourceName, SubjectKind

from .conditions import COMMENDATIONS, CONDITIONS
from .matches import ConditionKind, Params
from .rule_file import (
    RuleSetError,
    Table,
    boolean,
    enum_value,
    params,
    positive_int,
    table,
    tables,
    text,
)

__all__ = [
    "Applicability",
    "Clause",
    "Effect",
    "NotApplicable",
    "Rule",
    "RuleSet",
    "RuleSetError",
    "Until",
    "load_rule_set",
    "parse_rule_set",
]

_RULE_ID = re.compile(r"[A-Z]{2}-\d{2}")
_TOP_KEYS = frozenset({"version", "applies", "rules"})
_APPLIES_KEYS = frozenset({"purpose", "subject", "rules_of"})
_RULE_KEYS = frozenset({"id", "title", "purposes", "subject", "effect", "until", "basis", "note"})
_CLAUSE_KEYS = frozenset(
    {"source", "condition", "effect", "until", "within_months", "start_in_as_of_year", "otherwise"}
)


class NotApplicable(ValueError):
    """No verdict rules apply to this purpose for this kind of subject."""


class Effect(Enum):
    BAR = "BAR"  # INELIGIBLE until the finding's until
    FLAG = "FLAG"  # FLAGGED: a human looks again
    MERIT = "MERIT"  # 守信激励: reported for the human who decides, never changes a verdict


class Until(Enum):
    OPEN = "open"
    RECORD_END = "record_end"
    WINDOW_END = "window_end"
    YEAR_END = "year_end"


@dataclass(frozen=True)
class Clause:
    """One way a rule fires: a condition on one source, with its effect and until."""

    source: SourceName
    condition: ConditionKind
    params: Params
    effect: Effect
    until: Until
    within_months: int | None = None
    start_in_as_of_year: bool = False
    otherwise: bool = False  # only records no other finding of the evaluation rests on


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    purposes: frozenset[Purpose]
    subjects: frozenset[SubjectKind]
    basis: str
    clauses: tuple[Clause, ...]
    note: str | None = None


@dataclass(frozen=True)
class Applicability:
    """What a verdict for `purpose` about a `subject` kind consults and applies."""

    purpose: Purpose
    subject: SubjectKind
    rules: tuple[Rule, ...]
    sources: frozenset[SourceName]  # consulted, so needed: missing one -> INCOMPLETE


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]
    applies: tuple[Applicability, ...]

    def applicable(self, purpose: Purpose, subject: SubjectKind) -> Applicability:
        for entry in self.applies:
            if (entry.purpose, entry.subject) == (purpose, subject):
                return entry
        raise NotApplicable(f"no vetting rules for {purpose.name} of a {subject.name}")

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_rule_set(path: Path | None = None) -> RuleSet:
    """Read and validate a rule file; by default the one shipped with this package."""
    if path is None:
        source = resources.files(__package__).joinpath("rules.toml")
        return parse_rule_set(source.read_text(encoding="utf-8"), "rules.toml")
    return parse_rule_set(path.read_text(encoding="utf-8"), str(path))


def parse_rule_set(document: str, origin: str = "rule set") -> RuleSet:
    """Validate a rule file's text; RuleSetError names `origin` and the place."""
    try:
        top = tomllib.loads(document)
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{origin}: not valid TOML: {exc}") from None
    top_table = table(top, origin, _TOP_KEYS)
    version = text(top_table, "version", origin)
    rules = _rules(tables(top_table, "rules", origin), origin)
    applies = _applies(tables(top_table, "applies", origin), rules, origin)
    return RuleSet(version, rules, applies)


def _rules(raw: list[Table], origin: str) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(raw, 1):
        where = f"{origin}: rules[{number}]"
        rule_id = text(entry, "id", where)
        if not _RULE_ID.fullmatch(rule_id):
            raise RuleSetError(f"{where}: rule id {rule_id!r} is not of the form AB-01")
        if rule_id in seen:
            raise RuleSetError(
                f"{where}: duplicate rule id {rule_id} (also rules[{seen[rule_id]}])"
            )
        seen[rule_id] = number
        rules.append(_rule(entry, f"{origin}: rule {rule_id}"))
    if not rules:
        raise RuleSetError(f"{origin}: no rules")
    return tuple(rules)


def _rule(entry: Table, where: str) -> Rule:
    known = table(entry, where, _RULE_KEYS | {"when"})
    basis = known.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        raise RuleSetError(f"{where}: missing legal basis ('basis')")
    purposes = known.get("purposes")
    if not isinstance(purposes, list) or not purposes:
        raise RuleSetError(f"{where}: 'purposes' must be a non-empty list")
    effect = known.get("effect")
    until = known.get("until")
    clauses = tables(known, "when", where)
    if not clauses:
        raise RuleSetError(f"{where}: no conditions ('when')")
    note = known.get("note")
    if note is not None and not isinstance(note, str):
        raise RuleSetError(f"{where}: 'note' must be a string")
    return Rule(
        id=text(known, "id", where),
        title=text(known, "title", where),
        purposes=frozenset(enum_value(Purpose, p, f"{where}: purposes") for p in purposes),
        subjects=_subjects(known.get("subject"), f"{where}: subject"),
        basis=basis.strip(),
        clauses=tuple(
            _clause(clause, effect, until, f"{where}: when[{n}]")
            for n, clause in enumerate(clauses, 1)
        ),
        note=note,
    )


def _subjects(value: object, where: str) -> frozenset[SubjectKind]:
    """`subject`: one kind, or a list of kinds (a MERIT may speak for either)."""
    names = value if isinstance(value, list) and value else [value]
    return frozenset(enum_value(SubjectKind, name, where) for name in names)


def _clause(raw: Table, effect: object, until: object, where: str) -> Clause:
    name = text(raw, "condition", where)
    kind = CONDITIONS.get(name)
    if kind is None:
        known = ", ".join(sorted(CONDITIONS))
        raise RuleSetError(f"{where}: unknown condition kind {name!r} (known: {known})")
    source = enum_value(SourceName, raw.get("source"), f"{where}: source")
    if source is not kind.source:
        raise RuleSetError(
            f"{where}: condition {name!r} reads {kind.source.name}, not {source.name}"
        )
    given = set(raw) - _CLAUSE_KEYS
    extra = given - kind.required - kind.optional
    if extra:
        raise RuleSetError(f"{where}: condition {name!r} takes no parameter {sorted(extra)[0]!r}")
    lacking = kind.required - given
    if lacking:
        raise RuleSetError(f"{where}: condition {name!r} needs parameter {sorted(lacking)[0]!r}")
    clause = Clause(
        source=source,
        condition=kind,
        params=params(raw, given, where),
        effect=enum_value(Effect, raw.get("effect", effect), f"{where}: effect"),
        until=enum_value(Until, raw.get("until", until), f"{where}: until", by_value=True),
        within_months=positive_int(raw, "within_months", where),
        start_in_as_of_year=boolean(raw, "start_in_as_of_year", where),
        otherwise=boolean(raw, "otherwise", where),
    )
    if clause.until is Until.WINDOW_END and clause.within_months is None:
        raise RuleSetError(f"{where}: until 'window_end' needs 'within_months'")
    red_list = clause.params.categories is not None and COMMENDATIONS & clause.params.categories
    if red_list and clause.effect is not Effect.MERIT:
        raise RuleSetError(f"{where}: a RED_LIST record never bars or flags (effect MERIT only)")
    return clause


def _applies(raw: list[Table], rules: tuple[Rule, ...], origin: str) -> tuple[Applicability, ...]:
    entries: list[tuple[Purpose, SubjectKind, Purpose]] = []
    for number, entry in enumerate(raw, 1):
        where = f"{origin}: applies[{number}]"
        known = table(entry, where, _APPLIES_KEYS)
        purpose = enum_value(Purpose, known.get("purpose"), f"{where}: purpose")
        subject = enum_value(SubjectKind, known.get("subject"), f"{where}: subject")
        rules_of = enum_value(Purpose, known.get("rules_of", purpose.name), f"{where}: rules_of")
        if any((p, s) == (purpose, subject) for p, s, _ in entries):
            raise RuleSetError(f"{where}: {purpose.name} of a {subject.name} is listed twice")
        entries.append((purpose, subject, rules_of))
    own = {(p, s) for p, s, of in entries if of is p}
    result = []
    for purpose, subject, rules_of in entries:
        where = f"{origin}: applies {purpose.name} of a {subject.name}"
        if (rules_of, subject) not in own:
            raise RuleSetError(f"{where}: rules_of {rules_of.name} has no rules of its own")
        sources = sources_for(purpose, subject)
        if sources is None:
            raise RuleSetError(f"{where}: the purpose does not apply to that kind of subject")
        chosen = tuple(r for r in rules if subject in r.subjects and rules_of in r.purposes)
        if not chosen:
            raise RuleSetError(f"{where}: no rule names {rules_of.name} for a {subject.name}")
        for rule in chosen:
            for clause in rule.clauses:
                if clause.source not in sources:
                    raise RuleSetError(
                        f"{where}: rule {rule.id} reads {clause.source.name},"
                        " which that purpose does not consult"
                    )
        result.append(Applicability(purpose, subject, chosen, sources))
    for rule in rules:
        # A rule for several kinds of subject applies to those its purposes judge.
        for purpose in rule.purposes:
            if not any((purpose, subject) in own for subject in rule.subjects):
                kinds = " or ".join(sorted(subject.name for subject in rule.subjects))
                raise RuleSetError(
                    f"{origin}: rule {rule.id}: {purpose.name} of a {kinds}"
                    " is not in [[applies]] with rules of its own"
                )
    return tuple(result)
