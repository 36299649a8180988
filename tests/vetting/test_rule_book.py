"""Every shipped rule-set version stays loadable: a report is explained by the version it names."""

from __future__ import annotations

import dataclasses
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from gateway.cli import main
from schema.types import Purpose, SubjectKind
from schema.vetting import Effect, ProcurementRecords, RuleSetError, Verdict, evaluate
from schema.vetting.rule_book import UnknownVersion, load_rule_book
from schema.vetting.rules import load_rule_set
from tests.vetting import build as b
from tests.vetting.build import A

BOOK = load_rule_book()
OLD = "2025.1"


def test_every_shipped_version_loads_and_the_current_one_is_what_vetting_uses():
    assert BOOK.versions == (OLD, "2026.1")
    assert BOOK.current == load_rule_set()
    assert BOOK.named(OLD).version == OLD
    with pytest.raises(UnknownVersion, match=r"no rule set '1999' \(known: 2025.1, 2026.1\)"):
        BOOK.named("1999")


def test_the_superseded_version_is_kept_as_it_was_shipped():
    old = BOOK.named(OLD)
    assert "CS-00" not in {r.id for r in old.rules}
    assert not any(r.id.startswith("ME-") for r in old.rules)
    (registration,) = old.rule("PE-02").clauses
    assert registration.effect is Effect.BAR
    assert registration.params.statuses == {"SUSPENDED", "CANCELLED", "NOT_REGISTERED"}
    assert old.rule("PE-02").basis == "供应商库管理"
    (graded,) = old.rule("HN-01").clauses
    assert (graded.effect, "NOT_GRADED" in graded.params.grades) == (Effect.BAR, True)


def explain(report_version: str, rule_id: str) -> tuple[set[Effect], str]:
    rule = BOOK.named(report_version).rule(rule_id)
    return {clause.effect for clause in rule.clauses}, rule.basis


@pytest.mark.parametrize(
    ("purpose", "subject", "evidence", "rule_id"),
    [
        (
            Purpose.PROCUREMENT_ELIGIBILITY,
            SubjectKind.ORGANIZATION,
            dataclasses.replace(b.organisation(), procurement=ProcurementRecords()),
            "PE-02",
        ),
        (
            Purpose.HONOURS,
            SubjectKind.PERSON,
            b.person(file=b.servant(grades={2024: "NOT_GRADED"})),
            "HN-01",
        ),
    ],
    ids=["PE-02-NOT_REGISTERED", "HN-01-NOT_GRADED"],
)
def test_a_report_under_the_old_version_is_explained_by_that_version(
    purpose, subject, evidence, rule_id
):
    old = evaluate(BOOK.named(OLD), purpose, subject, A, evidence)
    assert (old.rule_set_version, old.verdict, old.rule_ids) == (
        OLD,
        Verdict.INELIGIBLE,
        (rule_id,),
    )
    for finding in old.findings:
        effects, basis = explain(old.rule_set_version, finding.rule_id)
        assert finding.effect in effects
        assert finding.legal_basis == basis
    # Today's rules would misexplain it: the same rule id means something else now.
    assert explain(BOOK.current.version, rule_id) != explain(OLD, rule_id)
    new = evaluate(BOOK.current, purpose, subject, A, evidence)
    assert new.rule_set_version == BOOK.current.version
    assert new.verdict is not Verdict.INELIGIBLE


def copy_of_the_shipped_files(tmp_path: Path) -> Path:
    shipped = resources.files("schema.vetting")
    target = tmp_path / "vetting"
    (target / "superseded").mkdir(parents=True)
    (target / "rules.toml").write_text(shipped.joinpath("rules.toml").read_text("utf-8"), "utf-8")
    old = shipped.joinpath("superseded").joinpath(f"{OLD}.toml").read_text("utf-8")
    (target / "superseded" / f"{OLD}.toml").write_text(old, "utf-8")
    return target


def test_a_superseded_file_must_hold_the_version_it_is_named_for(tmp_path):
    folder = copy_of_the_shipped_files(tmp_path)
    assert load_rule_book(folder).versions == BOOK.versions
    shutil.move(folder / "superseded" / f"{OLD}.toml", folder / "superseded" / "2024.9.toml")
    with pytest.raises(RuleSetError, match=r"superseded/2024.9.toml: holds version '2025.1'"):
        load_rule_book(folder)


def test_a_version_cannot_be_shipped_twice(tmp_path):
    folder = copy_of_the_shipped_files(tmp_path)
    current = (folder / "rules.toml").read_text("utf-8")
    (folder / "rules.toml").write_text(current.replace('"2026.1"', f'"{OLD}"'), "utf-8")
    with pytest.raises(RuleSetError, match=rf"version '{OLD}' is shipped twice"):
        load_rule_book(folder)


def test_credgate_rules_prints_the_version_a_report_names(capsys):
    assert main(["rules", "--version", OLD, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["version"], document["current"]) == (OLD, False)
    by_id = {rule["id"]: rule for rule in document["rules"]}
    assert by_id["PE-02"]["effects"] == ["BAR"]
    assert by_id["PE-02"]["basis"] == "供应商库管理"
    assert main(["rules"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"rule set {BOOK.current.version} (current)\n")
    assert "ME-01  MERIT" in text
    assert "basis: 财库〔2019〕38号" in text


def test_credgate_rules_refuses_an_unknown_version(capsys):
    assert main(["rules", "--version", "1999"]) == 2
    assert "no rule set '1999' (known: 2025.1, 2026.1)" in capsys.readouterr().err
