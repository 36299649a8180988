"""The outbox on SQLite and PostgreSQL: stored with its entry or not at all, leased exclusively.

Items go in through the access-log writer (the only way in); the tests then
claim and settle them as delivery workers would, with several claimers at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from auth.access_log import (
    AccessLog,
    AccessLogWriteError,
    Entry,
    ReportRow,
    Seal,
    open_access_log,
)
from auth.outbox import Delivered, Outbox, Postponed, Refused
from auth.outbox_item import ItemKind, ItemState, OutboxItem
from tests.gateway.outbox_harness import outbox_rows

CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
async def log(dsn: str) -> AsyncIterator[AccessLog]:
    access_log = await open_access_log(dsn, Seal(chain_key=b"chain-key-of-the-outbox-tests-0123"))
    yield access_log
    await access_log.close()


def item(n: int) -> OutboxItem:
    return OutboxItem(
        kind=ItemKind.USAGE_FEEDBACK,
        actor="hr",
        subject_code="210102199001010010",
        reference=f"report-{n}",
        body={"query_ref": f"report-{n}", "outcome": "ADOPTED"},
    )


def entry(items: list[OutboxItem], *, report_id: str | None = None) -> Entry:
    day = dt.date(2025, 6, 30)
    reports = [ReportRow(report_id, "hr", "S", "HONOURS", day, "CLEAR")] if report_id else []
    return Entry(
        time=dt.datetime.now(CHINA),
        actor="hr",
        role="hr_officer",
        unit="-",
        purpose="HONOURS",
        subjects=["pseudonym"],
        fields=[f"usage:{i.reference}:ADOPTED" for i in items],
        verdicts=[],
        policy_version="p",
        rule_set_version="-",
        request_id="r",
        outcome="USAGE_RECORDED",
        reports=reports,
        outbox=items,
    )


async def test_an_item_is_stored_in_its_entrys_transaction_or_not_at_all(dsn, log):
    kept = [item(1), item(2)]
    await log.append(entry(kept, report_id="taken"))
    with pytest.raises(AccessLogWriteError):  # the report id is taken: the group fails
        await log.append(entry([item(3)], report_id="taken"))
    rows = outbox_rows(dsn)
    stored = await Outbox(dsn).items(ItemKind.USAGE_FEEDBACK, reference="report-1")

    assert sorted(row[1] for row in rows) == ["report-1", "report-2"]
    assert {row[2] for row in rows} == {"QUEUED"}
    (one,) = stored
    assert (one.item_id, one.body, one.state) == (kept[0].item_id, kept[0].body, ItemState.QUEUED)


async def test_concurrent_claimers_never_hold_one_item_together(dsn, log):
    items = [item(n) for n in range(300)]
    for start in range(0, len(items), 50):
        await log.append(entry(items[start : start + 50]))
    claimed: Counter[str] = Counter()

    async def worker(outbox: Outbox, owner: str) -> None:
        while batch := await outbox.claim(owner, 7, lease_s=600):
            claimed.update(held.item_id for held in batch)
            await outbox.settle(owner, [Delivered(held.item_id, "ok") for held in batch])

    # Two "replicas" (their own Outbox), four claimers each, all at once.
    replicas = [Outbox(dsn), Outbox(dsn)]
    await asyncio.gather(*(worker(replicas[n % 2], f"w{n}") for n in range(8)))
    rows = outbox_rows(dsn)

    assert sorted(claimed) == sorted(i.item_id for i in items)
    assert set(claimed.values()) == {1}
    assert {row[2] for row in rows} == {"DELIVERED"}
    assert len({row[5] for row in rows}) > 1  # the work was shared


async def test_a_lease_that_ran_out_passes_on_and_its_old_owner_cannot_undo(dsn, log):
    await log.append(entry([item(1)]))
    outbox = Outbox(dsn)
    (first,) = await outbox.claim("dead", 10, lease_s=0)  # runs out at once
    (second,) = await outbox.claim("alive", 10, lease_s=600)
    nothing = await outbox.claim("third", 10, lease_s=600)
    await outbox.settle("dead", [Postponed(first.item_id, "late", 0)])
    still_leased = await outbox.claim("third", 10, lease_s=600)
    await outbox.settle("alive", [Delivered(second.item_id, "FB1")])
    await outbox.settle("dead", [Refused(first.item_id, "late")])
    ((_, _, state, attempts, answer, owner),) = outbox_rows(dsn)

    assert first.item_id == second.item_id
    assert (first.attempts, second.attempts) == (1, 2)
    assert nothing == still_leased == []
    assert (state, attempts, answer, owner) == ("DELIVERED", 2, "FB1", "alive")


async def test_postponed_items_wait_and_refused_ones_are_never_sent_again(dsn, log):
    await log.append(entry([item(1), item(2)]))
    outbox = Outbox(dsn)
    one, two = await outbox.claim("w", 10, lease_s=600)
    await outbox.settle("w", [Postponed(one.item_id, "503", 3600), Refused(two.item_id, "E4000")])
    later = await outbox.claim("w", 10, lease_s=600)
    counts = await outbox.counts()

    assert later == []
    assert counts == {"QUEUED": 1, "DELIVERED": 0, "REFUSED": 1}
