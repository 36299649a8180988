"""GraphQL enums and small types shared by every part of the schema."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

__all__ = ["Purpose", "SourceName", "SourceStatus", "SubjectKind", "SubjectRef"]


@strawberry.enum(description="Why the caller asks; it decides which platforms are consulted.")
class Purpose(Enum):
    CADRE_SELECTION = "CADRE_SELECTION"
    HONOURS = "HONOURS"
    PROCUREMENT_ELIGIBILITY = "PROCUREMENT_ELIGIBILITY"
    AUDIT = "AUDIT"
    SELF_CHECK = "SELF_CHECK"


@strawberry.enum(description="The four platforms behind the gateway.")
class SourceName(Enum):
    CREDIT_PLATFORM = "credit"
    PROCUREMENT = "procurement"
    COURT = "court"
    ARCHIVE = "archive"


@strawberry.enum
class SubjectKind(Enum):
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"


@strawberry.type(description="A person or organisation named inside another answer.")
class SubjectRef:
    kind: SubjectKind
    id_number: str | None = None
    credit_code: str | None = None
    name: str | None = None

    @classmethod
    def person(cls, id_number: str | None, name: str | None) -> SubjectRef:
        return cls(kind=SubjectKind.PERSON, id_number=id_number, name=name)

    @classmethod
    def organization(cls, credit_code: str | None, name: str | None) -> SubjectRef:
        return cls(kind=SubjectKind.ORGANIZATION, credit_code=credit_code, name=name)


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
