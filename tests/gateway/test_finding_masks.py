"""A finding's details are masked by the policy class of the record behind it.

I-2, added here, is a CONDITIONAL (not RESTRICTED) open investigation: under
CADRE_SELECTION an HR officer sees its finding in full, under HONOURS the
investigations class is HIDDEN for it, as it is for auditors (through
`promotionsDuringBars`, over a position change added here that starts while it
is open) and for the data subject. Then the finding still decides — rule,
effect, until, source — while its summary and recordRef are null and listed in
`extensions.privacy`, exactly as for a RESTRICTED record. A data subject sees
its own RESTRICTED credit record in full (PIPL art. 45).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.gateway.test_caching import gateway_on
from tests.schema import dataset as known
from tests.stack import Stack, platforms, running_stack

VET = """query ($id: String!, $purpose: Purpose!) {
  vet(subject: {idNumber: $id}, purpose: $purpose, asOf: "2025-06-30") {
    findings { ruleId effect source until restricted summary recordRef }
  }
}"""
PROMOTIONS = """{ audit { promotionsDuringBars(from: "2025-05-01", to: "2025-05-31") {
  change { startDate } bars { ruleId effect source until restricted summary recordRef }
} } }"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.add_open_investigation(known.write_dataset(tmp_path_factory.mktemp("known")))


def investigation_findings(answer: dict[str, Any], path: list[Any]) -> list[dict[str, Any]]:
    holder: Any = answer["data"]
    for step in path:
        holder = holder[step]
    return [finding for finding in holder if finding["ruleId"] == "CS-04"]


def hidden_paths(answer: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        tuple(entry["path"])
        for entry in answer["extensions"].get("privacy", [])
        if entry["action"] == "HIDDEN"
    }


def assert_decides_without_details(answer: dict[str, Any], path: list[Any]) -> None:
    found = investigation_findings(answer, path)
    assert len(found) == 2  # I-1 (RESTRICTED) and I-2 (CONDITIONAL)
    hidden = hidden_paths(answer)
    holder: Any = answer["data"]
    for step in path:
        holder = holder[step]
    for index, finding in enumerate(holder):
        if finding["ruleId"] != "CS-04":
            continue
        assert finding["effect"] == "BAR"
        assert finding["source"] == "ARCHIVE"
        assert finding["until"] is None  # open-ended
        assert finding["summary"] is None
        assert finding["recordRef"] is None
        assert (*path, index, "summary") in hidden
        assert (*path, index, "recordRef") in hidden
    seen = json.dumps(answer, ensure_ascii=False)
    assert "I-2" not in seen
    assert "investigation opened" not in seen


async def test_hr_officer_under_honours_gets_investigation_findings_without_details(
    dataset, tmp_path
):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        honours = await stack.query(VET, hr, id=known.PERSON, purpose="HONOURS")
        cadre = await stack.query(VET, hr, id=known.PERSON, purpose="CADRE_SELECTION")
    assert_decides_without_details(honours, ["vet", "findings"])
    # Under CADRE_SELECTION the class is FULL for hr_officer: I-2's details are shown.
    shown = [f for f in investigation_findings(cadre, ["vet", "findings"]) if f["summary"]]
    assert [f["recordRef"] for f in shown] == ["ARCHIVE:investigation:I-2"]


async def test_auditors_get_promotions_during_an_investigation_without_its_details(
    dataset, tmp_path
):
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(PROMOTIONS, stack.token("auditor", "audit"))
    (promotion,) = answer["data"]["audit"]["promotionsDuringBars"]
    assert promotion["change"]["startDate"] == "2025-05-10"
    assert_decides_without_details(answer, ["audit", "promotionsDuringBars", 0, "bars"])
    # The sanction behind CS-01 is civil-servant data, which auditors see.
    (sanction,) = [bar for bar in promotion["bars"] if bar["ruleId"] == "CS-01"]
    assert sanction["recordRef"] == "ARCHIVE:sanction:S-1"


async def test_the_data_subject_sees_its_own_restricted_records_but_no_investigation(
    dataset, tmp_path
):
    restricted = known._credit(
        "CR-OWN-R", known.PERSON, "PERSON", disclosure="RESTRICTED", share_scope=[],
        category="SERIOUS_DISHONESTY", severity="SERIOUS", decision_no="辽信〔2025〕9号",
    )  # fmt: skip
    async with platforms(dataset, tmp_path) as running:
        async with httpx.AsyncClient() as admin:
            added = await admin.post(f"{running[1]['credit']}/_sim/records", json=restricted)
            added.raise_for_status()
        async with gateway_on(running, tmp_path) as stack:
            answer = await own_view(stack)
    records = {r["recordId"]: r for r in answer["data"]["person"]["creditRecords"]}
    assert records["CR-OWN-R"]["decisionNo"] == "辽信〔2025〕9号"
    (finding,) = [
        f
        for f in answer["data"]["vet"]["findings"]
        if f["recordRef"] == "CREDIT_PLATFORM:record:CR-OWN-R"
    ]
    assert finding["summary"] is not None
    assert finding["restricted"] is False
    assert_decides_without_details(answer, ["vet", "findings"])


async def own_view(stack: Stack) -> dict[str, Any]:
    me = stack.token("data_subject", "me", id_number=known.PERSON)
    query = """query ($id: String!) {
      person(idNumber: $id, purpose: SELF_CHECK, asOf: "2025-06-30") {
        creditRecords { recordId decisionNo }
        civilServant { investigations { caseId } }
      }
      vet(subject: {idNumber: $id}, purpose: SELF_CHECK, asOf: "2025-06-30") {
        findings { ruleId effect source until restricted summary recordRef }
      }
    }"""
    answer: dict[str, Any] = await stack.query(query, me, id=known.PERSON)
    return answer
