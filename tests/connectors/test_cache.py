"""The cache interface over the in-process backends: keys, bounds, lifetimes, evictions."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from connectors.base import SHANGHAI
from connectors.cache import RecordKey, ReportKey, Stored, Tag
from connectors.cache_backends import MemoryCache, NoCache
from connectors.cache_flight import LocalFlight
from connectors.cache_rules import expiry, first_free_instant
from connectors.records import (
    BusinessRole,
    CivilServantFile,
    Debarment,
    EnforcementEntry,
    Representative,
    Sanction,
    SubjectType,
    SupplierStatus,
)
from tests.connectors.test_cache_fixtures import (
    ENDS,
    ORG,
    OTHER_PERSON,
    PERSON,
    Clock,
    credit_key,
    credit_record,
    credit_subject,
    new_keys,
    record_cache,
)


def report_key(subject: str = PERSON, visibility: str = "ORG_HR") -> ReportKey:
    return ReportKey(subject, "CADRE_SELECTION", dt.date(2025, 6, 30), "r1", "p1", visibility)


def test_keys_and_tags_never_hold_an_identifier():
    keys = new_keys()
    texts = [
        keys.record(credit_key(PERSON)),
        keys.record(RecordKey("procurement", "suppliers", ORG)),
        keys.report(report_key()),
        keys.tag(Tag.subject("credit", PERSON)),
        keys.tag(Tag.report(ORG)),
    ]
    for text in texts:
        assert PERSON not in text
        assert ORG not in text
        assert PERSON[:6] not in text.split(":")[-1]  # not even a fragment of the number
    # Stable for one secret, unrelated under another: the secret is what hides them.
    assert keys.record(credit_key(PERSON)) == keys.record(credit_key(PERSON))
    assert new_keys().record(credit_key(PERSON)) != keys.record(credit_key(PERSON))
    assert keys.record(credit_key(PERSON)) != keys.record(credit_key(OTHER_PERSON))


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        new_keys(b"short")


async def test_the_memory_cache_evicts_the_least_recently_used_entry_at_its_cap():
    clock = Clock()
    backend = MemoryCache(max_entries=3)
    cache = record_cache(backend, new_keys(), clock)
    people = [PERSON, OTHER_PERSON, "110101198001010016", "110101198001010032"]
    for number in people[:3]:
        await cache.store_records({credit_key(number): credit_subject(number)})
    await cache.records([credit_key(people[0])])  # the first is now the most recently used
    await cache.store_records({credit_key(people[3]): credit_subject(people[3])})

    held = await cache.records([credit_key(number) for number in people])
    assert set(held) == {credit_key(people[0]), credit_key(people[2]), credit_key(people[3])}
    assert len(backend) == 3
    assert backend.lru_evictions == 1
    assert backend.health().counters["entries"] == 3


async def test_a_record_whose_publicity_ends_in_two_seconds_is_served_then_gone():
    # Publicity ends on 30 June (inclusive): the record stops applying at 1 July 00:00 +08:00.
    clock = Clock(dt.datetime(2025, 6, 30, 23, 59, 58, tzinfo=SHANGHAI))
    cache = record_cache(MemoryCache(), new_keys(), clock)
    subject = credit_subject(PERSON, credit_record(PERSON, publicity_end=dt.date(2025, 6, 30)))
    await cache.store_records({credit_key(PERSON): subject})

    assert (await cache.records([credit_key(PERSON)]))[credit_key(PERSON)].value == subject
    clock.advance(1.999)
    assert credit_key(PERSON) in await cache.records([credit_key(PERSON)])
    clock.advance(0.001)
    assert await cache.records([credit_key(PERSON)]) == {}
    # Not even for a caller willing to take stale data.
    assert await cache.records([credit_key(PERSON)], allow_stale=True) == {}


async def test_without_a_nearer_end_an_entry_lives_its_platforms_ttl():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)}, fetched_at=clock())
    clock.advance(299)
    entry = (await cache.records([credit_key(PERSON)]))[credit_key(PERSON)]
    assert entry.age_s(clock()) == 299  # what SourceStatus.cacheAgeSeconds reports
    clock.advance(1)
    assert await cache.records([credit_key(PERSON)]) == {}


def _debarred(end: dt.date) -> SupplierStatus:
    debarment = Debarment("D-1", "串通投标", None, None, dt.date(2024, 1, 1), end, None)
    return SupplierStatus(ORG, "某公司", "ACTIVE", None, (debarment,), ())


def _listed(end: dt.date) -> tuple[EnforcementEntry, ...]:
    return (
        EnforcementEntry(
            *("E-1", None, None, None, SubjectType.PERSON, None, PERSON, None, None, None, None),
            *(None, None, 1, dt.date(2024, 1, 1), dt.date(2024, 1, 2), end, "LISTED", None, None),
        ),
    )


def _sanctioned(decided: dt.date) -> CivilServantFile:
    sanction = Sanction("S-1", "GOV_WARNING", None, None, decided, None, None, "PUBLIC", None, None)
    return CivilServantFile(
        *("P-1", PERSON, "张三", "M", None, None, None, None, None, "ACTIVE", None),
        *((), (), (sanction,), (), (), ()),
    )


@pytest.mark.parametrize(
    ("value", "ends_at"),
    [
        # Inclusive last days: the instant after is the next day's midnight in China.
        (_debarred(dt.date(2025, 7, 2)), first_free_instant(dt.date(2025, 7, 3))),
        (_listed(dt.date(2025, 7, 1)), first_free_instant(dt.date(2025, 7, 2))),
        # A warning applies six months from its decision: 2025-01-01 -> free on 2025-07-01.
        (_sanctioned(dt.date(2025, 1, 1)), first_free_instant(dt.date(2025, 7, 1))),
    ],
    ids=["debarment", "court listing", "sanction period"],
)
def test_every_kind_of_end_date_caps_the_lifetime(value, ends_at):
    now = dt.datetime(2025, 6, 30, 12, tzinfo=SHANGHAI)
    assert expiry([value], now, 10 * 86_400, ENDS) == ends_at
    assert ends_at.utcoffset() == dt.timedelta(hours=8)
    # A platform TTL shorter than the end still wins.
    assert expiry([value], now, 60, ENDS) == now + dt.timedelta(seconds=60)


def test_ended_and_open_ended_records_do_not_shorten_the_lifetime():
    now = dt.datetime(2025, 6, 30, 12, tzinfo=SHANGHAI)
    ended = credit_record(PERSON, "R-old", publicity_end=dt.date(2025, 6, 1))
    open_ended = credit_record(PERSON, "R-open", publicity_end=None)
    subject = credit_subject(PERSON, ended, open_ended)
    assert expiry([subject], now, 300, ENDS) == now + dt.timedelta(seconds=300)


async def test_a_platform_with_no_ttl_is_not_cached():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    cache._ttl_s["credit"] = 0.0
    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
    assert await cache.records([credit_key(PERSON)]) == {}


async def test_evicting_a_subject_drops_its_entries_and_the_reports_resting_on_them():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    court_key = RecordKey("court", "entries", PERSON)
    await cache.store_records(
        {
            credit_key(PERSON): credit_subject(PERSON),
            credit_key(OTHER_PERSON): credit_subject(OTHER_PERSON),
            court_key: (),
        }
    )
    depends_on = {credit_key(PERSON): credit_subject(PERSON), court_key: ()}
    await cache.store_report(report_key(), "report", ttl_s=300, depends_on=depends_on)
    await cache.store_report(report_key(OTHER_PERSON), "other", ttl_s=300, depends_on={})

    await cache.evict_subjects([PERSON], platform="credit")  # what a credit change names

    assert set(await cache.records([credit_key(PERSON), credit_key(OTHER_PERSON), court_key])) == {
        credit_key(OTHER_PERSON),
        court_key,  # another platform's answer about the subject is still true
    }
    assert await cache.report(report_key()) is None
    assert (await cache.report(report_key(OTHER_PERSON))) is not None

    await cache.evict_subjects([PERSON])  # every platform: the court answer goes too
    assert await cache.records([court_key]) == {}


async def test_data_fetched_before_an_eviction_is_not_cached_after_it():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    asked_at = clock()
    clock.advance(0.5)
    await cache.evict_subjects([PERSON], platform="credit")  # the change was noticed meanwhile
    clock.advance(0.5)
    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)}, asked_at=asked_at)
    assert await cache.records([credit_key(PERSON)]) == {}

    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)}, asked_at=clock())
    assert credit_key(PERSON) in await cache.records([credit_key(PERSON)])


async def test_stale_entries_are_served_only_when_asked_for_and_within_the_grace():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock, stale_grace_s=600)
    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
    clock.advance(301)
    assert await cache.records([credit_key(PERSON)]) == {}
    entry = (await cache.records([credit_key(PERSON)], allow_stale=True))[credit_key(PERSON)]
    assert entry.stale(clock())
    assert entry.age_s(clock()) == 301
    clock.advance(600)
    assert await cache.records([credit_key(PERSON)], allow_stale=True) == {}


async def test_reports_are_kept_per_visibility_class():
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    await cache.store_report(report_key(visibility="ORG_HR"), "hr view", ttl_s=60, depends_on={})
    held = await cache.report(report_key(visibility="ORG_HR"))
    assert held is not None
    assert held.value == "hr view"
    assert await cache.report(report_key(visibility="PROCUREMENT")) is None
    assert await cache.report(report_key(visibility="self")) is None


async def test_a_report_ends_with_the_earliest_end_among_its_evidence():
    clock = Clock(dt.datetime(2025, 6, 30, 23, 59, 58, tzinfo=SHANGHAI))
    cache = record_cache(MemoryCache(), new_keys(), clock)
    ending = credit_subject(PERSON, credit_record(PERSON, publicity_end=dt.date(2025, 6, 30)))
    await cache.store_report(
        report_key(), "report", ttl_s=300, depends_on={credit_key(PERSON): ending}
    )
    assert await cache.report(report_key()) is not None
    clock.advance(2)
    assert await cache.report(report_key()) is None


async def test_a_procurement_change_evicts_every_representatives_answer():
    # A supplier's new legal representative is not named by its change: every
    # person's cached roles must go, whoever they are.
    clock = Clock()
    cache = record_cache(MemoryCache(), new_keys(), clock)
    roles = Representative(PERSON, (BusinessRole(ORG, "某公司", "ACTIVE", "LEGAL_REPRESENTATIVE"),))
    nobody = Representative(OTHER_PERSON, ())
    keys = [RecordKey("procurement", "representatives", n) for n in (PERSON, OTHER_PERSON)]
    await cache.store_records(dict(zip(keys, (roles, nobody), strict=True)))
    await cache.evict(
        [Tag.subject("procurement", ORG), Tag.operation("procurement", "representatives")]
    )
    assert await cache.records(keys) == {}


async def test_no_cache_misses_every_read_and_keeps_nothing():
    clock = Clock()
    cache = record_cache(NoCache(), new_keys(), clock)
    await cache.store_records({credit_key(PERSON): credit_subject(PERSON)})
    assert await cache.records([credit_key(PERSON)]) == {}
    assert cache.health().ok
    assert cache.misses == 1


async def test_the_tag_index_follows_entries_pushed_out_by_the_bound():
    clock = Clock()
    backend = MemoryCache(max_entries=2)
    cache = record_cache(backend, new_keys(), clock)
    keys = [RecordKey("procurement", "representatives", n) for n in (PERSON, OTHER_PERSON, ORG)]
    for key in keys:  # all three share the operation tag; the first is pushed out
        await cache.store_records({key: Representative(key.identifier, ())})
    await cache.evict([Tag.operation("procurement", "representatives")])
    assert await cache.records(keys) == {}
    assert len(backend) == 0
    # Re-cached afterwards (the eviction is older than this fetch), and evicted again.
    clock.advance(1)
    await cache.store_records({keys[0]: Representative(PERSON, ())})
    assert keys[0] in await cache.records(keys)
    await cache.evict_subjects([PERSON], platform="procurement")
    assert await cache.records(keys) == {}


async def test_a_mirror_loses_what_its_tier_evicts_or_empties_and_refuses_it_late():
    clock = Clock()
    tier, mirror = MemoryCache(), MemoryCache(max_entries=5)
    tier.mirror_evictions(mirror)
    keys = new_keys()
    tag = keys.tag(Tag.subject("credit", PERSON))
    made = clock()

    def stored(key: str) -> Stored:
        later = made + dt.timedelta(seconds=60)
        return Stored(key, "answer", made, later, later, (tag,))

    await mirror.put_many([stored("kept")], clock())
    clock.advance(1)
    await tier.evict([tag], clock())
    assert await mirror.get_many(["kept"], clock()) == [None]
    await mirror.put_many([stored("late")], clock(), asked_at=made)  # made before the eviction
    assert await mirror.get_many(["late"], clock()) == [None]
    # Emptied with its tier (a replica that may have missed evictions empties both).
    await mirror.put_many([stored("kept")], clock(), asked_at=clock())
    await tier.clear()
    assert len(mirror) == 0


async def test_concurrent_misses_in_one_process_share_one_load():
    flight, loads, gate = LocalFlight(), [], asyncio.Event()

    async def load(wanted):
        loads.append(wanted)
        await gate.wait()
        return dict.fromkeys(wanted, "value")

    async def lookup(wanted):
        return {}

    calls = [flight.run(["k"], name=str, lookup=lookup, load=load) for _ in range(10)]
    tasks = [asyncio.create_task(call) for call in calls]
    await asyncio.sleep(0)  # every caller reaches the flight
    gate.set()
    assert await asyncio.gather(*tasks) == [{"k": "value"}] * 10
    assert len(loads) == 1


def test_a_key_names_an_operation_the_invalidation_rules_know():
    with pytest.raises(ValueError, match="no cached operation"):
        RecordKey("procurement", "QuerySuppliersByRepresentative", PERSON)
