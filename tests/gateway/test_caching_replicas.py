"""Two gateway processes on one Redis: evictions reach both, misses load once for both.

Each replica is a real `credgate serve --config F` (the same file: same
platforms, Redis, development keys and access log); the stand-ins run in this
process and count every request they get. Skipped, with the reason, when no
Redis answers on 127.0.0.1:6379.

What these tests count must not depend on how fast a busy machine is: a test
begins once both replicas have read every change feed (a feed read late would
add requests and evict what a replica just loaded), and the deadlines of the
platforms and of Redis are far above anything but a dead process, so a slow
answer is never a failed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.devkeys import mint_token
from simulators.faults import FaultSettings
from tests.connectors.test_cache_fixtures import require_redis
from tests.gateway.served import patient, served
from tests.gateway.test_caching import DATA_PATHS
from tests.schema import dataset as known
from tests.stack import platforms

QUERY = """query ($id: String!, $org: String!) {
  person(idNumber: $id, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    creditRecords { recordId } enforcement { entryId }
    businessRoles { supplier { creditCode } registrationStatus }
  }
  organization(creditCode: $org, purpose: HONOURS, asOf: "2025-06-30") { registrationStatus }
}"""
# Deadlines no busy machine reaches: the tests are about who asks, not how fast.
PATIENT = patient(30)
VET = """query ($id: String!) {
  vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION, asOf: "2025-06-30") { verdict }
}"""


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


@contextlib.asynccontextmanager
async def replica(config: Path, token: str) -> AsyncIterator[httpx.AsyncClient]:
    """`credgate serve --config CONFIG` on a free port, its change feeds read."""
    async with served(config, env=PATIENT) as worker:
        await feeds_read(worker.client, token)
        yield worker.client


async def feeds_read(client: httpx.AsyncClient, token: str) -> None:
    """Until the replica has read every change feed to its end (or seen that
    another replica holds it): the start waits for that only so long. A feed
    that failed is read again within 30 s (the pollers' longest back-off)."""
    feeds: dict[str, Any] = {}
    try:
        async with asyncio.timeout(120):
            while not feeds or not all(f["ok"] and f["lastSuccess"] for f in feeds.values()):
                await asyncio.sleep(0.05)  # another process's state: nothing to await
                detail = await client.get("/readyz", headers={"Authorization": f"Bearer {token}"})
                feeds = detail.json()["cache"]["changeFeeds"]
    except TimeoutError:
        pytest.fail(f"the change feeds were not read: {feeds}")


@contextlib.asynccontextmanager
async def two_replicas(
    dataset: Path, tmp_path: Path, redis_url: str, poll_interval_s: float
) -> AsyncIterator[tuple[Any, dict[str, str], list[httpx.AsyncClient], str]]:
    """The stand-ins and two replicas on one config; yields a hr_officer token too."""
    keys = tmp_path / "keys"
    async with platforms(dataset, tmp_path) as (standins, urls, platform_config):
        config = tmp_path / "replicas.toml"
        config.write_text(
            platform_config.read_text(encoding="utf-8")
            + f'\n[auth]\ndev_keys_dir = "{keys}"\n'
            + f'[access_log]\ndsn = "sqlite:///{tmp_path / "access.db"}"\n'
            # One caller's hundred requests at once: all of them run.
            + "[limits]\nrequests_per_minute = 100000\nmax_in_flight = 100\n"
            + "max_in_flight_per_principal = 100\n"
            + "max_queue_ms = 60000\n"
            + f'[cache]\nbackend = "redis"\nredis_url = "{redis_url}"\n'
            + f"poll_interval_s = {poll_interval_s}\nredis_timeout_s = 30\n",
            encoding="utf-8",
        )
        token = mint_token(keys, "hr_officer", "hr", unit=known.UNIT)
        async with replica(config, token) as one, replica(config, token) as two:
            yield standins, urls, [one, two], token


async def data_requests(urls: dict[str, str]) -> dict[str, int]:
    """Requests per data path of the HTTP stand-ins (no change feeds, no tokens)."""
    counts = {}
    async with httpx.AsyncClient() as admin:
        for name, paths in DATA_PATHS.items():
            seen = (await admin.get(f"{urls[name]}/_sim/stats")).json()["requests"]
            counts.update({path: seen.get(path, 0) for path in paths})
    return counts


async def test_a_change_upstream_leaves_both_replicas_within_two_seconds(
    dataset, tmp_path, redis_url
):
    async with two_replicas(dataset, tmp_path, redis_url, 0.2) as (_, urls, replicas, token):

        async def ask(client: httpx.AsyncClient) -> dict[str, Any]:
            answer = await client.post(
                "/graphql",
                json={"query": QUERY, "variables": {"id": known.PERSON, "org": known.SUPPLIER}},
                headers={"Authorization": f"Bearer {token}"},
            )
            data: dict[str, Any] = answer.json()["data"]
            return data

        async def both_see(change: Callable[[dict[str, Any]], bool]) -> None:
            seen: list[dict[str, Any]] = [{}, {}]

            async def sees(n: int) -> None:
                while not change(seen.__setitem__(n, await ask(replicas[n])) or seen[n]):
                    pass

            try:
                async with asyncio.timeout(2):
                    await asyncio.gather(sees(0), sees(1))
            except TimeoutError:
                pytest.fail(f"not seen by both replicas within 2 s: {seen}")

        first = [await ask(client) for client in replicas]
        filled = await data_requests(urls)
        assert [await ask(client) for client in replicas] == first
        # Both answer from their caches. Procurement is left out of this count: its
        # one SOAP path also carries the pollers' GetChanges, which keep coming.
        after = await data_requests(urls)
        soap = "POST /ws/SupplierCreditService"
        assert {k: v for k, v in after.items() if k != soap} == {
            k: v for k, v in filled.items() if k != soap
        }

        async with httpx.AsyncClient() as admin:
            row = known._credit("CR-NEW", known.PERSON, "PERSON")
            await admin.post(f"{urls['credit']}/_sim/records", json=row)
            await both_see(lambda d: "CR-NEW" in str(d["person"]["creditRecords"]))

            await admin.post(f"{urls['court']}/_sim/entries", json=known._entry("E-9"))
            await both_see(lambda d: "E-9" in str(d["person"]["enforcement"]))

            supplier = json.loads(
                (dataset / "procurement" / "suppliers.jsonl").read_text(encoding="utf-8")
            )
            supplier["registration_status"] = "SUSPENDED"
            await admin.post(f"{urls['procurement']}/_sim/suppliers", json=supplier)
            await both_see(
                lambda d: (
                    d["organization"]["registrationStatus"] == "SUSPENDED"
                    and d["person"]["businessRoles"][0]["registrationStatus"] == "SUSPENDED"
                )
            )


async def test_a_hundred_identical_misses_on_two_replicas_ask_each_platform_once(
    dataset, tmp_path, redis_url
):
    async with two_replicas(dataset, tmp_path, redis_url, 3600.0) as running:
        standins, urls, replicas, token = running
        # The platforms answer slowly, so the misses all arrive while the first is in flight.
        for state in standins.states.values():
            state.faults = FaultSettings(latency_ms=300)
        async with httpx.AsyncClient() as admin:
            for url in urls.values():
                await admin.post(f"{url}/_sim/reset-stats")

        async def vet(client: httpx.AsyncClient) -> str:
            answer = await client.post(
                "/graphql",
                json={"query": VET, "variables": {"id": known.PERSON}},
                headers={"Authorization": f"Bearer {token}"},
            )
            verdict: str = answer.json()["data"]["vet"]["verdict"]
            return verdict

        verdicts = await asyncio.gather(*(vet(replicas[n % 2]) for n in range(100)))
        counts = await data_requests(urls)

    assert set(verdicts) == {"INELIGIBLE"}
    assert counts == dict.fromkeys(counts, 1), counts  # one request per data path
