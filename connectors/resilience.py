"""Composable resilience for upstream calls: retries, a circuit breaker, single-flight.

- `retrying` runs one call's attempts within the call's deadline: exponential
  backoff with full jitter, honouring Retry-After, and only for failures worth
  repeating on an idempotent read (connect errors, 5xx, 429 — `is_retryable`).
  A timed-out attempt is not repeated: the platform is slow, and asking again
  would only add load. Deadlines count platform time (`loop_stall`): while the
  gateway's own event loop is behind, they wait (up to as long again), and a
  timeout that only the gateway's backlog caused is `GatewayBusy`.
- `CircuitBreaker` opens after repeated unavailability of the platform itself,
  then half-opens to let one probe through; its state is readable for status
  and metrics. The gateway's own backlog (`GatewayBusy`) and the platform
  asking us to slow down (429, `SourceRateLimited`) do not count: neither
  says the platform is down, and an open breaker would fail every caller.
- `UpstreamSlots` bounds the calls in flight to one platform; waiting for a
  slot is the gateway's queueing, outside the platform's deadline.
- `SingleFlight` makes identical requests that are in flight at the same moment
  one upstream request whose answer they all share.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from .errors import (
    CircuitOpen,
    GatewayBusy,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from .loop_stall import platform_deadline, stall_monitor

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "RetryPolicy",
    "SingleFlight",
    "UpstreamSlots",
    "is_retryable",
    "retrying",
]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# An attempt that timed out after less platform time than this share of its
# timeout, the loop having been behind for the rest, was cut short by the
# gateway's own backlog, not by the platform.
PLATFORM_SHARE = 0.9


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed attempt is repeated."""

    max_attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0


def is_retryable(error: BaseException) -> bool:
    """Connect errors, 5xx and 429 are; timeouts, an open breaker and the
    gateway's own backlog are not (asking again would send the platform a
    request it may already have answered)."""
    return isinstance(error, SourceUnavailable) and not isinstance(
        error, SourceTimeout | CircuitOpen | GatewayBusy
    )


async def retrying(
    attempt: Callable[[float], Awaitable[T]],
    *,
    platform: str,
    deadline_s: float,
    attempt_timeout_s: float,
    policy: RetryPolicy,
    rng: random.Random,
) -> T:
    """Run `attempt(timeout_s)` until it succeeds, a failure is final, or time is up.

    Every attempt gets the smaller of `attempt_timeout_s` and what is left of
    `deadline_s`; a wait that would end past the deadline is not begun. The
    whole call's deadline is in platform time; an attempt's own timers run on the
    wall clock, so its timeout is judged afterwards (`_attempt`).
    """
    allowance_s = deadline_s

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, SourceRateLimited) and error.retry_after_s is not None:
            return error.retry_after_s
        ceiling = min(policy.max_delay_s, policy.base_delay_s * 2 ** (state.attempt_number - 1))
        return rng.uniform(0, ceiling)

    retry = AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(deadline_s),
        wait=wait,
        reraise=True,
    )
    last: list[BaseException] = []
    try:
        async with platform_deadline(deadline_s, allowance_s=allowance_s) as whole:
            async for round_ in retry:
                with round_:
                    left = whole.left()
                    last.clear()
                    try:
                        return await _attempt(attempt, platform, min(attempt_timeout_s, left))
                    except SourceRateLimited as error:
                        last.append(error)
                        raise
    except TimeoutError:
        if whole.gateway_stalled:
            raise _busy(platform) from None
        if last:  # ran out of time waiting as the platform asked: still a 429
            raise last[-1] from None
        raise SourceTimeout(platform, f"no answer within {deadline_s:g} s") from None
    raise AssertionError("unreachable: tenacity re-raises the last failure")  # pragma: no cover


async def _attempt(attempt: Callable[[float], Awaitable[T]], platform: str, timeout_s: float) -> T:
    """One attempt; its timeout is `GatewayBusy` when the event loop was behind
    for a good part of it and the platform had not had its time."""
    loop = asyncio.get_running_loop()
    monitor = stall_monitor()
    started, stalled = loop.time(), monitor.stalled_s
    try:
        return await attempt(timeout_s)
    except SourceTimeout:
        stall_s = monitor.stalled_s - stalled
        platform_s = loop.time() - started - stall_s
        if stall_s >= timeout_s * (1 - PLATFORM_SHARE) and platform_s < timeout_s * PLATFORM_SHARE:
            raise _busy(platform) from None
        raise


def _busy(platform: str) -> GatewayBusy:
    return GatewayBusy(platform, "the gateway was too busy to hear the answer in time")


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Per-platform breaker: `failure_threshold` unavailable calls in a row open it;
    after `reset_after_s` one probe call is let through (half-open); its outcome
    closes the breaker or opens it again."""

    def __init__(
        self,
        platform: str,
        *,
        failure_threshold: int = 5,
        reset_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        cooled = self._clock() - self._opened_at >= self.reset_after_s
        if self._state is BreakerState.OPEN and cooled:
            return BreakerState.HALF_OPEN
        return self._state

    def before_call(self) -> None:
        """Raise `CircuitOpen` unless a call may go to the platform now."""
        state = self.state
        if state is BreakerState.OPEN or (state is BreakerState.HALF_OPEN and self._probing):
            raise CircuitOpen(self.platform, "recent calls failed; not asking it for now")
        if state is BreakerState.HALF_OPEN:
            self._state = BreakerState.HALF_OPEN
            self._probing = True

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
        self._probing = False

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` under the breaker; only the platform's unavailability counts
        as a failure."""
        self.before_call()
        try:
            result = await work()
        except (GatewayBusy, SourceRateLimited):
            # Not the platform being down: neither a success nor a failure.
            self._probing = False
            raise
        except SourceUnavailable:
            self.record_failure()
            raise
        except BaseException:
            # The platform answered (even if badly): it is up. A cancelled probe
            # frees the half-open slot for the next caller.
            self._probing = False
            raise
        self.record_success()
        return result


class SingleFlight(Generic[K, T]):
    """Identical calls in flight at once share one execution.

    The shared work runs in its own task, so a caller that gives up (cancelled)
    does not cancel it for the others still waiting.
    """

    def __init__(self) -> None:
        self._inflight: dict[K, asyncio.Task[T]] = {}

    async def run(self, key: K, work: Callable[[], Awaitable[T]]) -> T:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    def __len__(self) -> int:
        return len(self._inflight)


class UpstreamSlots:
    """At most `limit` calls in flight to one platform; callers beyond wait in
    turn, at most `wait_s` (then `GatewayBusy`: the platform was not asked)."""

    def __init__(self, platform: str, limit: int, *, wait_s: float) -> None:
        self.platform = platform
        self.limit = limit
        self.wait_s = wait_s
        self._free = asyncio.Semaphore(limit)
        self.in_use = 0

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.wait_s):
                await self._free.acquire()
        except TimeoutError:
            raise GatewayBusy(self.platform, "no free upstream slot in time") from None
        self.in_use += 1
        try:
            return await work()
        finally:
            self.in_use -= 1
            self._free.release()
