"""Builders of normalised records and evidence for the vetting tests.

Every builder gives a complete record of the connectors' own types with
harmless defaults; a test names only what its case is about. A planted civil
servant is COMPETENT for 2020..2024, so the assessment rules stay silent for
as-of dates from 2025 on unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from connectors.records import (
    Assessment,
    BusinessRole,
    CivilServantFile,
    ConsumptionRestriction,
    CreditRecord,
    Debarment,
    EnforcementEntry,
    Honour,
    Investigation,
    MattersReportCheck,
    PurchaserIssue,
    PurchaserPerformance,
    Representative,
    Sanction,
    SubjectType,
    SupplierStatus,
    Violation,
)
from schema.in_force import add_months
from schema.vetting import CourtRecords, Evidence, ProcurementRecords
from tests.support import credit_code, id_number

A = dt.date(2025, 6, 30)  # the as-of date most tests judge on
DAY = dt.timedelta(days=1)
PERSON = id_number(1)
ORG = credit_code(1)
ALL_SECTORS = ("ORG_HR", "PROCUREMENT", "AUDIT", "CREDIT_OFFICE")


def m(months: int, day: dt.date = A) -> dt.date:
    return add_months(day, months)


def credit(
    category: str = "ADMIN_PENALTY",
    decided: dt.date = A,
    months: int = 12,
    *,
    record_id: str = "CR-1",
    severity: str | None = "GENERAL",
    status: str = "EFFECTIVE",
    penalty_types: tuple[str, ...] = (),
    fine: str | None = None,
    disclosure: str = "PUBLIC",
    org: bool = False,
) -> CreditRecord:
    """A credit record in publicity for `months` from `decided` (publicity_end = the last day)."""
    return CreditRecord(
        record_id=record_id,
        category=category,
        subject_type=SubjectType.ORG if org else SubjectType.PERSON,
        subject_code=ORG if org else PERSON,
        subject_name=None,
        decision_no=f"测试〔{decided.year}〕1号",
        violation_type="测试",
        penalty_types=penalty_types,
        penalty_content=None,
        fine_amount=Decimal(fine) if fine is not None else None,
        decision_date=decided,
        authority_name="测试局",
        authority_code=None,
        severity=severity,
        publicity_end=m(months, decided) - DAY,
        disclosure=disclosure,
        share_scope=ALL_SECTORS,
        status=status,
        updated_at=None,
    )


def sanction(
    kind: str,
    decided: dt.date,
    *,
    period: int | None = None,
    revoked: dt.date | None = None,
    sanction_id: str = "S-1",
) -> Sanction:
    return Sanction(
        sanction_id=sanction_id,
        kind=kind,
        decision_no="测监处〔2025〕1号",
        authority="测试监察委员会",
        decision_date=decided,
        period_months=period,
        reason=None,
        disclosure="PUBLIC",
        revoked_date=revoked,
        updated_at=None,
    )


def investigation(
    opened: dt.date, closed: dt.date | None = None, case_id: str = "AJ-1"
) -> Investigation:
    return Investigation(case_id, "测试监察委员会", opened, closed, "PUBLIC")


def check(checked: dt.date, result: str) -> MattersReportCheck:
    return MattersReportCheck(checked.year - 1, checked, result)


def servant(
    *,
    grades: Mapping[int, str | None] | None = None,
    sanctions: Iterable[Sanction] = (),
    investigations: Iterable[Investigation] = (),
    checks: Iterable[MattersReportCheck] = (),
    honours: Iterable[int] = (),
) -> CivilServantFile:
    """A civil servant's file: COMPETENT for 2020..2024 except `grades` (None = missing)."""
    chosen = {year: "COMPETENT" for year in range(2020, 2025)} | dict(grades or {})
    return CivilServantFile(
        person_id="P-9",
        id_number=PERSON,
        name="张三",
        gender="M",
        birth_date=dt.date(1985, 3, 12),
        unit_code=None,
        unit_name=None,
        position=None,
        rank_level=None,
        status="ACTIVE",
        updated_at=None,
        position_history=(),
        assessments=tuple(Assessment(y, g) for y, g in sorted(chosen.items()) if g is not None),
        sanctions=tuple(sanctions),
        investigations=tuple(investigations),
        matters_report_checks=tuple(checks),
        honours=tuple(Honour(year, "优秀公务员", "县级") for year in honours),
    )


def entry(
    published: dt.date,
    listing_end: dt.date | None = None,
    *,
    removed: dt.date | None = None,
    org: bool = False,
    entry_id: str = "E-1",
) -> EnforcementEntry:
    return EnforcementEntry(
        entry_id=entry_id,
        case_code="(2024)辽0102执1号",
        court="沈阳市和平区人民法院",
        province="辽宁",
        party_type=SubjectType.ORG if org else SubjectType.PERSON,
        party_name=None,
        id_code=ORG if org else PERSON,
        legal_rep_name=None,
        basis_doc_no=None,
        basis_issuer=None,
        obligation=None,
        performance="NONE",
        unperformed_amount=None,
        behaviour=1 if listing_end is None else 2,
        filing_date=m(-1, published),
        publish_date=published,
        listing_end=listing_end,
        status="REMOVED" if removed else "LISTED",
        removed_date=removed,
        removal_reason=None,
    )


def restriction(issued: dt.date, status: str = "ACTIVE") -> ConsumptionRestriction:
    return ConsumptionRestriction("XF-1", "(2024)辽0102执1号", None, PERSON, None, issued, status)


def debarment(start: dt.date, end: dt.date, record_no: str = "D-1") -> Debarment:
    return Debarment(record_no, "提供虚假材料", "政府采购法 art. 77", "财政局", start, end, start)


def violation(penalised: dt.date, record_no: str = "V-1") -> Violation:
    return Violation(record_no, "违法经营", "罚款", None, penalised, "市场监督管理局")


def supplier(
    status: str = "ACTIVE",
    debarments: Iterable[Debarment] = (),
    violations: Iterable[Violation] = (),
) -> SupplierStatus:
    return SupplierStatus(ORG, "测试有限公司", status, None, tuple(debarments), tuple(violations))


def issue(kind: str, due: dt.date, resolved: dt.date | None = None) -> PurchaserIssue:
    return PurchaserIssue("HT-1", kind, Decimal("860000.00"), due, resolved)


def role(status: str = "ACTIVE", kind: str = "LEGAL_REPRESENTATIVE") -> BusinessRole:
    return BusinessRole(ORG, "测试有限公司", status, kind)


def person(
    *,
    credit_records: Iterable[CreditRecord] = (),
    entries: Iterable[EnforcementEntry] = (),
    restrictions: Iterable[ConsumptionRestriction] = (),
    file: CivilServantFile | None = None,
    roles: Iterable[BusinessRole] = (),
    restricted: Iterable[str] = (),
    civil_servant: bool = True,
) -> Evidence:
    """Complete evidence about a person: every source answered. A civil servant
    (`file`, by default `servant()`) unless `civil_servant` is False: then the
    archive answered that it knows no such person."""
    return Evidence(
        credit=tuple(credit_records),
        court=CourtRecords(tuple(entries), tuple(restrictions)),
        archive=(file or servant()) if civil_servant else None,
        procurement=ProcurementRecords(representative=Representative(PERSON, tuple(roles))),
        restricted=frozenset(restricted),
    )


def organisation(
    *,
    credit_records: Iterable[CreditRecord] = (),
    entries: Iterable[EnforcementEntry] = (),
    registered: SupplierStatus | None = None,
    issues: Iterable[PurchaserIssue] = (),
) -> Evidence:
    """Complete evidence about an organisation: an ACTIVE supplier unless `registered` says."""
    return Evidence(
        credit=tuple(credit_records),
        court=CourtRecords(tuple(entries)),
        archive=None,
        procurement=ProcurementRecords(
            supplier=registered or supplier(),
            purchaser=PurchaserPerformance(ORG, tuple(issues)),
        ),
    )
