"""Platform time: a deadline that does not run while the gateway's own event loop is behind.

A platform's answer that arrives while the event loop is busy with other
requests waits in the socket until the loop gets to it. A wall-clock deadline
would then blame the platform for the gateway's own backlog, time it out and
count it against the platform's circuit breaker. So:

    stall_monitor()                      the running loop's `LoopStall` (started on first use)
    async with platform_deadline(s, allowance_s=a) as deadline:
        deadline.left()                  platform time left
        deadline.gateway_stalled         True when it ended because the stall passed `allowance_s`

`LoopStall` wakes every `TICK_S` and adds how late it woke (beyond
`TOLERANCE_S`) to `stalled_s`: the time the loop could not run anything that
was ready. `platform_deadline` expires when the time elapsed minus the stall
seen since it began reaches `s`; the stall credited is capped at `allowance_s`,
so a deadline ends at most `s + allowance_s` after it began. A deadline that
ends only because the cap was reached ends with `gateway_stalled` set: the
gateway, not the platform, was too slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

__all__ = ["LoopStall", "PlatformDeadline", "platform_deadline", "stall_monitor"]

TICK_S = 0.02
TOLERANCE_S = 0.005  # a timer's ordinary lateness is not a stall


class LoopStall:
    """How long, in total, this event loop has been unable to run ready work."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.stalled_s = 0.0
        self.lag_s = 0.0  # how late the latest tick woke: the backlog right now
        self._loop = loop
        self._task = loop.create_task(self._watch())

    async def _watch(self) -> None:
        loop = self._loop
        while True:
            due = loop.time() + TICK_S
            await asyncio.sleep(TICK_S)
            late = self.lag_s = loop.time() - due
            if late > TOLERANCE_S:
                self.stalled_s += late

    @property
    def running(self) -> bool:
        return not self._task.done()


_monitors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopStall] = (
    weakref.WeakKeyDictionary()
)


def stall_monitor() -> LoopStall:
    """The running loop's monitor; started the first time a deadline asks for it."""
    loop = asyncio.get_running_loop()
    monitor = _monitors.get(loop)
    if monitor is None or not monitor.running:
        monitor = _monitors[loop] = LoopStall(loop)
    return monitor


class PlatformDeadline:
    """`seconds` of platform time from now; see the module docstring."""

    def __init__(self, seconds: float, allowance_s: float) -> None:
        self.seconds = seconds
        self.allowance_s = allowance_s
        self.gateway_stalled = False
        self._loop = asyncio.get_running_loop()
        self._monitor = stall_monitor()
        self._started = self._loop.time()
        self._stalled_before = self._monitor.stalled_s
        self._handle: asyncio.TimerHandle | None = None

    def stalled_s(self) -> float:
        """The loop's stall since the deadline began (uncapped)."""
        return self._monitor.stalled_s - self._stalled_before

    def left(self) -> float:
        """Platform time left (never below a millisecond)."""
        ends = self._started + self.seconds + min(self.stalled_s(), self.allowance_s)
        return max(ends - self._loop.time(), 0.001)

    def start(self, timeout: asyncio.Timeout) -> None:
        self._arm(timeout, self._started + self.seconds)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _arm(self, timeout: asyncio.Timeout, when: float) -> None:
        self._handle = self._loop.call_at(when, self._check, timeout, when)

    def _check(self, timeout: asyncio.Timeout, scheduled: float) -> None:
        """Expire `timeout` once platform time is up, else look again when it may be."""
        now = self._loop.time()
        stall = self.stalled_s()
        if now - scheduled > TOLERANCE_S and stall < self.allowance_s:
            # Woken late: the loop was just behind, and the monitor, woken in the
            # same pass, may not have counted it yet. Look again a tick later.
            self._arm(timeout, now + TICK_S)
            return
        ends = self._started + self.seconds + min(stall, self.allowance_s)
        if now < ends:
            self._arm(timeout, ends)
            return
        self._handle = None
        self.gateway_stalled = stall >= self.allowance_s
        timeout.reschedule(now)


@contextlib.asynccontextmanager
async def platform_deadline(
    seconds: float, *, allowance_s: float
) -> AsyncIterator[PlatformDeadline]:
    """Raise TimeoutError in the block once `seconds` of platform time have passed."""
    deadline = PlatformDeadline(seconds, allowance_s)
    async with asyncio.timeout(None) as timeout:
        deadline.start(timeout)
        try:
            yield deadline
        finally:
            deadline.cancel()
