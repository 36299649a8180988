"""Records no longer in force reach only credit_admin (asking explicitly) and the data subject.

Expired, removed, closed, REPAIRED and REVOKED records do not exist for an
officer or an auditor: `includeInactive: true` is refused with
FORBIDDEN_ARGUMENT (logged as DENIED), and the listings without the argument,
the counts of what was left out and the findings show only what is in force on
the as-of date. The known dataset has one of each kind: CR-002 (expired),
CR-003 (REPAIRED), E-2 (removed), D-0 (an expired debarment), HT-2 (a resolved
purchaser issue) and S-0 (an expired sanction); S-9, added here, is an expired
RESTRICTED sanction that would be counted among the omitted.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.schema import dataset as known
from tests.stack import running_stack

INACTIVE = ["CR-002", "CR-003", "E-2", "D-0", "HT-2", "S-0", "S-9", "沈纪〔2020〕9号"]
ASKING = """query ($id: String!, $code: String!, $pp: Purpose!, $po: Purpose!) {
  person(idNumber: $id, purpose: $pp, asOf: "2025-06-30") {
    creditRecords(includeInactive: true) { recordId inForce }
    enforcement(includeInactive: true) { entryId inForce }
  }
  organization(creditCode: $code, purpose: $po, asOf: "2025-06-30") {
    creditRecords(includeInactive: true) { recordId }
  }
}"""
LISTINGS = """query ($id: String!, $code: String!, $unit: String!, $pp: Purpose!, $po: Purpose!) {
  person(idNumber: $id, purpose: $pp, asOf: "2025-06-30") {
    creditRecords { recordId inForce }
    enforcement { entryId inForce }
    consumptionRestrictions { orderId }
    civilServant { sanctions { sanctionId decisionNo inForce } investigations { caseId } }
  }
  organization(creditCode: $code, purpose: $po, asOf: "2025-06-30") {
    creditRecords { recordId } debarments { recordNo inForce }
  }
  unit: organization(creditCode: $unit, purpose: $po, asOf: "2025-06-30") {
    purchaserIssues { contractNo open }
  }
}"""
OWN = """query ($id: String!) {
  person(idNumber: $id, purpose: SELF_CHECK, asOf: "2025-06-30") {
    creditRecords(includeInactive: true) { recordId inForce }
  }
}"""
OFFICERS = {  # role: (purpose for the person, for the organisations)
    "hr_officer": ("CADRE_SELECTION", "HONOURS"),
    "procurement_officer": ("PROCUREMENT_ELIGIBILITY", "PROCUREMENT_ELIGIBILITY"),
    "auditor": ("AUDIT", "AUDIT"),
}


@pytest.fixture
def dataset(tmp_path_factory):
    root = known.write_dataset(tmp_path_factory.mktemp("known"))
    expired_restricted = {
        "sanction_id": "S-9", "person_id": "CS-1", "kind": "GOV_WARNING",
        "decision_no": "沈纪〔2019〕1号", "authority": "沈阳市纪委监委",
        "decision_date": "2019-01-15", "period_months": None, "reason": "旧事",
        "disclosure": "RESTRICTED", "revoked_date": None,
        "updated_at": "2019-01-15T09:00:00+08:00",
    }  # fmt: skip
    with (root / "archive" / "cs_sanction.jsonl").open("a", encoding="utf-8") as rows:
        rows.write(json.dumps(expired_restricted, ensure_ascii=False) + "\n")
    return root


def log_rows(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "access.db") as db:
        return db.execute("SELECT actor, outcome, fields FROM access_log ORDER BY seq").fetchall()


def variables(person_purpose: str, org_purpose: str) -> dict[str, Any]:
    return {
        "id": known.PERSON, "code": known.SUPPLIER, "unit": known.UNIT,
        "pp": person_purpose, "po": org_purpose,
    }  # fmt: skip


async def test_include_inactive_is_refused_to_every_other_role_and_logged(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        answers = {}
        for role, (pp, po) in OFFICERS.items():
            token = stack.token(role, role, unit=known.UNIT, id_number=known.PERSON)
            answers[role] = await stack.query(ASKING, token, **variables(pp, po))
    for role, answer in answers.items():
        codes = sorted(
            (tuple(error["path"]), error["extensions"]["code"]) for error in answer["errors"]
        )
        refused: list[tuple[tuple[str, ...], str]] = [
            (("organization", "creditRecords"), "FORBIDDEN_ARGUMENT")
        ]
        if role == "procurement_officer":  # a person is no procurement subject
            refused.append((("person",), "PURPOSE_NOT_APPLICABLE"))
        else:
            refused.append((("person", "creditRecords"), "FORBIDDEN_ARGUMENT"))
            refused.append((("person", "enforcement"), "FORBIDDEN_ARGUMENT"))
            assert answer["data"]["person"] == {"creditRecords": None, "enforcement": None}
        assert codes == refused, role
        seen = json.dumps(answer, ensure_ascii=False)
        assert not [value for value in INACTIVE if value in seen], role
    assert [(actor, outcome) for actor, outcome, _ in log_rows(tmp_path)] == [
        (role, "DENIED") for role in OFFICERS
    ]


async def test_credit_admin_and_the_data_subject_ask_explicitly_and_it_is_logged(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        admin = await stack.query(
            ASKING, stack.token("credit_admin", "admin"), **variables("AUDIT", "AUDIT")
        )
        me = stack.token("data_subject", "me", id_number=known.PERSON)
        own = await stack.query(OWN, me, id=known.PERSON)
    assert "errors" not in admin
    for answer in (admin["data"]["person"], own["data"]["person"]):
        records = {r["recordId"]: r["inForce"] for r in answer["creditRecords"]}
        assert records["CR-002"] is False
        assert records["CR-003"] is False
    assert {e["entryId"]: e["inForce"] for e in admin["data"]["person"]["enforcement"]} == {
        "E-1": True,
        "E-2": False,
    }
    (admin_entry, own_entry) = log_rows(tmp_path)
    assert admin_entry[:2] == ("admin", "OK")
    assert "includeInactive:person.creditRecords" in json.loads(admin_entry[2])
    assert "includeInactive:organization.creditRecords" in json.loads(admin_entry[2])
    assert own_entry[:2] == ("me", "OK")
    assert "includeInactive:person.creditRecords" in json.loads(own_entry[2])


async def test_listings_and_counts_show_nothing_out_of_force_to_other_roles(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        answers = {}
        for role, (pp, po) in OFFICERS.items():
            answers[role] = await stack.query(
                LISTINGS, stack.token(role, role), **variables(pp, po)
            )
        admin = await stack.query(LISTINGS, **variables("CADRE_SELECTION", "HONOURS"))
    for role, answer in answers.items():
        seen = json.dumps(answer, ensure_ascii=False)
        assert not [value for value in INACTIVE if value in seen], role
        assert '"inForce": false' not in seen, role
        assert '"open": false' not in seen, role
    hr = answers["hr_officer"]
    assert [s["sanctionId"] for s in hr["data"]["person"]["civilServant"]["sanctions"]] == ["S-1"]
    assert hr["data"]["organization"]["debarments"] == [{"recordNo": "D-1", "inForce": True}]
    assert hr["data"]["unit"]["purchaserIssues"] == [{"contractNo": "HT-1", "open": True}]
    # Only I-1 (RESTRICTED, open) is left out and counted; S-9 (RESTRICTED, expired) does not exist.
    omitted = [p for p in hr["extensions"]["privacy"] if p["action"] == "RESTRICTED_OMITTED"]
    assert omitted == [
        {"path": ["person", "civilServant"], "action": "RESTRICTED_OMITTED", "count": 1}
    ]
    # credit_admin still sees the history, each record marked.
    sanctions = admin["data"]["person"]["civilServant"]["sanctions"]
    assert {s["sanctionId"]: s["inForce"] for s in sanctions} == {
        "S-1": True, "S-0": False, "S-9": False,
    }  # fmt: skip
    assert {d["recordNo"] for d in admin["data"]["organization"]["debarments"]} == {"D-1", "D-0"}
    assert {i["contractNo"] for i in admin["data"]["unit"]["purchaserIssues"]} == {"HT-1", "HT-2"}
