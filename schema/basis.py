"""What one answer rests on: for the gateway's answer cache (level 3).

An answer may be kept and served again only when everything it shows came out
of the cache — level-1 records or level-2 reports — so that the entries' own
lifetimes and eviction tags say exactly when it stops being true. `AnswerBasis`
collects, while the request runs:

- the tags of every cache entry read (an eviction of any of them drops the
  answer) and the earliest moment one of them stops being usable: its time to
  live, or its fetch time plus the platform's freshness limit;
- whether anything else was read: a platform asked because of a miss, the
  access log, the pseudonym registry, a reachability probe, an archive scan
  (`live`). Those answers are never kept. This is an allow-list by
  construction: the loaders' cache hits are the only reads that do not mark
  it, and the request context hands out the other sources only through
  accessors that do;
- the values that must be new in every answer (`Slot`): a report id, a
  generation time, a cache age. Each is noted with its response path, so a
  kept answer is re-issued with fresh ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from strawberry.types import Info

from connectors.cache import Entry

__all__ = ["AnswerBasis", "Slot", "SlotKind", "note_slot"]

ResponsePath = tuple[str | int, ...]


class SlotKind(Enum):
    REPORT_ID = "report_id"  # a new id for the same report row
    NOW = "now"  # the time the answer is made (less `offset_s`)
    AGE = "age"  # seconds since `since`
    REQUEST_ID = "request_id"  # the answer's own (in `extensions`; noted by the gateway)


@dataclass(frozen=True, slots=True)
class Slot:
    """A value in the answer that is made anew each time it is served."""

    path: ResponsePath
    kind: SlotKind
    report_id: str = ""  # REPORT_ID: the id this answer's report row had
    since: dt.datetime | None = None  # AGE: when the data was fetched
    offset_s: float = 0.0  # NOW: this many seconds before the answer's time


@dataclass
class AnswerBasis:
    """Per request; see the module docstring."""

    tags: set[str] = field(default_factory=set)
    usable_until: dt.datetime | None = None
    live: set[str] = field(default_factory=set)
    slots: list[Slot] = field(default_factory=list)

    def rests_on(self, entry: Entry[Any], fresh_for_s: Iterable[float]) -> None:
        """The answer used `entry`, trusted for `fresh_for_s` seconds past each of its
        sources' fetch times (the freshness limits)."""
        self.tags.update(entry.tags)
        until = entry.fresh_until
        for seconds in fresh_for_s:
            until = min(until, entry.fetched_at + dt.timedelta(seconds=seconds))
        if self.usable_until is None or until < self.usable_until:
            self.usable_until = until

    def reads_live(self, what: str) -> None:
        """The answer used `what`, which is not cached: it must not be kept."""
        self.live.add(what)


def note_slot(
    info: Info[Any, Any],
    kind: SlotKind,
    *,
    report_id: str = "",
    since: dt.datetime | None = None,
    offset_s: float = 0.0,
) -> None:
    """Remember that the value resolved at `info.path` is made anew per answer."""
    basis: AnswerBasis = info.context.basis
    path = tuple(info.path.as_list())
    basis.slots.append(Slot(path, kind, report_id=report_id, since=since, offset_s=offset_s))
