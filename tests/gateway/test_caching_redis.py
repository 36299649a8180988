"""The Redis tier of a gateway: keys that do not fit read as misses; Redis down degrades.

The gateways run in this process over the real stand-ins and the Redis on
127.0.0.1:6379 (the tests skip, saying so, when it is not there). Gateways
asking about the same data share one development key folder, so their cache
keys agree; their entries are sealed with the key files each test writes.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.test_cache_fixtures import Proxy, require_redis
from tests.gateway.test_caching import PERSON_QUERY, data_requests, gateway_on, post
from tests.schema import dataset as known
from tests.stack import Stack, platforms


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


@pytest.fixture
def redis_url() -> str:
    return require_redis()


def key_file(folder: Path, name: str) -> str:
    path = folder / f"{name}.key"
    path.write_text(secrets.token_hex(32), encoding="ascii")
    return str(path)


async def ask(stack: Stack, subject: str = known.PERSON) -> dict[str, Any]:
    hr = stack.token("hr_officer", "hr", unit=known.UNIT)
    return await stack.query(PERSON_QUERY, hr, id=subject, p="CADRE_SELECTION", d=known.AS_OF)


def cache(url: str, current: str, *previous: str) -> dict[str, Any]:
    return {
        "backend": "redis",
        "redis_url": url,
        "encryption_key_file": current,
        "previous_key_files": list(previous),
        "poll_interval_s": 3600.0,
    }


async def test_a_wrong_or_rotated_out_key_reads_as_a_miss_and_a_rotated_one_still_opens(
    dataset, tmp_path, redis_url
):
    old, new, other = (key_file(tmp_path, name) for name in ("old", "new", "other"))
    async with platforms(dataset, tmp_path) as running:
        async with gateway_on(running, tmp_path, cache=cache(redis_url, old)) as first:
            filled = await ask(first)
            before = await data_requests(first)
        # A replica after the rotation: new key current, the old one kept to open entries.
        async with gateway_on(running, tmp_path, cache=cache(redis_url, new, old)) as rotated:
            opened = await ask(rotated)
            after_rotation = await data_requests(rotated)
        # A replica without the old key (another deployment's, or rotated out).
        async with gateway_on(running, tmp_path, cache=cache(redis_url, other)) as stranger:
            missed = await ask(stranger)
            after_stranger = await data_requests(stranger)
            counters = stranger.app.state.caching.counters()

    assert "errors" not in filled
    records = filled["data"]["person"]["creditRecords"]
    for answer in (opened, missed):
        assert answer["data"]["person"]["creditRecords"] == records
        assert "errors" not in answer
    # Stand-in counts run on across gateways; the archive's are each gateway's own.
    assert after_rotation == before | {"archive": 0}  # every entry opened: nothing asked
    assert all(after_stranger[name] > before[name] for name in ("credit", "court", "procurement"))
    assert after_stranger["archive"] > 0
    assert counters["redis_unreadable"] >= 4  # read, refused, counted: never an error


async def test_without_redis_the_gateway_answers_from_the_platforms_and_recovers(
    dataset, tmp_path, redis_url
):
    proxy = Proxy()
    await proxy.start()
    settings = cache(proxy.url, key_file(tmp_path, "key"))
    try:
        async with platforms(dataset, tmp_path) as running:
            async with gateway_on(running, tmp_path, cache=settings) as stack:
                assert "errors" not in await ask(stack)
                assert (await readiness(stack))["cache"]["status"] == "ok"

                await proxy.stop()
                answered = await ask(stack, known.OTHERS[1])  # a miss: the platforms answer
                down = await readiness(stack)

                await proxy.start()
                async with asyncio.timeout(10):
                    while (await readiness(stack))["cache"]["status"] != "ok":
                        pass
                recovered = await ask(stack, known.OTHERS[2])  # stored in Redis again
            # Another replica finds what was stored after the recovery: no platform asked.
            async with gateway_on(running, tmp_path, cache=settings) as replica:
                before = await data_requests(replica)
                again = await ask(replica, known.OTHERS[2])
                after = await data_requests(replica)
    finally:
        await proxy.stop()

    assert "errors" not in answered
    assert [r["recordId"] for r in answered["data"]["person"]["creditRecords"]] == ["CR-101"]
    assert down["ready"] is True  # the platforms answer: still ready, the cache degraded
    assert down["cache"]["status"] == "degraded"
    assert down["cache"]["error"]
    assert "errors" not in recovered
    assert again["data"]["person"] == recovered["data"]["person"] | {
        "sources": again["data"]["person"]["sources"]
    }
    assert after == before


async def readiness(stack: Stack) -> dict[str, Any]:
    token = stack.token("hr_officer", "hr")  # the cache's detail needs one
    answer = await stack.client.get("/readyz", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


async def test_while_redis_is_down_a_change_upstream_still_evicts_within_two_seconds(
    dataset, tmp_path, redis_url
):
    proxy = Proxy()
    await proxy.start()
    settings = cache(proxy.url, key_file(tmp_path, "key")) | {"poll_interval_s": 0.2}
    try:
        async with platforms(dataset, tmp_path) as running:
            async with gateway_on(running, tmp_path, cache=settings) as stack:

                async def entries() -> list[str]:
                    answer = await ask(stack)
                    return [e["entryId"] for e in answer["data"]["person"]["enforcement"]]

                assert await entries() == ["E-1"]
                await proxy.stop()
                async with asyncio.timeout(10):
                    while not (await readiness(stack))["cache"]["changeFeeds"]["court"]["alone"]:
                        pass
                await post(f"{stack.urls['court']}/_sim/entries", known._entry("E-9"))
                async with asyncio.timeout(2):
                    while "E-9" not in await entries():
                        pass
    finally:
        await proxy.stop()
