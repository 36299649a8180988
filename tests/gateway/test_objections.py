"""`fileObjection` over the real stand-ins: filed at once, cached answers dropped at once.

The change feeds are read at start only (`QUIET`), so whatever the next answer
shows about the disputed record came from the eviction the filing made, not
from the platform's change feed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest

from tests.gateway.outbox_harness import FAST_RETRIES, eventually, sim
from tests.gateway.test_caching import QUIET, gateway_on
from tests.schema import dataset as known
from tests.stack import Stack, platforms

SUBJECT = known.OTHERS[0]  # one GENERAL credit record, CR-100
FILE = """mutation ($id: String!, $source: SourceName!, $record: ID!, $reason: String!) {
  fileObjection(subject: {idNumber: $id}, source: $source, recordId: $record, reason: $reason)
  { objectionId status queued }
}"""
VET = """query ($id: String!, $p: Purpose!, $d: Date) {
  vet(subject: {idNumber: $id}, purpose: $p, asOf: $d) {
    verdict findings { ruleId recordRef disputed }
  }
}"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


async def filed(stack: Stack) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as admin:
        answer = await admin.get(f"{stack.urls['credit']}/_sim/objections")
    objections: list[dict[str, Any]] = answer.json()["data"]
    return objections


def outcomes(tmp_path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "access.db") as db:
        return db.execute("SELECT actor, outcome FROM access_log ORDER BY seq").fetchall()


async def test_a_data_subject_files_an_objection_and_the_next_answer_shows_it(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            me = stack.token("data_subject", "me", id_number=SUBJECT)

            async def findings() -> list[dict[str, Any]]:
                answer = await stack.query(VET, me, id=SUBJECT, p="SELF_CHECK", d=known.AS_OF)
                found = answer["data"]["vet"]["findings"]
                return [f for f in found if (f["recordRef"] or "").startswith("CREDIT_PLATFORM:")]

            before = [await findings() for _ in range(3)]  # the third a kept answer
            assert stack.app.state.answers.hits == 1
            answer = await stack.query(
                FILE, me, id=SUBJECT, source="CREDIT_PLATFORM", record="CR-100",
                reason="the debt was paid in 2024",
            )  # fmt: skip
            after = await findings()
            objections = await filed(stack)

    assert answer["data"]["fileObjection"]["status"] == "RECEIVED"
    assert answer["data"]["fileObjection"]["queued"] is False
    assert [
        (o["objection_id"], o["record_id"], o["subject_code"], o["filed_by"]) for o in objections
    ] == [(answer["data"]["fileObjection"]["objectionId"], "CR-100", SUBJECT, "me")]
    assert [f["disputed"] for f in before[-1]] == [False]
    assert [(f["recordRef"], f["disputed"]) for f in after] == [(before[-1][0]["recordRef"], True)]
    assert ("me", "OBJECTION_FILED") in outcomes(tmp_path)


async def test_who_may_file_and_what(dataset, tmp_path):
    other = known.OTHERS[1]
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            messages = {}

            async def code(token: str, **changes: Any) -> str | None:
                asked = {"id": SUBJECT, "source": "CREDIT_PLATFORM", "record": "CR-100"}
                asked.update({"reason": "wrong", **changes})
                answer = await stack.query(FILE, token, **asked)
                assert answer["data"] is None
                error = answer["errors"][0]
                messages[error["extensions"]["code"]] = error
                return str(error["extensions"]["code"])

            me = stack.token("data_subject", "me", id_number=SUBJECT)
            codes = {
                "hr_officer": await code(stack.token("hr_officer", "hr", unit=known.UNIT)),
                "someone else": await code(stack.token("data_subject", "x", id_number=other)),
                "court record": await code(me, source="COURT"),
                "unknown record": await code(me, record="CR-NONE"),
                "another's record": await code(me, id=other),
                "empty reason": await code(me, reason="  "),
            }
            nothing_filed = await filed(stack)
            admin = stack.token("credit_admin", "officer")
            on_behalf = await stack.query(
                FILE, admin, id=SUBJECT, source="CREDIT_PLATFORM", record="CR-100", reason="r"
            )

    assert codes == {
        "hr_officer": "FORBIDDEN_PURPOSE",
        "someone else": "FORBIDDEN_SUBJECT",
        "court record": "OBJECTION_NOT_SUPPORTED",
        "unknown record": "NOT_FOUND",
        "another's record": "FORBIDDEN_SUBJECT",
        "empty reason": "INVALID_ARGUMENT",
    }
    # Who may file, not a purpose the caller never declared.
    refused = messages["FORBIDDEN_PURPOSE"]
    assert "the data subject" in refused["message"]
    assert "credit_admin" in refused["message"]
    assert "SELF_CHECK" not in refused["message"]
    assert refused["extensions"]["grantedTo"] == ["credit_admin", "data_subject"]
    assert nothing_filed == []
    assert on_behalf["data"]["fileObjection"]["status"] == "RECEIVED"
    assert ("hr", "DENIED") in outcomes(tmp_path)


STATUS = """query ($id: String!) {
  person(idNumber: $id, purpose: SELF_CHECK) {
    objections { objectionId recordId status decidedAt queued delivery }
  }
}"""


async def test_an_objection_the_platform_cannot_take_is_kept_and_forwarded_once_it_is_back(
    dataset, tmp_path
):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET, outbox=FAST_RETRIES) as stack:
            credit = stack.urls["credit"]
            me = stack.token("data_subject", "me", id_number=SUBJECT)
            for _ in range(2):
                await stack.query(VET, me, id=SUBJECT, p="SELF_CHECK", d=known.AS_OF)
            await sim(credit, "POST", "/_sim/down")
            answer = await stack.query(
                FILE, me, id=SUBJECT, source="CREDIT_PLATFORM", record="CR-100", reason="r"
            )
            kept = await stack.query(VET, me, id=SUBJECT, p="SELF_CHECK", d=known.AS_OF)
            assert stack.app.state.answers.hits == 1  # nothing filed yet: nothing evicted
            while_down = await stack.query(STATUS, me, id=SUBJECT)
            await sim(credit, "POST", "/_sim/up")
            objections = await eventually(lambda: filed(stack), bool)
            listed = await eventually(
                lambda: stack.query(STATUS, me, id=SUBJECT),
                lambda a: not a["data"]["person"]["objections"][0]["queued"],
            )
            after = await stack.query(VET, me, id=SUBJECT, p="SELF_CHECK", d=known.AS_OF)
            (objection,) = objections
            decide = f"/_sim/objections/{objection['objection_id']}/decide"
            await sim(credit, "POST", decide, {"status": "UPHELD"})
            decided = await stack.query(STATUS, me, id=SUBJECT)
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            hidden = await stack.query(
                "query ($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION)"
                " { objections { recordId } } }", hr, id=SUBJECT,
            )  # fmt: skip
            received = await sim(credit, "GET", "/_sim/deliveries")

    assert answer["data"]["fileObjection"] == {"objectionId": None, "status": None, "queued": True}
    assert kept["data"]["vet"]["verdict"] != "INCOMPLETE"
    assert while_down["data"]["person"]["objections"] == [
        {"objectionId": None, "recordId": "CR-100", "status": None, "decidedAt": None,
         "queued": True, "delivery": "QUEUED"}
    ]  # fmt: skip
    assert [(o["record_id"], o["subject_code"], o["filed_by"]) for o in objections] == [
        ("CR-100", SUBJECT, "me")
    ]
    assert listed["data"]["person"]["objections"] == [
        {"objectionId": objection["objection_id"], "recordId": "CR-100", "status": "RECEIVED",
         "decidedAt": None, "queued": False, "delivery": "DELIVERED"}
    ]  # fmt: skip
    # Delivered, the objection evicted what was cached: the record is now disputed.
    on_record = [f for f in after["data"]["vet"]["findings"] if "CR-100" in (f["recordRef"] or "")]
    assert [f["disputed"] for f in on_record] == [True]
    ((status, decided_at),) = [
        (o["status"], o["decidedAt"]) for o in decided["data"]["person"]["objections"]
    ]
    assert status == "UPHELD"
    assert decided_at is not None
    assert hidden["data"]["person"]["objections"] is None
    assert list(received["received"].values()) == [1]
