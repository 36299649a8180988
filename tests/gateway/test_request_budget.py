"""One request cannot hold the gateway: subjects bounded per request, list sizes
weighed in the cost, and a maximal batch sharing the event loop with everyone else.

The refusals are checked where they matter: no platform asked, no access-log
entry written. Responsiveness is measured in loop turns, not seconds: a
heartbeat task counts the vetting evaluations that ran between two of its own
turns, which is the same on a fast machine and a busy one.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from schema.pacing import PER_TURN
from schema.vet import MAX_BATCH
from schema.vetting import evaluate
from tests.stack import Stack, running_stack

QUIET = {"poll_interval_s": 3600.0}  # change feeds read at start only: counts are ours
REPORT = "verdict reportId findings { ruleId effect until } sources { source ok }"


def persons(dataset: Path, count: int) -> list[dict[str, str]]:
    lines = (dataset / "credit_platform" / "subjects.jsonl").read_text(encoding="utf-8")
    codes = [row["code"] for row in map(json.loads, lines.splitlines()) if row["type"] == "PERSON"]
    assert len(codes) >= count
    return [{"idNumber": code} for code in codes[:count]]


def log_entries(stack: Stack) -> int:
    path = stack.settings.access_log.dsn.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT count(*) FROM access_log").fetchone()
    return int(count)


async def assert_nothing_ran(stack: Stack, answer: dict[str, Any], code: str) -> None:
    assert answer.get("data") is None  # refused as a whole: null or no data member
    [error] = answer["errors"]
    assert error["extensions"]["code"] == code
    assert set((await stack.upstream_counts()).values()) == {0}
    assert log_entries(stack) == 0


async def test_sixty_aliases_over_a_thousand_subjects_are_refused_before_anything_runs(
    small_dataset: Path, tmp_path: Path
) -> None:
    subjects = persons(small_dataset, MAX_BATCH)
    aliases = " ".join(
        f"a{n}: vetBatch(subjects: $s, purpose: CADRE_SELECTION) {{ verdict }}" for n in range(60)
    )
    query = f"query ($s: [SubjectInput!]!) {{ {aliases} }}"
    async with running_stack(small_dataset, tmp_path, cache=QUIET) as stack:
        response = await stack.post(query, s=subjects)
        assert len(response.request.content) < 64_000  # it passes the body limit
        answer = response.json()
        await assert_nothing_ran(stack, answer, "BATCH_TOO_LARGE")
    message = answer["errors"][0]["message"]
    assert "60000 subjects" in message
    assert f"at most {MAX_BATCH}" in message
    assert answer["errors"][0]["extensions"]["limit"] == MAX_BATCH


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "query ($s: [SubjectInput!]!, $id: String!) {"
            " vetBatch(subjects: $s, purpose: HONOURS) { verdict }"
            " person(idNumber: $id, purpose: HONOURS) { name } }",
            id="a full batch and one person root",
        ),
        pytest.param(
            "query ($s: [SubjectInput!]!, $id: String!) { ...Batch"
            " again: vet(subject: {idNumber: $id}, purpose: HONOURS) { verdict } }"
            " fragment Batch on Query { vetBatch(subjects: $s, purpose: HONOURS) { verdict } }",
            id="a full batch in a fragment and one vet",
        ),
    ],
)
async def test_roots_count_with_batches_however_they_are_spread(
    small_dataset: Path, tmp_path: Path, query: str
) -> None:
    subjects = persons(small_dataset, MAX_BATCH)
    async with running_stack(small_dataset, tmp_path, cache=QUIET) as stack:
        answer = await stack.query(query, s=subjects, id=subjects[0]["idNumber"])
        await assert_nothing_ran(stack, answer, "BATCH_TOO_LARGE")
    assert f"{MAX_BATCH + 1} subjects" in answer["errors"][0]["message"]


async def test_the_cost_weighs_list_arguments_by_their_size(
    small_dataset: Path, tmp_path: Path
) -> None:
    query = "query ($s: [SubjectInput!]!) { vetBatch(subjects: $s, purpose: HONOURS) { %s } }"
    async with running_stack(
        small_dataset, tmp_path, limits={"max_cost": 5_000}, cache=QUIET
    ) as stack:
        many = await stack.query(query % REPORT, s=persons(small_dataset, 400))
        await assert_nothing_ran(stack, many, "LIMIT_EXCEEDED")
        literal = ", ".join(f'{{idNumber: "{p["idNumber"]}"}}' for p in persons(small_dataset, 400))
        inline = await stack.query(
            f"{{ vetBatch(subjects: [{literal}], purpose: HONOURS) {{ {REPORT} }} }}"
        )
        await assert_nothing_ran(stack, inline, "LIMIT_EXCEEDED")
        few = await stack.query(query % REPORT, s=persons(small_dataset, 2))
    assert "above the limit of 5000" in many["errors"][0]["message"]
    assert "errors" not in few, few["errors"]
    assert len(few["data"]["vetBatch"]) == 2


async def test_a_maximal_batch_shares_the_loop_and_healthz_keeps_answering(
    small_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluations = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal evaluations
        evaluations += 1
        return evaluate(*args, **kwargs)

    monkeypatch.setattr("schema.vet.evaluate", counted)
    subjects = persons(small_dataset, MAX_BATCH)
    query = (
        "query ($s: [SubjectInput!]!) { vetBatch(subjects: $s, purpose: CADRE_SELECTION) { %s } }"
    )
    async with running_stack(small_dataset, tmp_path, cache=QUIET) as stack:
        batch = asyncio.create_task(stack.post(query % REPORT, s=subjects))
        most_per_turn = 0
        health: list[int] = []

        async def heartbeat() -> None:
            nonlocal most_per_turn
            while not batch.done():
                before = evaluations
                await asyncio.sleep(0)  # one turn of the loop
                most_per_turn = max(most_per_turn, evaluations - before)

        async def healthz() -> None:
            async with httpx.AsyncClient(base_url=str(stack.client.base_url)) as client:
                while not batch.done():
                    health.append((await client.get("/healthz")).status_code)

        await asyncio.gather(heartbeat(), healthz(), batch)
        answer = batch.result().json()
    assert "errors" not in answer, answer["errors"][:3]
    assert len(answer["data"]["vetBatch"]) == MAX_BATCH
    assert evaluations == MAX_BATCH
    # Released by the pacer at most PER_TURN a turn; a heartbeat's two turns may
    # straddle two releases.
    assert most_per_turn <= 2 * PER_TURN
    assert len(health) >= 2
    assert set(health) == {200}
