"""The root `Query` type."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from .context import RequestContext
from .types import SourceName, SourceStatus

__all__ = ["Query"]


@strawberry.type
class Query:
    @strawberry.field(description="Each platform's reachability, checked now.")
    async def sources(self, info: Info[RequestContext, None]) -> list[SourceStatus]:
        probes = await info.context.probe_sources()
        return [
            SourceStatus(
                source=SourceName(probe.platform),
                ok=probe.ok,
                as_of=probe.checked_at if probe.ok else None,
                error=probe.error,
            )
            for probe in probes
        ]
