"""Who looked whom up does not show in the freshness an officer is told.

Unit A's officer asks about a person; 8 s later (the gateway's clock moved,
nobody waits) an officer of unit B asks the same. What B is told — each
source's `asOf` and `cacheAgeSeconds`, in a listing, a report (level 2) and a
kept answer re-issued (level 3) — is what B is told about a person nobody had
asked about: the answer's time less the platform's serving bound. credit_admin
and the data subject are shown the real fetch times. A stale stand-in (an old
answer shown while the platform is down) exists only because someone asked,
so it is shown to them alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from connectors.base import now_shanghai
from tests.gateway.test_caching import QUIET, MovableClock, gateway_on
from tests.schema import dataset as known
from tests.stack import Stack, platforms
from tests.support import credit_code

UNIT_B = credit_code(7, prefix="11210000")
COURT = {"court": {"freshness_s": 60.0, "cache_ttl_s": 300.0}}
BOUNDS = {
    "CREDIT_PLATFORM": "credit",
    "PROCUREMENT": "procurement",
    "COURT": "court",
    "ARCHIVE": "archive",
}
LISTING = """query ($id: String!) {
  person(idNumber: $id, purpose: HONOURS, asOf: "2025-06-30") {
    enforcement { entryId }
    sources { source ok stale asOf cacheAgeSeconds error }
  }
}"""
REPORT = """query ($id: String!) {
  vet(subject: {idNumber: $id}, purpose: HONOURS, asOf: "2025-06-30") {
    generatedAt sources { source ok stale asOf cacheAgeSeconds }
  }
}"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def bound_s(stack: Stack, source: str) -> float:
    platform = getattr(stack.settings.platforms, BOUNDS[source])
    return float(min(platform.cache_ttl_s, platform.freshness_s))


async def told(
    stack: Stack, clock: MovableClock, query: str, token: str, subject: str
) -> tuple[list[dict[str, Any]], dt.datetime, dt.datetime]:
    """The sources an answer gives, with the gateway's time before and after asking."""
    before = clock()
    answer = await stack.query(query, token, id=subject)
    after = clock()
    root = answer["data"]["person"] if "person" in answer["data"] else answer["data"]["vet"]
    return root["sources"], before, after


def assert_bounded(stack: Stack, told_: tuple[list[dict[str, Any]], Any, Any]) -> None:
    """Each age is the platform's serving bound, each asOf the answer's time less it."""
    sources, before, after = told_
    for source in sources:
        bound = bound_s(stack, source["source"])
        assert source["cacheAgeSeconds"] == bound, source
        as_of = dt.datetime.fromisoformat(source["asOf"]) + dt.timedelta(seconds=bound)
        assert before <= as_of <= after, source


@pytest.mark.parametrize("query", [LISTING, REPORT], ids=["listing", "report"])
async def test_another_units_lookup_does_not_show_in_what_an_officer_is_told(
    dataset, tmp_path, query
):
    clock = MovableClock(now_shanghai())
    subject, unasked = known.OTHERS[0], known.OTHERS[1]
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, clock=clock, cache=QUIET) as stack:
            officer_a = stack.token("hr_officer", "a", unit=known.UNIT)
            officer_b = stack.token("hr_officer", "b", unit=UNIT_B)
            await stack.query(query, officer_a, id=subject)
            clock.advance(8)
            after_a = await told(stack, clock, query, officer_b, subject)
            nobody_asked = await told(stack, clock, query, officer_b, unasked)
            clock.advance(5)
            admin = await told(stack, clock, query, stack.token("credit_admin", "x"), subject)
            me = stack.token("data_subject", "me", id_number=subject)
            own = await stack.query(query.replace("HONOURS", "SELF_CHECK"), me, id=subject)
    assert_bounded(stack, after_a)
    assert_bounded(stack, nobody_asked)
    assert [s["cacheAgeSeconds"] for s in after_a[0]] == [
        s["cacheAgeSeconds"] for s in nobody_asked[0]
    ]
    # credit_admin is shown the real age of what unit A's question fetched.
    assert max(s["cacheAgeSeconds"] for s in admin[0]) >= 13
    root = own["data"]["person"] if "person" in own["data"] else own["data"]["vet"]
    assert all(s["cacheAgeSeconds"] < 60 for s in root["sources"])


async def test_a_kept_answer_is_re_issued_with_the_bound_of_its_new_time(dataset, tmp_path):
    clock = MovableClock(now_shanghai())
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, clock=clock, cache=QUIET) as stack:
            officer = stack.token("hr_officer", "b", unit=UNIT_B)
            for _ in range(2):  # the second is kept
                await stack.query(REPORT, officer, id=known.PERSON)
            clock.advance(30)
            reissued = await told(stack, clock, REPORT, officer, known.PERSON)
            assert stack.app.state.answers.hits == 1
    assert_bounded(stack, reissued)


async def test_a_stale_stand_in_is_shown_only_to_those_who_may_know_it_was_asked(dataset, tmp_path):
    clock = MovableClock(now_shanghai())
    async with platforms(dataset, tmp_path) as running:
        gateway = gateway_on(running, tmp_path, clock=clock, cache=QUIET, platforms=COURT)
        async with gateway as stack:
            officer_a = stack.token("hr_officer", "a", unit=known.UNIT)
            await stack.query(LISTING, officer_a, id=known.PERSON)
            async with httpx.AsyncClient() as admin:
                await admin.post(f"{stack.urls['court']}/_sim/down")
            clock.advance(400)  # past the court's time to live, within the stale grace
            officer_b = await stack.query(
                LISTING, stack.token("hr_officer", "b", unit=UNIT_B), id=known.PERSON
            )
            admin_view = await stack.query(
                LISTING, stack.token("credit_admin", "x"), id=known.PERSON
            )
    person = officer_b["data"]["person"]
    assert person["enforcement"] is None
    assert [e["extensions"]["code"] for e in officer_b["errors"]] == ["SOURCE_UNAVAILABLE"]
    court = next(s for s in person["sources"] if s["source"] == "COURT")
    assert (court["ok"], court["stale"], court["asOf"], court["cacheAgeSeconds"]) == (
        False, False, None, None,
    )  # fmt: skip
    shown = admin_view["data"]["person"]
    assert [e["entryId"] for e in shown["enforcement"]] == ["E-1"]
    court = next(s for s in shown["sources"] if s["source"] == "COURT")
    assert (court["ok"], court["stale"]) == (False, True)
