"""Admission control in one process: slots, each principal's share, the queue and its bound."""

import asyncio

from gateway.admission import Admission
from gateway.settings import LimitsSettings


def admission(**limits: int) -> Admission:
    defaults = {"max_in_flight": 4, "max_in_flight_per_principal": 2, "max_queue_ms": 10_000}
    return Admission(LimitsSettings(**{**defaults, **limits}))


async def test_one_principal_holds_its_share_and_another_still_starts():
    gate = admission()
    assert await gate._enter("attacker")
    assert await gate._enter("attacker")
    waiting = asyncio.create_task(gate._enter("attacker"))
    await asyncio.sleep(0)
    assert not waiting.done()  # over its share: it waits
    assert await gate._enter("bystander")  # a free slot is the bystander's at once
    assert gate.in_flight == 3
    gate._leave("attacker")  # a slot of the attacker's frees: its waiter takes it
    assert await waiting
    assert gate.in_flight == 3


async def test_a_freed_slot_goes_to_the_first_waiter_whose_principal_may_start():
    gate = admission(max_in_flight=2, max_in_flight_per_principal=1)
    assert await gate._enter("a")
    assert await gate._enter("b")
    second_a = asyncio.create_task(gate._enter("a"))
    first_c = asyncio.create_task(gate._enter("c"))
    await asyncio.sleep(0)
    gate._leave("b")  # "a" waited longer, but holds its share: "c" starts
    assert await first_c
    assert not second_a.done()
    gate._leave("a")
    assert await second_a


async def test_a_waiter_is_turned_away_after_the_queue_time_and_the_queue_is_bounded():
    gate = admission(max_in_flight=1, max_in_flight_per_principal=1, max_queue_ms=20)
    assert await gate._enter("a")
    queued = asyncio.create_task(gate._enter("b"))
    await asyncio.sleep(0)
    assert not await gate._enter("c")  # the queue (as long as max_in_flight) is full
    assert not await queued  # nothing freed within 20 ms
    assert gate.in_flight == 1
    gate._leave("a")
    assert gate.in_flight == 0
    assert await gate._enter("b")


async def test_a_cancelled_waiter_leaves_no_trace():
    gate = admission(max_in_flight=1, max_in_flight_per_principal=1)
    assert await gate._enter("a")
    queued = asyncio.create_task(gate._enter("b"))
    await asyncio.sleep(0)
    queued.cancel()
    await asyncio.gather(queued, return_exceptions=True)
    gate._leave("a")
    assert gate.in_flight == 0
    assert await gate._enter("c")
