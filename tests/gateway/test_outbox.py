"""The outbox with real processes: `credgate serve` gateways over the stand-ins.

What the credit stand-in counts (`/_sim/feedback`: one entry per applied key;
`/_sim/deliveries`: arrivals per Idempotency-Key, replays, keys in flight at
the same time) is compared with the outbox rows the gateway keeps. Every wait
is for a state the test reads (stand-in counts, outbox rows), bounded only
against a hang.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from auth.devkeys import mint_token
from tests.gateway.outbox_harness import (
    FAST_RETRIES,
    all_delivered,
    eventually,
    gateway_config,
    gateway_process,
    outbox_rows,
    rows_when,
    sim,
)
from tests.schema import dataset as known
from tests.stack import platforms

VET_BATCH = (
    "query ($s: [SubjectInput!]!) "
    '{ vetBatch(subjects: $s, purpose: CADRE_SELECTION, asOf: "2025-06-30") { reportId } }'
)
RECORD = """mutation ($r: ID!, $why: String, $m: String) {
  recordUsage(reportId: $r, outcome: NOT_ADOPTED, reason: $why, measure: $m) {
    reportId outcome reason measure queued delivery feedbackId
  }
}"""
READ_BACK = """query ($r: ID!) {
  usageFeedback(reportId: $r) { outcome reason measure queued delivery feedbackId acknowledgedAt }
}"""
REASON, MEASURE = "有未结清的行政处罚", "暂缓提拔"
REPORTS = 200
# Attempts that outlast a busy test machine's pauses (the stand-ins share the
# test's event loop); the outbox lease must outlast them twice.
PATIENT = {
    "CREDGATE_PLATFORMS__CREDIT__TIMEOUT_S": "10",
    "CREDGATE_PLATFORMS__CREDIT__ATTEMPT_TIMEOUT_S": "10",
}


def settings_for(tmp_path: Path, platform_config: Path, dsn: str, **outbox: Any) -> Path:
    return gateway_config(
        platform_config,
        tmp_path / "gateway.toml",
        auth={"dev_keys_dir": str(tmp_path / "keys")},
        access_log={"dsn": dsn},
        limits={"requests_per_minute": 100_000},
        outbox={**FAST_RETRIES, "lease_s": 20, **outbox},
    )


async def ask(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body["errors"]
    return body


async def vetted(url: str, token: str) -> list[str]:
    """REPORTS report ids for the token's actor (five batches over the known persons)."""
    subjects = [{"idNumber": number} for number in known.OTHERS]
    ids: list[str] = []
    while len(ids) < REPORTS:
        answer = await ask(url, token, VET_BATCH, s=subjects)
        ids.extend(report["reportId"] for report in answer["data"]["vetBatch"])
    assert len(set(ids)) == len(ids) >= REPORTS
    return ids[:REPORTS]


async def record(urls: list[str], token: str, report_ids: list[str]) -> list[dict[str, Any]]:
    """One recordUsage call per report (20 at a time), spread over the gateways."""
    gate = asyncio.Semaphore(20)

    async def one(n: int, report_id: str) -> dict[str, Any]:
        async with gate:
            answer = await ask(
                urls[n % len(urls)], token, RECORD, r=report_id, why=REASON, m=MEASURE
            )
        recorded: dict[str, Any] = answer["data"]["recordUsage"]
        return recorded

    return list(await asyncio.gather(*(one(n, rid) for n, rid in enumerate(report_ids))))


def applied_once_each(
    feedback: list[dict[str, Any]], rows: list[tuple[Any, ...]], report_ids: list[str]
) -> None:
    """Each outbox item applied exactly once at the platform, under its own key."""
    by_key = {entry["idempotency_key"]: entry for entry in feedback}
    assert len(feedback) == len(by_key) == len(rows) == len(report_ids)
    assert sorted(entry["query_ref"] for entry in feedback) == sorted(report_ids)
    assert {row[0]: row[4] for row in rows} == {k: e["feedback_id"] for k, e in by_key.items()}


def sent_only_under_a_lease(deliveries: dict[str, Any], rows: list[tuple[Any, ...]]) -> None:
    """No item reached the platform more often than it was claimed, never two sends
    of one item at the same time; repeats (after a lost answer) were answered as such."""
    claims = {row[0]: row[3] for row in rows}
    received = deliveries["received"]
    assert set(received) == set(claims)
    assert all(received[key] <= claims[key] for key in received)
    assert deliveries["replayed"] == sum(received.values()) - len(received)
    assert deliveries["overlaps"] == 0


async def test_feedback_recorded_while_the_platform_is_down_reaches_it_once_each(tmp_path):
    dataset = known.write_dataset(tmp_path / "dataset")
    dsn = f"sqlite:///{tmp_path / 'access.db'}"
    async with platforms(dataset, tmp_path) as (_, urls, platform_config):
        credit = urls["credit"]
        config = settings_for(tmp_path, platform_config, dsn)
        async with gateway_process(config, tmp_path / "gateway.log", **PATIENT) as (_, url):
            token = mint_token(tmp_path / "keys", "hr_officer", "hr", unit=known.UNIT)
            report_ids = await vetted(url, token)
            await sim(credit, "POST", "/_sim/down")
            answers = await record([url], token, report_ids)
            while_down = outbox_rows(dsn)
            # The worker tried (and was turned away) while the platform was down.
            refused = await eventually(
                lambda: sim(credit, "GET", "/_sim/stats"),
                lambda s: s["requests"].get("POST /api/v2/usage-feedback", 0) >= 1,
            )
            before_up = await sim(credit, "GET", "/_sim/deliveries")
            await sim(credit, "POST", "/_sim/up")
            rows = await rows_when(dsn, all_delivered(REPORTS))
            feedback = await sim(credit, "GET", "/_sim/feedback")
            deliveries = await sim(credit, "GET", "/_sim/deliveries")
            read_back = await ask(url, token, READ_BACK, r=report_ids[0])

    assert len(answers) == REPORTS
    assert all(a["queued"] and a["delivery"] == "QUEUED" for a in answers)
    assert {(a["reason"], a["measure"], a["feedbackId"]) for a in answers} == {
        (REASON, MEASURE, None)
    }
    assert sorted(row[1] for row in while_down) == sorted(report_ids)
    assert {row[2] for row in while_down} == {"QUEUED"}
    assert refused["requests"]["POST /api/v2/usage-feedback"] >= 1
    assert before_up["received"] == {}
    applied_once_each(feedback, rows, report_ids)
    assert {(e["reason"], e["measure"], e["outcome"]) for e in feedback} == {
        (REASON, MEASURE, "NOT_ADOPTED")
    }
    sent_only_under_a_lease(deliveries, rows)
    (back,) = read_back["data"]["usageFeedback"]
    assert back["queued"] is False
    assert back["delivery"] == "DELIVERED"
    assert back["feedbackId"] == next(
        e["feedback_id"] for e in feedback if e["query_ref"] == report_ids[0]
    )
    assert back["acknowledgedAt"] is not None
    turned_away = refused["requests"]["POST /api/v2/usage-feedback"]
    print(
        f"\n{REPORTS} recordUsage calls while down; {turned_away} attempts turned away"
        f" before up; {len(feedback)} applied, "
        f"{sum(deliveries['received'].values())} arrivals, {deliveries['overlaps']} overlaps"
    )


async def test_a_gateway_killed_mid_delivery_delivers_each_item_once_after_restart(tmp_path):
    dataset = known.write_dataset(tmp_path / "dataset")
    dsn = f"sqlite:///{tmp_path / 'access.db'}"
    batch = 32
    async with platforms(dataset, tmp_path) as (_, urls, platform_config):
        credit = urls["credit"]
        config = settings_for(tmp_path, platform_config, dsn, batch=batch)
        log = tmp_path / "gateway.log"
        async with gateway_process(config, log, **PATIENT) as (first, url):
            token = mint_token(tmp_path / "keys", "hr_officer", "hr", unit=known.UNIT)
            report_ids = await vetted(url, token)
            await sim(credit, "POST", "/_sim/deliveries/hold")
            # All outcomes in one request commit together: the worker claims a full batch
            # at once, and each delivery of it is held at the platform once applied.
            aliased = " ".join(
                f'u{n}: recordUsage(reportId: "{rid}", outcome: ADOPTED) {{ queued }}'
                for n, rid in enumerate(report_ids)
            )
            recorded = await ask(url, token, f"mutation {{ {aliased} }}")
            await eventually(
                lambda: sim(credit, "GET", "/_sim/deliveries"), lambda d: d["held"] == batch
            )
            first.send_signal(signal.SIGKILL)
            await first.wait()
        at_kill = await sim(credit, "GET", "/_sim/deliveries")
        await sim(credit, "POST", "/_sim/deliveries/release")
        await eventually(
            lambda: sim(credit, "GET", "/_sim/deliveries"), lambda d: not d["in_flight"]
        )
        leased = outbox_rows(dsn)
        async with gateway_process(config, log, **PATIENT):
            rows = await rows_when(dsn, all_delivered(REPORTS))
            feedback = await sim(credit, "GET", "/_sim/feedback")
            deliveries = await sim(credit, "GET", "/_sim/deliveries")

    assert first.returncode == -signal.SIGKILL
    assert [a["queued"] for a in recorded["data"].values()] == [True] * REPORTS
    in_flight_at_kill = set(at_kill["received"])
    assert len(in_flight_at_kill) == batch
    assert set(at_kill["received"].values()) == {1}
    dead_owner = {row[5] for row in leased if row[0] in in_flight_at_kill}
    assert len(dead_owner) == 1  # the killed worker's leases, left to run out
    assert {row[2] for row in leased} == {"QUEUED"}
    applied_once_each(feedback, rows, report_ids)
    received = Counter(deliveries["received"])
    # Sent again after the lease ran out; the key made the repeat count once.
    assert all(received[key] >= 2 for key in in_flight_at_kill)
    sent_only_under_a_lease(deliveries, rows)
    assert (dead_owner & {row[5] for row in rows}) == set()
    print(
        f"\n{REPORTS} items, {batch} in flight at SIGKILL; after restart {len(feedback)} applied,"
        f" {sum(received.values())} arrivals, {deliveries['replayed']} answered as repeats"
    )


async def test_two_replicas_on_one_postgres_never_send_one_item_together(tmp_path, postgres_dsn):
    dataset = known.write_dataset(tmp_path / "dataset")
    async with platforms(dataset, tmp_path) as (_, urls, platform_config):
        credit = urls["credit"]
        config = settings_for(tmp_path, platform_config, postgres_dsn, batch=8)
        # Each delivery stays in flight 30 ms at the platform: two sends of one item
        # by the two replicas would overlap there.
        await sim(credit, "POST", "/_sim/deliveries/delay?ms=30")
        async with (
            gateway_process(config, tmp_path / "a.log", **PATIENT) as (_, a),
            gateway_process(config, tmp_path / "b.log", **PATIENT) as (_, b),
        ):
            token = mint_token(tmp_path / "keys", "hr_officer", "hr", unit=known.UNIT)
            report_ids = await vetted(a, token)
            await record([a, b], token, report_ids)
            rows = await rows_when(postgres_dsn, all_delivered(REPORTS))
            feedback = await sim(credit, "GET", "/_sim/feedback")
            deliveries = await sim(credit, "GET", "/_sim/deliveries")

    applied_once_each(feedback, rows, report_ids)
    sent_only_under_a_lease(deliveries, rows)
    by_owner = Counter(row[5] for row in rows)
    assert len(by_owner) == 2, by_owner  # both replicas delivered a share
    print(
        f"\n{REPORTS} items over two replicas: delivered {sorted(by_owner.values())},"
        f" {sum(deliveries['received'].values())} arrivals, {deliveries['overlaps']} overlaps"
    )
