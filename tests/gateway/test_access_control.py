"""Tokens, purpose binding, masking per role and the access log, over real HTTP."""

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.schema import dataset as known
from tests.stack import running_stack
from tests.support import log_seal_files

PERSON = """
query ($id: String!, $purpose: Purpose!) {
  person(idNumber: $id, purpose: $purpose, asOf: "2025-06-30") {
    idNumber name birthDate
    civilServant { position sanctions { sanctionId } investigations { caseId } }
    creditRecords { recordId }
    enforcement { idCode partyName }
  }
}
"""
ORG = """
query ($code: String!, $purpose: Purpose!) {
  organization(creditCode: $code, purpose: $purpose, asOf: "2025-06-30") {
    name legalRepresentative { idNumber name }
  }
}
"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def privacy(answer):
    return {tuple(p["path"]): p["action"] for p in answer["extensions"].get("privacy", [])}


async def test_no_bad_or_expired_token_is_401_with_nothing_asked(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        expired = stack.token("credit_admin", "old", now=time.time() - 9 * 3600)
        for token in (None, "not-a-jwt", expired):
            answer = await stack.post(PERSON, token, id=known.PERSON, purpose="CADRE_SELECTION")
            assert answer.status_code == 401
            body = answer.json()
            assert "data" not in body
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await stack.upstream_counts() == {
            "credit": 0,
            "procurement": 0,
            "court": 0,
            "archive": 0,
        }


async def test_a_purpose_outside_the_roles_is_refused_and_logged(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        buyer = stack.token("procurement_officer", "buyer")
        answer = await stack.query(PERSON, buyer, id=known.PERSON, purpose="CADRE_SELECTION")
        counts = await stack.upstream_counts()
    assert answer["data"] == {"person": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"
    assert sum(counts.values()) == 0
    with sqlite3.connect(tmp_path / "access.db") as db:
        rows = db.execute("SELECT actor, outcome, purpose FROM access_log").fetchall()
    assert rows == [("buyer", "DENIED", "CADRE_SELECTION")]


async def test_a_data_subject_sees_itself_in_full_and_nobody_else(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        me = stack.token("data_subject", "me", id_number=known.PERSON)
        own = await stack.query(PERSON, me, id=known.PERSON, purpose="SELF_CHECK")
        other = await stack.query(PERSON, me, id=known.OTHERS[0], purpose="SELF_CHECK")
    person = own["data"]["person"]
    assert (person["idNumber"], person["name"], person["birthDate"]) == (
        known.PERSON, known.PERSON_NAME, "1980-05-12",
    )  # fmt: skip
    assert {s["sanctionId"] for s in person["civilServant"]["sanctions"]} == {"S-0", "S-1"}
    assert person["civilServant"]["investigations"] is None  # DOMAIN.md: HIDDEN for the subject
    assert other["data"] == {"person": None}
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN_SUBJECT"


async def test_hr_officer_masks(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        promotion = await stack.query(PERSON, hr, id=known.PERSON, purpose="CADRE_SELECTION")
        honours = await stack.query(PERSON, hr, id=known.PERSON, purpose="HONOURS")
        org = await stack.query(ORG, hr, code=known.SUPPLIER, purpose="HONOURS")
    person = promotion["data"]["person"]
    assert person["idNumber"] == known.PERSON[:6] + "********" + known.PERSON[-4:]
    assert person["name"] == known.PERSON_NAME
    assert person["birthDate"] == "1980"
    assert person["enforcement"] == [
        {
            "idCode": known.PERSON[:6] + "********" + known.PERSON[-4:],
            "partyName": known.PERSON_NAME,
        }
    ]
    # I-1 is RESTRICTED: it only decides, and the answer says something was left out.
    assert person["civilServant"]["investigations"] == []
    marks = privacy(promotion)
    assert marks[("person", "idNumber")] == "ID_PARTIAL"
    assert marks[("person", "birthDate")] == "YEAR_ONLY"
    assert marks[("person", "civilServant")] == "RESTRICTED_OMITTED"
    assert promotion["extensions"]["policyVersion"]
    # Investigations are FULL for hr_officer under CADRE_SELECTION only.
    assert honours["data"]["person"]["civilServant"]["investigations"] is None
    assert privacy(honours)[("person", "civilServant", "investigations")] == "HIDDEN"
    # A legal representative: name partial, number hidden.
    representative = org["data"]["organization"]["legalRepresentative"]
    assert representative == {"idNumber": None, "name": "欧阳**"}


async def test_procurement_officer_and_auditor_masks(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        buyer = stack.token("procurement_officer", "buyer")
        auditor = stack.token("auditor", "audit")
        supplier = await stack.query(
            ORG, buyer, code=known.SUPPLIER, purpose="PROCUREMENT_ELIGIBILITY"
        )
        audited = await stack.query(PERSON, auditor, id=known.PERSON, purpose="AUDIT")
        audited_org = await stack.query(ORG, auditor, code=known.SUPPLIER, purpose="AUDIT")
    representative = supplier["data"]["organization"]["legalRepresentative"]
    assert representative == {
        "idNumber": known.PERSON[:6] + "********" + known.PERSON[-4:],
        "name": known.PERSON_NAME,
    }
    person = audited["data"]["person"]
    pseudonym = person["idNumber"]
    assert pseudonym.startswith("P-")
    assert known.PERSON not in json.dumps(audited, ensure_ascii=False)
    assert known.PERSON_NAME not in json.dumps(audited, ensure_ascii=False)
    # One subject, one pseudonym, wherever it appears.
    assert person["name"] == pseudonym
    assert person["enforcement"][0]["idCode"] == pseudonym
    assert audited_org["data"]["organization"]["legalRepresentative"]["idNumber"] == pseudonym
    assert person["civilServant"]["investigations"] is None


async def test_every_access_is_logged_with_pseudonyms_and_the_chain_verifies(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr-7", unit=known.UNIT)
        answer = await stack.query(PERSON, hr, id=known.PERSON, purpose="CADRE_SELECTION")
        await stack.query("{ sources { ok } }", hr)  # no personal data: not logged
    request_id = answer["extensions"]["requestId"]
    with sqlite3.connect(tmp_path / "access.db") as db:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM access_log")]
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["role"], row["unit"], row["purpose"], row["outcome"]) == (
        "hr-7", "hr_officer", known.UNIT, "CADRE_SELECTION", "OK",
    )  # fmt: skip
    assert row["request_id"] == request_id
    logged = json.dumps(row, ensure_ascii=False)
    assert known.PERSON not in logged
    assert "person.creditRecords.recordId" in logged
    config = tmp_path / "verify.toml"
    config.write_text(
        f'[auth]\ndev_keys_dir = "{tmp_path / "keys"}"\n'
        f'[access_log]\ndsn = "sqlite:///{tmp_path / "access.db"}"\n',
        "utf-8",
    )
    checked = subprocess.run(  # noqa: ASYNC221, S603 - our own CLI, after the server stopped
        [sys.executable, "-m", "gateway.cli", "verify-log", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_no_log_no_answer(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        await stack.app.state.services.access_log.close()
        answer = await stack.query(PERSON, id=known.PERSON, purpose="CADRE_SELECTION")
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert known.PERSON_NAME not in json.dumps(answer, ensure_ascii=False)


async def test_limits_keep_their_message_and_code(dataset, tmp_path):
    deep = f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) '
    deep += "{ civilServant { unit { name } } } }"
    async with running_stack(dataset, tmp_path, limits={"max_depth": 2, "max_cost": 50}) as stack:
        too_deep = await stack.query(deep)
        costly = await stack.query(
            f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) '
            "{ creditRecords { recordId category decisionNo violationType penaltyContent } } }"
        )
        big = await stack.client.post(
            "/graphql",
            content=b"{" + b" " * 2_000_000 + b"}",
            headers={"content-type": "application/json"},
        )
    assert too_deep["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "depth" in too_deep["errors"][0]["message"]
    assert costly["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "above the limit of 50" in costly["errors"][0]["message"]
    assert big.status_code == 413


async def test_requests_per_principal_are_limited(dataset, tmp_path):
    async with running_stack(dataset, tmp_path, limits={"requests_per_minute": 3}) as stack:
        alice = stack.token("credit_admin", "alice")
        bob = stack.token("credit_admin", "bob")
        statuses = [(await stack.post("{ sources { ok } }", alice)).status_code for _ in range(4)]
        other = await stack.post("{ sources { ok } }", bob)
        refused = await stack.post("{ sources { ok } }", alice)
    assert statuses == [200, 200, 200, 429]
    assert other.status_code == 200
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1


async def test_introspection_in_production_only_for_credit_admin(dataset, tmp_path):
    keys = tmp_path / "keys"
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("k" * 64, encoding="ascii")
    from auth.devkeys import ensure_dev_keys

    jwks = ensure_dev_keys(keys).jwks_path
    production = {
        "gateway": {"mode": "production"},
        "auth": {"jwks_file": str(jwks), "pseudonym_key_file": str(key_file)},
        "access_log": log_seal_files(tmp_path / "seal"),
    }
    async with running_stack(dataset, tmp_path, **production) as stack:
        introspect = "{ __schema { queryType { name } } }"
        hr = await stack.query(introspect, stack.token("hr_officer", "hr"))
        admin = await stack.query(introspect, stack.token("credit_admin", "root"))
        page = await stack.client.get("/graphql", headers={"accept": "text/html"})
    assert "data" not in hr
    assert "introspection" in hr["errors"][0]["message"].lower()
    assert admin["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert page.status_code == 406  # no GraphiQL in production: HTML is not an answer


REVEAL = (
    "query ($p: String!, $c: String!) "
    "{ revealIdentity(pseudonym: $p, caseNumber: $c) { kind idNumber creditCode } }"
)


async def test_an_auditor_reveals_a_pseudonym_only_for_a_named_case(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        auditor = stack.token("auditor", "audit-1")
        audited = await stack.query(PERSON, auditor, id=known.PERSON, purpose="AUDIT")
        pseudonym = audited["data"]["person"]["idNumber"]
        revealed = await stack.query(REVEAL, auditor, p=pseudonym, c="审计〔2025〕7号")
        no_case = await stack.query(REVEAL, auditor, p=pseudonym, c="  ")
        unknown = await stack.query(REVEAL, auditor, p="P-AAAAAAAAAAAAAAAA", c="A-1")
        hr = await stack.query(REVEAL, stack.token("hr_officer", "hr"), p=pseudonym, c="A-1")
    assert revealed["data"]["revealIdentity"] == {
        "kind": "PERSON", "idNumber": known.PERSON, "creditCode": None,
    }  # fmt: skip
    assert no_case["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert hr["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"
    with sqlite3.connect(tmp_path / "access.db") as db:
        reveals = db.execute(
            "SELECT actor, fields FROM access_log WHERE outcome = 'IDENTITY_REVEALED'"
        ).fetchall()
    assert [(actor, "reveal:case=审计〔2025〕7号" in fields) for actor, fields in reveals] == [
        ("audit-1", True)
    ]


async def test_internal_errors_are_masked_and_only_they(dataset, tmp_path, monkeypatch):
    async with running_stack(dataset, tmp_path) as stack:
        court = stack.app.state.connectors.court

        async def broken(*_):
            raise RuntimeError("secret detail: postgresql://user:pw@db/archive")

        # A bug inside the court connector (not an upstream failure): an internal error.
        monkeypatch.setattr(court.tokens, "bearer", broken)
        answer = await stack.query(PERSON, id=known.PERSON, purpose="CADRE_SELECTION")
    body = json.dumps(answer, ensure_ascii=False)
    assert "secret detail" not in body
    assert "postgresql://" not in body
    internal = [e for e in answer["errors"] if e["extensions"]["code"] == "INTERNAL"]
    assert internal
    assert internal[0]["message"] == "Unexpected error."
    assert answer["data"]["person"]["name"] == known.PERSON_NAME  # the rest still answers
