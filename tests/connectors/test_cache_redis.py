"""The shared cache on a real Redis: encryption, degradation, replicas, single-flight.

Each test plays one or two gateway replicas (`Replica`: local tier, Redis tier,
eviction bus) in this process, with their own connections. Skipped, with the
reason printed, only when no Redis answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import redis.asyncio as redis

from connectors.base import SHANGHAI
from connectors.cache import RecordKey, ReportKey
from connectors.cache_crypto import EncryptionKeys
from connectors.cache_flight import RedisFlight
from connectors.cache_redis import CHANNEL, RedisLink
from tests.connectors.test_cache_fixtures import (
    ORG,
    PERSON,
    Clock,
    Proxy,
    credit_key,
    credit_record,
    credit_subject,
    new_keys,
    no_identifier_in,
    replica,
    require_redis,
)

KEY_1, KEY_2 = EncryptionKeys(b"1" * 32), EncryptionKeys(b"2" * 32)


@pytest.fixture
def redis_url() -> str:
    return require_redis()


async def test_an_entry_sealed_with_another_key_reads_as_a_miss(redis_url):
    keys, clock = new_keys(), Clock()
    async with replica(redis_url, keys, clock, encryption=KEY_1) as writer:
        await writer.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
    async with replica(redis_url, keys, clock, encryption=KEY_2) as reader:
        assert await reader.cache.records([credit_key(PERSON)]) == {}
        assert reader.shared.unreadable == 1
        assert reader.cache.health().ok  # a wrong key is no outage


async def test_a_rotated_key_still_opens_old_entries_until_it_is_dropped(redis_url):
    keys, clock = new_keys(), Clock()
    async with replica(redis_url, keys, clock, encryption=KEY_1) as before:
        await before.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
    rotated = EncryptionKeys(b"2" * 32, previous=[b"1" * 32])
    async with replica(redis_url, keys, clock, encryption=rotated) as during:
        assert credit_key(PERSON) in await during.cache.records([credit_key(PERSON)])
    async with replica(redis_url, keys, clock, encryption=KEY_2) as after:
        assert await after.cache.records([credit_key(PERSON)]) == {}
        assert after.shared.unreadable == 1


async def test_nothing_stored_in_redis_names_a_subject(redis_url):
    keys, clock = new_keys(), Clock()
    report_key = ReportKey(PERSON, "CADRE_SELECTION", dt.date(2025, 6, 30), "r1", "p1", "ORG_HR")
    async with replica(redis_url, keys, clock) as one:
        await one.cache.store_records(
            {credit_key(PERSON): credit_subject(PERSON), RecordKey("court", "entries", ORG): ()}
        )
        await one.cache.store_report(
            report_key, "report", ttl_s=60, depends_on={credit_key(PERSON): credit_subject(PERSON)}
        )
        client = one.link.client
        names = [name async for name in client.scan_iter(match="cg:*", count=1000)]
        ours = [
            keys.record(credit_key(PERSON)),
            keys.record(RecordKey("court", "entries", ORG)),
            keys.report(report_key),
        ]
        assert {key.encode() for key in ours} <= set(names)
        values = [value for key in ours if (value := await client.get(key)) is not None]
        indexes = [name for name in names if name.startswith(b"cg:i:")]
        members = [m for index in indexes[:200] for m in await client.smembers(index)]
    assert no_identifier_in(iter([*names, *values, *members]), PERSON, ORG, "张三") == []


async def test_a_record_ending_in_two_seconds_leaves_every_tier_on_time(redis_url):
    keys = new_keys()
    clock = Clock(dt.datetime(2025, 6, 30, 23, 59, 58, tzinfo=SHANGHAI))
    ending = credit_subject(PERSON, credit_record(PERSON, publicity_end=dt.date(2025, 6, 30)))
    async with replica(redis_url, keys, clock) as one, replica(redis_url, keys, clock) as two:
        await one.cache.store_records({credit_key(PERSON): ending})
        assert 0 < await one.link.client.pttl(keys.record(credit_key(PERSON))) <= 2000
        assert credit_key(PERSON) in await two.cache.records([credit_key(PERSON)])
        clock.advance(2)
        assert await one.cache.records([credit_key(PERSON)]) == {}
        assert await two.cache.records([credit_key(PERSON)]) == {}


async def test_redis_down_means_misses_not_errors_and_the_cache_recovers_by_itself(redis_url):
    keys, clock, proxy = new_keys(), Clock(), Proxy()
    breaker_time = [0.0]
    await proxy.start()
    try:
        async with replica(
            proxy.url, keys, clock, breaker_clock=lambda: breaker_time[0], listen=False
        ) as one:
            await one.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
            await proxy.stop()  # Redis is gone

            await one.local.clear()
            assert await one.cache.records([credit_key(PERSON)]) == {}
            health = one.cache.health()
            assert not health.ok
            assert "Redis" in (health.error or "")
            await one.cache.store_records({credit_key(ORG): credit_subject(ORG)})  # no error
            # An eviction Redis cannot take now is kept for when it is back.
            await one.cache.evict_subjects([PERSON], platform="credit")
            assert one.cache.health().counters["redis_pending_evictions"] == 1

            await proxy.start()  # back on the same port
            breaker_time[0] += 1.0  # the breaker lets a probe through
            assert await one.cache.records([credit_key(PERSON)]) == {}  # evicted, not served
            assert one.cache.health().ok
            await one.local.clear()
            clock.advance(1)  # fetched after the eviction, so it may be cached again
            await one.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
            assert credit_key(PERSON) in await one.cache.records([credit_key(PERSON)])
    finally:
        await proxy.stop()
    async with replica(redis_url, keys, clock) as other:  # it really reached Redis
        assert credit_key(PERSON) in await other.cache.records([credit_key(PERSON)])


async def test_an_eviction_on_one_replica_evicts_the_others_local_entry(redis_url):
    keys, clock = new_keys(), Clock()
    async with replica(redis_url, keys, clock) as one, replica(redis_url, keys, clock) as two:
        await one.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
        assert credit_key(PERSON) in await two.cache.records([credit_key(PERSON)])
        local_key = [keys.record(credit_key(PERSON))]
        assert (await two.local.get_many(local_key, clock()))[0] is not None

        listener = two.link.client.pubsub(ignore_subscribe_messages=True)
        await listener.subscribe(CHANNEL)
        await one.cache.evict_subjects([PERSON], platform="credit")
        await two.bus.wait_for(lambda: two.bus.heard >= 1)

        assert (await two.local.get_many(local_key, clock()))[0] is None
        assert await two.cache.records([credit_key(PERSON)]) == {}
        message = None
        async with asyncio.timeout(5):
            while message is None:  # the first read may be the subscription's confirmation
                message = await listener.get_message(timeout=1.0)
        await listener.aclose()
    assert message is not None
    assert json.loads(message["data"])["t"]
    assert no_identifier_in(iter([message["data"]]), PERSON) == []


async def test_a_replica_that_lost_the_eviction_channel_forgets_its_local_entries(redis_url):
    keys, clock, proxy = new_keys(), Clock(), Proxy()
    await proxy.start()
    try:
        async with replica(proxy.url, keys, clock) as one:
            await one.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
            assert len(one.local) == 1
            await proxy.stop()  # evictions published meanwhile would be missed
            await one.bus.wait_for(lambda: one.bus.failures >= 1)
            await proxy.start()
            await one.bus.wait_for(lambda: one.bus.subscribed)
            assert len(one.local) == 0
    finally:
        await proxy.stop()


async def test_concurrent_misses_on_two_replicas_make_one_load(redis_url):
    keys, clock = new_keys(), Clock()
    loads, arrived = [], [0]
    gate, all_arrived, loading, waiting = (asyncio.Event() for _ in range(4))
    subject = credit_subject(PERSON)
    # Redis calls may take seconds on a busy machine: a timeout would degrade the
    # cache, and a degraded replica loads alone, which is not what is tested here.
    async with (
        replica(redis_url, keys, clock, timeout_s=30.0) as one,
        replica(redis_url, keys, clock, timeout_s=30.0) as two,
    ):
        flights = {id(one): RedisFlight(one.link), id(two): RedisFlight(two.link)}

        async def ask(where):
            cache = where.cache
            held = await cache.records([credit_key(PERSON)])
            if held:
                return held[credit_key(PERSON)].value
            arrived[0] += 1
            if arrived[0] == 100:
                all_arrived.set()

            async def lookup(wanted):
                waiting.set()  # only a replica waiting for another's load looks again
                return {key: entry.value for key, entry in (await cache.records(wanted)).items()}

            async def load(wanted):
                loads.append(wanted)
                loading.set()
                await gate.wait()  # the platform is slow: every other miss arrives meanwhile
                values = {key: subject for key in wanted}
                await cache.store_records(values)
                return values

            got = await flights[id(where)].run(
                [credit_key(PERSON)], name=cache.keys.record, lookup=lookup, load=load
            )
            return got[credit_key(PERSON)]

        tasks = [asyncio.create_task(ask(one if n % 2 else two)) for n in range(100)]
        async with asyncio.timeout(10):
            for event in (all_arrived, loading, waiting):
                await event.wait()
        gate.set()
        answers = await asyncio.gather(*tasks)
    assert len(loads) == 1
    assert answers == [subject] * 100


async def test_without_redis_the_flight_still_shares_a_load_within_the_replica():
    link = RedisLink.from_url("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens
    flight, loads = RedisFlight(link), []
    gate, loading = asyncio.Event(), asyncio.Event()

    async def load(wanted):
        loads.append(wanted)
        loading.set()
        await gate.wait()
        return dict.fromkeys(wanted, "value")

    async def lookup(wanted):
        return {}

    tasks = [
        asyncio.create_task(flight.run(["k"], name=str, lookup=lookup, load=load))
        for _ in range(10)
    ]
    await loading.wait()  # the others joined while the first found Redis absent
    gate.set()
    assert await asyncio.gather(*tasks) == [{"k": "value"}] * 10
    assert len(loads) == 1
    await link.close()


async def test_a_malformed_eviction_message_is_ignored(redis_url):
    keys, clock = new_keys(), Clock()
    async with replica(redis_url, keys, clock) as one:
        await one.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
        client: redis.Redis = one.link.client
        await client.publish(CHANNEL, b"{not json")
        await client.publish(CHANNEL, json.dumps({"o": "x", "at": 0, "t": [1, 2]}))
        await one.cache.evict_subjects([ORG])  # a well-formed one, from this replica
        assert credit_key(PERSON) in await one.cache.records([credit_key(PERSON)])
        assert one.bus.subscribed


async def test_an_eviction_made_during_an_outage_reaches_the_other_replicas_afterwards(redis_url):
    keys, clock, proxy = new_keys(), Clock(), Proxy()
    breaker_time = [0.0]
    await proxy.start()
    try:
        async with (
            replica(
                proxy.url, keys, clock, breaker_clock=lambda: breaker_time[0], listen=False
            ) as cut_off,
            replica(redis_url, keys, clock) as other,
        ):
            await cut_off.cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
            assert credit_key(PERSON) in await other.cache.records([credit_key(PERSON)])
            await proxy.stop()
            await cut_off.cache.evict_subjects([PERSON], platform="credit")  # kept, not lost

            await proxy.start()
            breaker_time[0] += 1.0
            await cut_off.cache.records([credit_key(ORG)])  # any use replays it first
            await other.bus.wait_for(lambda: other.bus.heard >= 1)
            assert await other.cache.records([credit_key(PERSON)]) == {}
    finally:
        await proxy.stop()
