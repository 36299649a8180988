"""What the connector contract suite needs from each platform's test harness.

One harness per platform (in `harnesses/<platform>.py`, each exposing
`harness(tmp_path)`, an async context manager yielding a `Harness`) runs the real
stand-in — a real HTTP server on loopback, or the archive's real database — and
a connector configured to talk to it, and can make the platform misbehave.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import httpx

from connectors.base import Platform, SourceResult
from simulators.faults import FaultSettings, SimulatorState

Lie = Literal["malformed", "wrong_count", "foreign_subject", "bad_check_digit"]


class Harness(Protocol):
    platform: Platform
    """The connector's shared machinery (breaker, request count)."""

    known_keys: Sequence[Any]
    """Keys the platform holds records for (at least 3)."""

    def unknown_keys(self, count: int) -> list[Any]:
        """`count` distinct valid keys the platform holds nothing about."""

    async def fetch(self, keys: Sequence[Any]) -> SourceResult[Any, Any]:
        """The connector's main keyed operation."""

    def has_records(self, value: Any) -> bool:
        """Whether a fetched value carries at least one record."""

    async def upstream_requests(self) -> int:
        """Requests the platform received for the main operation (its own count)."""

    async def fail_next(self, count: int) -> None:
        """The next `count` requests answer 'unavailable' (503 / Server fault)."""

    async def set_down(self, down: bool) -> None:
        """Every request answers 'unavailable' until set up again."""

    async def set_latency_ms(self, latency_ms: float) -> None:
        """Delay every answer."""

    async def stop(self) -> None:
        """Stop the platform entirely: nothing listens any more."""

    async def lie(self, kind: Lie) -> None:
        """The next answer to the main operation is untrustworthy in the given way."""


class StandinControls:
    """The fault knobs every HTTP stand-in has: its `/_sim/*` admin endpoints, and
    its in-process state for what has no HTTP knob (latency)."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        state: SimulatorState,
        servers: contextlib.AsyncExitStack,
    ) -> None:
        self.url = url
        self.client = client
        self.state = state
        self._servers = servers

    async def admin(self, path: str, payload: dict[str, Any] | None = None) -> None:
        """POST to one of the stand-in's admin endpoints, e.g. `/_sim/down`."""
        answer = await self.client.post(f"{self.url}{path}", json=payload)
        answer.raise_for_status()

    async def fail_next(self, count: int) -> None:
        await self.admin(f"/_sim/fail-next?count={count}")

    async def set_down(self, down: bool) -> None:
        await self.admin("/_sim/down" if down else "/_sim/up")

    async def set_latency_ms(self, latency_ms: float) -> None:
        self.state.faults = FaultSettings(latency_ms=latency_ms)

    async def stop(self) -> None:
        await self._servers.aclose()
