"""What a resolver may reach during one request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from connectors.probe import Probe

from .disclosure import Disclosure
from .loaders import Loaders

__all__ = ["RequestContext"]


@dataclass(frozen=True)
class RequestContext:
    """Per-request context handed to resolvers by the gateway."""

    loaders: Loaders
    disclosure: Disclosure
    probe_sources: Callable[[], Awaitable[Sequence[Probe]]]
    today: Callable[[], dt.date]
