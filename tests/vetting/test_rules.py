"""The rule file: the shipped one says what DOMAIN.md says; a bad one is refused clearly."""

from __future__ import annotations

import datetime as dt

import pytest

from schema.in_force import SANCTION_MONTHS, sanction_until
from schema.purposes import sources_for
from schema.types import Purpose, SourceName, SubjectKind
from schema.vetting import (
    RuleSetError,
    Verdict,
    evaluate,
    load_rule_set,
    parse_rule_set,
)
from schema.vetting.matches import Period
from tests.vetting import build as b
from tests.vetting.build import A, m

RULE_SET = load_rule_set()
PERSON, ORG = SubjectKind.PERSON, SubjectKind.ORGANIZATION

MINIMAL = """
version = "test-1"

[[applies]]
purpose = "PROCUREMENT_ELIGIBILITY"
subject = "ORGANIZATION"

[[rules]]
id = "PE-01"
title = "debarment in effect"
purposes = ["PROCUREMENT_ELIGIBILITY"]
subject = "ORGANIZATION"
effect = "BAR"
until = "record_end"
basis = "政府采购法 art. 77"

[[rules.when]]
source = "PROCUREMENT"
condition = "debarment"
"""
SECOND_RULE = """
[[rules]]
id = "PE-02"
title = "registration"
purposes = ["PROCUREMENT_ELIGIBILITY"]
subject = "ORGANIZATION"
effect = "BAR"
until = "open"
basis = "供应商库管理"

[[rules.when]]
source = "PROCUREMENT"
condition = "registration"
statuses = ["SUSPENDED"]
"""


def ids(*names: str) -> set[str]:
    return set(names)


CADRE_RULES = {f"CS-{n:02d}" for n in range(13)} | ids("ME-01", "ME-02", "ME-03")
PROCUREMENT_RULES = {f"PE-{n:02d}" for n in range(1, 7)} | ids("ME-01")


def test_the_shipped_rule_set_has_every_rule_of_the_domain():
    expected = {f"CS-{n:02d}" for n in range(13)} | {"HN-01", "HO-01", "HO-02", "HO-03"}
    expected |= {f"PE-{n:02d}" for n in range(1, 7)} | {"ME-01", "ME-02", "ME-03"}
    assert sorted(r.id for r in RULE_SET.rules) == sorted(expected)
    assert RULE_SET.version == "2026.1"
    assert all(rule.basis.strip() for rule in RULE_SET.rules)
    # Settled on 2026-12-07: no provisional bases are left.
    assert all(rule.note is None for rule in RULE_SET.rules)


@pytest.mark.parametrize(
    ("rule", "basis"),
    [
        ("CS-00", "凡提必审"),
        ("CS-10", "国办发〔2020〕49号"),
        ("PE-02", "财库〔2019〕38号"),
        ("PE-06", "财库〔2016〕125号"),
        ("ME-01", "国发〔2016〕33号"),
        ("ME-02", "公务员奖励规定"),
        ("ME-03", "公务员考核规定"),
    ],
)
def test_legal_bases_are_the_settled_ones(rule, basis):
    assert basis in RULE_SET.rule(rule).basis


def test_effects_of_the_corrected_and_new_rules():
    def effects(rule_id: str) -> set[str]:
        return {clause.effect.name for clause in RULE_SET.rule(rule_id).clauses}

    assert effects("PE-02") == {"FLAG"}
    assert effects("HN-01") == {"BAR", "FLAG"}
    assert effects("CS-00") == {"FLAG"}
    assert effects("ME-01") == effects("ME-02") == effects("ME-03") == {"MERIT"}
    assert RULE_SET.rule("ME-01").subjects == {PERSON, ORG}


@pytest.mark.parametrize(
    ("purpose", "subject", "rules"),
    [
        (Purpose.CADRE_SELECTION, PERSON, CADRE_RULES),
        (
            Purpose.HONOURS,
            PERSON,
            ids("CS-00", "CS-01", "CS-02", "CS-03", "CS-04", "CS-08", "CS-09", "CS-10", "CS-12")
            | ids("HN-01", "ME-01", "ME-02", "ME-03"),
        ),
        (Purpose.HONOURS, ORG, ids("HO-01", "HO-02", "HO-03", "ME-01")),
        (Purpose.PROCUREMENT_ELIGIBILITY, ORG, PROCUREMENT_RULES),
        (Purpose.SELF_CHECK, PERSON, CADRE_RULES),
        (Purpose.SELF_CHECK, ORG, PROCUREMENT_RULES),
    ],
)
def test_which_rules_apply_to_which_purpose_and_subject(purpose, subject, rules):
    applicable = RULE_SET.applicable(purpose, subject)
    assert {rule.id for rule in applicable.rules} == rules
    assert applicable.sources == sources_for(purpose, subject)


def test_honours_of_a_person_consults_credit_court_and_archive_only():
    # Settled on 2026-12-07: no HONOURS rule about a person reads procurement.
    sources = RULE_SET.applicable(Purpose.HONOURS, PERSON).sources
    assert sources == {SourceName.CREDIT_PLATFORM, SourceName.COURT, SourceName.ARCHIVE}
    assert sources_for(Purpose.CADRE_SELECTION, PERSON) == set(SourceName)


def test_sanction_periods_agree_with_the_in_force_table():
    # schema/in_force.py judges Sanction.inForce for the API; the rule set must agree with it.
    periods: dict[str, Period] = {}
    for rule in RULE_SET.rules:
        for clause in rule.clauses:
            if clause.condition.name == "sanction":
                periods |= dict(clause.params.periods)
    assert set(periods) == {*SANCTION_MONTHS, "PARTY_PROBATION"}
    for kind, period in periods.items():
        for months in (None, 6, 12, 24, 36):
            sanction = b.sanction(kind, dt.date(2024, 8, 31), period=months)
            assert period.first_free_day(sanction) == sanction_until(sanction), (kind, months)


def test_a_minimal_rule_file_is_read():
    rule_set = parse_rule_set(MINIMAL)
    assert rule_set.version == "test-1"
    assert [r.id for r in rule_set.rules] == ["PE-01"]


def test_a_rule_is_added_by_data_alone():
    # A longer look-back at violations, as a FLAG: a data change, no code.
    extra = """
[[rules]]
id = "PE-07"
title = "serious violation in the last 60 months"
purposes = ["PROCUREMENT_ELIGIBILITY"]
subject = "ORGANIZATION"
effect = "FLAG"
until = "window_end"
basis = "a test basis"

[[rules.when]]
source = "PROCUREMENT"
condition = "violation"
within_months = 60
"""
    rule_set = parse_rule_set(MINIMAL + extra)
    evidence = b.organisation(registered=b.supplier(violations=[b.violation(m(-50))]))
    report = evaluate(rule_set, Purpose.PROCUREMENT_ELIGIBILITY, ORG, A, evidence)
    assert (report.verdict, report.rule_ids) == (Verdict.FLAGGED, ("PE-07",))
    assert report.findings[0].until == m(10)
    assert report.rule_set_version == "test-1"


def test_a_rule_file_on_disk_is_named_in_errors(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(MINIMAL.replace('basis = "政府采购法 art. 77"', ""), encoding="utf-8")
    with pytest.raises(RuleSetError, match=rf"{path}: rule PE-01: missing legal basis"):
        load_rule_set(path)
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_rule_set(path).version == "test-1"


BROKEN = [
    ("unknown-condition", ('condition = "debarment"', 'condition = "debarments"'),
     r"rule PE-01: when\[1\]: unknown condition kind 'debarments' \(known: assessment, "),
    ("missing-basis", ('basis = "政府采购法 art. 77"', ""), r"rule PE-01: missing legal basis"),
    ("blank-basis", ('basis = "政府采购法 art. 77"', 'basis = "  "'),
     r"rule PE-01: missing legal basis"),
    ("duplicate-id", ("", SECOND_RULE.replace("PE-02", "PE-01")),
     r"rules\[2\]: duplicate rule id PE-01 \(also rules\[1\]\)"),
    ("unknown-rule-key", ('until = "record_end"', 'until = "record_end"\ncolour = "red"'),
     r"rule PE-01: unknown key 'colour'"),
    ("parameter-not-taken", ('condition = "debarment"', 'condition = "debarment"\ngrades = ["X"]'),
     r"condition 'debarment' takes no parameter 'grades'"),
    ("parameter-missing", ('condition = "debarment"', 'condition = "registration"'),
     r"condition 'registration' needs parameter 'statuses'"),
    ("wrong-source", ('source = "PROCUREMENT"', 'source = "COURT"'),
     r"condition 'debarment' reads PROCUREMENT, not COURT"),
    ("unknown-source", ('source = "PROCUREMENT"', 'source = "TAX_BUREAU"'),
     r"source: 'TAX_BUREAU' is not one of CREDIT_PLATFORM, PROCUREMENT, COURT, ARCHIVE"),
    ("unknown-effect", ('effect = "BAR"', 'effect = "BLOCK"'), r"'BLOCK' is not one of BAR, FLAG"),
    ("no-effect", ('effect = "BAR"', ""), r"effect: None is not one of BAR, FLAG"),
    ("unknown-until", ('until = "record_end"', 'until = "forever"'),
     r"'forever' is not one of open, record_end, window_end, year_end"),
    ("window-without-months", ('until = "record_end"', 'until = "window_end"'),
     r"until 'window_end' needs 'within_months'"),
    ("bad-months", ('condition = "debarment"', 'condition = "debarment"\nwithin_months = 0'),
     r"'within_months' must be a whole number of at least 1"),
    ("source-not-consulted",
     ('source = "PROCUREMENT"\ncondition = "debarment"',
      'source = "ARCHIVE"\ncondition = "investigation"'),
     r"rule PE-01 reads ARCHIVE, which that purpose does not consult"),
    ("purpose-not-applied", ("", SECOND_RULE.replace('purposes = ["PROCUREMENT_ELIGIBILITY"]',
                                                     'purposes = ["HONOURS"]')),
     r"rule PE-02: HONOURS of a ORGANIZATION is not in \[\[applies\]\]"),
    ("unknown-purpose", ('purposes = ["PROCUREMENT_ELIGIBILITY"]', 'purposes = ["PROCUREMENT"]'),
     r"purposes: 'PROCUREMENT' is not one of CADRE_SELECTION"),
    ("no-purposes", ('purposes = ["PROCUREMENT_ELIGIBILITY"]', "purposes = []"),
     r"'purposes' must be a non-empty list"),
    ("bad-id", ('id = "PE-01"', 'id = "PE1"'), r"rule id 'PE1' is not of the form AB-01"),
    ("no-version", ('version = "test-1"', ""), r"'version' must be a non-empty string"),
    ("unknown-top-key", ('version = "test-1"', 'version = "test-1"\nauthor = "x"'),
     r"unknown key 'author'"),
    ("not-toml", ('version = "test-1"', 'version = "test-1'), r"not valid TOML"),
    ("no-clauses", ('[[rules.when]]\nsource = "PROCUREMENT"\ncondition = "debarment"', ""),
     r"rule PE-01: no conditions \('when'\)"),
    ("applies-twice", ('subject = "ORGANIZATION"\n',
                       'subject = "ORGANIZATION"\n[[applies]]\npurpose = "PROCUREMENT_ELIGIBILITY"'
                       '\nsubject = "ORGANIZATION"\n'),
     r"applies\[2\]: PROCUREMENT_ELIGIBILITY of a ORGANIZATION is listed twice"),
    ("applies-without-rules", ('subject = "ORGANIZATION"\n',
                               'subject = "ORGANIZATION"\n[[applies]]\npurpose = "HONOURS"'
                               '\nsubject = "ORGANIZATION"\n'),
     r"applies HONOURS of a ORGANIZATION: no rule names HONOURS"),
    ("rules-of-without-rules", ('subject = "ORGANIZATION"\n',
                                'subject = "ORGANIZATION"\n[[applies]]\npurpose = "SELF_CHECK"'
                                '\nsubject = "PERSON"\nrules_of = "CADRE_SELECTION"\n'),
     r"rules_of CADRE_SELECTION has no rules of its own"),
    ("min-fine-float",
     ('source = "PROCUREMENT"\ncondition = "debarment"',
      'source = "CREDIT_PLATFORM"\ncondition = "credit_record"\nmin_fine = 2000000.0'),
     r"'min_fine' must be an amount in a string"),
    ("red-list-bars",
     ('source = "PROCUREMENT"\ncondition = "debarment"',
      'source = "CREDIT_PLATFORM"\ncondition = "credit_record"\ncategories = ["RED_LIST"]'),
     r"when\[1\]: a RED_LIST record never bars or flags \(effect MERIT only\)"),
    ("unknown-subject-in-list", ('subject = "ORGANIZATION"\neffect',
                                 'subject = ["ORGANIZATION", "UNIT"]\neffect'),
     r"rule PE-01: subject: 'UNIT' is not one of PERSON, ORGANIZATION"),
    ("empty-list",
     ('source = "PROCUREMENT"\ncondition = "debarment"',
      'source = "CREDIT_PLATFORM"\ncondition = "credit_record"\ncategories = []'),
     r"'categories' must be a non-empty list of strings"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [case[1:] for case in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_a_broken_rule_file_is_refused_naming_the_place(change, message):
    old, new = change
    document = MINIMAL.replace(old, new, 1) if old else MINIMAL + new
    assert document != MINIMAL
    with pytest.raises(RuleSetError, match=message):
        parse_rule_set(document, "rules.toml")


SANCTION_RULE = """
version = "test-1"
[[applies]]
purpose = "CADRE_SELECTION"
subject = "PERSON"
[[rules]]
id = "CS-01"
title = "t"
purposes = ["CADRE_SELECTION"]
subject = "PERSON"
effect = "BAR"
until = "record_end"
basis = "b"
[[rules.when]]
source = "ARCHIVE"
condition = "sanction"
[rules.when.periods]
"""


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        ("", r"'periods' names no sanction kind"),
        ("GOV_WARNING = 0", r"periods.GOV_WARNING: 'months' must be a whole number of at least 1"),
        ('GOV_WARNING = "forever"', r"expected months, \"permanent\" or a table"),
        ("PARTY_PROBATION = { months = 24, plus_period_months = true }",
         r"'plus_period_months' needs 'default_period_months'"),
        ("ORG_DISMISSED = { period_months_override = true }", r"'months' is required"),
        ("ORG_DISMISSED = { months = 24, until = 3 }", r"unknown key 'until'"),
    ],
)  # fmt: skip
def test_bad_sanction_periods_are_refused(periods, message):
    with pytest.raises(RuleSetError, match=message):
        parse_rule_set(SANCTION_RULE + periods + "\n")
