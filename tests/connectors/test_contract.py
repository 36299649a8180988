"""ONE contract suite, run against every connector over real HTTP/SQL to its stand-in.

Platform-specific behaviour (paging details, token refresh, request signing,
hostile XML) is tested beside it in `test_<platform>.py`.
"""

import asyncio
import contextlib
import importlib

import pytest

from connectors.errors import (
    CircuitOpen,
    SourceProtocolError,
    SourceTimeout,
    SourceUnavailable,
)
from connectors.resilience import BreakerState, CircuitBreaker

PLATFORMS = ["credit", "procurement", "court", "archive"]


@pytest.fixture(params=PLATFORMS)
async def harness(request, tmp_path):
    module = importlib.import_module(f"tests.connectors.harnesses.{request.param}")
    async with module.harness(tmp_path) as running:
        yield running


def assert_failed_whole(result, keys, error_type):
    assert not result.status.ok
    assert isinstance(result.status.error, error_type), result.status.error
    assert dict(result.values) == {}
    assert set(result.errors) == set(keys)


async def test_happy_path_answers_every_key(harness):
    keys = [*harness.known_keys, *harness.unknown_keys(2)]
    result = await harness.fetch(keys)
    assert result.status.ok, result.status.error
    assert result.status.as_of is not None
    assert set(result.values) == set(keys)
    assert dict(result.errors) == {}
    assert all(harness.has_records(result.values[key]) for key in harness.known_keys)
    assert await harness.upstream_requests() == 1


async def test_keys_are_split_by_the_batch_limit_never_one_call_per_subject(harness):
    limit = harness.platform.batch_limit
    keys = [*harness.known_keys, *harness.unknown_keys(2 * limit + 1 - len(harness.known_keys))]
    result = await harness.fetch([*keys, *keys[:5]])  # duplicates are asked once
    assert result.status.ok, result.status.error
    assert set(result.values) == set(keys)
    assert await harness.upstream_requests() == 3


async def test_a_burst_of_unavailable_answers_is_retried(harness):
    await harness.fail_next(2)
    result = await harness.fetch(harness.known_keys)
    assert result.status.ok, result.status.error
    assert set(result.values) == set(harness.known_keys)
    assert await harness.upstream_requests() == 3


async def test_a_platform_that_stays_unavailable_fails_its_keys_without_raising(harness):
    await harness.set_down(True)
    result = await harness.fetch(harness.known_keys)
    assert_failed_whole(result, harness.known_keys, SourceUnavailable)
    await harness.set_down(False)
    assert (await harness.fetch(harness.known_keys)).status.ok


async def test_a_slow_platform_fails_at_the_deadline(harness):
    deadline = harness.platform.settings.timeout_s
    await harness.set_latency_ms(deadline * 1000 + 500)
    result = await harness.fetch(harness.known_keys)
    assert_failed_whole(result, harness.known_keys, SourceTimeout)


async def test_a_stopped_platform_is_unavailable(harness):
    await harness.stop()
    result = await harness.fetch(harness.known_keys)
    assert_failed_whole(result, harness.known_keys, SourceUnavailable)


@pytest.mark.parametrize("lie", ["malformed", "wrong_count", "foreign_subject", "bad_check_digit"])
async def test_an_untrustworthy_answer_is_a_source_error_not_data(harness, lie):
    await harness.lie(lie)
    result = await harness.fetch(harness.known_keys)
    assert_failed_whole(result, harness.known_keys, SourceProtocolError)
    # The next, honest answer is used again.
    assert (await harness.fetch(harness.known_keys)).status.ok


async def test_the_breaker_opens_then_half_opens_to_probe(harness):
    now = [0.0]
    breaker = CircuitBreaker(
        harness.platform.name, failure_threshold=2, reset_after_s=30, clock=lambda: now[0]
    )
    harness.platform.breaker = breaker
    await harness.set_down(True)
    for _ in range(2):
        await harness.fetch(harness.known_keys)
    assert breaker.state is BreakerState.OPEN
    asked = await harness.upstream_requests()
    result = await harness.fetch(harness.known_keys)
    assert isinstance(result.status.error, CircuitOpen)
    assert await harness.upstream_requests() == asked  # the platform was left alone
    await harness.set_down(False)
    now[0] += 31
    assert breaker.state is BreakerState.HALF_OPEN
    assert (await harness.fetch(harness.known_keys)).status.ok
    assert breaker.state is BreakerState.CLOSED


async def test_identical_requests_in_flight_are_made_once(harness):
    await harness.set_latency_ms(100)
    results = await asyncio.gather(*(harness.fetch(harness.known_keys) for _ in range(10)))
    assert all(result.status.ok for result in results)
    assert await harness.upstream_requests() == 1


async def test_a_caller_giving_up_does_not_break_the_shared_call(harness):
    await harness.set_latency_ms(100)
    first = asyncio.create_task(harness.fetch(harness.known_keys))
    second = asyncio.create_task(harness.fetch(harness.known_keys))
    await asyncio.sleep(0)  # let both join the same flight
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert (await second).status.ok
