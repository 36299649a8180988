"""Every rule-set version shipped: the one vetting uses now and those it replaced.

A report names the version of the rules that made it (`ruleSetVersion` in the
answer, `rule_set_version` in its access-log entry and in a `credgate vet`
file). A version is never changed in place: a new one goes into rules.toml and
the file it replaces moves, unchanged, to superseded/VERSION.toml. So a report
that names an older version is explained by the rules that made it (that
version's effect, basis and title for each of its rule ids), not by today's.

    book = load_rule_book()
    book.current                    the rule set vetting applies
    book.named("2025.1")            a version's rule set; UnknownVersion otherwise
    book.versions                   every version, superseded ones first

A superseded file must name its own version (its file name) and no version may
be shipped twice. Superseded files are read with today's code and today's
purpose table (schema/purposes.py): what they explain is the rules, their
effects and bases; `applicable(...).sources` is today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from .rule_file import RuleSetError
from .rules import RuleSet, parse_rule_set

__all__ = ["RuleBook", "UnknownVersion", "load_rule_book"]

_SUPERSEDED = "superseded"


class UnknownVersion(KeyError):
    """No rule set of that version was ever shipped."""


@dataclass(frozen=True)
class RuleBook:
    current: RuleSet
    superseded: tuple[RuleSet, ...]  # in file-name order

    @property
    def versions(self) -> tuple[str, ...]:
        return (*(rule_set.version for rule_set in self.superseded), self.current.version)

    def named(self, version: str) -> RuleSet:
        """The rule set a report naming `version` was made by."""
        for rule_set in (self.current, *self.superseded):
            if rule_set.version == version:
                return rule_set
        known = ", ".join(self.versions)
        raise UnknownVersion(f"no rule set {version!r} (known: {known})")


def load_rule_book(directory: Traversable | None = None) -> RuleBook:
    """Read and validate every shipped version; by default this package's files."""
    folder = directory or resources.files(__package__)
    current = parse_rule_set(_text(folder.joinpath("rules.toml")), "rules.toml")
    older = folder.joinpath(_SUPERSEDED)
    files = sorted(
        (f for f in older.iterdir() if f.name.endswith(".toml")) if older.is_dir() else (),
        key=lambda f: f.name,
    )
    superseded = []
    seen = {current.version}
    for file in files:
        origin = f"{_SUPERSEDED}/{file.name}"
        rule_set = parse_rule_set(_text(file), origin)
        if f"{rule_set.version}.toml" != file.name:
            raise RuleSetError(f"{origin}: holds version {rule_set.version!r}, not its file name")
        if rule_set.version in seen:
            raise RuleSetError(f"{origin}: version {rule_set.version!r} is shipped twice")
        seen.add(rule_set.version)
        superseded.append(rule_set)
    return RuleBook(current, tuple(superseded))


def _text(file: Traversable) -> str:
    return file.read_text(encoding="utf-8")
