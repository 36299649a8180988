import asyncio
import random

import pytest

from connectors.errors import (
    CircuitOpen,
    SourceAuthError,
    SourceProtocolError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.resilience import (
    BreakerState,
    CircuitBreaker,
    RetryPolicy,
    SingleFlight,
    is_retryable,
    retrying,
)

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.002)


class Script:
    """An attempt function that fails as scripted, then answers."""

    def __init__(self, *failures):
        self.failures = list(failures)
        self.timeouts = []

    async def __call__(self, timeout_s):
        self.timeouts.append(timeout_s)
        if self.failures:
            raise self.failures.pop(0)
        return "answer"


async def run(script, deadline_s=1.0, attempt_timeout_s=0.5, policy=FAST):
    return await retrying(
        script,
        platform="p",
        deadline_s=deadline_s,
        attempt_timeout_s=attempt_timeout_s,
        policy=policy,
        rng=random.Random(1),
    )


async def test_unavailable_answers_are_retried_until_one_succeeds():
    script = Script(SourceUnavailable("p", "503"), SourceUnavailable("p", "503"))
    assert await run(script) == "answer"
    assert len(script.timeouts) == 3


@pytest.mark.parametrize(
    "error",
    [
        SourceAuthError("p", "bad key"),
        SourceProtocolError("p", "garbage"),
        SourceTimeout("p", "slow"),
        CircuitOpen("p", "open"),
    ],
)
async def test_final_failures_are_not_retried(error):
    script = Script(error)
    with pytest.raises(type(error)):
        await run(script)
    assert len(script.timeouts) == 1
    assert not is_retryable(error)


async def test_attempts_stop_at_the_policy_limit():
    script = Script(*[SourceUnavailable("p", "503")] * 10)
    with pytest.raises(SourceUnavailable):
        await run(script)
    assert len(script.timeouts) == FAST.max_attempts


async def test_retry_after_longer_than_the_deadline_is_not_waited_for():
    script = Script(SourceRateLimited("p", "429", retry_after_s=30))
    with pytest.raises(SourceRateLimited):
        await run(script, deadline_s=1.0)
    assert len(script.timeouts) == 1


async def test_retry_after_within_the_deadline_is_honoured():
    script = Script(SourceRateLimited("p", "429", retry_after_s=0.01))
    assert await run(script) == "answer"


async def test_each_attempt_gets_at_most_what_is_left_of_the_deadline():
    script = Script(SourceUnavailable("p", "503"))
    await run(script, deadline_s=0.2, attempt_timeout_s=0.5)
    assert all(timeout <= 0.2 for timeout in script.timeouts)


async def test_a_hanging_attempt_ends_at_the_deadline_as_a_timeout():
    never = asyncio.Event()

    async def hang(timeout_s):
        await never.wait()

    with pytest.raises(SourceTimeout, match=r"within 0\.05 s"):
        await run(hang, deadline_s=0.05)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def fail():
    raise SourceUnavailable("p", "down")


async def ok():
    return "ok"


async def test_breaker_opens_after_consecutive_failures_and_half_opens_for_one_probe():
    clock = Clock()
    breaker = CircuitBreaker("p", failure_threshold=2, reset_after_s=10, clock=clock)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await breaker.call(fail)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)
    clock.now = 10
    assert breaker.state is BreakerState.HALF_OPEN
    # A failed probe opens it again for another full period.
    with pytest.raises(SourceUnavailable):
        await breaker.call(fail)
    assert breaker.state is BreakerState.OPEN
    clock.now = 20
    assert await breaker.call(ok) == "ok"
    assert breaker.state is BreakerState.CLOSED


async def test_half_open_lets_only_one_probe_through_at_a_time():
    clock = Clock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_after_s=1, clock=clock)
    with pytest.raises(SourceUnavailable):
        await breaker.call(fail)
    clock.now = 1
    release = asyncio.Event()

    async def slow_ok():
        await release.wait()
        return "ok"

    probe = asyncio.create_task(breaker.call(slow_ok))
    await asyncio.sleep(0)  # the probe has entered the breaker
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)
    release.set()
    assert await probe == "ok"


async def test_answers_that_are_not_unavailability_do_not_open_the_breaker():
    breaker = CircuitBreaker("p", failure_threshold=1)

    async def garbage():
        raise SourceProtocolError("p", "garbage")

    for _ in range(3):
        with pytest.raises(SourceProtocolError):
            await breaker.call(garbage)
    assert breaker.state is BreakerState.CLOSED


async def test_single_flight_shares_one_execution_and_forgets_it_afterwards():
    flights: SingleFlight[str, int] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def work():
        nonlocal calls
        calls += 1
        await release.wait()
        return calls

    waiting = [asyncio.create_task(flights.run("k", work)) for _ in range(5)]
    await asyncio.sleep(0)
    assert len(flights) == 1
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 5
    assert len(flights) == 0
    assert await flights.run("k", work) == 2


async def test_single_flight_shares_failures_too():
    flights: SingleFlight[str, int] = SingleFlight()

    async def broken():
        raise SourceUnavailable("p", "down")

    results = await asyncio.gather(
        *(flights.run("k", broken) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, SourceUnavailable) for result in results)
