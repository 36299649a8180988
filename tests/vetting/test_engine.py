"""Verdict precedence, eligibleFrom, missing sources, and what a report carries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from schema.types import Purpose, SourceName, SubjectKind
from schema.vetting import (
    CourtRecords,
    Effect,
    Evidence,
    Missing,
    MissingSource,
    NotApplicable,
    ProcurementRecords,
    Verdict,
    evaluate,
    load_rule_set,
    record_ref,
)
from tests.vetting import build as b
from tests.vetting.build import DAY, A, m

RULE_SET = load_rule_set()
PERSON, ORG = SubjectKind.PERSON, SubjectKind.ORGANIZATION
CADRE, HONOURS = Purpose.CADRE_SELECTION, Purpose.HONOURS
PROCUREMENT, SELF_CHECK = Purpose.PROCUREMENT_ELIGIBILITY, Purpose.SELF_CHECK
# Every pair with a verdict, the sources it needs, and complete clean evidence.
PAIRS = [
    (entry.purpose, entry.subject, source)
    for entry in RULE_SET.applies
    for source in sorted(entry.sources, key=lambda s: s.name)
]


def clean(subject: SubjectKind) -> Evidence:
    if subject is PERSON:
        return b.person()
    # A complete answer for an organisation, the archive included (SELF_CHECK asks it).
    return dataclasses.replace(b.organisation(), archive=None)


def without(evidence: Evidence, source: SourceName, reason: Missing) -> Evidence:
    if source is SourceName.CREDIT_PLATFORM:
        return dataclasses.replace(evidence, credit=reason)
    if source is SourceName.COURT:
        return dataclasses.replace(evidence, court=reason)
    if source is SourceName.ARCHIVE:
        return dataclasses.replace(evidence, archive=reason)
    return dataclasses.replace(evidence, procurement=reason)


def test_clean_evidence_is_clear_for_every_purpose():
    for entry in RULE_SET.applies:
        report = evaluate(RULE_SET, entry.purpose, entry.subject, A, clean(entry.subject))
        assert (report.verdict, report.findings, report.missing) == (Verdict.CLEAR, (), ())


# --- overlapping and open-ended bars -----------------------------------------


def test_overlapping_bars_give_the_latest_until():
    file = b.servant(
        sanctions=[
            b.sanction("GOV_DEMERIT", m(-2), sanction_id="S-1"),
            b.sanction("PARTY_SERIOUS_WARNING", m(-5), sanction_id="S-2"),
            b.sanction("ADMONISHMENT", m(-1), sanction_id="S-3"),
        ]
    )
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(file=file))
    assert report.rule_ids == ("CS-01", "CS-02", "CS-03")
    assert report.eligible_from == max(m(10), m(13), m(5)) == m(13)


def test_overlapping_bars_across_sources_give_the_latest_until():
    debarred = b.supplier(
        debarments=[b.debarment(m(-6), m(6) - DAY)], violations=[b.violation(m(-6))]
    )
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, b.organisation(registered=debarred))
    assert report.rule_ids == ("PE-01", "PE-03")
    assert report.eligible_from == m(30)


def test_an_open_ended_bar_leaves_eligible_from_null():
    file = b.servant(
        sanctions=[b.sanction("GOV_WARNING", m(-1))], investigations=[b.investigation(m(-1))]
    )
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(file=file))
    assert (report.verdict, report.rule_ids) == (Verdict.INELIGIBLE, ("CS-01", "CS-04"))
    assert report.eligible_from is None


def test_a_flag_leaves_eligible_from_alone():
    file = b.servant(sanctions=[b.sanction("GOV_WARNING", m(-2))])
    evidence = b.person(file=file, restrictions=[b.restriction(m(-1))])
    report = evaluate(RULE_SET, CADRE, PERSON, A, evidence)
    assert report.rule_ids == ("CS-01", "CS-10")
    assert (report.verdict, report.eligible_from) == (Verdict.INELIGIBLE, m(4))


def test_only_undisputed_bars_count_for_eligible_from():
    disputed = b.credit(
        "SERIOUS_DISHONESTY", m(-1), 36, severity="SERIOUS", status="OBJECTION_PENDING"
    )
    file = b.servant(sanctions=[b.sanction("GOV_WARNING", m(-2))])
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(file=file, credit_records=[disputed]))
    assert report.rule_ids == ("CS-01", "CS-09")
    assert (report.verdict, report.eligible_from) == (Verdict.INELIGIBLE, m(4))


def test_one_record_fires_every_rule_it_meets():
    record = b.credit("GOV_DISHONESTY", m(-4), 36, severity="SERIOUS")
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(credit_records=[record]))
    assert report.rule_ids == ("CS-09", "CS-12")
    assert {f.record_ref for f in report.findings} == {"CREDIT_PLATFORM:record:CR-1"}


def test_a_record_meeting_several_clauses_of_a_rule_is_one_finding():
    record = b.credit(
        "ADMIN_PENALTY",
        m(-2),
        36,
        penalty_types=("SUSPENSION", "FINE"),
        fine="3000000.00",
        org=True,
    )
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, b.organisation(credit_records=[record]))
    assert [f.rule_id for f in report.findings] == ["PE-03"]


def test_pe06_takes_only_records_no_other_rule_fired_on():
    disputed = b.credit(
        "SERIOUS_DISHONESTY", m(-2), 36, severity="SERIOUS", status="OBJECTION_PENDING", org=True
    )
    other = b.credit("BROKEN_COMMITMENT", m(-2), 12, org=True, record_id="CR-2")
    evidence = b.organisation(credit_records=[disputed, other])
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, evidence)
    assert [(f.rule_id, f.record_ref) for f in report.findings] == [
        ("PE-05", "CREDIT_PLATFORM:record:CR-1"),
        ("PE-06", "CREDIT_PLATFORM:record:CR-2"),
    ]
    assert report.verdict is Verdict.FLAGGED


# --- red lists ---------------------------------------------------------------


@pytest.mark.parametrize("severity", [None, "GENERAL", "SERIOUS"])
def test_red_list_records_never_fire(severity):
    red = b.credit(
        "RED_LIST", m(-6), 36, severity=severity, penalty_types=("SUSPENSION",), fine="9000000.00"
    )
    for entry in RULE_SET.applies:
        org = entry.subject is ORG
        evidence = dataclasses.replace(clean(entry.subject), credit=(red,))
        for on in (A, dt.date(A.year, 12, 31)):
            report = evaluate(RULE_SET, entry.purpose, entry.subject, on, evidence)
            assert report.verdict is Verdict.CLEAR, (entry.purpose, org, on)
            # Only a MERIT reads it (ME-01), for every purpose with a verdict.
            assert [(f.rule_id, f.effect) for f in report.findings] == [("ME-01", Effect.MERIT)]


# --- missing sources -----------------------------------------------------------


@pytest.mark.parametrize(("purpose", "subject", "source"), PAIRS, ids=str)
@pytest.mark.parametrize("reason", list(Missing))
def test_a_missing_source_makes_a_clean_subject_incomplete(purpose, subject, source, reason):
    report = evaluate(RULE_SET, purpose, subject, A, without(clean(subject), source, reason))
    assert report.verdict is Verdict.INCOMPLETE
    assert report.missing == (MissingSource(source, reason),)
    assert report.eligible_from is None


@pytest.mark.parametrize(("purpose", "subject", "source"), PAIRS, ids=str)
def test_a_missing_source_outweighs_flags(purpose, subject, source):
    flagged = b.credit("BROKEN_COMMITMENT", m(-2), 12, org=subject is ORG)
    if subject is PERSON:
        evidence = b.person(credit_records=[flagged], restrictions=[b.restriction(m(-1))])
    else:
        owing = [b.issue("LATE_PAYMENT", m(-1))]
        evidence = dataclasses.replace(
            b.organisation(credit_records=[flagged], issues=owing), archive=None
        )
    assert evaluate(RULE_SET, purpose, subject, A, evidence).verdict is Verdict.FLAGGED
    report = evaluate(RULE_SET, purpose, subject, A, without(evidence, source, Missing.UNAVAILABLE))
    assert report.verdict is Verdict.INCOMPLETE
    assert all(f.source is not source for f in report.findings)


@pytest.mark.parametrize("source", [s for s in SourceName if s is not SourceName.ARCHIVE])
def test_an_undisputed_bar_elsewhere_wins_over_a_missing_source(source):
    # A person listed by the court and holding a SERIOUS record: whichever other source is down.
    evidence = b.person(
        entries=[b.entry(m(-3), m(9) - DAY)] if source is not SourceName.COURT else [],
        credit_records=[b.credit("SERIOUS_DISHONESTY", m(-1), 36, severity="SERIOUS")]
        if source is not SourceName.CREDIT_PLATFORM
        else [],
    )
    report = evaluate(RULE_SET, CADRE, PERSON, A, without(evidence, source, Missing.UNAVAILABLE))
    assert report.verdict is Verdict.INELIGIBLE
    assert report.eligible_from is None  # a longer bar may hide in the missing source
    assert [m.source for m in report.missing] == [source]


def test_a_bar_in_the_archive_wins_when_the_court_is_down():
    file = b.servant(sanctions=[b.sanction("GOV_WARNING", m(-1))])
    evidence = dataclasses.replace(b.person(file=file), court=Missing.STALE)
    report = evaluate(RULE_SET, HONOURS, PERSON, A, evidence)
    assert (report.verdict, report.eligible_from) == (Verdict.INELIGIBLE, None)


def test_a_source_left_out_counts_as_unavailable():
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, Evidence(credit=(), court=CourtRecords()))
    assert report.verdict is Verdict.INCOMPLETE
    assert report.missing == (MissingSource(SourceName.PROCUREMENT, Missing.UNAVAILABLE),)


def test_sources_the_purpose_does_not_consult_are_never_read():
    barred = b.servant(investigations=[b.investigation(m(-1))])
    for archive in (Missing.UNAVAILABLE, barred):
        evidence = dataclasses.replace(b.organisation(), archive=archive)
        for purpose in (PROCUREMENT, HONOURS):
            report = evaluate(RULE_SET, purpose, ORG, A, evidence)
            assert (report.verdict, report.missing) == (Verdict.CLEAR, ())


@pytest.mark.parametrize(
    "evidence",
    [
        dataclasses.replace(b.organisation(), procurement=ProcurementRecords()),
        b.organisation(registered=b.supplier("NOT_REGISTERED")),
    ],
    ids=["no-answer", "NOT_REGISTERED"],
)
def test_not_being_registered_as_a_supplier_is_no_finding(evidence):
    # 财库〔2019〕38号: registration may not be a precondition for taking part.
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, evidence)
    assert (report.verdict, report.findings) == (Verdict.CLEAR, ())


@pytest.mark.parametrize("status", ["SUSPENDED", "CANCELLED"])
def test_a_suspended_or_cancelled_registration_flags(status):
    report = evaluate(RULE_SET, PROCUREMENT, ORG, A, b.organisation(registered=b.supplier(status)))
    assert (report.verdict, report.rule_ids) == (Verdict.FLAGGED, ("PE-02",))
    assert report.findings[0].effect is Effect.FLAG
    assert report.findings[0].legal_basis.startswith("财库〔2019〕38号")


# --- a person the archive does not know (CS-00) --------------------------------


@pytest.mark.parametrize("purpose", [CADRE, HONOURS, SELF_CHECK])
def test_a_person_the_archive_does_not_know_is_flagged_never_clear(purpose):
    report = evaluate(RULE_SET, purpose, PERSON, A, b.person(civil_servant=False))
    assert (report.verdict, report.rule_ids) == (Verdict.FLAGGED, ("CS-00",))
    (finding,) = report.findings
    assert (finding.effect, finding.until) == (Effect.FLAG, None)
    assert finding.source is SourceName.ARCHIVE
    assert finding.record_ref == "ARCHIVE:file:none"
    assert "凡提必审" in finding.legal_basis


@pytest.mark.parametrize("reason", list(Missing))
def test_an_archive_that_did_not_answer_is_incomplete_not_unknown(reason):
    report = evaluate(RULE_SET, CADRE, PERSON, A, without(b.person(), SourceName.ARCHIVE, reason))
    assert (report.verdict, report.findings) == (Verdict.INCOMPLETE, ())


def test_an_unknown_person_with_a_bar_is_ineligible():
    record = b.credit("SERIOUS_DISHONESTY", m(-5), 36, severity="SERIOUS")
    evidence = b.person(credit_records=[record], civil_servant=False)
    report = evaluate(RULE_SET, CADRE, PERSON, A, evidence)
    assert (report.verdict, report.rule_ids) == (Verdict.INELIGIBLE, ("CS-00", "CS-09"))
    assert report.eligible_from == m(31)


def test_honours_of_a_person_needs_no_procurement_answer():
    evidence = without(b.person(), SourceName.PROCUREMENT, Missing.UNAVAILABLE)
    report = evaluate(RULE_SET, HONOURS, PERSON, A, evidence)
    assert (report.verdict, report.missing) == (Verdict.CLEAR, ())


# --- HN-01 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "verdict", "effect"),
    [
        ("NOT_GRADED", Verdict.FLAGGED, Effect.FLAG),
        ("BASICALLY_COMPETENT", Verdict.INELIGIBLE, Effect.BAR),
        ("INCOMPETENT", Verdict.INELIGIBLE, Effect.BAR),
    ],
)
def test_hn01_bars_a_weak_grade_and_flags_not_graded(grade, verdict, effect):
    file = b.servant(grades={2024: grade})
    report = evaluate(RULE_SET, HONOURS, PERSON, A, b.person(file=file))
    assert (report.verdict, report.rule_ids) == (verdict, ("HN-01",))
    assert report.findings[0].effect is effect


# --- MERIT ---------------------------------------------------------------------

_RED = b.credit("RED_LIST", m(-6), 36, severity=None, record_id="CR-RED")
_EXCELLENT = b.servant(grades=dict.fromkeys((2022, 2023, 2024), "EXCELLENT"))
_MERITED = {
    "clear": b.person(),
    "flagged": b.person(restrictions=[b.restriction(m(-1))]),
    "ineligible": b.person(file=b.servant(sanctions=[b.sanction("GOV_WARNING", m(-1))])),
    "incomplete": without(b.person(), SourceName.COURT, Missing.UNAVAILABLE),
}


@pytest.mark.parametrize("name", list(_MERITED))
def test_a_merit_never_changes_a_verdict(name):
    plain = _MERITED[name]
    file = plain.archive if not isinstance(plain.archive, Missing) else None
    assert file is not None
    merited = dataclasses.replace(
        plain,
        credit=(_RED,),
        archive=dataclasses.replace(
            file,
            honours=b.servant(honours=[2024]).honours,
            assessments=_EXCELLENT.assessments,
        ),
    )
    before = evaluate(RULE_SET, CADRE, PERSON, A, plain)
    after = evaluate(RULE_SET, CADRE, PERSON, A, merited)
    assert (after.verdict, after.eligible_from) == (before.verdict, before.eligible_from)
    merits = [f for f in after.findings if f.effect is Effect.MERIT]
    assert [(f.rule_id, f.until) for f in merits] == [
        ("ME-01", m(30)),  # publicity_end + 1 day
        ("ME-02", dt.date(2028, 1, 1)),
        ("ME-03", dt.date(2026, 1, 1)),
    ]
    assert [f.legal_basis for f in merits] == [RULE_SET.rule(f.rule_id).basis for f in merits]


def test_a_restricted_red_list_merit_is_decide_only():
    red = dataclasses.replace(_RED, disclosure="RESTRICTED")
    evidence = b.person(credit_records=[red], restricted=[record_ref(red)])
    (finding,) = evaluate(RULE_SET, HONOURS, PERSON, A, evidence).findings
    assert (finding.rule_id, finding.restricted) == ("ME-01", True)


def test_me02_counts_the_latest_honour_of_the_last_three_years():
    def merit(years: list[int]) -> list[tuple[str, dt.date | None]]:
        file = b.servant(honours=years)
        report = evaluate(RULE_SET, HONOURS, PERSON, A, b.person(file=file))
        return [(f.rule_id, f.until) for f in report.findings]

    assert merit([2021]) == []  # asOf.year - 4
    assert merit([2022]) == [("ME-02", dt.date(2026, 1, 1))]
    assert merit([2022, 2024]) == [("ME-02", dt.date(2028, 1, 1))]
    assert merit([2026]) == []  # not yet awarded on the as-of date
    ref = evaluate(RULE_SET, HONOURS, PERSON, A, b.person(file=b.servant(honours=[2023])))
    assert ref.findings[0].record_ref == "ARCHIVE:honour:P-9/2023"


@pytest.mark.parametrize(
    ("grades", "fires"),
    [
        ({2022: "EXCELLENT", 2023: "EXCELLENT", 2024: "EXCELLENT"}, True),
        ({2022: "EXCELLENT", 2023: "EXCELLENT", 2024: "COMPETENT"}, False),
        ({2022: "EXCELLENT", 2023: "EXCELLENT", 2024: None}, False),
        ({2021: "EXCELLENT", 2022: "EXCELLENT", 2023: "EXCELLENT"}, False),
    ],
)
def test_me03_needs_excellent_in_each_of_the_last_three_years(grades, fires):
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(file=b.servant(grades=grades)))
    assert report.rule_ids == (("ME-03",) if fires else ())


# --- what a report carries -----------------------------------------------------


def test_a_finding_names_rule_basis_source_record_and_until():
    record = b.credit("SERIOUS_DISHONESTY", m(-5), 36, severity="SERIOUS", disclosure="RESTRICTED")
    evidence = b.person(credit_records=[record], restricted=[record_ref(record)])
    report = evaluate(RULE_SET, CADRE, PERSON, A, evidence)
    (finding,) = report.findings
    assert finding.rule_id == "CS-09"
    assert finding.effect is Effect.BAR
    assert finding.legal_basis == RULE_SET.rule("CS-09").basis
    assert finding.source is SourceName.CREDIT_PLATFORM
    assert finding.until == m(31)
    assert finding.record_ref == "CREDIT_PLATFORM:record:CR-1"
    assert finding.restricted
    assert not finding.disputed
    assert "SERIOUS_DISHONESTY" in finding.summary
    assert report.rule_set_version == RULE_SET.version
    assert "human decision" in report.notice


def test_record_refs_of_the_archive():
    file = b.servant(
        grades={2024: "INCOMPETENT"},
        sanctions=[b.sanction("GOV_WARNING", m(-1), sanction_id="S-123")],
        investigations=[b.investigation(m(-1), case_id="AJ-7")],
        checks=[b.check(dt.date(2025, 2, 28), "CONCEALMENT")],
    )
    report = evaluate(RULE_SET, CADRE, PERSON, A, b.person(file=file))
    assert {f.record_ref for f in report.findings} == {
        "ARCHIVE:sanction:S-123",
        "ARCHIVE:investigation:AJ-7",
        "ARCHIVE:assessment:P-9/2024",
        "ARCHIVE:matters_check:P-9/2025-02-28",
    }


def test_self_check_judges_as_cadre_selection_and_procurement():
    file = b.servant(grades={2024: "NOT_GRADED"})
    person = evaluate(RULE_SET, SELF_CHECK, PERSON, A, b.person(file=file))
    assert person.rule_ids == ("CS-06",)
    org = dataclasses.replace(b.organisation(registered=b.supplier("SUSPENDED")), archive=None)
    assert evaluate(RULE_SET, SELF_CHECK, ORG, A, org).rule_ids == ("PE-02",)
    # A person the archive does not know checks itself as a cadre selection would see it.
    unknown = evaluate(RULE_SET, SELF_CHECK, PERSON, A, b.person(civil_servant=False))
    assert unknown.rule_ids == ("CS-00",)


@pytest.mark.parametrize(
    ("purpose", "subject"), [(Purpose.AUDIT, PERSON), (Purpose.AUDIT, ORG), (CADRE, ORG)]
)
def test_pairs_without_rules_are_not_applicable(purpose, subject):
    with pytest.raises(NotApplicable, match=purpose.name):
        evaluate(RULE_SET, purpose, subject, A, clean(subject))
