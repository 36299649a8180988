"""`vet` and `vetBatch` through the real endpoint, over the real stand-ins."""

import collections
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from schema.vetting import load_rule_set
from tests.schema import dataset as known
from tests.stack import running_stack

README_ID = (
    "210102198005120014"  # the README's example, known to no platform in a generated dataset
)

REPORT = """
reportId verdict eligibleFrom asOf ruleSetVersion policyVersion notice generatedAt
subject { kind idNumber creditCode name }
findings { ruleId effect until disputed restricted source summary recordRef }
sources { source ok }
"""
VET = (
    "query ($s: SubjectInput!, $p: Purpose!, $d: Date) "
    "{ vet(subject: $s, purpose: $p, asOf: $d) { %s } }"
)
BATCH = (
    "query ($s: [SubjectInput!]!, $p: Purpose!, $d: Date) "
    "{ vetBatch(subjects: $s, purpose: $p, asOf: $d) { %s } }"
)


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


async def test_a_cadre_vetting_report(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        answer = await stack.query(
            VET % REPORT, hr, s={"idNumber": known.PERSON}, p="CADRE_SELECTION", d=known.AS_OF
        )
    assert "errors" not in answer, answer["errors"]
    report = answer["data"]["vet"]
    assert report["verdict"] == "INELIGIBLE"
    assert report["eligibleFrom"] is None  # the investigation and the listing are open-ended
    found = {(f["ruleId"], f["effect"], f["until"], f["disputed"]) for f in report["findings"]}
    assert found == {
        ("CS-01", "BAR", "2026-01-15", False),  # GOV_DEMERIT of 2025-01-15: 12 months
        ("CS-04", "BAR", None, False),  # investigation open
        ("CS-07", "FLAG", "2026-03-01", False),  # minor omission, checked 2025-03-01
        ("CS-08", "BAR", None, False),  # listed debtor, no listing end
        ("CS-09", "BAR", "2026-01-10", True),  # SERIOUS record under objection
        ("CS-10", "FLAG", None, False),
        ("CS-11", "FLAG", None, False),  # legal representative of an active supplier
    }
    investigation = next(f for f in report["findings"] if f["ruleId"] == "CS-04")
    assert investigation["restricted"] is True
    assert investigation["summary"] is None
    assert investigation["recordRef"] is None
    demerit = next(f for f in report["findings"] if f["ruleId"] == "CS-01")
    assert demerit["recordRef"] == "ARCHIVE:sanction:S-1"
    assert report["subject"]["idNumber"] == known.PERSON[:6] + "********" + known.PERSON[-4:]
    assert report["subject"]["name"] == known.PERSON_NAME
    assert "human decision" in report["notice"]
    assert len(report["sources"]) == 4


async def test_a_batch_with_a_bad_entry_fails_only_that_entry(dataset, tmp_path):
    subjects = [{"idNumber": code} for code in known.OTHERS[:30]]
    subjects.insert(3, {"idNumber": "110105194912310021"})
    subjects.insert(5, {"creditCode": "not-a-credit-code"})
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            BATCH % "verdict findings { ruleId }", s=subjects, p="CADRE_SELECTION", d=known.AS_OF
        )
        counts = await stack.upstream_counts()
    reports = answer["data"]["vetBatch"]
    assert len(reports) == 32
    assert reports[3] is None
    assert reports[5] is None
    errors = {tuple(e["path"]): e["extensions"]["code"] for e in answer["errors"]}
    assert errors == {("vetBatch", 3): "INVALID_IDENTIFIER", ("vetBatch", 5): "INVALID_IDENTIFIER"}
    good = [r for r in reports if r is not None]
    assert {r["verdict"] for r in good} == {"FLAGGED"}  # one GENERAL credit record each
    assert counts["credit"] == 1
    assert counts["court"] == 3  # a token, the debtor list and the restrictions, once each
    assert counts["procurement"] == 1


async def test_a_subject_naming_neither_or_both_identifiers_is_refused_by_one_of(dataset, tmp_path):
    # Change feeds read at start only: the upstream counts below are the requests' own.
    async with running_stack(dataset, tmp_path, cache={"poll_interval_s": 3600.0}) as stack:
        both = await stack.query(
            BATCH % "verdict",
            s=[{"idNumber": known.PERSON}, {"idNumber": known.PERSON, "creditCode": known.UNIT}],
            p="CADRE_SELECTION",
            d=known.AS_OF,
        )
        neither = await stack.query("{ vet(subject: {}, purpose: HONOURS) { verdict } }")
        counts = await stack.upstream_counts()
    for refused in (both, neither):
        assert refused.get("data") is None
        assert "exactly one key" in refused["errors"][0]["message"]
    assert counts == {"credit": 0, "procurement": 0, "court": 0, "archive": 0}


async def test_a_failed_platform_never_gives_clear(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        await admin.post(f"{stack.urls['court']}/_sim/down")
        answer = await stack.query(
            BATCH % "verdict eligibleFrom sources { source ok }",
            s=[{"idNumber": known.OTHERS[0]}, {"idNumber": known.PERSON}],
            p="CADRE_SELECTION",
            d=known.AS_OF,
        )
    flagged, barred = answer["data"]["vetBatch"]
    assert flagged["verdict"] == "INCOMPLETE"
    # An undisputed BAR elsewhere still wins, but a longer bar may hide in the court data.
    assert barred["verdict"] == "INELIGIBLE"
    assert barred["eligibleFrom"] is None


async def test_limits_and_purposes(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        too_many = await stack.query(
            BATCH % "verdict", s=[{"idNumber": known.PERSON}] * 1001, p="HONOURS"
        )
        audit = await stack.query(VET % "verdict", s={"idNumber": known.PERSON}, p="AUDIT")
        buyer = stack.token("procurement_officer", "buyer")
        refused = await stack.query(
            VET % "verdict", buyer, s={"idNumber": known.PERSON}, p="HONOURS"
        )
    assert too_many["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert audit["errors"][0]["extensions"]["code"] == "PURPOSE_NOT_APPLICABLE"
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"


async def test_reports_are_stored_with_their_log_entry(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            BATCH % "reportId verdict",
            s=[{"creditCode": known.SUPPLIER}, {"creditCode": known.SUPPLIER}],
            p="PROCUREMENT_ELIGIBILITY",
            d=known.AS_OF,
        )
    first, second = answer["data"]["vetBatch"]
    assert first["reportId"] != second["reportId"]  # fresh for every answer
    assert first["verdict"] == "INELIGIBLE"  # debarment D-1 in effect
    with sqlite3.connect(tmp_path / "access.db") as db:
        stored = db.execute("SELECT report_id, verdict, subject FROM access_log_reports").fetchall()
        (verdicts, rule_set) = db.execute(
            "SELECT verdicts, rule_set_version FROM access_log"
        ).fetchone()
    assert sorted(stored) == sorted(
        [
            (first["reportId"], "INELIGIBLE", known.SUPPLIER),
            (second["reportId"], "INELIGIBLE", known.SUPPLIER),
        ]
    )
    assert json.loads(verdicts) == ["INELIGIBLE", "INELIGIBLE"]
    assert rule_set != "-"


async def test_every_golden_case_through_the_api(small_dataset, tmp_path):
    cases = [json.loads(line) for line in (small_dataset / "golden.jsonl").open(encoding="utf-8")]
    groups = collections.defaultdict(list)
    for case in cases:
        groups[(case["purpose"], case["asOf"])].append(case)
    wrong = []
    async with running_stack(
        small_dataset, tmp_path, limits={"requests_per_minute": 10_000}
    ) as stack:
        for (purpose, as_of), group in groups.items():
            answer = await stack.query(
                BATCH % "verdict eligibleFrom findings { ruleId }",
                s=[case["subject"] for case in group],
                p=purpose,
                d=as_of,
            )
            assert "errors" not in answer, answer["errors"]
            for case, report in zip(group, answer["data"]["vetBatch"], strict=True):
                rules = sorted({f["ruleId"] for f in report["findings"]})
                got = (report["verdict"], rules, report["eligibleFrom"])
                expected = (
                    case["expected_verdict"],
                    case["expected_rules"],
                    case["expected_eligible_from"],
                )
                if got != expected:
                    wrong.append(f"{case['case']}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


RECORD_USAGE = (
    "mutation ($r: ID!, $o: UsageOutcome!) "
    "{ recordUsage(reportId: $r, outcome: $o) { reportId outcome queued } }"
)


async def test_the_human_outcome_is_recorded_for_the_reports_own_actor(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        other = stack.token("hr_officer", "someone-else", unit=known.UNIT)
        vetted = await stack.query(
            VET % "reportId", hr, s={"idNumber": known.PERSON}, p="CADRE_SELECTION", d=known.AS_OF
        )
        report_id = vetted["data"]["vet"]["reportId"]
        recorded = await stack.query(RECORD_USAGE, hr, r=report_id, o="NOT_ADOPTED")
        foreign = await stack.query(RECORD_USAGE, other, r=report_id, o="ADOPTED")
        unknown = await stack.query(RECORD_USAGE, hr, r="no-such-report", o="ADOPTED")
    assert recorded["data"]["recordUsage"] == {
        "reportId": report_id, "outcome": "NOT_ADOPTED", "queued": True,
    }  # fmt: skip
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    with sqlite3.connect(tmp_path / "access.db") as db:
        rows = db.execute("SELECT fields FROM access_log WHERE outcome = 'USAGE_RECORDED'")
        ((fields,),) = rows.fetchall()
    assert f"usage:{report_id}:NOT_ADOPTED" in json.loads(fields)


async def test_a_data_subject_sees_who_looked_it_up(dataset, tmp_path):
    history = (
        f'query ($p: Purpose!) {{ person(idNumber: "{known.PERSON}", purpose: $p) '
        "{ accessHistory { at actorUnit purpose outcome } } }"
    )
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr-officer-name", unit=known.UNIT)
        await stack.query(VET % "verdict", hr, s={"idNumber": known.PERSON}, p="CADRE_SELECTION")
        # Refused (the purpose is not the buyer's): in the history as a refusal, not a look-up.
        buyer = stack.token("procurement_officer", "buyer", unit=known.SUPPLIER)
        refused = await stack.query(
            VET % "verdict", buyer, s={"idNumber": known.PERSON}, p="CADRE_SELECTION"
        )
        me = stack.token("data_subject", "me", id_number=known.PERSON)
        mine = await stack.query(history, me, p="SELF_CHECK")
        theirs = await stack.query(history, hr, p="HONOURS")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"
    entries = mine["data"]["person"]["accessHistory"]
    seen = [(e["actorUnit"], e["purpose"], e["outcome"]) for e in entries]
    assert (known.UNIT, "CADRE_SELECTION", "OK") in seen
    assert (known.SUPPLIER, "CADRE_SELECTION", "DENIED") in seen
    assert "hr-officer-name" not in json.dumps(mine)
    assert theirs["data"]["person"]["accessHistory"] is None


def unknown_everywhere(dataset: Path, id_number: str) -> bool:
    """No platform of the dataset has a line about `id_number`."""
    return not any(
        id_number in path.read_text(encoding="utf-8") for path in dataset.rglob("*.jsonl")
    )


async def test_the_readme_example_is_flagged_never_clear(small_dataset, tmp_path):
    # Tried as a new user would: the README's ID is valid but no platform knows it;
    # an HR officer must not be told CLEAR about a candidate nobody could check.
    assert README_ID in (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert unknown_everywhere(small_dataset, README_ID)
    async with running_stack(small_dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr")
        answers = {
            purpose: await stack.query(
                VET % REPORT, hr, s={"idNumber": README_ID}, p=purpose, d="2025-06-30"
            )
            for purpose in ("CADRE_SELECTION", "HONOURS")
        }
    for purpose, answer in answers.items():
        assert "errors" not in answer, answer["errors"]
        report = answer["data"]["vet"]
        assert report["verdict"] == "FLAGGED", purpose
        found = [(f["ruleId"], f["effect"], f["source"], f["until"]) for f in report["findings"]]
        assert found == [("CS-00", "FLAG", "ARCHIVE", None)]
        assert report["ruleSetVersion"] == load_rule_set().version
    # HONOURS of a person consults credit, court and archive, never procurement.
    sources = {s["source"] for s in answers["HONOURS"]["data"]["vet"]["sources"]}
    assert sources == {"CREDIT_PLATFORM", "COURT", "ARCHIVE"}
    assert len(answers["CADRE_SELECTION"]["data"]["vet"]["sources"]) == 4


RED_LIST = dict(
    category="RED_LIST",
    severity=None,
    penalty_types=[],
    penalty_content=None,
    fine_amount=None,
    violation_type="诚信示范",
    disclosure="RESTRICTED",
    share_scope=["ORG_HR", "CREDIT_OFFICE"],
)


async def test_a_merit_is_reported_masked_like_any_finding_and_changes_no_verdict(
    dataset, tmp_path
):
    subject = known.OTHERS[7]
    row = known._credit("CR-RED", subject, "PERSON", **RED_LIST)
    fields = (
        "verdict eligibleFrom"
        " findings { ruleId effect until restricted summary recordRef legalBasis }"
    )
    async with running_stack(dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        # Planted before anything is asked, so no cached answer predates it.
        added = await admin.post(f"{stack.urls['credit']}/_sim/records", json=row)
        assert added.status_code < 300, added.text
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        after = await stack.query(
            VET % fields, hr, s={"idNumber": subject}, p="CADRE_SELECTION", d=known.AS_OF
        )
        admin_view = await stack.query(
            VET % fields, s={"idNumber": subject}, p="CADRE_SELECTION", d=known.AS_OF
        )
    new = after["data"]["vet"]
    # Not in the archive (CS-00) with one GENERAL record (CS-10): FLAGGED; the red
    # list adds a MERIT and changes nothing.
    assert (new["verdict"], new["eligibleFrom"]) == ("FLAGGED", None)
    assert sorted(f["ruleId"] for f in new["findings"]) == ["CS-00", "CS-10", "ME-01"]
    (merit,) = [f for f in new["findings"] if f["effect"] == "MERIT"]
    assert (merit["ruleId"], merit["until"], merit["restricted"]) == ("ME-01", "2026-01-10", True)
    assert "国发〔2016〕33号" in merit["legalBasis"]
    # Decide-only for hr_officer: the details of the RESTRICTED record are hidden ...
    assert (merit["summary"], merit["recordRef"]) == (None, None)
    hidden = [str(p["path"]) for p in after["extensions"]["privacy"] if p["action"] == "HIDDEN"]
    assert any("summary" in path for path in hidden), after["extensions"]["privacy"]
    # ... and shown to credit_admin.
    (shown,) = [f for f in admin_view["data"]["vet"]["findings"] if f["effect"] == "MERIT"]
    assert shown["recordRef"] == "CREDIT_PLATFORM:record:CR-RED"
