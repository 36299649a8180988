"""Level 3: kept answers re-issued without GraphQL — new ids, new times, own log entries.

The first ask fills levels 1 and 2 (the platforms were asked: nothing is kept),
the second rests on cached data only (kept), the third is a kept answer
re-issued. Time moves with the injected clock; nothing waits.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from auth.policy import load_policy
from auth.principal import Principal, Role
from connectors.base import now_shanghai
from connectors.cache import Stored
from connectors.cache_backends import MemoryCache
from connectors.cache_rules import CacheKeys
from gateway.answer_cache import AnswerCache, single_query
from gateway.graphql_http import GraphQLRequest
from tests.gateway.test_caching import (
    PERSON_QUERY,
    QUIET,
    VET_QUERY,
    MovableClock,
    credit_row,
    data_requests,
    gateway_on,
    post,
)
from tests.schema import dataset as known
from tests.stack import Stack, platforms

FULL_VET = """query ($id: String!, $p: Purpose!) {
  vet(subject: {idNumber: $id}, purpose: $p) {
    reportId generatedAt verdict findings { ruleId summary }
    sources { source asOf cacheAgeSeconds }
  }
}"""


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def logged(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(actor, report id, fields) of every logged report, in log order."""
    with sqlite3.connect(tmp_path / "access.db") as db:
        return db.execute(
            "SELECT e.actor, r.report_id, e.fields FROM access_log_reports r "
            "JOIN access_log e ON e.chain_id = r.chain_id AND e.seq = r.seq ORDER BY e.seq"
        ).fetchall()


def without_volatile(text: str) -> str:
    """A `vet` answer's text with what each answer makes anew replaced by "-"."""
    answer = json.loads(text)
    report = answer["data"]["vet"]
    volatile = [answer["extensions"]["requestId"], report["reportId"], report["generatedAt"]]
    # For an officer, asOf is the answer's time less the platform's serving bound.
    volatile += [
        source[name] for source in report["sources"] for name in ("asOf", "cacheAgeSeconds")
    ]
    for value in volatile:
        if value is not None:
            text = text.replace(json.dumps(value), '"-"')
    return text


async def readyz(stack: Stack, token: str) -> Any:
    """`/readyz` with its detail (the cache's counters need a token)."""
    return await stack.client.get("/readyz", headers={"Authorization": f"Bearer {token}"})


def hits(stack: Stack) -> int:
    answers = stack.app.state.answers
    assert answers is not None
    return int(answers.hits)


async def test_a_kept_answer_is_a_new_answer_each_time(dataset, tmp_path):
    clock = MovableClock(now_shanghai())
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, clock=clock, cache=QUIET) as stack:
            # credit_admin: it is shown the real fetch times and ages (schema/freshness.py).
            first_hr = stack.token("credit_admin", "hr-1", unit=known.UNIT)
            second_hr = stack.token("credit_admin", "hr-2", unit=known.UNIT)
            ask = {"id": known.PERSON, "p": "CADRE_SELECTION"}
            filled = [await stack.query(FULL_VET, first_hr, **ask) for _ in range(2)]
            asked = await data_requests(stack)
            clock.advance(7)
            reissued = await stack.query(FULL_VET, second_hr, **ask)
            assert hits(stack) == 1
            assert await data_requests(stack) == asked  # not a platform asked

    kept, new = filled[1]["data"]["vet"], reissued["data"]["vet"]
    assert new["reportId"] not in {answer["data"]["vet"]["reportId"] for answer in filled}
    assert (new["verdict"], new["findings"]) == (kept["verdict"], kept["findings"])
    made = dt.datetime.fromisoformat(new["generatedAt"])
    assert made - dt.datetime.fromisoformat(kept["generatedAt"]) >= dt.timedelta(seconds=7)
    for old, now in zip(kept["sources"], new["sources"], strict=True):
        assert now["asOf"] == old["asOf"]
        age = (made - dt.datetime.fromisoformat(now["asOf"])).total_seconds()
        assert now["cacheAgeSeconds"] == pytest.approx(age)
        assert now["cacheAgeSeconds"] >= old["cacheAgeSeconds"] + 7
    assert reissued["extensions"]["requestId"] != filled[1]["extensions"]["requestId"]
    assert reissued["extensions"]["policyVersion"] == filled[1]["extensions"]["policyVersion"]
    # Its own log entry, naming this caller, with the report under its new id.
    entries = logged(tmp_path)
    assert [(actor, report) for actor, report, _ in entries[-1:]] == [("hr-2", new["reportId"])]
    assert entries[-1][2] == entries[-2][2]  # the same fields returned
    assert len(entries) == 3


async def test_answers_that_rest_on_anything_but_the_cache_are_not_kept(dataset, tmp_path):
    history = """query ($id: String!) { person(idNumber: $id, purpose: SELF_CHECK) {
      name accessHistory { purpose } } }"""
    sources = "{ sources { source ok } }"
    bad = '{ vet(subject: {idNumber: "123"}, purpose: HONOURS) { verdict } }'
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            admin = stack.token("credit_admin", "admin")
            myself = stack.token("data_subject", "me", id_number=known.PERSON)
            for _ in range(3):
                await stack.query(history, myself, id=known.PERSON)  # reads the access log
                await stack.query(sources, admin)  # asks the platforms now
                await stack.query(bad, admin)  # an error
            answers = stack.app.state.answers
            assert (answers.stored, answers.hits) == (0, 0)
            # A person query resting on cached data only is kept from its second ask.
            for _ in range(3):
                await stack.query(PERSON_QUERY, admin, id=known.PERSON, p="CADRE_SELECTION")
            assert (answers.stored, answers.hits) == (1, 1)


async def test_an_eviction_drops_the_kept_answers_resting_on_it(dataset, tmp_path):
    subject = known.OTHERS[0]  # one GENERAL credit record
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)

            async def records() -> list[str]:
                answer = await stack.query(PERSON_QUERY, hr, id=subject, p="HONOURS", d=known.AS_OF)
                return [r["recordId"] for r in answer["data"]["person"]["creditRecords"]]

            before = [await records() for _ in range(3)]
            assert hits(stack) == 1
            await post(f"{stack.urls['credit']}/_sim/records", credit_row("CR-NEW", subject))
            # What an objection filed through the gateway does, and a heard change too.
            await stack.app.state.caching.sources.evict_subjects([subject])
            after = await records()
            assert hits(stack) == 1

    assert before == [["CR-100"]] * 3
    assert sorted(after) == ["CR-100", "CR-NEW"]


async def test_a_kept_answer_is_not_given_past_its_datas_freshness_limit(dataset, tmp_path):
    clock = MovableClock(now_shanghai())
    court = {"court": {"freshness_s": 60.0, "cache_ttl_s": 300.0}}
    async with platforms(dataset, tmp_path) as running:
        gateway = gateway_on(running, tmp_path, clock=clock, cache=QUIET, platforms=court)
        async with gateway as stack:
            hr = stack.token("credit_admin", "hr", unit=known.UNIT)  # shown the real ages

            async def ages() -> list[float]:
                answer = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
                return [s["cacheAgeSeconds"] for s in answer["data"]["vet"]["sources"]]

            for _ in range(3):
                await ages()
            asked = await data_requests(stack)
            clock.advance(59)
            within = await ages()
            clock.advance(2)  # the court's data is past its limit: fetched again
            past = await ages()
            refetched = await data_requests(stack)
            assert hits(stack) == 2

    assert min(within) >= 59
    assert refetched["court"] == asked["court"] + 2  # entries and restrictions
    assert min(past) < 1  # the court's part fetched anew


async def test_a_kept_answer_is_not_given_when_its_access_cannot_be_logged(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            for _ in range(2):
                await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            await stack.app.state.services.access_log.close()
            answer = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            assert hits(stack) == 1

    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert known.PERSON_NAME not in json.dumps(answer, ensure_ascii=False)


def test_callers_who_may_see_differently_never_share_a_key():
    answers = AnswerCache(
        MemoryCache(),
        CacheKeys(b"k" * 32, version="test"),
        policy=load_policy(b"p" * 32),
        rule_set_version="rules-1",
        clock=now_shanghai,
    )

    def key(principal: Principal | None, subject: str = known.PERSON) -> str:
        body = json.dumps({"query": "{ x }", "variables": {"id": subject}}).encode()
        asked = GraphQLRequest(
            query="{ x }",
            variables={"id": subject},
            operation_name=None,
            extensions=None,
            body=body,
        )
        return answers.question(principal, asked).key

    def caller(*roles: Role, sub: str = "a", **claims: Any) -> Principal:
        return Principal(subject=sub, roles=roles, **claims)

    hr = caller(Role.HR_OFFICER, unit=known.UNIT)
    others = [
        None,
        caller(Role.HR_OFFICER, unit=known.SUPPLIER),
        caller(Role.HR_OFFICER),
        caller(Role.AUDITOR, unit=known.UNIT),
        caller(Role.HR_OFFICER, Role.AUDITOR, unit=known.UNIT),
        caller(Role.AUDITOR, Role.HR_OFFICER, unit=known.UNIT),
        caller(Role.DATA_SUBJECT, id_number=known.PERSON),
        caller(Role.DATA_SUBJECT, id_number=known.OTHERS[0]),
    ]
    keys = {key(hr), *(key(other) for other in others)}
    assert len(keys) == 1 + len(others)
    assert key(caller(Role.HR_OFFICER, sub="b", unit=known.UNIT)) == key(hr)
    assert key(hr, known.OTHERS[0]) != key(hr)
    assert known.PERSON not in key(hr)


def asking(query, name=None):
    return GraphQLRequest(
        query=query, variables=None, operation_name=name, extensions=None, body=b""
    )


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("mutation { x }", None),
        ("query A { x } query B { y }", None),  # which one: no operationName
        ("query A { x }", "B"),
        ("{ x", None),
    ],
)
def test_only_requests_asking_one_query_may_be_kept(query, name):
    assert not single_query(asking(query, name))
    assert single_query(asking("query A { x } mutation B { y }", "A"))


async def test_kept_answers_have_a_bound_of_their_own(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache={**QUIET, "max_answers": 1}) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            for subject in (known.PERSON, known.PERSON, known.OTHERS[0], known.OTHERS[0]):
                await stack.query(VET_QUERY, hr, id=subject, p="CADRE_SELECTION")
            first = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            assert hits(stack) == 0  # pushed out by the second subject's answer
            again = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            ready = await stack.client.get("/readyz", headers={"Authorization": f"Bearer {hr}"})
            counters = ready.json()["cache"]["counters"]
            records = counters["entries"]

    assert again["data"]["vet"]["findings"] == first["data"]["vet"]["findings"]
    assert (counters["answer_hits"], counters["answers_kept"], counters["answers"]) == (1, 3, 1)
    assert records > 1  # level 1 and 2 are not bound by it


async def test_level_three_can_be_turned_off(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache={**QUIET, "max_answers": 0}) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            answers = [
                await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
                for _ in range(3)
            ]
            assert stack.app.state.answers is None
    assert len({answer["data"]["vet"]["reportId"] for answer in answers}) == 3


async def test_a_reissued_answer_has_the_bytes_the_endpoint_would_send(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            ask = {"id": known.PERSON, "p": "CADRE_SELECTION"}
            sent = [await stack.post(FULL_VET, hr, **ask) for _ in range(3)]
            assert hits(stack) == 1

    kept, reissued = (without_volatile(response.text) for response in sent[1:])
    assert reissued == kept
    assert sent[2].headers["content-type"] == sent[1].headers["content-type"]


async def test_a_kept_answer_is_sent_in_the_media_type_asked_for(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            ask = {"id": known.PERSON, "p": "CADRE_SELECTION"}
            for _ in range(2):
                await stack.query(FULL_VET, hr, **ask)
            reissued = await stack.client.post(
                "/graphql",
                json={"query": FULL_VET, "variables": ask},
                headers={
                    "Authorization": f"Bearer {hr}",
                    "Accept": "application/graphql-response+json",
                },
            )
            assert hits(stack) == 1
    assert reissued.status_code == 200
    assert reissued.headers["content-type"] == "application/graphql-response+json"
    assert reissued.headers["cache-control"] == "no-store"
    assert reissued.headers["x-request-id"] == reissued.json()["extensions"]["requestId"]


SPELLINGS = [
    FULL_VET,
    "# the HR screen's query\n" + " ".join(FULL_VET.split()).replace(" {", "{").replace("{ ", "{"),
    FULL_VET.replace("reportId generatedAt", "reportId,\n\tgeneratedAt").replace("  ", "    "),
]


async def test_spellings_of_one_request_share_a_kept_answer(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            headers = {"Authorization": f"Bearer {hr}"}
            bodies = [
                {"query": SPELLINGS[0], "variables": {"id": known.PERSON, "p": "CADRE_SELECTION"}},
                {"variables": {"p": "CADRE_SELECTION", "id": known.PERSON}, "query": SPELLINGS[1]},
                {"query": SPELLINGS[2], "variables": {"p": "CADRE_SELECTION", "id": known.PERSON}},
            ]
            sent = [
                await stack.client.post("/graphql", json=body, headers=headers) for body in bodies
            ]
            assert hits(stack) == 1  # the third spelling got the second's kept answer
            assert stack.app.state.answers.stored == 1

    assert without_volatile(sent[2].text) == without_volatile(sent[1].text)


async def test_an_answer_above_the_entry_cap_is_not_kept(dataset, tmp_path):
    cache = {**QUIET, "max_answer_entry_bytes": 1_024}
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=cache) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            answers = [
                await stack.query(FULL_VET, hr, id=known.PERSON, p="CADRE_SELECTION")
                for _ in range(3)
            ]
            counters = (await readyz(stack, hr)).json()["cache"]["counters"]
    assert len(json.dumps(answers[1])) > 1_024
    assert counters["answers_too_large"] == 2  # the second and third asks
    assert (counters["answers_kept"], counters["answer_hits"], counters["answers"]) == (0, 0, 0)
    assert len({answer["data"]["vet"]["reportId"] for answer in answers}) == 3


async def test_kept_answers_are_bounded_by_bytes(dataset, tmp_path):
    cache = {**QUIET, "max_answer_bytes": 4_000}
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=cache) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            held = []
            for subject in (known.PERSON, *known.OTHERS[:4]):
                for _ in range(2):
                    await stack.query(FULL_VET, hr, id=subject, p="CADRE_SELECTION")
                counters = (await readyz(stack, hr)).json()["cache"]["counters"]
                held.append((counters["answers"], counters["answer_bytes"]))
            kept = counters["answers_kept"]
    assert kept == 5
    assert all(size <= 4_000 for _, size in held)
    assert held[-1][0] < 5  # the oldest went to make room
    assert held[-1][0] >= 1


async def test_memory_cache_weights_bound_it_and_leave_with_their_entries():
    now = now_shanghai()
    later = now + dt.timedelta(hours=1)
    memory = MemoryCache(100, max_bytes=10, weigh=lambda value: len(str(value)))

    def item(key: str, value: str, tag: str) -> Stored:
        return Stored(
            key=key, value=value, fetched_at=now, fresh_until=later, expires_at=later, tags=(tag,)
        )

    await memory.put_many([item("a", "aaaa", "t1"), item("b", "bbbb", "t2")], now)
    assert (len(memory), memory.bytes) == (2, 8)
    await memory.put_many([item("c", "cccc", "t3")], now)  # 12 > 10: "a" goes
    assert (await memory.get_many(["a", "b", "c"], now))[0] is None
    assert (len(memory), memory.bytes) == (2, 8)
    await memory.evict(["t2"], now)
    assert (len(memory), memory.bytes) == (1, 4)
    await memory.put_many([item("c", "cc", "t3")], now)  # replaced, not counted twice
    assert memory.bytes == 2
    await memory.clear()
    assert (len(memory), memory.bytes) == (0, 0)
    with pytest.raises(ValueError, match="together"):
        MemoryCache(10, max_bytes=10)
