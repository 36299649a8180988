"""`recordUsage` and `usageFeedback` over the real stand-ins: recorded, forwarded, read back.

The gateway runs in this process with its delivery worker; what reaches the
credit platform is read from the stand-in.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.outbox_harness import FAST_RETRIES, eventually, sim
from tests.schema import dataset as known
from tests.stack import running_stack

VET = """query ($id: String!) {
  vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION, asOf: "2025-06-30") { reportId }
}"""
RECORD = """mutation ($r: ID!, $o: UsageOutcome!, $why: String, $m: String) {
  recordUsage(reportId: $r, outcome: $o, reason: $why, measure: $m) {
    reportId outcome reason measure queued delivery feedbackId
  }
}"""
READ_BACK = """query ($r: ID!) {
  usageFeedback(reportId: $r) { outcome reason measure queued delivery feedbackId }
}"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


async def test_outcomes_are_forwarded_read_back_by_their_actor_and_refusals_kept(dataset, tmp_path):
    async with running_stack(dataset, tmp_path, outbox=FAST_RETRIES) as stack:
        credit = stack.urls["credit"]
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        other = stack.token("hr_officer", "someone-else", unit=known.UNIT)

        async def report(subject: str) -> str:
            answer = await stack.query(VET, hr, id=subject)
            report_id: str = answer["data"]["vet"]["reportId"]
            return report_id

        async def read(report_id: str, token: str = hr) -> dict[str, Any]:
            return await stack.query(READ_BACK, token, r=report_id)

        kept, gone = await report(known.OTHERS[0]), await report(known.OTHERS[1])
        too_long = await stack.query(RECORD, hr, r=kept, o="ADOPTED", m="措" * 501)
        first = await stack.query(RECORD, hr, r=kept, o="PENDING")
        second = await stack.query(RECORD, hr, r=kept, o="ADOPTED", why=" 考核优秀 ", m="提拔")
        # The platform no longer knows the record behind the second report: E4000.
        await sim(credit, "DELETE", "/_sim/records/CR-101")
        await stack.query(RECORD, hr, r=gone, o="NOT_ADOPTED")
        delivered = await eventually(
            lambda: read(kept),
            lambda a: [f["delivery"] for f in a["data"]["usageFeedback"]] == ["DELIVERED"] * 2,
        )
        refused = await eventually(
            lambda: read(gone),
            lambda a: a["data"]["usageFeedback"][0]["delivery"] != "QUEUED",
        )
        foreign = await read(kept, other)
        feedback = await sim(credit, "GET", "/_sim/feedback")

    assert too_long["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert first["data"]["recordUsage"] == {
        "reportId": kept, "outcome": "PENDING", "reason": None, "measure": None,
        "queued": True, "delivery": "QUEUED", "feedbackId": None,
    }  # fmt: skip
    assert second["data"]["recordUsage"]["reason"] == "考核优秀"
    # Both sent; in which order they arrived is the worker's business.
    applied = {e["outcome"]: e for e in feedback}
    assert sorted(
        (e["query_ref"], e["outcome"], e.get("reason"), e.get("measure")) for e in feedback
    ) == [(kept, "ADOPTED", "考核优秀", "提拔"), (kept, "PENDING", None, None)]
    assert delivered["data"]["usageFeedback"] == [
        {"outcome": "PENDING", "reason": None, "measure": None, "queued": False,
         "delivery": "DELIVERED", "feedbackId": applied["PENDING"]["feedback_id"]},
        {"outcome": "ADOPTED", "reason": "考核优秀", "measure": "提拔", "queued": False,
         "delivery": "DELIVERED", "feedbackId": applied["ADOPTED"]["feedback_id"]},
    ]  # fmt: skip
    ((state, queued, feedback_id),) = [
        (f["delivery"], f["queued"], f["feedbackId"]) for f in refused["data"]["usageFeedback"]
    ]
    assert (state, queued, feedback_id) == ("REFUSED", False, None)
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert foreign["data"] is None
