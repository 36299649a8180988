"""A small hand-written dataset whose every value the schema tests know.

One civil servant (PERSON) appears in all four platforms; one supplier (SUPPLIER)
has a debarment and a violation and is represented by PERSON; one government
unit (UNIT) employs PERSON and buys from SUPPLIER. 40 more persons with one credit
record each make batching visible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import credit_code, id_number

AS_OF = "2025-06-30"
PERSON = id_number(1, birth="19800512")
PERSON_NAME = "欧阳明华"
UNIT = credit_code(1, prefix="11210000")
UNIT_NAME = "辽宁省测试局"
SUPPLIER = credit_code(2)
SUPPLIER_NAME = "沈阳测试科技有限公司"
OTHERS = [id_number(n, birth="19900101") for n in range(100, 140)]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")


def _credit(record_id: str, code: str, subject_type: str, **changes: Any) -> dict[str, Any]:
    record = {
        "record_id": record_id,
        "category": "ADMIN_PENALTY",
        "subject_type": subject_type,
        "subject_code": code,
        "subject_name": None,
        "decision_no": f"沈市监处罚〔2025〕{record_id[-3:]}号",
        "violation_type": "未按规定公示年度报告",
        "penalty_types": ["FINE"],
        "penalty_content": "罚款人民币5000.00元",
        "fine_amount": "5000.00",
        "decision_date": "2025-01-10",
        "authority_name": "沈阳市市场监督管理局",
        "authority_code": UNIT,
        "severity": "GENERAL",
        "publicity_end": "2026-01-09",
        "disclosure": "PUBLIC",
        "share_scope": ["ORG_HR", "PROCUREMENT", "AUDIT", "CREDIT_OFFICE"],
        "status": "EFFECTIVE",
        "updated_at": "2025-01-10T09:00:00+08:00",
    }
    return {**record, **changes}


def _entry(entry_id: str, **changes: Any) -> dict[str, Any]:
    entry = {
        "entryId": entry_id,
        "caseCode": "(2025)辽0102执1234号",
        "court": "沈阳市和平区人民法院",
        "province": "辽宁",
        "partyType": "PERSON",
        "partyName": PERSON_NAME,
        "idCode": PERSON,
        "legalRepName": None,
        "basisDocNo": "(2024)辽0102民初88号",
        "basisIssuer": "沈阳市和平区人民法院",
        "obligation": "支付货款人民币120000.00元",
        "performance": "NONE",
        "unperformedAmount": "120000.00",
        "behaviour": 1,
        "filingDate": "2025-02-01",
        "publishDate": "2025-03-01",
        "listingEnd": None,
        "status": "LISTED",
        "removedDate": None,
        "removalReason": None,
    }
    return {**entry, **changes}


def write_dataset(root: Path) -> Path:
    _write(
        root / "credit_platform" / "subjects.jsonl",
        [
            {"type": "PERSON", "code": PERSON, "name": PERSON_NAME},
            {"type": "ORG", "code": UNIT, "name": UNIT_NAME},
            {"type": "ORG", "code": SUPPLIER, "name": SUPPLIER_NAME},
        ],
    )
    _write(
        root / "credit_platform" / "records.jsonl",
        [
            _credit("CR-001", PERSON, "PERSON"),
            _credit("CR-002", PERSON, "PERSON", publicity_end="2025-06-01"),  # expired
            _credit("CR-003", PERSON, "PERSON", status="REPAIRED"),
            _credit("CR-004", PERSON, "PERSON", status="OBJECTION_PENDING", severity="SERIOUS"),
            _credit("CR-010", SUPPLIER, "ORG", fine_amount="2500000.00"),
            *(_credit(f"CR-{100 + n}", code, "PERSON") for n, code in enumerate(OTHERS)),
        ],
    )
    _write(
        root / "court" / "entries.jsonl",
        [
            _entry("E-1"),
            _entry("E-2", status="REMOVED", removedDate="2025-05-01", removalReason="已履行"),
        ],
    )
    _write(
        root / "court" / "restrictions.jsonl",
        [
            {
                "orderId": "R-1",
                "caseCode": "(2025)辽0102执1234号",
                "court": "沈阳市和平区人民法院",
                "idCode": PERSON,
                "partyName": PERSON_NAME,
                "issuedDate": "2025-03-02",
                "status": "ACTIVE",
            }
        ],
    )
    _write(
        root / "procurement" / "suppliers.jsonl",
        [
            {
                "credit_code": SUPPLIER,
                "name": SUPPLIER_NAME,
                "registration_status": "ACTIVE",
                "legal_representative": {"name": PERSON_NAME, "id_number": PERSON},
                "debarments": [
                    {
                        "record_no": "D-1",
                        "reason": "提供虚假材料谋取中标",
                        "legal_basis": "政府采购法第七十七条",
                        "authority": "沈阳市财政局",
                        "start_date": "2025-01-01",
                        "end_date": "2025-12-31",
                        "published_date": "2025-01-02",
                    },
                    {
                        "record_no": "D-0",
                        "reason": "以往记录",
                        "legal_basis": "政府采购法第七十七条",
                        "authority": "沈阳市财政局",
                        "start_date": "2022-01-01",
                        "end_date": "2022-12-31",
                        "published_date": "2022-01-02",
                    },
                ],
                "violations": [
                    {
                        "record_no": "V-1",
                        "circumstance": "串通投标",
                        "penalty": "罚款",
                        "legal_basis": "政府采购法第七十七条",
                        "penalty_date": "2024-06-01",
                        "authority": "沈阳市财政局",
                    }
                ],
                "shareholders": [],
                "updated_at": "2025-01-02T10:00:00+08:00",
            }
        ],
    )
    _write(
        root / "procurement" / "purchaser_issues.jsonl",
        [
            {"purchaser_code": UNIT, "contract_no": "HT-1", "type": "LATE_PAYMENT",
             "amount": "80000.00", "due_date": "2025-03-31", "resolved_date": None},
            {"purchaser_code": UNIT, "contract_no": "HT-2", "type": "BREACH",
             "amount": "1000.00", "due_date": "2024-03-31", "resolved_date": "2024-05-01"},
        ],
    )  # fmt: skip
    _write(
        root / "procurement" / "awards.jsonl",
        [
            {"purchaser_code": UNIT, "contract_no": f"AW-{n}", "supplier_code": SUPPLIER,
             "supplier_name": SUPPLIER_NAME, "award_date": f"2025-0{1 + n % 6}-15",
             "amount": "10000.00"}
            for n in range(12)
        ],
    )  # fmt: skip
    person_id = "CS-1"
    _write(
        root / "archive" / "cs_person.jsonl",
        [
            {"person_id": person_id, "id_number": PERSON, "name": PERSON_NAME, "gender": "M",
             "birth_date": "1980-05-12", "unit_code": UNIT, "unit_name": UNIT_NAME,
             "position": "综合处处长", "rank_level": "一级调研员", "status": "ACTIVE",
             "updated_at": "2025-01-01T08:00:00+08:00"}
        ],
    )  # fmt: skip
    _write(
        root / "archive" / "cs_position_history.jsonl",
        [
            {"person_id": person_id, "position": "综合处副处长", "rank_level": "四级调研员",
             "unit_code": UNIT, "start_date": "2019-03-01", "end_date": "2023-02-28"},
            {"person_id": person_id, "position": "综合处处长", "rank_level": "一级调研员",
             "unit_code": UNIT, "start_date": "2023-03-01", "end_date": None},
        ],
    )  # fmt: skip
    _write(
        root / "archive" / "cs_assessment.jsonl",
        [
            {"person_id": person_id, "year": year, "grade": "COMPETENT"}
            for year in (2022, 2023, 2024)
        ],
    )
    _write(
        root / "archive" / "cs_sanction.jsonl",
        [
            {"sanction_id": "S-1", "person_id": person_id, "kind": "GOV_DEMERIT",
             "decision_no": "沈纪〔2025〕3号", "authority": "沈阳市纪委监委",
             "decision_date": "2025-01-15", "period_months": None, "reason": "违反工作纪律",
             "disclosure": "CONDITIONAL", "revoked_date": None,
             "updated_at": "2025-01-15T09:00:00+08:00"},
            {"sanction_id": "S-0", "person_id": person_id, "kind": "GOV_WARNING",
             "decision_no": "沈纪〔2020〕9号", "authority": "沈阳市纪委监委",
             "decision_date": "2020-01-15", "period_months": None, "reason": "迟到早退",
             "disclosure": "CONDITIONAL", "revoked_date": None,
             "updated_at": "2020-01-15T09:00:00+08:00"},
        ],
    )  # fmt: skip
    _write(
        root / "archive" / "cs_investigation.jsonl",
        [{"case_id": "I-1", "person_id": person_id, "authority": "沈阳市纪委监委",
          "opened_date": "2025-04-01", "closed_date": None, "disclosure": "RESTRICTED"}],
    )  # fmt: skip
    _write(
        root / "archive" / "cs_matters_report_check.jsonl",
        [{"person_id": person_id, "year": 2024, "check_date": "2025-03-01",
          "result": "MINOR_OMISSION"}],
    )  # fmt: skip
    _write(
        root / "archive" / "cs_honour.jsonl",
        [{"person_id": person_id, "year": 2021, "title": "优秀公务员", "level": "市级"}],
    )
    return root


def add_open_investigation(root: Path) -> Path:
    """PERSON gets I-2, an open CONDITIONAL investigation (shown to hr_officer under
    CADRE_SELECTION only), and a position change that starts while it is open (so
    `promotionsDuringBars` reports it, with the investigation among the bars)."""
    archive = root / "archive"
    for name, row in (
        ("cs_investigation", {"case_id": "I-2", "person_id": "CS-1", "authority": "沈阳市监委",
                              "opened_date": "2025-04-15", "closed_date": None,
                              "disclosure": "CONDITIONAL"}),
        ("cs_position_history", {"person_id": "CS-1", "position": "办公室主任",
                                 "rank_level": "一级调研员", "unit_code": UNIT,
                                 "start_date": "2025-05-10", "end_date": None}),
    ):  # fmt: skip
        with (archive / f"{name}.jsonl").open("a", encoding="utf-8") as rows:
            rows.write(json.dumps(row, ensure_ascii=False) + "\n")
    return root
