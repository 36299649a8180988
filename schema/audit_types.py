"""GraphQL types of the auditors' answers (schema.graphql, `AuditQueries`).

They are made of the types every other answer uses — `SubjectRef`, `Award`,
`EnforcementEntry`, `PurchaserIssue`, `PositionChange`, `Finding` — so the same
masking applies: a civil servant's ID number and name are pseudonyms for an
auditor and shown in full to credit_admin, a RESTRICTED record's details are
hidden from all but credit_admin.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from auth.access_log_entry import Entry

from .person import PositionChange
from .records import Award, EnforcementEntry, PurchaserIssue
from .reports import Finding
from .types import Purpose, SubjectKind, SubjectRef

__all__ = [
    "AccessLogEntry",
    "ConflictOfInterest",
    "GovernmentDebtor",
    "ImproperPromotion",
    "IneligibleAward",
]


@strawberry.type(
    description="A civil servant who represents, or holds shares in, a registered supplier."
)
class ConflictOfInterest:
    civil_servant: SubjectRef
    unit: SubjectRef | None
    supplier: SubjectRef
    role: str = strawberry.field(description="LEGAL_REPRESENTATIVE or SHAREHOLDER")
    awards_from_own_unit: list[Award] = strawberry.field(
        description="Contracts the supplier won from the civil servant's unit in the"
        " last 15 years (the retention period of procurement files)."
    )


@strawberry.type(description="A position change that started while a CADRE_SELECTION bar held.")
class ImproperPromotion:
    civil_servant: SubjectRef
    change: PositionChange
    bars: list[Finding] = strawberry.field(
        description="The undisputed BAR findings on the change's start date."
    )


@strawberry.type(description="A government unit listed as a debtor, or owing as a purchaser.")
class GovernmentDebtor:
    unit: SubjectRef
    enforcement: list[EnforcementEntry] = strawberry.field(
        description="Its dishonest-debtor entries in force today."
    )
    open_issues: list[PurchaserIssue] = strawberry.field(
        description="Its LATE_PAYMENT and BREACH issues open today."
    )


@strawberry.type(description="An award to a supplier that was ineligible on the award date.")
class IneligibleAward:
    award: Award
    purchaser: SubjectRef
    findings: list[Finding] = strawberry.field(
        description="PROCUREMENT_ELIGIBILITY findings on the award date (PE-02 left out:"
        " a registration status has no date)."
    )


@strawberry.type(description="One entry of the access log; subjects are pseudonyms.")
class AccessLogEntry:
    at: dt.datetime
    actor: str | None
    role: str
    unit: str | None
    purpose: Purpose | None = strawberry.field(
        description="The purpose declared, or null when the request declared none or several."
    )
    subjects: list[SubjectRef]
    fields: list[str]
    outcome: str
    request_id: strawberry.ID

    @classmethod
    def of(cls, entry: Entry) -> AccessLogEntry:
        purposes = {p.value for p in Purpose}
        return cls(
            at=entry.time,
            actor=entry.actor,
            role=entry.role,
            unit=None if entry.unit == "-" else entry.unit,
            purpose=Purpose(entry.purpose) if entry.purpose in purposes else None,
            subjects=[_pseudonymous(token) for token in entry.subjects],
            fields=list(entry.fields),
            outcome=entry.outcome,
            request_id=strawberry.ID(entry.request_id),
        )


def _pseudonymous(token: str) -> SubjectRef:
    """A subject the log knows by its pseudonym only (`P-…` a person, `O-…` an
    organisation). It is shown as it is: `revealed` switches the ID-number mask
    off, and a pseudonym has nothing left to mask (re-masking it would fail)."""
    if token.startswith("P-"):
        return SubjectRef(kind=SubjectKind.PERSON, id_number=token, revealed=True)
    return SubjectRef(kind=SubjectKind.ORGANIZATION, credit_code=token)
