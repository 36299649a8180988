"""Single-flight across replicas with a real platform: 100 concurrent misses on two
replicas make ONE upstream request, counted by the credit stand-in itself."""

from __future__ import annotations

import asyncio

import pytest

from connectors.base import now_shanghai
from connectors.cache import RecordCache, RecordKey
from connectors.cache_flight import RedisFlight
from connectors.credit import CreditConnector
from connectors.records import CreditSubject, SubjectKey
from simulators.faults import FaultSettings
from tests.connectors.harnesses import credit
from tests.connectors.test_cache_fixtures import new_keys, replica, require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


async def read_through(
    cache: RecordCache, flight: RedisFlight, connector: CreditConnector, key: SubjectKey
) -> CreditSubject:
    """What a loader does: the cache, else one shared load that fills the cache."""
    record_key = RecordKey("credit", "subjects", key)
    held = await cache.records([record_key])
    if record_key in held:
        subject: CreditSubject = held[record_key].value
        return subject

    async def lookup(keys):
        return {k: entry.value for k, entry in (await cache.records(keys)).items()}

    async def load(keys):
        asked_at = cache.now()
        result = await connector.subjects([k.subject for k in keys])
        values = {RecordKey("credit", "subjects", k): v for k, v in result.values.items()}
        await cache.store_records(values, fetched_at=result.status.as_of, asked_at=asked_at)
        return values

    found = await flight.run([record_key], name=cache.keys.record, lookup=lookup, load=load)
    loaded: CreditSubject = found[record_key]
    return loaded


async def test_a_hundred_misses_on_two_replicas_make_one_upstream_request(tmp_path, redis_url):
    keys = new_keys()
    async with (
        # Deadlines no busy machine reaches (for the platform and for Redis): a
        # timed-out load or a degraded cache would load twice for another reason.
        credit.harness(tmp_path, timeout_s=30.0, attempt_timeout_s=30.0) as platform,
        replica(redis_url, keys, now_shanghai, timeout_s=30.0) as one,
        replica(redis_url, keys, now_shanghai, timeout_s=30.0) as two,
    ):
        # The platform answers slowly, so every miss arrives while the first is in flight.
        platform.state.faults = FaultSettings(latency_ms=300)
        replicas = [
            (one.cache, RedisFlight(one.link), CreditConnector(platform.settings, platform.client)),
            (two.cache, RedisFlight(two.link), CreditConnector(platform.settings, platform.client)),
        ]
        before = await platform.upstream_requests()
        answers = await asyncio.gather(
            *(read_through(*replicas[n % 2], credit.PERSON) for n in range(100))
        )
        assert await platform.upstream_requests() - before == 1
        assert {answer.key for answer in answers} == {credit.PERSON}
        assert len({len(answer.records) for answer in answers}) == 1
