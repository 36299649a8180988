"""What a resolver may reach during one request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from graphql import GraphQLError

from connectors.probe import Probe

from .loaders import Loaders

__all__ = ["RequestContext", "require_reader"]


@dataclass(frozen=True)
class RequestContext:
    """Per-request context handed to resolvers by the gateway."""

    loaders: Loaders
    probe_sources: Callable[[], Awaitable[Sequence[Probe]]]
    today: Callable[[], dt.date]
    # Until token verification exists, personal data is served only in
    # development mode; production refuses it (fail closed).
    anonymous_reads: bool


def require_reader(context: RequestContext) -> None:
    if not context.anonymous_reads:
        raise GraphQLError(
            "a verified bearer token is required", extensions={"code": "UNAUTHENTICATED"}
        )
