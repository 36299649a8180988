"""How fresh a platform's data is, as each caller may learn it.

Levels 1 and 2 of the cache are shared by every caller, so the moment data was
fetched is the moment someone asked about the subject: an officer shown
"fetched 8 s ago" learns that somebody looked the person up 8 s before. Only
the data subject (about itself) and credit_admin may learn that. For them —
and when no cache is configured, where nothing is shared — `asOf` and
`cacheAgeSeconds` are the fetch time and its age. For every other caller they
are the oldest the data can be: `cacheAgeSeconds` is the platform's serving
bound, min(`cache_ttl_s`, `freshness_s`) (no entry is served older, at level
1 or 2), and `asOf` the answer's time less that bound: the same values whether
the data was fetched for this answer or for another caller's, a moment or
minutes ago. The answer's own time goes in as a slot, so a kept answer
(level 3) is re-issued with the values of its new time. What is left of the
channel (answer times) is in docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from .basis import SlotKind, note_slot

__all__ = ["ServingBound", "serving_bound_s"]


def serving_bound_s(info: Info[Any, Any], platform: str) -> float | None:
    """The age reported to this field's caller for `platform`'s data, or None when
    the caller may see the real fetch time (or nothing is shared)."""
    cache = info.context.loaders.cache
    viewer = info.context.disclosure.viewer(info)
    if cache is None or viewer is None or viewer.sees_everything:
        return None
    bound: float = min(cache.ttl_s[platform], cache.freshness_s[platform])
    return bound


class ServingBound(FieldExtension):
    """`asOf` of a source status: the fetch time, or for a caller who may not
    learn it, the answer's time less the platform's serving bound."""

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        fetched: dt.datetime | None = next_(source, info, **kwargs)
        bound = serving_bound_s(info, source.source.value)
        if fetched is None or bound is None:
            return fetched
        note_slot(info, SlotKind.NOW, offset_s=bound)
        now: dt.datetime = info.context.loaders.cache.now()
        return now - dt.timedelta(seconds=bound)
