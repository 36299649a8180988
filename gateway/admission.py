"""Admission control: a worker takes on what it can finish and says at once when it cannot.

In front of the GraphQL endpoint, behind the token check, the per-caller
rate limit (so each request has its principal) and the reading of the body
(`graphql_http.graphql_request`, within `[limits] body_timeout_s`, else HTTP
408 `REQUEST_TIMEOUT`: a slow client never holds a slot while it trickles bytes):

1. At most `max_in_flight` requests run at once, and one principal (or, with
   access control off, one client address) at most `max_in_flight_per_principal`
   of them: whatever one caller sends, the others find slots free.
2. A request that finds no slot waits in turn, at most `max_queue_ms` and
   behind at most `max_in_flight` others; past either it is answered at once
   with HTTP 503, `OVERLOADED` and `Retry-After`, and reaches nothing behind.
   When a slot frees, the longest-waiting request whose principal is under its
   share takes it.
3. A principal that already has a request running is also turned away while
   the event loop is more than `max_queue_ms` behind (`loop_stall`): the
   backlog it adds would be felt by every request in flight. A principal with
   nothing running is admitted whenever a slot is free.

A shed request costs the gateway a token check, the body's JSON and a small
answer: no GraphQL is parsed, no platform is asked, nothing is logged as an access.
"""

from __future__ import annotations

import asyncio
import collections
import math
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.error_codes import Code
from connectors.loop_stall import stall_monitor

from .refusals import refuse
from .settings import LimitsSettings

__all__ = ["Admission", "caller"]


def caller(scope: Scope) -> str:
    """Who a request counts against: its principal, else its client address."""
    principal = scope.get("state", {}).get("principal")
    if principal is not None:
        return f"principal:{principal.subject}"
    client = scope.get("client") or ("?", 0)
    return f"address:{client[0]}"


@dataclass
class _Waiter:
    who: str
    admitted: asyncio.Event = field(default_factory=asyncio.Event)


class Admission:
    """The slots of one worker; `wrap(app)` puts the endpoint behind them."""

    def __init__(self, limits: LimitsSettings) -> None:
        self.max_in_flight = limits.max_in_flight
        self.share = limits.max_in_flight_per_principal
        self.max_queue_s = limits.max_queue_ms / 1000
        self.in_flight = 0
        self.shed = 0  # requests answered OVERLOADED, for status and tests
        self._running: collections.Counter[str] = collections.Counter()
        self._queue: collections.deque[_Waiter] = collections.deque()

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def admitted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            who = caller(scope)
            if not await self._enter(who):
                self.shed += 1
                await refuse(
                    scope,
                    receive,
                    send,
                    Code.OVERLOADED,
                    "the gateway is at capacity; try again shortly",
                    headers={"Retry-After": str(self.retry_after_s)},
                )
                return
            try:
                await app(scope, receive, send)
            finally:
                self._leave(who)

        return admitted

    @property
    def retry_after_s(self) -> int:
        """What a shed request is told to wait: about the time a queue clears."""
        return max(1, math.ceil(self.max_queue_s * 4))

    async def _enter(self, who: str) -> bool:
        """True once `who` holds a slot; False when it is to be turned away."""
        running = self._running[who]
        if running and stall_monitor().lag_s > self.max_queue_s:
            return False
        # Whoever still waits is held by its share (free slots are handed on at
        # once), so a caller that may start now passes nobody who could.
        if self._may_start(who):
            self._start(who)
            return True
        if len(self._queue) >= self.max_in_flight:
            return False
        waiter = _Waiter(who)
        self._queue.append(waiter)
        try:
            async with asyncio.timeout(self.max_queue_s):
                await waiter.admitted.wait()
        except TimeoutError:
            if waiter.admitted.is_set():  # granted just as its time ran out
                return True
            self._queue.remove(waiter)
            return False
        except asyncio.CancelledError:
            if waiter.admitted.is_set():  # granted as it was cancelled: give it back
                self._leave(who)
            else:
                self._queue.remove(waiter)
            raise
        return True

    def _may_start(self, who: str) -> bool:
        return self.in_flight < self.max_in_flight and self._running[who] < self.share

    def _start(self, who: str) -> None:
        self.in_flight += 1
        self._running[who] += 1

    def _leave(self, who: str) -> None:
        self.in_flight -= 1
        self._running[who] -= 1
        if not self._running[who]:
            del self._running[who]  # idle callers are forgotten: memory stays bounded
        self._hand_on()

    def _hand_on(self) -> None:
        """Give free slots to the longest-waiting requests whose principal may start."""
        for waiter in list(self._queue):
            if self.in_flight >= self.max_in_flight:
                return
            if self._may_start(waiter.who):
                self._queue.remove(waiter)
                self._start(waiter.who)
                waiter.admitted.set()
