"""`credgate rules`: the vetting rules of a version, as a report naming it was made by.

A report names its rule-set version (`ruleSetVersion`, the `rule_set_version`
column of `credgate vet`, the access log). This prints that version's rules —
id, effects, purposes, subjects, title and legal basis — from the files shipped
with the product (schema/vetting/rule_book.py), the current version by default;
`--json` gives the same as one JSON document. An unknown version is a usage
error naming the known ones.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from schema.vetting.rule_book import UnknownVersion, load_rule_book
from schema.vetting.rules import Rule, RuleSet

__all__ = ["add_rules_parser", "rules_document"]


def add_rules_parser(commands: Any) -> None:
    """Add `rules` to the sub-commands of `credgate` (`commands` from add_subparsers)."""
    rules: argparse.ArgumentParser = commands.add_parser(
        "rules", help="the vetting rules of a rule-set version (default: the current one)"
    )
    rules.add_argument("--version", dest="rule_set", metavar="VERSION", help="e.g. 2025.1")
    rules.add_argument("--json", action="store_true", help="one JSON document")
    rules.set_defaults(command=_rules)


def _rules(args: argparse.Namespace) -> int:
    book = load_rule_book()
    try:
        rule_set = book.named(args.rule_set) if args.rule_set else book.current
    except UnknownVersion as exc:
        raise ValueError(exc.args[0]) from None  # the CLI's one-line usage error
    document = rules_document(rule_set, current=book.current.version)
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    state = "current" if document["current"] else f"superseded by {book.current.version}"
    print(f"rule set {rule_set.version} ({state})")
    for rule in document["rules"]:
        print(f"{rule['id']}  {'/'.join(rule['effects']):<9} {rule['title']}")
        kinds = " or ".join(rule["subjects"])
        print(f"        purposes: {', '.join(rule['purposes'])}; subject: {kinds}")
        print(f"        basis: {rule['basis']}")
    return 0


def rules_document(rule_set: RuleSet, *, current: str) -> dict[str, Any]:
    """A rule set as plain data: what a reader of a report needs of each rule."""
    return {
        "version": rule_set.version,
        "current": rule_set.version == current,
        "rules": [_rule(rule) for rule in rule_set.rules],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "effects": sorted({clause.effect.value for clause in rule.clauses}),
        "purposes": sorted(purpose.value for purpose in rule.purposes),
        "subjects": sorted(subject.value for subject in rule.subjects),
        "basis": rule.basis,
        "note": rule.note,
    }
