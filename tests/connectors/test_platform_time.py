"""Platform time: the gateway's own backlog is no platform's timeout and no breaker failure."""

import asyncio
import random
import time

import pytest

from connectors.errors import GatewayBusy, SourceRateLimited, SourceTimeout, SourceUnavailable
from connectors.loop_stall import PlatformDeadline, platform_deadline
from connectors.resilience import (
    BreakerState,
    CircuitBreaker,
    RetryPolicy,
    UpstreamSlots,
    retrying,
)

ONCE = RetryPolicy(max_attempts=1)


def block_loop(seconds: float) -> None:
    """What a CPU-bound request does to every other one: the loop runs nothing else."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def test_a_deadline_waits_while_the_loop_is_blocked():
    loop = asyncio.get_running_loop()

    async def answer_after_a_blocked_stretch() -> str:
        # The platform's answer would be ready after 0.1 s, but the loop is busy
        # for 0.4 s: longer than the 0.3 s deadline.
        loop.call_later(0.05, block_loop, 0.4)
        await asyncio.sleep(0.1)
        return "answer"

    async with platform_deadline(0.3, allowance_s=1.0) as deadline:
        assert await answer_after_a_blocked_stretch() == "answer"
    assert not deadline.gateway_stalled


async def test_a_slow_platform_still_times_out_in_platform_time():
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with platform_deadline(0.2, allowance_s=1.0):
            await asyncio.sleep(5)
    assert time.monotonic() - started < 1.0


async def test_a_deadline_ends_at_its_allowance_and_says_the_gateway_stalled():
    loop = asyncio.get_running_loop()
    seen: list[PlatformDeadline] = []

    async def blocked_past_the_allowance() -> None:
        async with platform_deadline(0.1, allowance_s=0.2) as deadline:
            seen.append(deadline)
            loop.call_soon(block_loop, 0.5)
            await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        await blocked_past_the_allowance()
    assert seen[0].gateway_stalled


async def test_an_attempt_cut_short_by_the_loop_is_gateway_busy_and_leaves_the_breaker_closed():
    loop = asyncio.get_running_loop()
    breaker = CircuitBreaker("p", failure_threshold=1)

    async def attempt(timeout_s: float) -> str:
        # A client timer on the wall clock: it fires after the loop was blocked for
        # most of the attempt, before the platform had its time.
        loop.call_soon(block_loop, timeout_s * 0.8)
        await asyncio.sleep(timeout_s)
        raise SourceTimeout("p", "no answer")

    async def call() -> str:
        return await retrying(
            attempt,
            platform="p",
            deadline_s=0.5,
            attempt_timeout_s=0.25,
            policy=ONCE,
            rng=random.Random(1),
        )

    with pytest.raises(GatewayBusy):
        await breaker.call(call)
    assert breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize(
    "error",
    [GatewayBusy("p", "busy"), SourceRateLimited("p", "429", 1.0)],
)
async def test_the_gateway_backlog_and_a_rate_limit_do_not_open_the_breaker(error):
    breaker = CircuitBreaker("p", failure_threshold=1)

    async def fails() -> None:
        raise error

    for _ in range(3):
        with pytest.raises(type(error)):
            await breaker.call(fails)
    assert breaker.state is BreakerState.CLOSED

    async def down() -> None:
        raise SourceUnavailable("p", "503")

    with pytest.raises(SourceUnavailable):
        await breaker.call(down)
    assert breaker.state is BreakerState.OPEN


async def test_a_caller_waits_for_an_upstream_slot_then_is_turned_away_without_asking():
    slots = UpstreamSlots("p", 1, wait_s=0.05)
    release = asyncio.Event()
    asked = []

    async def work(n: int) -> int:
        asked.append(n)
        await release.wait()
        return n

    first = asyncio.create_task(slots.run(lambda: work(1)))
    await asyncio.sleep(0)
    with pytest.raises(GatewayBusy):
        await slots.run(lambda: work(2))
    assert asked == [1]
    assert slots.in_use == 1
    release.set()
    assert await first == 1
    assert await slots.run(lambda: work(3)) == 3
    assert slots.in_use == 0
