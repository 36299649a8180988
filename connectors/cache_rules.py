"""The cache's rules: how entries are named, how long they may live, what evicts them.

Names (`CacheKeys`): every entry key and tag is an HMAC-SHA256 under the
pseudonym key, labelled for the cache, so no identifier is ever a key.

Time to live (ARCHITECTURE.md, "Caching"): the smaller of the platform's
`cache_ttl_s` and the time until the earliest end date AFTER now among the
entry's records. End dates in the data are the last day a record applies, so a
record ending on day E stops applying at E + 1 day, 00:00 in China (+08:00):
a record must not outlive its disclosure period by a second because it was
cached. The end dates taken are

    CreditRecord.publicity_end       inclusive last day
    EnforcementEntry.listing_end     inclusive last day
    Debarment.end_date               inclusive last day
    Sanction                         its period's first free day, by the rule the
                                     caller passes (`schema.in_force.sanction_until`):
                                     the sanction calendar is a domain rule, not
                                     the cache's, and connectors import nothing above them

Tags say what an entry depends on. A change feed, or an objection filed through
the gateway, names subjects; evicting a subject's tag drops every entry tagged
with it, at both levels. Some dependencies cannot be known from the entry:
when a supplier changes, who its new legal representative or shareholder is
shows only in the new answer, so every cached `representatives` answer carries
an operation tag that any procurement change evicts; likewise a civil servant
moving unit evicts every `unit_members` answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from .base import SHANGHAI
from .procurement import AwardQuery
from .records import (
    CivilServantFile,
    CreditRecord,
    Debarment,
    EnforcementEntry,
    Representative,
    SubjectKey,
)

__all__ = [
    "CACHE_KEY_MIN_BYTES",
    "INCLUSIVE_ENDS",
    "OPERATIONS",
    "CacheKeys",
    "EndRule",
    "RecordKey",
    "ReportKey",
    "Tag",
    "expiry",
    "first_free_instant",
    "record_tags",
    "report_tags",
]

CACHE_KEY_MIN_BYTES = 32
_DIGEST_BYTES = 16  # 128 bits: no collision among any number of cached subjects

EndRule = Callable[[Any], dt.date | None]
"""A record's first free day (the day after its last day), or None when open-ended."""


def _day_after(last: dt.date | None) -> dt.date | None:
    return None if last is None else last + dt.timedelta(days=1)


INCLUSIVE_ENDS: Mapping[type, EndRule] = {
    CreditRecord: lambda record: _day_after(record.publicity_end),
    EnforcementEntry: lambda entry: _day_after(entry.listing_end),
    Debarment: lambda debarment: _day_after(debarment.end_date),
}
"""The end rules that need no domain calendar; add `{Sanction: sanction_until}`."""


# The level-1 operations: each connector method that answers per key, by platform.
# The invalidation rules name some of them, so a key must use these names.
OPERATIONS: Mapping[str, frozenset[str]] = {
    "credit": frozenset({"subjects"}),
    "procurement": frozenset({"suppliers", "representatives", "purchasers", "awards"}),
    "court": frozenset({"entries", "restrictions"}),
    "archive": frozenset({"files", "unit_members"}),
}


@dataclass(frozen=True)
class RecordKey:
    """A level-1 entry: one connector method's answer about one of its keys
    (`CreditConnector.subjects`, `ArchiveConnector.unit_members`, ...)."""

    platform: str
    operation: str
    subject: SubjectKey | str | AwardQuery

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS.get(self.platform, ()):
            raise ValueError(f"no cached operation {self.platform}.{self.operation}")

    @property
    def text(self) -> str:
        """The key's canonical text: what is HMAC-ed, never stored as it is."""
        subject = self.subject
        if isinstance(subject, SubjectKey):
            return f"{subject.type.value}:{subject.code}"
        if isinstance(subject, AwardQuery):
            return f"{subject.purchaser_code}:{subject.start}:{subject.end}"
        return subject

    @property
    def identifier(self) -> str:
        """The subject's identifier (ID number or credit code) the key is about."""
        subject = self.subject
        if isinstance(subject, SubjectKey):
            return subject.code
        if isinstance(subject, AwardQuery):
            return subject.purchaser_code
        return subject


@dataclass(frozen=True)
class ReportKey:
    """A level-2 entry: a vetting report as one visibility class may see it.

    `visibility` is the acting role's sector, or "self" for a data subject
    about itself: two roles of one sector see the same report.
    """

    subject: str
    purpose: str
    as_of: dt.date
    rule_set_version: str
    policy_version: str
    visibility: str

    @property
    def text(self) -> str:
        return "\x00".join(
            (
                self.subject,
                self.purpose,
                self.as_of.isoformat(),
                self.rule_set_version,
                self.policy_version,
                self.visibility,
            )
        )


@dataclass(frozen=True)
class Tag:
    """Something entries depend on; evicting it evicts them. HMAC-ed before use."""

    kind: str  # subject | operation | person | report
    platform: str
    value: str

    @classmethod
    def subject(cls, platform: str, identifier: str) -> Tag:
        return cls("subject", platform, identifier)

    @classmethod
    def operation(cls, platform: str, operation: str) -> Tag:
        return cls("operation", platform, operation)

    @classmethod
    def archive_person(cls, person_id: str) -> Tag:
        """The archive's own person_id: its change log names persons only by it."""
        return cls("person", "archive", person_id)

    @classmethod
    def report(cls, identifier: str) -> Tag:
        return cls("report", "", identifier)

    @property
    def text(self) -> str:
        return f"{self.kind}\x00{self.platform}\x00{self.value}"


class CacheKeys:
    """Opaque cache keys: HMAC-SHA256 under the pseudonym key, labelled for the cache.

    `version` (the codec's fingerprint) is part of every entry key, so replicas
    with different record models never read each other's entries.
    """

    def __init__(self, secret: bytes, *, version: str) -> None:
        if not isinstance(secret, bytes) or len(secret) < CACHE_KEY_MIN_BYTES:
            raise ValueError(f"a cache key secret is at least {CACHE_KEY_MIN_BYTES} bytes")
        self._secret = secret
        self.version = version

    def record(self, key: RecordKey) -> str:
        digest = self._digest(b"record", key.text)
        return f"cg:1:{self.version}:{key.platform}:{key.operation}:{digest}"

    def report(self, key: ReportKey) -> str:
        return f"cg:2:{self.version}:{self._digest(b'report', key.text)}"

    def answer(self, asker: str, body: bytes) -> str:
        """A level-3 entry (the gateway's kept answers): who asks, and the body asked."""
        message = b"credgate-cache\x00answer\x00" + asker.encode() + b"\x00" + body
        digest = hmac.digest(self._secret, message, hashlib.sha256)[:_DIGEST_BYTES].hex()
        return f"cg:3:{self.version}:{digest}"

    def tag(self, tag: Tag) -> str:
        return self._digest(b"tag", tag.text)

    def _digest(self, label: bytes, text: str) -> str:
        message = b"credgate-cache\x00" + label + b"\x00" + text.encode()
        return hmac.digest(self._secret, message, hashlib.sha256)[:_DIGEST_BYTES].hex()


def record_tags(key: RecordKey, value: object) -> frozenset[Tag]:
    """What a level-1 entry depends on."""
    tags = {Tag.subject(key.platform, key.identifier)}
    if isinstance(value, Representative):
        tags.add(Tag.operation(key.platform, key.operation))
    elif isinstance(value, CivilServantFile):
        tags.add(Tag.archive_person(value.person_id))
    elif key.platform == "archive" and key.operation == "unit_members":
        tags.add(Tag.operation(key.platform, key.operation))
    return frozenset(tags)


def report_tags(key: ReportKey, depends_on: Mapping[RecordKey, object]) -> frozenset[Tag]:
    """A report depends on its subject and on everything its evidence depends on."""
    tags = {Tag.report(key.subject)}
    for record_key, value in depends_on.items():
        tags |= record_tags(record_key, value)
    return frozenset(tags)


def first_free_instant(day: dt.date) -> dt.datetime:
    """00:00 in China on `day`: the moment a record whose last day was the day before ends."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def expiry(
    values: Iterable[object], now: dt.datetime, ttl_s: float, ends: Mapping[type, EndRule]
) -> dt.datetime:
    """When an entry holding `values`, stored `now`, must be gone.

    End instants at or before now are ignored: such a record has already ended,
    and visibility rules judge it on the as-of date; only an end still to come
    can make the cached answer wrong later.
    """
    limit = now + dt.timedelta(seconds=max(ttl_s, 0.0))
    for value in values:
        limit = _earliest_end(value, ends, now, limit)
    return limit


# Values that hold no record: the walk below skips them without a closer look.
_LEAVES = frozenset({type(None), str, int, bool, float, Decimal, dt.date, dt.datetime})


def _earliest_end(
    value: object, ends: Mapping[type, EndRule], now: dt.datetime, limit: dt.datetime
) -> dt.datetime:
    """`limit`, or an earlier end instant after `now` of a record anywhere in `value`."""
    kind: type[Any] = type(value)
    if kind in _LEAVES or isinstance(value, Enum):
        return limit
    if kind is tuple or kind is list or kind is frozenset:
        for item in value:  # type: ignore[attr-defined]
            limit = _earliest_end(item, ends, now, limit)
        return limit
    rule = ends.get(kind)
    if rule is not None and (free := rule(value)) is not None:
        instant = first_free_instant(free)
        if now < instant < limit:
            limit = instant
    # A dataclass's fields are where nested records may be (records hold no ClassVars).
    for name in getattr(kind, "__dataclass_fields__", ()):
        limit = _earliest_end(getattr(value, name), ends, now, limit)
    return limit
