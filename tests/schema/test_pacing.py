"""The pacer: at most `per_turn` steps per loop turn, in arrival order, cancellations skipped."""

import asyncio

import pytest

from schema.pacing import Pacer


async def test_steps_are_released_per_turn_in_arrival_order() -> None:
    pacer = Pacer(per_turn=3)
    order: list[int] = []
    turns: list[int] = []
    turn = 0

    async def step(n: int) -> None:
        await pacer.turn()
        order.append(n)
        turns.append(turn)

    async def clock() -> None:
        nonlocal turn
        while len(order) < 10:
            await asyncio.sleep(0)
            turn += 1

    await asyncio.gather(clock(), *(step(n) for n in range(10)))
    assert order == list(range(10))
    per_turn = {t: turns.count(t) for t in set(turns)}
    assert max(per_turn.values()) == 3
    assert len(per_turn) == 4  # 3 + 3 + 3 + 1


async def test_a_cancelled_waiter_gives_its_place_up() -> None:
    pacer = Pacer(per_turn=1)
    done: list[str] = []

    async def step(name: str) -> None:
        await pacer.turn()
        done.append(name)

    first = asyncio.create_task(step("first"))
    second = asyncio.create_task(step("second"))
    await asyncio.sleep(0)  # both waiting
    first.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert done == ["second"]
    assert first.cancelled()


def test_per_turn_must_be_positive() -> None:
    with pytest.raises(ValueError, match="per_turn"):
        Pacer(per_turn=0)
