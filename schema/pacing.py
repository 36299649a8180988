"""Turns of the event loop shared out between CPU-heavy steps, so no request stalls the rest.

A batch of 1,000 subjects wakes 1,000 evaluations in the same loop turn once
its data has arrived; run one after another they would hold the loop for a
few hundred milliseconds, and every other request (and `/healthz`) would wait.
A step that may be heavy first takes a turn:

    await pacer.turn()      # returns in a later loop turn, at most `per_turn` per turn
    report = evaluate(...)

One pacer serves the whole process, so two big batches share the turns too.
Waiters go in arrival order. What runs between two turns (other requests,
I/O callbacks, health checks) runs between every `per_turn` steps.
"""

from __future__ import annotations

import asyncio
import collections

__all__ = ["PER_TURN", "Pacer"]

PER_TURN = 25
"""Steps let through per loop turn: about 5 ms of vetting on a busy core."""


class Pacer:
    """Lets at most `per_turn` waiters go on per event-loop turn."""

    def __init__(self, per_turn: int = PER_TURN) -> None:
        if per_turn < 1:
            raise ValueError("per_turn must be at least 1")
        self.per_turn = per_turn
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._scheduled = False

    async def turn(self) -> None:
        """Wait for a turn of the loop with room for one more step."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiting.append(waiter)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._release)
        await waiter

    def _release(self) -> None:
        # The released waiters run in the next turn; so does the next release,
        # queued after them, so each turn runs at most `per_turn` of them.
        released = 0
        while self._waiting and released < self.per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():  # a cancelled waiter gives its place up
                waiter.set_result(None)
                released += 1
        self._scheduled = bool(self._waiting)
        if self._scheduled:
            asyncio.get_running_loop().call_soon(self._release)
