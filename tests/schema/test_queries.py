"""Person and organisation look-ups through the real endpoint over the real stand-ins."""

import httpx
import pytest

from tests.schema import dataset as known
from tests.stack import running_stack

PERSON_QUERY = """
query ($id: String!, $purpose: Purpose!, $asOf: Date) {
  person(idNumber: $id, purpose: $purpose, asOf: $asOf) {
    idNumber name gender birthDate
    civilServant {
      unit { creditCode name } position rankLevel status
      positionHistory { position startDate endDate }
      assessments { year grade }
      sanctions { sanctionId kind inForce }
      investigations { caseId openedDate closedDate }
      mattersReportChecks { year checkDate result }
      honours { year title level }
    }
    creditRecords { recordId fineAmount disputed inForce status }
    allCredit: creditRecords(includeInactive: true) { recordId inForce }
    enforcement { entryId caseCode unperformedAmount inForce }
    allEnforcement: enforcement(includeInactive: true) { entryId inForce }
    consumptionRestrictions { orderId status }
    businessRoles { supplier { creditCode name } role registrationStatus }
    sources { source ok error }
  }
}
"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


async def test_a_person_joined_from_all_four_platforms(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            PERSON_QUERY, id=known.PERSON, purpose="CADRE_SELECTION", asOf=known.AS_OF
        )
    assert "errors" not in answer, answer["errors"]
    person = answer["data"]["person"]
    assert (person["idNumber"], person["name"], person["gender"], person["birthDate"]) == (
        known.PERSON, known.PERSON_NAME, "M", "1980-05-12",
    )  # fmt: skip
    servant = person["civilServant"]
    assert servant["unit"] == {"creditCode": known.UNIT, "name": known.UNIT_NAME}
    assert [c["position"] for c in servant["positionHistory"]] == ["综合处副处长", "综合处处长"]
    assert servant["assessments"] == [{"year": y, "grade": "COMPETENT"} for y in (2022, 2023, 2024)]
    assert {s["sanctionId"]: s["inForce"] for s in servant["sanctions"]} == {
        "S-1": True,
        "S-0": False,
    }
    assert servant["investigations"] == [
        {"caseId": "I-1", "openedDate": "2025-04-01", "closedDate": None}
    ]
    assert servant["mattersReportChecks"][0]["result"] == "MINOR_OMISSION"
    assert servant["honours"] == [{"year": 2021, "title": "优秀公务员", "level": "市级"}]
    # Only records in force by default: CR-002 expired, CR-003 repaired.
    assert [(r["recordId"], r["disputed"]) for r in person["creditRecords"]] == [
        ("CR-001", False), ("CR-004", True),
    ]  # fmt: skip
    assert person["creditRecords"][0]["fineAmount"] == "5000.00"
    assert {r["recordId"]: r["inForce"] for r in person["allCredit"]} == {
        "CR-001": True, "CR-002": False, "CR-003": False, "CR-004": True,
    }  # fmt: skip
    assert [e["entryId"] for e in person["enforcement"]] == ["E-1"]
    assert person["enforcement"][0]["unperformedAmount"] == "120000.00"
    assert {e["entryId"]: e["inForce"] for e in person["allEnforcement"]} == {
        "E-1": True,
        "E-2": False,
    }
    assert person["consumptionRestrictions"] == [{"orderId": "R-1", "status": "ACTIVE"}]
    assert person["businessRoles"] == [
        {"supplier": {"creditCode": known.SUPPLIER, "name": known.SUPPLIER_NAME},
         "role": "LEGAL_REPRESENTATIVE", "registrationStatus": "ACTIVE"}
    ]  # fmt: skip
    assert person["sources"] == [
        {"source": s, "ok": True, "error": None}
        for s in ("CREDIT_PLATFORM", "PROCUREMENT", "COURT", "ARCHIVE")
    ]


ORG_QUERY = """
query ($code: String!, $purpose: Purpose!) {
  organization(creditCode: $code, purpose: $purpose, asOf: "2025-06-30") {
    creditCode name kind registrationStatus
    legalRepresentative { kind idNumber name }
    creditRecords { recordId fineAmount }
    enforcement { entryId }
    debarments { recordNo inForce endDate }
    violations { recordNo penaltyDate }
    purchaserIssues { contractNo type open amount }
    firstHalf: awards(from: "2025-01-01", to: "2025-06-30") {
      contractNo awardDate supplier { creditCode }
    }
    march: awards(from: "2025-03-01", to: "2025-03-31") { contractNo }
    sources { source ok }
  }
}
"""


async def test_a_supplier_and_a_purchaser(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        supplier = await stack.query(
            ORG_QUERY, code=known.SUPPLIER, purpose="PROCUREMENT_ELIGIBILITY"
        )
        unit = await stack.query(ORG_QUERY, code=known.UNIT, purpose="HONOURS")
        counts = await stack.upstream_counts()
    assert "errors" not in supplier, supplier["errors"]
    org = supplier["data"]["organization"]
    assert (org["name"], org["kind"], org["registrationStatus"]) == (
        known.SUPPLIER_NAME,
        "SUPPLIER",
        "ACTIVE",
    )
    assert org["legalRepresentative"] == {
        "kind": "PERSON",
        "idNumber": known.PERSON,
        "name": known.PERSON_NAME,
    }
    assert org["creditRecords"] == [{"recordId": "CR-010", "fineAmount": "2500000.00"}]
    assert [(d["recordNo"], d["inForce"]) for d in org["debarments"]] == [
        ("D-1", True),
        ("D-0", False),
    ]
    assert org["violations"] == [{"recordNo": "V-1", "penaltyDate": "2024-06-01"}]
    assert [s["source"] for s in org["sources"]] == ["CREDIT_PLATFORM", "PROCUREMENT", "COURT"]
    assert counts["archive"] == 0  # minimum necessary: never consulted for an organisation

    assert "errors" not in unit, unit["errors"]
    buyer = unit["data"]["organization"]
    assert (buyer["name"], buyer["kind"]) == (known.UNIT_NAME, "GOVERNMENT_UNIT")
    assert [(i["contractNo"], i["open"]) for i in buyer["purchaserIssues"]] == [
        ("HT-1", True),
        ("HT-2", False),
    ]
    assert len(buyer["firstHalf"]) == 12
    assert {a["supplier"]["creditCode"] for a in buyer["firstHalf"]} == {known.SUPPLIER}
    assert sorted(a["contractNo"] for a in buyer["march"]) == ["AW-2", "AW-8"]


async def test_many_subjects_make_one_batched_call_per_platform(dataset, tmp_path):
    fields = (
        "creditRecords { recordId } enforcement { entryId } businessRoles { role }"
        " civilServant { position }"
    )
    aliases = " ".join(
        f'p{n}: person(idNumber: "{code}", purpose: CADRE_SELECTION, asOf: "2025-06-30") '
        f"{{ {fields} }}"
        for n, code in enumerate([known.PERSON, *known.OTHERS])
    )
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query("{ " + aliases + " }")
        counts = await stack.upstream_counts()
    assert "errors" not in answer, answer["errors"]
    assert all(len(answer["data"][f"p{n}"]["creditRecords"]) == 1 for n in range(1, 41))
    assert counts["credit"] == 1
    assert counts["court"] == 2  # one token request, one debtor query for all 41 persons
    assert counts["procurement"] == 1
    assert counts["archive"] == 7  # one statement per archive table, for all of them


async def test_a_failed_platform_nulls_only_its_fields(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        await admin.post(f"{stack.urls['court']}/_sim/down")
        answer = await stack.query(
            PERSON_QUERY, id=known.PERSON, purpose="CADRE_SELECTION", asOf=known.AS_OF
        )
    person = answer["data"]["person"]
    assert person["enforcement"] is None
    assert person["consumptionRestrictions"] is None
    assert person["name"] == known.PERSON_NAME
    assert len(person["creditRecords"]) == 2
    assert person["civilServant"]["position"] == "综合处处长"
    errors = {tuple(e["path"]): e["extensions"] for e in answer["errors"]}
    assert set(errors) == {
        ("person", "enforcement"),
        ("person", "allEnforcement"),
        ("person", "consumptionRestrictions"),
    }
    assert all(ext == {"code": "SOURCE_UNAVAILABLE", "source": "COURT"} for ext in errors.values())
    court = next(s for s in person["sources"] if s["source"] == "COURT")
    assert court["ok"] is False
    assert court["error"]
    assert all(s["ok"] for s in person["sources"] if s["source"] != "COURT")
    body = str(answer)
    assert "127.0.0.1" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize(
    ("argument", "value"),
    [("idNumber", "110105194912310021"), ("idNumber", "not-a-number"), ("idNumber", "")],
)
async def test_an_invalid_identifier_asks_no_platform(dataset, tmp_path, argument, value):
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            "query ($v: String!) "
            "{ person(idNumber: $v, purpose: HONOURS) { name sources { ok } } }",
            v=value,
        )
        counts = await stack.upstream_counts()
    assert answer["data"] == {"person": None}
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "INVALID_IDENTIFIER", "field": argument}
    if value:
        assert value not in error["message"]
    assert counts == {"credit": 0, "procurement": 0, "court": 0, "archive": 0}


async def test_legacy_and_lower_case_identifiers_are_normalised(dataset, tmp_path):
    unit_lower = known.UNIT.lower()
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            "query ($c: String!) "
            "{ organization(creditCode: $c, purpose: HONOURS) { creditCode name } }",
            c=unit_lower,
        )
    assert answer["data"]["organization"] == {"creditCode": known.UNIT, "name": known.UNIT_NAME}


async def test_a_purpose_that_does_not_apply_to_the_subject(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(
            "query ($v: String!) "
            "{ person(idNumber: $v, purpose: PROCUREMENT_ELIGIBILITY) { name } }",
            v=known.PERSON,
        )
        counts = await stack.upstream_counts()
    assert answer["data"] == {"person": None}
    assert answer["errors"][0]["extensions"]["code"] == "PURPOSE_NOT_APPLICABLE"
    assert sum(counts.values()) == 0
