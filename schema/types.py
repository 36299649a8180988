"""GraphQL types shared by every part of the schema."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

__all__ = ["SourceName", "SourceStatus"]


@strawberry.enum(description="The four platforms behind the gateway.")
class SourceName(Enum):
    CREDIT_PLATFORM = "credit"
    PROCUREMENT = "procurement"
    COURT = "court"
    ARCHIVE = "archive"


@strawberry.type(description="Whether a platform answered, and how fresh its data is.")
class SourceStatus:
    source: SourceName
    ok: bool
    as_of: dt.datetime | None = strawberry.field(
        default=None, description="when the data was fetched from the platform"
    )
    cache_age_seconds: float | None = None
    stale: bool = strawberry.field(
        default=False, description="served past its freshness limit (never used for a verdict)"
    )
    error: str | None = None
