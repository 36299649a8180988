"""What the credit stand-in counts about deliveries that carry an Idempotency-Key.

Tests of the gateway's outbox need to see, at the platform, how often each item
arrived, whether two arrivals of one key were ever in flight at the same time
(two replicas sending one item at once), and to hold deliveries in flight on
purpose (to kill a gateway mid-delivery). The platform itself only dedupes by
key; these counts are the stand-in's, served under `/_sim/deliveries`:

    GET  /_sim/deliveries           {"received": {key: n}, "replayed", "in_flight",
                                     "held", "overlaps"}
    POST /_sim/deliveries/hold      deliveries are applied, then wait for release
    POST /_sim/deliveries/release   let every held delivery answer
    POST /_sim/deliveries/delay?ms=N  each delivery stays in flight N ms after it was
                                      applied (so that overlaps can be seen)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

__all__ = ["DeliveryLedger"]


class DeliveryLedger:
    """Arrivals per key, keys in flight, overlaps, and the hold switch."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.replayed = 0
        self.overlaps = 0
        self._in_flight: Counter[str] = Counter()
        self._held = 0
        self._released = asyncio.Event()
        self._released.set()
        self.delay_s = 0.0

    def arrive(self, key: str, *, replay: bool) -> None:
        """A delivery with `key` arrived; it is in flight until `leave`."""
        self.received[key] += 1
        self.replayed += replay
        if self._in_flight[key]:
            self.overlaps += 1
        self._in_flight[key] += 1

    def leave(self, key: str) -> None:
        self._in_flight[key] -= 1
        if not self._in_flight[key]:
            del self._in_flight[key]

    async def pass_hold(self) -> None:
        """Stay in flight for the delay, and while deliveries are held."""
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self._released.is_set():
            return
        self._held += 1
        try:
            await self._released.wait()
        finally:
            self._held -= 1

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def stats(self) -> dict[str, Any]:
        return {
            "received": dict(self.received),
            "replayed": self.replayed,
            "in_flight": sum(self._in_flight.values()),
            "held": self._held,
            "overlaps": self.overlaps,
            "delay_ms": self.delay_s * 1000,
        }
