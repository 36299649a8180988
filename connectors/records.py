"""The normalised record model: what connectors return, whatever the platform said.

Frozen value objects with typed fields — dates as `date`, timestamps as aware
`datetime`, money as `Decimal`, lists as tuples — so they can be cached, shared
between requests and compared. Field names follow the platforms' own meanings
(UPSTREAMS.md); nothing here knows about roles, masking or GraphQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

__all__ = [
    "Assessment",
    "Award",
    "BusinessRole",
    "CivilServantFile",
    "ConsumptionRestriction",
    "CourtParty",
    "CreditRecord",
    "CreditSubject",
    "Debarment",
    "EnforcementEntry",
    "Honour",
    "Investigation",
    "MattersReportCheck",
    "PersonRef",
    "PositionChange",
    "PurchaserIssue",
    "PurchaserPerformance",
    "Representative",
    "Sanction",
    "SubjectKey",
    "SubjectType",
    "SupplierStatus",
    "Violation",
]


class SubjectType(Enum):
    PERSON = "PERSON"
    ORG = "ORG"


@dataclass(frozen=True)
class SubjectKey:
    """A subject as the credit platform keys it: type and canonical identifier."""

    type: SubjectType
    code: str


@dataclass(frozen=True)
class PersonRef:
    """A person named inside another record (a legal representative, a shareholder)."""

    name: str | None
    id_number: str | None


# --- credit platform --------------------------------------------------------


@dataclass(frozen=True)
class CreditRecord:
    record_id: str
    category: str
    subject_type: SubjectType
    subject_code: str
    subject_name: str | None
    decision_no: str | None
    violation_type: str | None
    penalty_types: tuple[str, ...]
    penalty_content: str | None
    fine_amount: Decimal | None
    decision_date: dt.date | None
    authority_name: str | None
    authority_code: str | None
    severity: str | None
    publicity_end: dt.date | None
    disclosure: str
    share_scope: tuple[str, ...]
    status: str
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class CreditSubject:
    """One subject's answer from the credit platform (`name` None when unknown)."""

    key: SubjectKey
    name: str | None
    records: tuple[CreditRecord, ...]


# --- procurement system -----------------------------------------------------


@dataclass(frozen=True)
class Debarment:
    record_no: str
    reason: str | None
    legal_basis: str | None
    authority: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    published_date: dt.date | None


@dataclass(frozen=True)
class Violation:
    record_no: str
    circumstance: str | None
    penalty: str | None
    legal_basis: str | None
    penalty_date: dt.date | None
    authority: str | None


@dataclass(frozen=True)
class SupplierStatus:
    credit_code: str
    name: str | None
    registration_status: str  # ACTIVE SUSPENDED CANCELLED NOT_REGISTERED
    legal_representative: PersonRef | None
    debarments: tuple[Debarment, ...]
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class BusinessRole:
    supplier_code: str
    supplier_name: str | None
    registration_status: str | None
    role: str  # LEGAL_REPRESENTATIVE | SHAREHOLDER


@dataclass(frozen=True)
class Representative:
    """The suppliers a person represents or holds shares in."""

    id_number: str
    roles: tuple[BusinessRole, ...]


@dataclass(frozen=True)
class PurchaserIssue:
    contract_no: str
    type: str  # LATE_PAYMENT ACCEPTANCE_DELAY BREACH
    amount: Decimal | None
    due_date: dt.date | None
    resolved_date: dt.date | None


@dataclass(frozen=True)
class PurchaserPerformance:
    credit_code: str
    issues: tuple[PurchaserIssue, ...]


@dataclass(frozen=True)
class Award:
    purchaser_code: str
    contract_no: str
    supplier_code: str
    supplier_name: str | None
    award_date: dt.date
    amount: Decimal | None


# --- court enforcement ------------------------------------------------------


@dataclass(frozen=True)
class EnforcementEntry:
    entry_id: str
    case_code: str | None
    court: str | None
    province: str | None
    party_type: SubjectType
    party_name: str | None
    id_code: str
    legal_rep_name: str | None
    basis_doc_no: str | None
    basis_issuer: str | None
    obligation: str | None
    performance: str | None
    unperformed_amount: Decimal | None
    behaviour: int | None
    filing_date: dt.date | None
    publish_date: dt.date | None
    listing_end: dt.date | None
    status: str  # LISTED | REMOVED
    removed_date: dt.date | None
    removal_reason: str | None


@dataclass(frozen=True)
class ConsumptionRestriction:
    order_id: str
    case_code: str | None
    court: str | None
    id_code: str
    party_name: str | None
    issued_date: dt.date | None
    status: str  # ACTIVE | LIFTED


@dataclass(frozen=True)
class CourtParty:
    """Everything the court interface holds about one party."""

    id_code: str
    entries: tuple[EnforcementEntry, ...]
    restrictions: tuple[ConsumptionRestriction, ...]


# --- civil-service integrity archive ----------------------------------------


@dataclass(frozen=True)
class PositionChange:
    position: str | None
    rank_level: str | None
    unit_code: str | None
    start_date: dt.date | None
    end_date: dt.date | None


@dataclass(frozen=True)
class Assessment:
    year: int
    grade: str


@dataclass(frozen=True)
class Sanction:
    sanction_id: str
    kind: str
    decision_no: str | None
    authority: str | None
    decision_date: dt.date | None
    period_months: int | None
    reason: str | None
    disclosure: str | None
    revoked_date: dt.date | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Investigation:
    case_id: str
    authority: str | None
    opened_date: dt.date | None
    closed_date: dt.date | None
    disclosure: str | None


@dataclass(frozen=True)
class MattersReportCheck:
    year: int
    check_date: dt.date
    result: str


@dataclass(frozen=True)
class Honour:
    year: int
    title: str
    level: str | None


@dataclass(frozen=True)
class CivilServantFile:
    """A civil servant's whole archive file, keyed by ID number."""

    person_id: str
    id_number: str
    name: str | None
    gender: str | None
    birth_date: dt.date | None
    unit_code: str | None
    unit_name: str | None
    position: str | None
    rank_level: str | None
    status: str | None
    updated_at: dt.datetime | None
    position_history: tuple[PositionChange, ...]
    assessments: tuple[Assessment, ...]
    sanctions: tuple[Sanction, ...]
    investigations: tuple[Investigation, ...]
    matters_report_checks: tuple[MattersReportCheck, ...]
    honours: tuple[Honour, ...]
