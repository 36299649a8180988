"""What the connector contract suite needs from each platform's test harness.

One harness per platform (in `harnesses/<platform>.py`, each exposing
`harness(tmp_path)`, an async context manager yielding a `Harness`) runs the real
stand-in — a real HTTP server on loopback, or the archive's real database — and
a connector configured to talk to it, and can make the platform misbehave.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from connectors.base import Platform, SourceResult

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
