"""GraphQL types of platform records, each built from its normalised record.

`inForce` is judged on the request's as-of date (schema/in_force.py); a record
not in force is returned only when the caller asked for inactive records.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from connectors import records as r
from connectors.records import SubjectType

from .in_force import (
    credit_record_in_force,
    debarment_in_force,
    enforcement_in_force,
    issue_open,
)
from .masking import Masked, MaskRule
from .types import SubjectRef

__all__ = [
    "Award",
    "BusinessRole",
    "ConsumptionRestriction",
    "CreditRecord",
    "Debarment",
    "EnforcementEntry",
    "PurchaserIssue",
    "Violation",
]


@strawberry.type
class CreditRecord:
    record_id: strawberry.ID
    category: str
    decision_no: str | None
    violation_type: str | None
    penalty_types: list[str] | None
    penalty_content: str | None
    fine_amount: Decimal | None
    decision_date: dt.date | None
    authority_name: str | None
    severity: str | None
    publicity_end: dt.date | None
    disclosure: str
    status: str
    disputed: bool
    in_force: bool

    @classmethod
    def of(cls, record: r.CreditRecord, as_of: dt.date) -> CreditRecord:
        return cls(
            record_id=strawberry.ID(record.record_id),
            category=record.category,
            decision_no=record.decision_no,
            violation_type=record.violation_type,
            penalty_types=list(record.penalty_types),
            penalty_content=record.penalty_content,
            fine_amount=record.fine_amount,
            decision_date=record.decision_date,
            authority_name=record.authority_name,
            severity=record.severity,
            publicity_end=record.publicity_end,
            disclosure=record.disclosure,
            status=record.status,
            disputed=record.status == "OBJECTION_PENDING",
            in_force=credit_record_in_force(record, as_of),
        )


def _party_id(entry: EnforcementEntry) -> MaskRule | None:
    if entry.party_type is not SubjectType.PERSON:
        return None  # an organisation's credit code is not personal data
    return MaskRule("person_id_number", "id_number", entry.id_code)


def _party_name(entry: EnforcementEntry) -> MaskRule | None:
    if entry.party_type is not SubjectType.PERSON:
        return None
    return MaskRule("person_name", "name", entry.id_code)


@strawberry.type
class EnforcementEntry:
    entry_id: strawberry.ID
    case_code: str | None
    court: str | None
    province: str | None
    party_name: str | None = strawberry.field(extensions=[Masked(_party_name)])
    id_code: str | None = strawberry.field(extensions=[Masked(_party_id)])
    basis_doc_no: str | None
    basis_issuer: str | None
    obligation: str | None
    performance: str | None
    unperformed_amount: Decimal | None
    behaviour: int | None
    filing_date: dt.date | None
    publish_date: dt.date | None
    listing_end: dt.date | None
    status: str
    removed_date: dt.date | None
    in_force: bool
    party_type: strawberry.Private[SubjectType]

    @classmethod
    def of(cls, entry: r.EnforcementEntry, as_of: dt.date) -> EnforcementEntry:
        return cls(
            party_type=entry.party_type,
            entry_id=strawberry.ID(entry.entry_id),
            case_code=entry.case_code,
            court=entry.court,
            province=entry.province,
            party_name=entry.party_name,
            id_code=entry.id_code,
            basis_doc_no=entry.basis_doc_no,
            basis_issuer=entry.basis_issuer,
            obligation=entry.obligation,
            performance=entry.performance,
            unperformed_amount=entry.unperformed_amount,
            behaviour=entry.behaviour,
            filing_date=entry.filing_date,
            publish_date=entry.publish_date,
            listing_end=entry.listing_end,
            status=entry.status,
            removed_date=entry.removed_date,
            in_force=enforcement_in_force(entry, as_of),
        )


@strawberry.type
class ConsumptionRestriction:
    order_id: strawberry.ID
    case_code: str | None
    court: str | None
    issued_date: dt.date | None
    status: str

    @classmethod
    def of(cls, restriction: r.ConsumptionRestriction) -> ConsumptionRestriction:
        return cls(
            order_id=strawberry.ID(restriction.order_id),
            case_code=restriction.case_code,
            court=restriction.court,
            issued_date=restriction.issued_date,
            status=restriction.status,
        )


@strawberry.type
class BusinessRole:
    supplier: SubjectRef
    role: str
    registration_status: str | None

    @classmethod
    def of(cls, role: r.BusinessRole) -> BusinessRole:
        return cls(
            supplier=SubjectRef.organization(role.supplier_code, role.supplier_name),
            role=role.role,
            registration_status=role.registration_status,
        )


@strawberry.type
class Debarment:
    record_no: strawberry.ID
    reason: str | None
    legal_basis: str | None
    authority: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    published_date: dt.date | None
    in_force: bool

    @classmethod
    def of(cls, debarment: r.Debarment, as_of: dt.date) -> Debarment:
        return cls(
            record_no=strawberry.ID(debarment.record_no),
            reason=debarment.reason,
            legal_basis=debarment.legal_basis,
            authority=debarment.authority,
            start_date=debarment.start_date,
            end_date=debarment.end_date,
            published_date=debarment.published_date,
            in_force=debarment_in_force(debarment, as_of),
        )


@strawberry.type
class Violation:
    record_no: strawberry.ID
    circumstance: str | None
    penalty: str | None
    legal_basis: str | None
    penalty_date: dt.date | None
    authority: str | None

    @classmethod
    def of(cls, violation: r.Violation) -> Violation:
        return cls(
            record_no=strawberry.ID(violation.record_no),
            circumstance=violation.circumstance,
            penalty=violation.penalty,
            legal_basis=violation.legal_basis,
            penalty_date=violation.penalty_date,
            authority=violation.authority,
        )


@strawberry.type
class PurchaserIssue:
    contract_no: str
    type: str
    amount: Decimal | None
    due_date: dt.date | None
    resolved_date: dt.date | None
    open: bool

    @classmethod
    def of(cls, issue: r.PurchaserIssue, as_of: dt.date) -> PurchaserIssue:
        return cls(
            contract_no=issue.contract_no,
            type=issue.type,
            amount=issue.amount,
            due_date=issue.due_date,
            resolved_date=issue.resolved_date,
            open=issue_open(issue, as_of),
        )


@strawberry.type
class Award:
    contract_no: str
    supplier: SubjectRef
    award_date: dt.date
    amount: Decimal | None

    @classmethod
    def of(cls, award: r.Award) -> Award:
        return cls(
            contract_no=award.contract_no,
            supplier=SubjectRef.organization(award.supplier_code, award.supplier_name),
            award_date=award.award_date,
            amount=award.amount,
        )
