"""What every connector shares: batched, resilient calls to one platform.

A connector turns "these N subject keys" into normalised records. `Platform`
holds one platform's shared machinery (settings, breaker, retry policy,
single-flight, request count) and `Platform.batched` does the common work of a
keyed operation:

1. de-duplicate the keys (order kept), merge them with the keys other callers
   ask for the same operation within a few milliseconds (`coalesce`), and
   split them by the platform's batch limit;
2. run the chunks concurrently, each as one upstream call within `timeout_s`,
   retried and guarded by the breaker, shared with identical calls in flight;
3. check the answer names exactly the keys asked for (`check_answer`);
4. merge: `values` for the caller's keys answered, `errors` for its keys whose
   chunk failed, and one `CallStatus` for the whole call.

A failure never escapes as an exception from `batched`: the caller gets partial
results and says which keys are missing, so one failed platform nulls only its
own fields.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .coalesce import Merger
from .errors import SourceError, SourceProtocolError
from .resilience import CircuitBreaker, RetryPolicy, SingleFlight, UpstreamSlots, retrying
from .settings import PlatformSettings

__all__ = ["SHANGHAI", "CallStatus", "Platform", "SourceResult", "check_answer", "now_shanghai"]

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def now_shanghai() -> dt.datetime:
    return dt.datetime.now(SHANGHAI)


@dataclass(frozen=True)
class CallStatus:
    """How one platform call went: the `SourceStatus` of the schema comes from it."""

    platform: str
    ok: bool
    as_of: dt.datetime | None
    error: SourceError | None = None


@dataclass(frozen=True)
class SourceResult(Generic[K, T]):
    """Records by key; keys whose chunk failed are in `errors`, not in `values`."""

    values: Mapping[K, T]
    errors: Mapping[K, SourceError]
    status: CallStatus


@dataclass(frozen=True)
class _Chunk(Generic[K, T]):
    values: Mapping[K, T]
    as_of: dt.datetime


class Platform:
    """One platform's shared call machinery; one instance per platform per process."""

    def __init__(
        self,
        name: str,
        settings: PlatformSettings,
        batch_limit: int,
        *,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.batch_limit = batch_limit
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(name)
        # Backoff jitter needs no cryptographic quality.
        self.rng = rng or random.Random()
        # Waiting for a slot is the gateway's queueing: it happens before the
        # platform's deadline starts and never counts against its breaker.
        self.slots = UpstreamSlots(name, settings.max_in_flight, wait_s=settings.timeout_s)
        self.requests = 0  # upstream attempts made, for status and metrics
        # Concurrent callers' keys for one operation, merged within the window.
        self.merger = Merger(settings.merge_window_ms / 1000)
        # Values differ by operation; a flight's key starts with its operation.
        self._flights: SingleFlight[Hashable, Any] = SingleFlight()

    async def batched(
        self,
        operation: str,
        keys: Iterable[K],
        fetch: Callable[[Sequence[K], float], Awaitable[tuple[Mapping[K, T], dt.datetime]]],
        *,
        batch_limit: int | None = None,
        merge: bool = True,
    ) -> SourceResult[K, T]:
        """Run `fetch(chunk, attempt_timeout_s)` for every chunk of `keys`.

        `batch_limit` overrides the platform's for operations that take fewer keys.
        `merge` lets the keys share chunks with other callers of `operation` in the
        same window (`coalesce`); an operation name must then stand for one
        `fetch`, whoever passes it.

        `fetch` makes ONE upstream request (following pages is its own business)
        and returns the records by key plus the platform's as-of time; it raises
        a `SourceError` on failure, a retryable one when repeating may help.
        """
        unique = list(dict.fromkeys(keys))
        size = batch_limit or self.batch_limit

        async def run(asked: Sequence[K]) -> dict[K, _Chunk[K, T] | SourceError]:
            chunks = [asked[i : i + size] for i in range(0, len(asked), size)]
            outcomes = await asyncio.gather(
                *(self._chunk(operation, chunk, fetch) for chunk in chunks)
            )
            return {
                key: outcome
                for chunk, outcome in zip(chunks, outcomes, strict=True)
                for key in chunk
            }

        if merge and self.merger.window_s > 0 and unique:
            by_key = await self.merger.join(operation, unique, run)
        else:
            by_key = await run(unique)
        values: dict[K, T] = {}
        errors: dict[K, SourceError] = {}
        as_of: dt.datetime | None = None
        first_error: SourceError | None = None
        for key in unique:
            outcome = by_key[key]
            if isinstance(outcome, SourceError):
                errors[key] = outcome
                first_error = first_error or outcome
            elif key in outcome.values:
                values[key] = outcome.values[key]
                as_of = outcome.as_of if as_of is None else min(as_of, outcome.as_of)
        status = CallStatus(self.name, first_error is None, as_of, first_error)
        return SourceResult(values, errors, status)

    async def _chunk(
        self,
        operation: str,
        chunk: Sequence[K],
        fetch: Callable[[Sequence[K], float], Awaitable[tuple[Mapping[K, T], dt.datetime]]],
    ) -> _Chunk[K, T] | SourceError:
        async def whole() -> _Chunk[K, T]:
            values, as_of = await self.call(lambda timeout: fetch(chunk, timeout))
            return _Chunk(values, as_of)

        try:
            shared: _Chunk[K, T] = await self._flights.run((operation, tuple(chunk)), whole)
        except SourceError as error:
            return error
        return shared

    async def call(self, attempt: Callable[[float], Awaitable[T]]) -> T:
        """Run one request (`attempt(attempt_timeout_s)`) within the call's deadline,
        with retries and the breaker, once an upstream slot is free; raises its
        `SourceError`. Retried: `attempt` must be safe to repeat. Each chunk of a
        batch is one such call."""

        async def counted(timeout_s: float) -> T:
            self.requests += 1
            return await attempt(timeout_s)

        async def guarded() -> T:
            return await retrying(
                counted,
                platform=self.name,
                deadline_s=self.settings.timeout_s,
                attempt_timeout_s=self.settings.attempt_timeout_s,
                policy=self.retry,
                rng=self.rng,
            )

        return await self.slots.run(lambda: self.breaker.call(guarded))


def check_answer(platform: str, asked: Sequence[K], answered: Sequence[K]) -> None:
    """Refuse an answer that does not name exactly the keys asked for, in order."""
    if len(answered) != len(asked):
        raise SourceProtocolError(
            platform, f"asked about {len(asked)} subjects, answered {len(answered)}"
        )
    wanted = set(asked)
    unexpected = sum(1 for key in answered if key not in wanted)
    if unexpected:
        raise SourceProtocolError(
            platform, f"answered {unexpected} subject(s) it was not asked about"
        )
    if list(answered) != list(asked):
        raise SourceProtocolError(platform, "answers are not in the order of the request")
