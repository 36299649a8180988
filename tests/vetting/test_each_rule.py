"""Every rule, on planted records: inside its window, on its edges, withdrawn, disputed."""

from __future__ import annotations

import pytest

from schema.vetting import Effect, Report, Verdict, evaluate, load_rule_set
from tests.vetting.build import DAY
from tests.vetting.windows import WINDOWS, Window

RULE_SET = load_rule_set()
WEIGHED = {Effect.FLAG: Verdict.FLAGGED, Effect.MERIT: Verdict.CLEAR}


def vet(window: Window, on=None, evidence=None) -> Report:
    return evaluate(
        RULE_SET,
        window.purpose,
        window.subject,
        on or window.inside,
        evidence or window.evidence,
    )


def findings_of(report: Report, rule: str):
    return [f for f in report.findings if f.rule_id == rule]


def test_every_rule_of_the_rule_set_has_windows():
    assert {w.rule for w in WINDOWS} == {rule.id for rule in RULE_SET.rules}


@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_fires_inside_its_window(window: Window):
    report = vet(window)
    (finding,) = findings_of(report, window.rule)
    assert (finding.effect, finding.until, finding.disputed) == (window.effect, window.until, False)
    if window.effect is Effect.BAR:
        assert report.verdict is Verdict.INELIGIBLE
        assert report.eligible_from == window.until
    else:  # a MERIT never changes a verdict
        assert report.verdict is WEIGHED[window.effect]
        assert report.eligible_from is None


@pytest.mark.parametrize("window", [w for w in WINDOWS if w.start], ids=str)
def test_fires_from_its_first_day_not_before(window: Window):
    assert window.start is not None
    assert findings_of(vet(window, window.start), window.rule)
    assert not findings_of(vet(window, window.start - DAY), window.rule)


@pytest.mark.parametrize("window", [w for w in WINDOWS if w.free], ids=str)
def test_fires_on_its_last_day_not_on_its_first_free_day(window: Window):
    assert window.free is not None
    assert findings_of(vet(window, window.free - DAY), window.rule)
    assert not findings_of(vet(window, window.free), window.rule)


@pytest.mark.parametrize("window", [w for w in WINDOWS if w.withdrawn], ids=str)
def test_fires_nothing_when_repaired_revoked_removed_or_resolved(window: Window):
    for evidence in window.withdrawn:
        report = vet(window, evidence=evidence)
        assert report.findings == ()
        assert report.verdict is Verdict.CLEAR


@pytest.mark.parametrize("window", [w for w in WINDOWS if w.disputed], ids=str)
def test_a_disputed_record_flags_instead_of_barring(window: Window):
    report = vet(window, evidence=window.disputed)
    (finding,) = findings_of(report, window.rule)
    assert finding.disputed
    assert finding.effect is window.effect  # reported as it is, weighed as a FLAG
    # ... unless it is a MERIT, which weighs nothing disputed or not.
    assert report.verdict is (Verdict.CLEAR if window.effect is Effect.MERIT else Verdict.FLAGGED)
    assert report.eligible_from is None


def test_every_credit_record_rule_is_tried_disputed():
    credit_rules = {
        rule.id
        for rule in RULE_SET.rules
        if any(clause.source.name == "CREDIT_PLATFORM" for clause in rule.clauses)
    }
    assert {w.rule for w in WINDOWS if w.disputed} == credit_rules
