"""What a resolver may reach during one request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from auth.access_log import AccessLog
from auth.reveal import PseudonymRegistry
from connectors.probe import Probe

from .disclosure import Disclosure
from .loaders import Loaders
from .types import SourceName
from .vetting import RuleSet

__all__ = ["RequestContext", "VettingSetup"]


@dataclass(frozen=True)
class VettingSetup:
    """What vetting needs, loaded once: the rule set and each platform's freshness limit."""

    rule_set: RuleSet
    freshness_s: Callable[[SourceName], float]


@dataclass(frozen=True)
class RequestContext:
    """Per-request context handed to resolvers by the gateway."""

    loaders: Loaders
    disclosure: Disclosure
    vetting: VettingSetup
    access_log: AccessLog
    registry: PseudonymRegistry
    probe_sources: Callable[[], Awaitable[Sequence[Probe]]]
    today: Callable[[], dt.date]
