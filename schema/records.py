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


@strawberry.type(
    description=(
        "A record of the provincial public credit information platform (行政处罚, "
        "失信名单 and others)."
    )
)
class CreditRecord:
    record_id: strawberry.ID = strawberry.field(
        description="The platform's record id (the one an objection names)."
    )
    category: str = strawberry.field(
        description=(
            "ADMIN_PENALTY, SERIOUS_DISHONESTY, TAX_VIOLATION, GOV_DISHONESTY, "
            "BROKEN_COMMITMENT or RED_LIST."
        )
    )
    decision_no: str | None = strawberry.field(
        description="Number of the decision document (决定书文号)."
    )
    violation_type: str | None = strawberry.field(
        description="What was done wrong (违法行为类型), as the platform words it."
    )
    penalty_types: list[str] | None = strawberry.field(
        description=(
            "WARNING, FINE, CONFISCATION, SUSPENSION, LICENCE_REVOCATION, DETENTION or OTHER."
        )
    )
    penalty_content: str | None = strawberry.field(
        description="The penalty as decided (处罚内容), free text."
    )
    fine_amount: Decimal | None = strawberry.field(
        description="The fine in yuan, when there is one."
    )
    decision_date: dt.date | None = strawberry.field(description="When the decision was made.")
    authority_name: str | None = strawberry.field(description="The authority that decided.")
    severity: str | None = strawberry.field(description="GENERAL (一般失信) or SERIOUS (严重失信).")
    publicity_end: dt.date | None = strawberry.field(
        description=(
            "Last day of the record's publicity period; after it the record is no longer in force."
        )
    )
    disclosure: str = strawberry.field(
        description=(
            "PUBLIC, CONDITIONAL (shown to sectors in its share scope) or RESTRICTED "
            "(used to decide, never shown)."
        )
    )
    status: str = strawberry.field(
        description="EFFECTIVE, OBJECTION_PENDING (异议处理中), REPAIRED (已信用修复) or REVOKED."
    )
    disputed: bool = strawberry.field(
        description=("Under objection (status OBJECTION_PENDING): a bar it would give only flags.")
    )
    in_force: bool = strawberry.field(description="In force on the question's as-of date.")

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


@strawberry.type(
    description="An entry of the court's list of dishonest judgment debtors (失信被执行人名单)."
)
class EnforcementEntry:
    entry_id: strawberry.ID = strawberry.field(description="The court interface's entry id.")
    case_code: str | None = strawberry.field(
        description="The enforcement case number (案号), e.g. (2024)辽0102执1234号."
    )
    court: str | None = strawberry.field(description="The enforcing court.")
    province: str | None = strawberry.field(description="The court's province.")
    party_name: str | None = strawberry.field(
        extensions=[Masked(_party_name)],
        description="The debtor's name (masked by role for persons).",
    )
    id_code: str | None = strawberry.field(
        extensions=[Masked(_party_id)],
        description="The debtor's ID number or credit code (masked by role for persons).",
    )
    basis_doc_no: str | None = strawberry.field(
        description="Number of the judgment or other document enforced (执行依据文号)."
    )
    basis_issuer: str | None = strawberry.field(description="Who issued the document enforced.")
    obligation: str | None = strawberry.field(
        description="The obligation the document set (free text)."
    )
    performance: str | None = strawberry.field(
        description="NONE (nothing performed) or PARTIAL (partly performed)."
    )
    unperformed_amount: Decimal | None = strawberry.field(
        description="What is still owed, in yuan."
    )
    behaviour: int | None = strawberry.field(
        description="The kind of dishonest conduct, code 1 to 6 (失信情形)."
    )
    filing_date: dt.date | None = strawberry.field(
        description="When the case was filed (立案时间)."
    )
    publish_date: dt.date | None = strawberry.field(description="When the entry was published.")
    listing_end: dt.date | None = strawberry.field(
        description=("Last day of a fixed listing term; null: listed until the debt is performed.")
    )
    status: str = strawberry.field(description="LISTED or REMOVED.")
    removed_date: dt.date | None = strawberry.field(
        description="When the entry was removed from the list."
    )
    in_force: bool = strawberry.field(description="Listed on the question's as-of date.")
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


@strawberry.type(description="A court order restricting high consumption (限制消费令).")
class ConsumptionRestriction:
    order_id: strawberry.ID = strawberry.field(description="The court interface's order id.")
    case_code: str | None = strawberry.field(description="The enforcement case number (案号).")
    court: str | None = strawberry.field(description="The court that issued the order.")
    issued_date: dt.date | None = strawberry.field(description="When the order was issued.")
    status: str = strawberry.field(description="ACTIVE or LIFTED.")

    @classmethod
    def of(cls, restriction: r.ConsumptionRestriction) -> ConsumptionRestriction:
        return cls(
            order_id=strawberry.ID(restriction.order_id),
            case_code=restriction.case_code,
            court=restriction.court,
            issued_date=restriction.issued_date,
            status=restriction.status,
        )


@strawberry.type(
    description="A person's role in a supplier registered with the procurement system."
)
class BusinessRole:
    supplier: SubjectRef = strawberry.field(description="The supplier.")
    role: str = strawberry.field(description="LEGAL_REPRESENTATIVE or SHAREHOLDER.")
    registration_status: str | None = strawberry.field(
        description=("The supplier's registration: ACTIVE, SUSPENDED, CANCELLED or NOT_REGISTERED.")
    )

    @classmethod
    def of(cls, role: r.BusinessRole) -> BusinessRole:
        return cls(
            supplier=SubjectRef.organization(role.supplier_code, role.supplier_name),
            role=role.role,
            registration_status=role.registration_status,
        )


@strawberry.type(description="A debarment from government procurement (不良行为记录名单).")
class Debarment:
    record_no: strawberry.ID = strawberry.field(
        description="The procurement system's record number."
    )
    reason: str | None = strawberry.field(description="Why the supplier was debarred.")
    legal_basis: str | None = strawberry.field(description="The provision the debarment rests on.")
    authority: str | None = strawberry.field(description="The authority that debarred.")
    start_date: dt.date | None = strawberry.field(description="First day of the debarment.")
    end_date: dt.date | None = strawberry.field(
        description="Last day of the debarment; null: no end set."
    )
    published_date: dt.date | None = strawberry.field(description="When it was published.")
    in_force: bool = strawberry.field(description="In force on the question's as-of date.")

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


@strawberry.type(
    description=(
        "A record of serious illegal or dishonest conduct in procurement (严重违法失信行为记录)."
    )
)
class Violation:
    record_no: strawberry.ID = strawberry.field(
        description="The procurement system's record number."
    )
    circumstance: str | None = strawberry.field(description="What happened (具体情形).")
    penalty: str | None = strawberry.field(description="The penalty given (处罚结果).")
    legal_basis: str | None = strawberry.field(description="The provision the penalty rests on.")
    penalty_date: dt.date | None = strawberry.field(
        description=(
            "When the penalty was given; the procurement rules count their periods from it."
        )
    )
    authority: str | None = strawberry.field(description="The authority that penalised.")

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


@strawberry.type(description="A government unit's failure as a buyer, on one contract.")
class PurchaserIssue:
    contract_no: str = strawberry.field(description="The contract concerned.")
    type: str = strawberry.field(
        description="LATE_PAYMENT (拖欠), ACCEPTANCE_DELAY (验收拖延) or BREACH (违约)."
    )
    amount: Decimal | None = strawberry.field(description="The amount concerned, in yuan.")
    due_date: dt.date | None = strawberry.field(description="When payment or acceptance was due.")
    resolved_date: dt.date | None = strawberry.field(
        description="When the issue was resolved; null while it is open."
    )
    open: bool = strawberry.field(description="Unresolved on the question's as-of date.")

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


@strawberry.type(description="A government procurement contract awarded.")
class Award:
    contract_no: str = strawberry.field(description="The contract number.")
    supplier: SubjectRef = strawberry.field(description="The supplier that won the contract.")
    award_date: dt.date = strawberry.field(description="When the contract was awarded.")
    amount: Decimal | None = strawberry.field(description="The contract amount, in yuan.")

    @classmethod
    def of(cls, award: r.Award) -> Award:
        return cls(
            contract_no=award.contract_no,
            supplier=SubjectRef.organization(award.supplier_code, award.supplier_name),
            award_date=award.award_date,
            amount=award.amount,
        )
