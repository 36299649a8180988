"""What a resolver may reach during one request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from connectors.probe import Probe

__all__ = ["RequestContext"]


@dataclass(frozen=True)
class RequestContext:
    """Per-request context handed to resolvers by the gateway."""

    probe_sources: Callable[[], Awaitable[list[Probe]]]
