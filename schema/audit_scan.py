"""What the audit queries share: the caller's binding, bounded pipelines, complete evidence.

An audit query runs over the whole dataset: it starts from an archive scan
(pages of civil servants, position changes or units), and for every page asks
the platforms through the request's DataLoaders — one batched call per
platform per page, split only by the platform's batch limit — while the scan
reads on. `bounded` keeps at most `IN_FLIGHT` pages in the air, so the upstream
requests in flight stay bounded however large the dataset.

An audit answer is a list that claims to be complete, so it fails closed: a
platform that did not answer for any page (or answered with data past its
freshness limit) fails the whole query with SOURCE_UNAVAILABLE rather than
leaving out what it would have found.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from strawberry.types import Info

from auth.visibility import Viewer
from connectors.archive_scan import ArchiveScan
from connectors.errors import SourceError, SourceUnavailable

from .context import RequestContext, VettingSetup
from .disclosure import Disclosure
from .errors import source_unavailable
from .gather import gather_evidence
from .loaders import Fetched, Loaders
from .purposes import sources_for
from .types import Purpose, SubjectKind
from .vetting import Evidence

__all__ = [
    "IN_FLIGHT",
    "PURCHASERS_PER_PAGE",
    "AuditCall",
    "answered",
    "bounded",
    "pages_of",
    "scanned",
]

IN_FLIGHT = 2  # pages handled at once; each page is one batched call per platform
PURCHASERS_PER_PAGE = 10  # QueryAwards takes one purchaser: a page is that many requests
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class AuditCall:
    """One audit query's view of the request: who asks, and what it may reach."""

    viewer: Viewer
    disclosure: Disclosure
    loaders: Loaders
    scan: ArchiveScan
    vetting: VettingSetup
    today: dt.date
    # A subject met on several pages (a supplier of many units, a person promoted
    # often) is gathered once per query.
    _evidence: dict[tuple[SubjectKind, str, Purpose], Evidence] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, info: Info[RequestContext, None]) -> AuditCall:
        context = info.context
        viewer = context.disclosure.viewer(info)
        if viewer is None:  # never: `audit_root` binds every audit field's root
            raise RuntimeError("an audit field was reached without its root binding")
        return cls(
            viewer=viewer,
            disclosure=context.disclosure,
            loaders=context.loaders,
            scan=context.loaders.archive_scan,
            vetting=context.vetting,
            today=context.today(),
        )

    async def evidence(self, kind: SubjectKind, key: str, purpose: Purpose) -> Evidence:
        """Everything `purpose` consults about one subject, as this viewer may use it
        (record visibility), fetched through the loaders; complete, or an error."""
        known = self._evidence.get((kind, key, purpose))
        if known is not None:
            return known
        sources = sources_for(purpose, kind)
        if sources is None:  # never: the audit queries ask only for applicable pairs
            raise ValueError(f"{purpose.name} does not apply to {kind.name}")
        gathered = await gather_evidence(
            self.loaders, kind, key, sources, self.viewer, self.vetting.freshness_s
        )
        for status in gathered.sources:
            if not status.ok or status.stale:
                reason = status.error or "its data is older than its freshness limit"
                raise source_unavailable(SourceUnavailable(status.source.value, reason))
        self.disclosure.rule_set_version = self.vetting.rule_set.version
        self._evidence[(kind, key, purpose)] = gathered.evidence
        return gathered.evidence


def answered(fetched: Fetched[T]) -> T:
    """A loader's value, or SOURCE_UNAVAILABLE when its platform failed."""
    if fetched.error is not None:
        raise source_unavailable(fetched.error)
    # Without an error the value is the platform's answer (which may itself be None).
    return cast(T, fetched.value)


async def pages_of(items: Sequence[T], size: int) -> AsyncIterator[Sequence[T]]:
    """`items` in pages of `size`, as a scan would yield them."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def bounded(
    pages: AsyncIterable[Sequence[T]],
    handle: Callable[[Sequence[T]], Awaitable[list[R]]],
    *,
    limit: int = IN_FLIGHT,
) -> list[R]:
    """`handle` each page as it comes, at most `limit` at once; the results in page order.

    The first failure (a page's, or the scan's own) stops everything and is
    raised: an archive `SourceError` as SOURCE_UNAVAILABLE, a GraphQL error as it is.
    """
    slots = asyncio.Semaphore(limit)
    tasks: list[asyncio.Task[list[R]]] = []

    async def run(page: Sequence[T]) -> list[R]:
        try:
            return await handle(page)
        finally:
            slots.release()

    try:
        async with asyncio.TaskGroup() as group:
            async for page in pages:
                await slots.acquire()
                tasks.append(group.create_task(run(page)))
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [result for task in tasks for result in task.result()]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first failure inside (nested) exception groups, as the caller should see it."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    if isinstance(error, SourceError):
        return source_unavailable(error)
    return error


async def scanned(call: Callable[[], Awaitable[T]]) -> T:
    """An archive scan's result, or SOURCE_UNAVAILABLE when the archive failed."""
    try:
        return await call()
    except SourceError as error:
        raise source_unavailable(error) from None
