"""GraphQL enums and small types shared by every part of the schema."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from .basis import SlotKind, note_slot
from .masking import Masked, MaskRule

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


def _ref_id(ref: SubjectRef) -> MaskRule | None:
    if ref.kind is SubjectKind.ORGANIZATION or ref.revealed:
        return None
    field_class = "legal_rep_id" if ref.legal_rep else "person_id_number"
    return MaskRule(field_class, "id_number", ref.id_number)


def _ref_name(ref: SubjectRef) -> MaskRule | None:
    if ref.kind is SubjectKind.ORGANIZATION:
        return None
    field_class = "legal_rep_name" if ref.legal_rep else "person_name"
    return MaskRule(field_class, "name", ref.id_number)


@strawberry.type(description="A person or organisation named inside another answer.")
class SubjectRef:
    kind: SubjectKind
    id_number: str | None = strawberry.field(default=None, extensions=[Masked(_ref_id)])
    credit_code: str | None = None
    name: str | None = strawberry.field(default=None, extensions=[Masked(_ref_name)])
    # A legal representative's number and name have masks of their own (DOMAIN.md).
    legal_rep: strawberry.Private[bool] = False
    # The answer of revealIdentity: the identity itself, on purpose unmasked.
    revealed: strawberry.Private[bool] = False

    @classmethod
    def person(
        cls, id_number: str | None, name: str | None, *, legal_rep: bool = False
    ) -> SubjectRef:
        return cls(kind=SubjectKind.PERSON, id_number=id_number, name=name, legal_rep=legal_rep)

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
    stale: bool = strawberry.field(
        default=False, description="served past its freshness limit (never used for a verdict)"
    )
    error: str | None = None
    age_s: strawberry.Private[float | None] = None

    @strawberry.field(description="seconds since the data was fetched from the platform")
    def cache_age_seconds(self, info: Info[Any, Any]) -> float | None:
        if self.age_s is not None and self.as_of is not None:
            note_slot(info, SlotKind.AGE, since=self.as_of)
        return self.age_s
