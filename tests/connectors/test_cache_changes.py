"""Change feeds against the real stand-ins: a change upstream evicts what it touched.

Each test reads a platform's whole feed once (the initial changes), caches
answers about two subjects, makes the platform change one of them through its
admin endpoint (or, for the archive, its exchange database), and polls once.
"""

from __future__ import annotations

import sqlite3

import pytest

from connectors.base import now_shanghai
from connectors.cache import RecordKey
from connectors.cache_backends import MemoryCache
from connectors.cache_invalidation import (
    ChangePoller,
    CursorUnavailable,
    FileCursors,
    RedisCursors,
    RedisLease,
)
from connectors.cache_redis import RedisLink
from connectors.changes import ArchiveChanges, CourtChanges, CreditChanges, ProcurementChanges
from connectors.errors import SourceUnavailable
from connectors.records import BusinessRole, Representative, SubjectKey, SubjectType
from tests.connectors.harnesses import archive, court, credit, procurement
from tests.connectors.test_cache_fixtures import new_keys, record_cache, require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


def memory_cache():
    # The real clock: a poll evicts at one instant and the test caches after it.
    return record_cache(MemoryCache(), new_keys(), now_shanghai)


async def test_a_credit_change_evicts_that_subject_and_the_cursor_survives_a_restart(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    async with credit.harness(tmp_path) as platform:
        feed = CreditChanges(platform.settings, platform.client)
        assert await ChangePoller(feed, cache, cursors).poll_once() == len(credit.RECORDS)
        person, org = (RecordKey("credit", "subjects", key) for key in (credit.PERSON, credit.ORG))
        await cache.store_records({person: "about the person", org: "about the org"})

        await platform.add_record(credit.record("R-NEW", credit.PERSON))
        restarted = ChangePoller(feed, cache, FileCursors(tmp_path / "cursors.json"))
        assert await restarted.poll_once() == 1  # only the new change: the cursor was kept

        assert set(await cache.records([person, org])) == {org}
        assert await restarted.poll_once() == 0  # up to date


async def test_a_refused_cursor_means_reading_from_the_start(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    await cursors.save("credit", "bm90LWEtY3Vyc29y")
    async with credit.harness(tmp_path) as platform:
        feed = CreditChanges(platform.settings, platform.client)
        assert await ChangePoller(feed, cache, cursors).poll_once() == len(credit.RECORDS)


async def test_a_platform_down_leaves_the_cursor_where_it_was(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    async with credit.harness(tmp_path) as platform:
        poller = ChangePoller(CreditChanges(platform.settings, platform.client), cache, cursors)
        await poller.poll_once()
        before = await cursors.load("credit")
        await platform.set_down(True)
        with pytest.raises(SourceUnavailable):
            await poller.poll_once()
        assert await cursors.load("credit") == before


async def test_a_court_change_evicts_that_partys_entries_and_restrictions(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    async with court.harness(tmp_path) as platform:
        poller = ChangePoller(CourtChanges(platform.connector, platform.client), cache, cursors)
        assert await poller.poll_once() == len(court.ENTRIES)
        alice = [RecordKey("court", op, court.ALICE) for op in ("entries", "restrictions")]
        bob = RecordKey("court", "entries", court.BOB)
        await cache.store_records({**dict.fromkeys(alice, ()), bob: ()})

        answer = await platform.client.post(
            f"{platform.url}/_sim/entries", json=court.entry("E9", court.ALICE)
        )
        answer.raise_for_status()
        assert await poller.poll_once() == 1
        assert set(await cache.records([*alice, bob])) == {bob}


async def test_a_procurement_change_evicts_the_supplier_and_every_representatives_answer(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    async with procurement.running(tmp_path) as platform:
        feed = ProcurementChanges(platform.connector.platform.settings, platform.client)  # type: ignore[arg-type]
        poller = ChangePoller(feed, cache, cursors)
        assert await poller.poll_once() == len(procurement.SUPPLIERS)
        first, second, _ = procurement.SUPPLIERS
        suppliers = [RecordKey("procurement", "suppliers", code) for code in (first, second)]
        newcomer = RecordKey("procurement", "representatives", credit.PERSON.code)
        await cache.store_records(
            {**dict.fromkeys(suppliers, "status"), newcomer: Representative(credit.PERSON.code, ())}
        )

        # The first supplier gets a new legal representative: the newcomer's
        # cached "represents nobody" is wrong now, though the change names only the supplier.
        row = {
            "credit_code": first,
            "name": "沈阳华信建设有限公司",
            "registration_status": "ACTIVE",
            "legal_representative": {"name": "新人", "id_number": credit.PERSON.code},
        }
        (await platform.client.post(f"{platform.url}/_sim/suppliers", json=row)).raise_for_status()
        assert await poller.poll_once() == 1
        assert set(await cache.records([*suppliers, newcomer])) == {suppliers[1]}
        roles = await platform.connector.representatives([credit.PERSON.code])
        assert roles.values[credit.PERSON.code].roles[0] == BusinessRole(
            first, "沈阳华信建设有限公司", "ACTIVE", "LEGAL_REPRESENTATIVE"
        )


async def test_an_archive_change_evicts_that_persons_file_by_id_number_and_person_id(tmp_path):
    cache, cursors = memory_cache(), FileCursors(tmp_path / "cursors.json")
    async with archive.harness(tmp_path) as platform:
        feed = ArchiveChanges(platform.database, timeout_s=2.0)
        poller = ChangePoller(feed, cache, cursors)
        assert await poller.poll_once() > 0
        files = await platform.connector.files([archive.PERSON_1, archive.PERSON_2])
        file_keys = {
            number: RecordKey("archive", "files", number)
            for number in (archive.PERSON_1, archive.PERSON_2)
        }
        unit = RecordKey("archive", "unit_members", archive.UNIT_A)
        await cache.store_records(
            {
                **{file_keys[number]: value for number, value in files.values.items()},
                unit: (archive.PERSON_1, archive.PERSON_2),
            }
        )

        with sqlite3.connect(platform.path) as db:  # the archive records a new sanction
            db.execute(
                "INSERT INTO cs_change_log (seq, table_name, person_id, op, at)"
                " SELECT MAX(seq) + 1, 'cs_sanction', 'P-1', 'INSERT', '2025-07-01T09:00:00+08:00'"
                " FROM cs_change_log"
            )
        assert await poller.poll_once() == 1
        assert set(await cache.records([*file_keys.values(), unit])) == {
            file_keys[archive.PERSON_2],
            unit,  # membership changes only with cs_person
        }

        with sqlite3.connect(platform.path) as db:  # P-2 leaves the archive altogether
            db.execute("DELETE FROM cs_person WHERE person_id = 'P-2'")
            db.execute(
                "INSERT INTO cs_change_log (seq, table_name, person_id, op, at)"
                " SELECT MAX(seq) + 1, 'cs_person', 'P-2', 'DELETE', '2025-07-01T10:00:00+08:00'"
                " FROM cs_change_log"
            )
        assert await poller.poll_once() == 1
        # No ID number can be found for P-2 any more; its person_id tag finds the file.
        assert await cache.records([*file_keys.values(), unit]) == {}


async def test_with_redis_one_replica_polls_and_the_cursor_is_shared(tmp_path, redis_url):
    link = RedisLink.from_url(redis_url)
    platform_name = f"credit-test-{tmp_path.name}"
    try:
        async with credit.harness(tmp_path) as platform:
            feed = CreditChanges(platform.settings, platform.client)
            feed.platform = platform_name  # its own cursor and lease, apart from other runs
            cursors = RedisCursors(link)
            pollers = [
                ChangePoller(feed, memory_cache(), cursors, lease=RedisLease(link, platform_name))
                for _ in range(2)
            ]
            assert await pollers[0].poll_once() == len(credit.RECORDS)
            assert await pollers[1].poll_once() == 0  # the lease is held by the first
            await platform.add_record(credit.record("R-NEW", credit.PERSON))
            # A new process on the same Redis starts from the shared cursor.
            fresh = ChangePoller(feed, memory_cache(), cursors)
            assert await fresh.poll_once() == 1
    finally:
        await link.client.delete(
            f"credgate:cursor:{platform_name}", f"credgate:lease:{platform_name}"
        )
        await link.close()


class Outage:
    """A cursor store that can be switched off, as Redis can go."""

    def __init__(self, inner: FileCursors) -> None:
        self.inner = inner
        self.down = False

    async def load(self, platform: str) -> str | None:
        if self.down:
            raise CursorUnavailable("cache", "the change cursor cannot be read")
        return await self.inner.load(platform)

    async def save(self, platform: str, cursor: str) -> None:
        if self.down:
            raise CursorUnavailable("cache", "the change cursor cannot be saved")
        await self.inner.save(platform, cursor)


async def test_while_the_cursor_store_is_down_a_replica_follows_the_feed_itself(tmp_path):
    cache, store = memory_cache(), Outage(FileCursors(tmp_path / "cursors.json"))
    async with credit.harness(tmp_path) as platform:
        poller = ChangePoller(CreditChanges(platform.settings, platform.client), cache, store)
        assert await poller.poll_once() == len(credit.RECORDS)
        person = RecordKey("credit", "subjects", credit.PERSON)
        await cache.store_records({person: "about the person"})

        store.down = True
        await platform.add_record(credit.record("R-NEW", credit.PERSON))
        assert await poller.poll_once() == 1  # from the cursor it knew, kept in memory
        assert poller.alone
        assert await cache.records([person]) == {}
        store.down = False
        assert await poller.poll_once() == 1  # the store's cursor is behind: read again
        assert not poller.alone


async def test_a_replica_that_starts_while_redis_is_down_reads_the_feed_from_the_start(
    tmp_path,
):
    dead = RedisLink.from_url("redis://127.0.0.1:1", timeout_s=0.5)  # nothing listens there
    try:
        async with credit.harness(tmp_path) as platform:
            feed = CreditChanges(platform.settings, platform.client)
            lease = RedisLease(dead, "credit")
            poller = ChangePoller(feed, memory_cache(), RedisCursors(dead), lease=lease)
            assert await poller.poll_once() == len(credit.RECORDS)
            assert poller.alone
    finally:
        await dead.close()


def test_subject_keys_are_what_the_credit_feed_names():
    # The credit feed names subject codes; level-1 keys carry SubjectKeys of both types.
    key = RecordKey("credit", "subjects", SubjectKey(SubjectType.ORG, credit.ORG.code))
    assert key.identifier == credit.ORG.code
