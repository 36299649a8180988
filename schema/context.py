"""What a resolver may reach during one request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from auth.access_log import AccessLog
from auth.outbox import Outbox
from auth.reveal import PseudonymRegistry
from connectors.credit_parse import ObjectionDecision
from connectors.probe import Probe

from .basis import AnswerBasis
from .disclosure import Disclosure
from .loaders import Loaders
from .pacing import Pacer
from .types import SourceName
from .vetting import RuleSet

__all__ = ["FileObjection", "LiveSources", "RequestContext", "VettingSetup"]

# The credit platform's objections: (record id, subject, reason, filed by,
# idempotency key) -> (objection id, status).
FileObjection = Callable[[str, str, str, str, str], Awaitable[tuple[str, str]]]


@dataclass(frozen=True)
class VettingSetup:
    """What vetting needs, loaded once: the rule set, each platform's freshness limit,
    and the process's pacer that evaluations take turns from."""

    rule_set: RuleSet
    freshness_s: Callable[[SourceName], float]
    pacer: Pacer = field(default_factory=Pacer)


@dataclass(frozen=True)
class LiveSources:
    """What resolvers may read besides the platforms' cached data: never cached."""

    access_log: AccessLog
    registry: PseudonymRegistry
    probe_sources: Callable[[], Awaitable[Sequence[Probe]]]
    file_objection: FileObjection
    # An objection's decision, read from the credit platform now.
    objection_decision: Callable[[str], Awaitable[ObjectionDecision]]
    outbox: Outbox


@dataclass(frozen=True)
class RequestContext:
    """Per-request context handed to resolvers by the gateway.

    The live sources are reached only through the accessors below, which tell
    the request's `basis` that the answer rests on something the cache does not
    hold (so it is never kept by the answer cache)."""

    loaders: Loaders
    disclosure: Disclosure
    vetting: VettingSetup
    basis: AnswerBasis
    today: Callable[[], dt.date]
    live_sources: LiveSources

    @property
    def access_log(self) -> AccessLog:
        self.basis.reads_live("access log")
        return self.live_sources.access_log

    @property
    def registry(self) -> PseudonymRegistry:
        self.basis.reads_live("pseudonym registry")
        return self.live_sources.registry

    @property
    def probe_sources(self) -> Callable[[], Awaitable[Sequence[Probe]]]:
        self.basis.reads_live("reachability probe")
        return self.live_sources.probe_sources

    @property
    def file_objection(self) -> FileObjection:
        self.basis.reads_live("objection")
        return self.live_sources.file_objection

    @property
    def objection_decision(self) -> Callable[[str], Awaitable[ObjectionDecision]]:
        self.basis.reads_live("objection")
        return self.live_sources.objection_decision

    @property
    def outbox(self) -> Outbox:
        self.basis.reads_live("outbox")
        return self.live_sources.outbox
