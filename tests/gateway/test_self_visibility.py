""" "Self" belongs to the data subject alone: an officer's own unit or ID number widens nothing.

An officer whose token names unit U (or its own ID number) asks about U (or
itself) and must get, byte for byte apart from ids and times, what a colleague
from another unit gets. The records added first are ones the officer's sector
may not see (CONDITIONAL outside its share scope) or may only use to decide
(RESTRICTED), so a widened view would show as a record, a finding or a detail.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from auth.principal import Purpose, Role
from auth.visibility import Viewer
from schema.vet import visibility_class
from tests.gateway.test_caching import gateway_on
from tests.gateway.test_caching_roles import comparable
from tests.schema import dataset as known
from tests.stack import Stack, platforms
from tests.support import credit_code

ELSEWHERE = credit_code(7, prefix="11210000")  # a colleague's unit

ORG = """query ($code: String!, $purpose: Purpose!) {
  organization(creditCode: $code, purpose: $purpose, asOf: "2025-06-30") {
    creditRecords { recordId decisionNo penaltyContent disclosure }
  }
  vet(subject: {creditCode: $code}, purpose: $purpose, asOf: "2025-06-30") {
    verdict findings { ruleId effect restricted summary recordRef }
  }
}"""
PERSON = """query ($id: String!) {
  person(idNumber: $id, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    civilServant { investigations { caseId authority } }
  }
  vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    verdict findings { ruleId effect restricted summary recordRef }
  }
}"""


def records() -> list[dict[str, Any]]:
    """The unit's and the supplier's records their own officers' sectors may not see."""
    row = known._credit
    return [
        row("CR-U-BUY", known.UNIT, "ORG", disclosure="CONDITIONAL", share_scope=["PROCUREMENT"],
            decision_no="辽财购〔2025〕7号"),
        row("CR-U-R", known.UNIT, "ORG", disclosure="RESTRICTED", share_scope=["CREDIT_OFFICE"],
            category="GOV_DISHONESTY", decision_no="辽信〔2025〕1号"),
        row("CR-S-R", known.SUPPLIER, "ORG", disclosure="RESTRICTED", share_scope=["ORG_HR"],
            category="SERIOUS_DISHONESTY", severity="SERIOUS", decision_no="沈信〔2025〕5号"),
    ]  # fmt: skip


@pytest.fixture
async def running(tmp_path):
    dataset = known.write_dataset(tmp_path / "known")
    async with platforms(dataset, tmp_path) as running:
        async with httpx.AsyncClient() as admin:
            for row in records():
                (
                    await admin.post(f"{running[1]['credit']}/_sim/records", json=row)
                ).raise_for_status()
        yield running


async def ask(stack: Stack, query: str, role: str, **claims: Any) -> tuple[str, Any]:
    variables = {"code": known.UNIT, "purpose": "HONOURS", "id": known.PERSON}
    used = {name: variables[name] for name in variables if f"${name}" in query}
    answer = await stack.query(query, stack.token(role, f"{role}-caller", **claims), **used)
    return json.dumps(comparable(answer), ensure_ascii=False), answer


async def test_an_hr_officer_sees_its_own_unit_as_a_colleague_would(running, tmp_path):
    async with gateway_on(running, tmp_path, cache={"backend": "none"}) as stack:
        own, answer = await ask(stack, ORG, "hr_officer", unit=known.UNIT)
        colleague, _ = await ask(stack, ORG, "hr_officer", unit=ELSEWHERE)
    assert own == colleague
    assert "CR-U-BUY" not in own
    assert "CR-U-R" not in own
    assert "辽财购〔2025〕7号" not in own
    assert "辽信〔2025〕1号" not in own
    assert answer["data"]["organization"]["creditRecords"] == []


async def test_a_procurement_officer_vets_its_own_unit_as_a_colleague_would(running, tmp_path):
    async with gateway_on(running, tmp_path, cache={"backend": "none"}) as stack:
        variables = {"code": known.SUPPLIER, "purpose": "PROCUREMENT_ELIGIBILITY"}
        got = {}
        for unit in (known.SUPPLIER, ELSEWHERE):
            token = stack.token("procurement_officer", "buyer", unit=unit)
            got[unit] = await stack.query(ORG, token, **variables)
    own, colleague = got[known.SUPPLIER], got[ELSEWHERE]
    assert comparable(own) == comparable(colleague)
    # CR-S-R is shared with ORG_HR only: no PE-05 finding, no summary, for the supplier's own buyer.
    rules = [f["ruleId"] for f in own["data"]["vet"]["findings"]]
    assert "PE-05" not in rules
    assert "沈信〔2025〕5号" not in json.dumps(own, ensure_ascii=False)


async def test_an_hr_officer_about_itself_sees_no_restricted_investigation(running, tmp_path):
    async with gateway_on(running, tmp_path, cache={"backend": "none"}) as stack:
        own, answer = await ask(stack, PERSON, "hr_officer", id_number=known.PERSON)
        colleague, _ = await ask(stack, PERSON, "hr_officer", unit=ELSEWHERE)
    assert own == colleague
    # I-1 is RESTRICTED: for an officer it only decides, whoever the officer is.
    assert answer["data"]["person"]["civilServant"]["investigations"] == []
    (cs04,) = [f for f in answer["data"]["vet"]["findings"] if f["ruleId"] == "CS-04"]
    assert cs04 == {
        "ruleId": "CS-04", "effect": "BAR", "restricted": True, "summary": None, "recordRef": None,
    }  # fmt: skip


async def test_the_report_cache_carries_no_self_view_to_an_officer(running, tmp_path):
    async with gateway_on(running, tmp_path, cache={"backend": "none"}) as cold:
        expected, _ = await ask(cold, PERSON, "hr_officer")
    async with gateway_on(running, tmp_path, cache={"backend": "memory"}) as warm:
        # credit_admin about itself first (the view a "self" class would have kept), then
        # an HR officer whose token names the same person, twice (the second from the cache).
        await ask(warm, PERSON, "credit_admin", id_number=known.PERSON)
        first, _ = await ask(warm, PERSON, "hr_officer", id_number=known.PERSON)
        second, _ = await ask(warm, PERSON, "hr_officer", id_number=known.PERSON)
        reports = warm.app.state.caching.counters()
    assert first == expected
    assert second == expected
    assert reports["hits"] > 0


def test_only_a_data_subject_has_the_self_class():
    me = Viewer(Role.DATA_SUBJECT, Purpose.SELF_CHECK, is_self=True)
    assert visibility_class(me) == "self"
    assert visibility_class(Viewer(Role.HR_OFFICER, Purpose.CADRE_SELECTION)) == "ORG_HR"
    assert visibility_class(Viewer(Role.CREDIT_ADMIN, Purpose.SELF_CHECK)) == "CREDIT_OFFICE"
    for role in (Role.HR_OFFICER, Role.PROCUREMENT_OFFICER, Role.AUDITOR, Role.CREDIT_ADMIN):
        with pytest.raises(ValueError, match="only a data subject"):
            Viewer(role, Purpose.SELF_CHECK, is_self=True)
