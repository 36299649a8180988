"""The cache wired into the gateway, over the real stand-ins (gateway in this process).

Time is moved with an injected clock (real time plus an offset the test sets),
never by waiting. Unless a test says otherwise the backend is the default
in-memory one and the change feeds are read only at start, so the stand-ins'
request counts are the gateway's queries alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import SHANGHAI, now_shanghai
from connectors.cache import CacheKeys, RecordKey
from connectors.records import SubjectKey, SubjectType
from gateway.app import create_app
from gateway.caching import Clock, clock_from_environment
from gateway.settings import ConfigError, load_settings
from tests.schema import dataset as known
from tests.stack import Stack, platforms
from tests.support import log_seal_files, serve

PERSON_QUERY = """query ($id: String!, $p: Purpose!, $d: Date) {
  person(idNumber: $id, purpose: $p, asOf: $d) {
    name creditRecords { recordId publicityEnd } enforcement { entryId }
    sources { source ok stale asOf cacheAgeSeconds error }
  }
}"""
VET_QUERY = """query ($id: String!, $p: Purpose!, $d: Date) {
  vet(subject: {idNumber: $id}, purpose: $p, asOf: $d) {
    reportId verdict findings { ruleId } sources { source ok stale asOf cacheAgeSeconds }
  }
}"""
DATA_PATHS = {
    "credit": ("POST /api/v2/subjects:batchQuery",),
    "court": ("POST /v1/dishonest-debtors/query", "POST /v1/consumption-restrictions/query"),
    "procurement": ("POST /ws/SupplierCreditService",),
}
QUIET = {"poll_interval_s": 3600.0}  # the feeds are read at start only


class MovableClock:
    """The gateway's now: real time plus an offset this test moves (so it runs on)."""

    def __init__(self, start: dt.datetime) -> None:
        self.set(start)

    def __call__(self) -> dt.datetime:
        return now_shanghai() + self.offset

    def set(self, now: dt.datetime) -> None:
        self.offset = now - now_shanghai()

    def advance(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


@contextlib.asynccontextmanager
async def gateway_on(
    running: tuple[Any, dict[str, str], Path],
    tmp_path: Path,
    *,
    clock: Clock | None = None,
    **sections: dict[str, Any],
) -> AsyncIterator[Stack]:
    """A gateway over running stand-ins, with `sections` over the test defaults."""
    standins, urls, config = running
    defaults: dict[str, dict[str, Any]] = {
        "auth": {"dev_keys_dir": str(tmp_path / "keys")},
        "access_log": {"dsn": f"sqlite:///{tmp_path / 'access.db'}"},
        "limits": {"requests_per_minute": 100_000},
        "cache": {"cursor_dir": str(tmp_path / "cursors")},
    }
    merged = {name: {**defaults.get(name, {}), **sections.get(name, {})} for name in defaults}
    merged.update({name: value for name, value in sections.items() if name not in defaults})
    settings = load_settings(config, **merged)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), serve(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Stack(standins, urls, settings, app, client)


async def data_requests(stack: Stack) -> dict[str, int]:
    """Data requests each platform has had (change feeds and tokens left out)."""
    counts = {"archive": stack.app.state.connectors.archive.statements}
    async with httpx.AsyncClient() as admin:
        for name, paths in DATA_PATHS.items():
            seen = (await admin.get(f"{stack.urls[name]}/_sim/stats")).json()["requests"]
            counts[name] = sum(seen.get(path, 0) for path in paths)
    return counts


async def post(url: str, row: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as admin:
        (await admin.post(url, json=row)).raise_for_status()


def credit_row(record_id: str, code: str, kind: str = "PERSON", **changes: Any) -> dict[str, Any]:
    return known._credit(record_id, code, kind, **changes)


async def test_a_record_is_served_until_its_publicity_ends_and_not_a_second_longer(
    dataset, tmp_path
):
    last_day = dt.date(2025, 6, 30)
    end = dt.datetime(2025, 7, 1, tzinfo=SHANGHAI)  # the first instant it no longer applies
    clock = MovableClock(end - dt.timedelta(hours=1))
    subject = known.OTHERS[0]
    key = RecordKey("credit", "subjects", SubjectKey(SubjectType.PERSON, subject))
    async with platforms(dataset, tmp_path) as running:
        await post(
            f"{running[1]['credit']}/_sim/records",
            credit_row("CR-ENDS", subject, publicity_end=last_day.isoformat()),
        )
        async with gateway_on(running, tmp_path, clock=clock, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)

            async def ask(query: str) -> dict[str, Any]:
                return await stack.query(query, hr, id=subject, p="CADRE_SELECTION")

            clock.set(end - dt.timedelta(seconds=2))
            before, report_before = await ask(PERSON_QUERY), await ask(VET_QUERY)
            records = stack.app.state.caching.records
            held = await records.records([key])
            asked = await data_requests(stack)

            clock.advance(2)  # nothing is asked, evicted or cleared: the entry just ends
            assert await records.records([key]) == {}
            after, report_after = await ask(PERSON_QUERY), await ask(VET_QUERY)
            asked_again = await data_requests(stack)

    assert "CR-ENDS" in [r["recordId"] for r in before["data"]["person"]["creditRecords"]]
    assert held[key].fresh_until == end
    assert [r["recordId"] for r in after["data"]["person"]["creditRecords"]] == ["CR-100"]
    assert asked_again["credit"] == asked["credit"] + 1  # fetched again, not served from cache

    # The report built on it ended with it (one CS-10 FLAG per GENERAL record in force;
    # the subject is no civil servant, so CS-00 flags both).
    def flags(report: dict[str, Any]) -> list[str]:
        return sorted(f["ruleId"] for f in report["data"]["vet"]["findings"])

    assert flags(report_before) == ["CS-00", "CS-10", "CS-10"]
    assert flags(report_after) == ["CS-00", "CS-10"]


async def test_a_cached_report_is_a_new_answer_with_its_own_id_and_log_entry(dataset, tmp_path):
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            first = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            asked = await data_requests(stack)
            second = await stack.query(VET_QUERY, hr, id=known.PERSON, p="CADRE_SELECTION")
            assert await data_requests(stack) == asked  # neither level asked a platform
            hits = stack.app.state.caching.counters()["hits"]
    one, two = first["data"]["vet"], second["data"]["vet"]
    assert one["reportId"] != two["reportId"]
    assert (one["verdict"], one["findings"]) == (two["verdict"], two["findings"])
    assert hits >= 1
    with sqlite3.connect(tmp_path / "access.db") as db:
        entries = db.execute(
            "SELECT count(DISTINCT seq) FROM access_log_reports WHERE report_id IN (?, ?)",
            (one["reportId"], two["reportId"]),
        ).fetchone()
    assert entries == (2,)  # each answer its own access-log entry


async def test_old_data_is_fetched_again_and_shown_stale_only_while_its_platform_is_down(
    dataset, tmp_path
):
    clock = MovableClock(now_shanghai())
    court = {"court": {"freshness_s": 60.0, "cache_ttl_s": 300.0}}
    flagged = known.OTHERS[0]  # one GENERAL credit record, nothing in court
    async with platforms(dataset, tmp_path) as running:
        gateway = gateway_on(running, tmp_path, clock=clock, cache=QUIET, platforms=court)
        async with gateway as stack:
            # credit_admin: the one (with the subject) shown a stale stand-in (schema/freshness.py).
            hr = stack.token("credit_admin", "hr", unit=known.UNIT)

            async def ask(query: str, subject: str) -> dict[str, Any]:
                return await stack.query(query, hr, id=subject, p="CADRE_SELECTION", d=known.AS_OF)

            for subject in (known.PERSON, flagged):
                await ask(VET_QUERY, subject)
            asked = await data_requests(stack)
            clock.advance(61)  # past the court's freshness limit, within its time to live
            fresh = await ask(VET_QUERY, flagged)
            refetched = await data_requests(stack)

            async with httpx.AsyncClient() as admin:
                await admin.post(f"{stack.urls['court']}/_sim/down")
            clock.advance(400)  # past every time to live, within the stale grace
            listing = await ask(PERSON_QUERY, known.PERSON)
            verdict = await ask(VET_QUERY, flagged)

    assert refetched["court"] == asked["court"] + 2  # entries and restrictions, once each
    assert refetched["credit"] == asked["credit"]  # within its own limits: still cached
    assert fresh["data"]["vet"]["verdict"] == "FLAGGED"
    person = listing["data"]["person"]
    assert "errors" not in listing
    assert [e["entryId"] for e in person["enforcement"]] == ["E-1"]  # the old answer, shown
    court_status = next(s for s in person["sources"] if s["source"] == "COURT")
    assert (court_status["ok"], court_status["stale"]) == (False, True)
    assert court_status["cacheAgeSeconds"] >= 400
    report = verdict["data"]["vet"]
    assert report["verdict"] == "INCOMPLETE"  # never a verdict on the old answer
    court_report = next(s for s in report["sources"] if s["source"] == "COURT")
    assert court_report["ok"] is False


async def test_a_change_feed_evicts_from_the_memory_cache_within_two_seconds(dataset, tmp_path):
    fast = {"poll_interval_s": 0.2}
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=fast) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)

            async def entries() -> list[str]:
                answer = await stack.query(PERSON_QUERY, hr, id=known.PERSON, p="HONOURS")
                return [e["entryId"] for e in answer["data"]["person"]["enforcement"]]

            assert await entries() == ["E-1"]
            await post(f"{stack.urls['court']}/_sim/entries", known._entry("E-9"))
            async with asyncio.timeout(2):
                while "E-9" not in await entries():
                    pass


async def test_fake_now_moves_the_as_of_date_in_development_only(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDGATE_FAKE_NOW", "2031-02-03T10:00:00+08:00")
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=QUIET) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            answer = await stack.query(
                "query ($id: String!) { vet(subject: {idNumber: $id}, purpose: HONOURS)"
                " { asOf generatedAt } }",
                hr,
                id=known.PERSON,
            )
        production = load_settings(
            running[2],
            gateway={"mode": "production"},
            auth={"jwks_file": "jwks.json", "pseudonym_key_file": "pseudonym.key"},
            access_log=log_seal_files(tmp_path / "seal"),
        )
    report = answer["data"]["vet"]
    assert report["asOf"] == "2031-02-03"
    assert report["generatedAt"].startswith("2031-02-03T10:")
    with pytest.raises(ConfigError, match="CREDGATE_FAKE_NOW"):
        clock_from_environment(production)


async def test_without_a_cache_nothing_is_hashed_or_kept_and_every_request_asks(
    dataset, tmp_path, monkeypatch
):
    digests: list[bytes] = []
    real_digest = CacheKeys._digest

    def counted(self: CacheKeys, label: bytes, text: str) -> str:
        digests.append(label)
        return real_digest(self, label, text)

    monkeypatch.setattr(CacheKeys, "_digest", counted)
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache={"backend": "none"}) as stack:
            hr = stack.token("hr_officer", "hr", unit=known.UNIT)
            answers = []
            for query in (PERSON_QUERY, VET_QUERY, PERSON_QUERY, VET_QUERY):
                answers.append(await stack.query(query, hr, id=known.PERSON, p="CADRE_SELECTION"))
                if len(answers) == 2:
                    asked = await data_requests(stack)
            asked_again = await data_requests(stack)
    assert all("errors" not in answer for answer in answers), answers
    assert answers[0]["data"]["person"]["name"] == answers[2]["data"]["person"]["name"]
    assert answers[1]["data"]["vet"]["verdict"] == answers[3]["data"]["vet"]["verdict"]
    assert all(asked_again[name] > asked[name] for name in asked), (asked, asked_again)
    assert digests == []  # no key or tag made for a cache that keeps nothing
