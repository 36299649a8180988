"""Concurrent calls for different subjects to one platform operation, merged into one.

    merger = Merger(window_s)
    per_caller = await merger.join(operation, keys, run)

A request's DataLoader already makes one call per platform operation for all
the keys it asks at once; requests in flight together each made their own.
`Merger` holds the first caller of an operation for `window_s`, gathers the
keys every other caller asks for that operation meanwhile, and then runs ONE
`run(union_of_keys)` for all of them (the platform splits it by its batch
limit; identical chunks are still shared by single-flight). Each caller gets
back only its own keys' outcomes.

One caller's subject must not fail another's lookup. When a merged chunk fails
with an error about what was asked (`SourceProtocolError`, `SourceRefused`: an
answer that could not be believed, a request the platform would not take),
every caller whose keys were in it asks again for its own keys alone, so the
failure lands only on the caller whose keys cause it. Unavailability (down,
slow, rate limited) is about the platform and fails every caller of the chunk
alike: asking again per caller would only add load to a platform in trouble.

The merged call runs in a task of its own: a caller that gives up (cancelled)
leaves it running for the others, and it keeps the platform's deadline from
the moment it starts, so a caller waits at most `window_s` longer than alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import SourceError, SourceProtocolError, SourceRefused

__all__ = ["Merger"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What a run gives for each key: its chunk's outcome (values and as-of) or error.
Run = Callable[[Sequence[K]], Awaitable[Mapping[K, V | SourceError]]]


def _about_the_request(outcome: object) -> bool:
    return isinstance(outcome, SourceProtocolError | SourceRefused)


@dataclass
class _Gathering(Generic[K, V]):
    """The callers of one operation within one window."""

    run: Run[K, V]
    keys: dict[K, None] = field(default_factory=dict)  # the union, in order asked
    callers: list[tuple[list[K], asyncio.Future[dict[K, V | SourceError]]]] = field(
        default_factory=list
    )


class Merger:
    """One platform's open windows, one per operation at a time."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._open: dict[str, _Gathering[Any, Any]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self.merged = 0  # runs that served more than one caller, for tests and metrics

    async def join(self, operation: str, keys: list[K], run: Run[K, V]) -> dict[K, V | SourceError]:
        """`run` for `keys` together with the other callers of `operation` in this
        window; the outcome of each of `keys` (an operation stands for one `run`:
        the first caller's is used for all)."""
        loop = asyncio.get_running_loop()
        gathering = self._open.get(operation)
        if gathering is None:
            gathering = _Gathering(run)
            self._open[operation] = gathering
            loop.call_later(self.window_s, self._close, operation, gathering)
        gathering.keys.update(dict.fromkeys(keys))
        future: asyncio.Future[dict[K, V | SourceError]] = loop.create_future()
        gathering.callers.append((keys, future))
        # Shielded: a caller that is cancelled must not cancel the others' answer.
        return await asyncio.shield(future)

    def waiting(self, operation: str) -> int:
        """Callers of `operation` in the window still open (0 when none is)."""
        gathering = self._open.get(operation)
        return 0 if gathering is None else len(gathering.callers)

    def _close(self, operation: str, gathering: _Gathering[Any, Any]) -> None:
        if self._open.get(operation) is gathering:
            del self._open[operation]
        task = asyncio.ensure_future(self._serve(gathering))
        self._running.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._running.discard)

    async def _serve(self, gathering: _Gathering[K, V]) -> None:
        try:
            outcomes = await gathering.run(list(gathering.keys))
            if len(gathering.callers) > 1:
                self.merged += 1
            answers = await self._isolated(gathering, outcomes)
        except BaseException as error:  # never expected: `run` reports failures as values
            for _, future in gathering.callers:
                if not future.done():
                    future.set_exception(error)
            raise
        for (_, future), answer in zip(gathering.callers, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def _isolated(
        self, gathering: _Gathering[K, V], outcomes: Mapping[K, V | SourceError]
    ) -> list[dict[K, V | SourceError]]:
        """Each caller's outcomes; a chunk refused for what was asked that held more
        than one caller's keys is asked again per caller, each for its own keys."""
        callers = gathering.callers
        answers = [{key: outcomes[key] for key in keys} for keys, _ in callers]
        if len(callers) == 1:
            return answers
        # A chunk's failure is one error object shared by all of its keys.
        askers: dict[int, set[int]] = {}
        for n, answer in enumerate(answers):
            for outcome in answer.values():
                if _about_the_request(outcome):
                    askers.setdefault(id(outcome), set()).add(n)
        mixed = {error for error, who in askers.items() if len(who) > 1}
        again = [[key for key, got in answer.items() if id(got) in mixed] for answer in answers]
        retried = await asyncio.gather(*(gathering.run(keys) for keys in again if keys))
        alone = iter(retried)
        for answer, keys in zip(answers, again, strict=True):
            if keys:
                answer.update(next(alone))
        return answers
