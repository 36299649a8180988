"""GraphQL enums and small types shared by every part of the schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from .basis import SlotKind, note_slot
from .freshness import ServingBound, serving_bound_s
from .masking import Masked, MaskRule

__all__ = [
    "Purpose",
    "SourceName",
    "SourceStatus",
    "SubjectKind",
    "SubjectRef",
    "describe_values",
]


def describe_values(enum_type: type[Enum], descriptions: Mapping[str, str]) -> None:
    """Give each value of a Strawberry enum its description, every value one.

    Beside the enum rather than `strawberry.enum_value(...)` on each member: that
    would make the members' values definitions instead of strings to every reader
    of the enum, mypy included.
    """
    definition = enum_type.__strawberry_definition__  # type: ignore[attr-defined]
    names = {value.name for value in definition.values}
    if names != set(descriptions):
        raise ValueError(f"{enum_type.__name__}: describe exactly {sorted(names)}")
    definition.values = [
        dataclasses.replace(value, description=descriptions[value.name])
        for value in definition.values
    ]


@strawberry.enum(description="Why the caller asks; it decides which platforms are consulted.")
class Purpose(Enum):
    CADRE_SELECTION = "CADRE_SELECTION"
    HONOURS = "HONOURS"
    PROCUREMENT_ELIGIBILITY = "PROCUREMENT_ELIGIBILITY"
    AUDIT = "AUDIT"
    SELF_CHECK = "SELF_CHECK"


describe_values(
    Purpose,
    {
        "CADRE_SELECTION": "Choosing or promoting a civil servant (干部选拔任用).",
        "HONOURS": "Awarding an honour to a person or an organisation (评优评先).",
        "PROCUREMENT_ELIGIBILITY": "Whether a supplier may take part in procurement.",
        "AUDIT": "An auditor's cross-source checks (the audit queries imply it).",
        "SELF_CHECK": "A data subject looking at its own records, or credit_admin on its behalf.",
    },
)


@strawberry.enum(description="The four platforms behind the gateway.")
class SourceName(Enum):
    CREDIT_PLATFORM = "credit"
    PROCUREMENT = "procurement"
    COURT = "court"
    ARCHIVE = "archive"


describe_values(
    SourceName,
    {
        "CREDIT_PLATFORM": "The provincial public credit information platform.",
        "PROCUREMENT": "The government procurement system.",
        "COURT": "The court enforcement (dishonest-debtor) interface.",
        "ARCHIVE": "The civil-service integrity archive.",
    },
)


@strawberry.enum(description="Whether a subject is a person or an organisation.")
class SubjectKind(Enum):
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"


describe_values(
    SubjectKind,
    {
        "PERSON": "A natural person, named by resident ID number.",
        "ORGANIZATION": "An organisation, named by unified social credit code.",
    },
)


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
    kind: SubjectKind = strawberry.field(description="A person or an organisation.")
    id_number: str | None = strawberry.field(
        default=None,
        extensions=[Masked(_ref_id)],
        description="A person's ID number, masked as the caller's role requires.",
    )
    credit_code: str | None = strawberry.field(
        default=None, description="An organisation's unified social credit code."
    )
    name: str | None = strawberry.field(
        default=None,
        extensions=[Masked(_ref_name)],
        description=("The name, masked as the caller's role requires (a pseudonym for auditors)."),
    )
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
    source: SourceName = strawberry.field(description="The platform.")
    ok: bool = strawberry.field(
        description="Whether the platform answered (from the cache counts)."
    )
    as_of: dt.datetime | None = strawberry.field(
        default=None,
        description="when the data was fetched from the platform",
        extensions=[ServingBound()],
    )
    stale: bool = strawberry.field(
        default=False, description="served past its freshness limit (never used for a verdict)"
    )
    error: str | None = strawberry.field(
        default=None, description="Why it did not answer, when it did not."
    )
    age_s: strawberry.Private[float | None] = None

    @strawberry.field(description="seconds since the data was fetched from the platform")
    def cache_age_seconds(self, info: Info[Any, Any]) -> float | None:
        if self.age_s is None or self.as_of is None:
            return self.age_s
        # Another caller's lookup must not show in the age (schema/freshness.py).
        bound = serving_bound_s(info, self.source.value)
        if bound is not None:
            return bound
        note_slot(info, SlotKind.AGE, since=self.as_of)
        return self.age_s
