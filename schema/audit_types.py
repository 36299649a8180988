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
    civil_servant: SubjectRef = strawberry.field(
        description="The civil servant (a pseudonym for auditors)."
    )
    unit: SubjectRef | None = strawberry.field(description="The civil servant's unit.")
    supplier: SubjectRef = strawberry.field(
        description="The supplier they represent or hold shares in."
    )
    role: str = strawberry.field(description="LEGAL_REPRESENTATIVE or SHAREHOLDER")
    awards_from_own_unit: list[Award] = strawberry.field(
        description="Contracts the supplier won from the civil servant's unit in the"
        " last 15 years (the retention period of procurement files)."
    )


@strawberry.type(description="A position change that started while a CADRE_SELECTION bar held.")
class ImproperPromotion:
    civil_servant: SubjectRef = strawberry.field(
        description="The civil servant (a pseudonym for auditors)."
    )
    change: PositionChange = strawberry.field(description="The position change.")
    bars: list[Finding] = strawberry.field(
        description="The undisputed BAR findings on the change's start date."
    )


@strawberry.type(description="A government unit listed as a debtor, or owing as a purchaser.")
class GovernmentDebtor:
    unit: SubjectRef = strawberry.field(description="The government unit.")
    enforcement: list[EnforcementEntry] = strawberry.field(
        description="Its dishonest-debtor entries in force today."
    )
    open_issues: list[PurchaserIssue] = strawberry.field(
        description="Its LATE_PAYMENT and BREACH issues open today."
    )


@strawberry.type(description="An award to a supplier that was ineligible on the award date.")
class IneligibleAward:
    award: Award = strawberry.field(description="The award.")
    purchaser: SubjectRef = strawberry.field(description="The government unit that bought.")
    findings: list[Finding] = strawberry.field(
        description="PROCUREMENT_ELIGIBILITY findings on the award date (PE-02 left out:"
        " a registration status has no date)."
    )


@strawberry.type(description="One entry of the access log; subjects are pseudonyms.")
class AccessLogEntry:
    at: dt.datetime = strawberry.field(description="When the request was made.")
    actor: str | None = strawberry.field(description="Who asked (the token's subject).")
    role: str = strawberry.field(description="The role that acted, or several comma-separated.")
    unit: str | None = strawberry.field(description="The caller's unit, when it has one.")
    purpose: Purpose | None = strawberry.field(
        description="The purpose declared, or null when the request declared none or several."
    )
    subjects: list[SubjectRef] = strawberry.field(
        description="The subjects the request touched, as pseudonyms."
    )
    fields: list[str] = strawberry.field(
        description="The fields the answer carried, and events (objections, reveals, usage)."
    )
    outcome: str = strawberry.field(
        description=("OK, PARTIAL, DENIED, OBJECTION_FILED, USAGE_RECORDED or IDENTITY_REVEALED.")
    )
    request_id: strawberry.ID = strawberry.field(
        description="The request id, as in the answer's extensions."
    )

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
