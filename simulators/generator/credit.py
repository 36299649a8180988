"""Credit platform records (双公示 / 政务失信 data standard), random and planted.

Most subjects have no record. A subject with records has one to three, decided
over the six years before the as-of date, each with a publicity period
(publicity_end is the last public day: three months for a warning, a year for
other general penalties and broken commitments, three years for serious
penalties, dishonesty lists, tax violations and red lists). Some are repaired
(信用修复), revoked or under objection; most are public.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .dates import ONE_DAY, add_months, day_between, money, stamp
from .people import Subject
from .units import Unit
from .world import World

__all__ = [
    "ALL_SCOPES",
    "CATEGORIES",
    "DISCLOSURES",
    "PENALTY_TYPES",
    "SEVERITIES",
    "STATUSES",
    "credit_record",
    "decision_no",
    "random_records",
    "record_content",
]

CATEGORIES = (
    "ADMIN_PENALTY",
    "SERIOUS_DISHONESTY",
    "TAX_VIOLATION",
    "GOV_DISHONESTY",
    "BROKEN_COMMITMENT",
    "RED_LIST",
)
PENALTY_TYPES = (
    "WARNING",
    "FINE",
    "CONFISCATION",
    "SUSPENSION",
    "LICENCE_REVOCATION",
    "DETENTION",
    "OTHER",
)
SEVERITIES = ("GENERAL", "SERIOUS")
DISCLOSURES = ("PUBLIC", "CONDITIONAL", "RESTRICTED")
ALL_SCOPES = ("ORG_HR", "PROCUREMENT", "AUDIT", "CREDIT_OFFICE")
STATUSES = ("EFFECTIVE", "OBJECTION_PENDING", "REPAIRED", "REVOKED")

# Share of subjects with any record, and the mix of categories, per kind of subject.
_PROFILES: dict[str, tuple[float, tuple[tuple[str, int], ...]]] = {
    "person": (
        0.05,
        (
            ("ADMIN_PENALTY", 55),
            ("BROKEN_COMMITMENT", 10),
            ("SERIOUS_DISHONESTY", 8),
            ("TAX_VIOLATION", 4),
            ("RED_LIST", 23),
        ),
    ),
    "servant": (
        0.02,
        (
            ("ADMIN_PENALTY", 40),
            ("GOV_DISHONESTY", 15),
            ("BROKEN_COMMITMENT", 10),
            ("RED_LIST", 35),
        ),
    ),
    "unit": (0.12, (("GOV_DISHONESTY", 70), ("ADMIN_PENALTY", 10), ("RED_LIST", 20))),
    "supplier": (
        0.15,
        (
            ("ADMIN_PENALTY", 60),
            ("SERIOUS_DISHONESTY", 5),
            ("TAX_VIOLATION", 5),
            ("BROKEN_COMMITMENT", 8),
            ("RED_LIST", 22),
        ),
    ),
    "enterprise": (
        0.12,
        (
            ("ADMIN_PENALTY", 60),
            ("SERIOUS_DISHONESTY", 6),
            ("TAX_VIOLATION", 6),
            ("BROKEN_COMMITMENT", 8),
            ("RED_LIST", 20),
        ),
    ),
}

# Document words of decision numbers (沈市监处罚〔2023〕128号), per authority role.
_DOC_WORDS = {
    "market": "市监处罚",
    "environment": "环罚",
    "safety": "应急罚",
    "housing": "建罚",
    "transport": "交罚",
    "tax": "税稽罚",
    "development": "发改信用",
    "finance": "财采处",
}


@dataclass(frozen=True)
class _PenaltyKind:
    role: str
    violations: tuple[str, ...]
    penalties: tuple[tuple[str, ...], ...]
    for_persons: bool


_PENALTY_KINDS = (
    _PenaltyKind(
        "market",
        (
            "销售不符合食品安全标准的食品",
            "发布虚假广告",
            "未取得营业执照从事经营活动",
            "销售侵犯注册商标专用权的商品",
            "价格欺诈",
            "未按规定公示年度报告",
        ),
        (("WARNING",), ("FINE",), ("FINE",), ("FINE", "CONFISCATION")),
        True,
    ),
    _PenaltyKind(
        "environment",
        ("超标排放大气污染物", "未依法取得排污许可证排放污染物", "未按规定贮存危险废物"),
        (("FINE",), ("FINE",), ("FINE", "SUSPENSION")),
        False,
    ),
    _PenaltyKind(
        "safety",
        (
            "未按规定对从业人员进行安全生产教育和培训",
            "未建立事故隐患排查治理制度",
            "未如实记录安全生产教育和培训情况",
        ),
        (("WARNING", "FINE"), ("FINE",), ("SUSPENSION",)),
        True,
    ),
    _PenaltyKind(
        "housing",
        ("未取得施工许可证擅自施工", "违反工程建设强制性标准", "超越资质等级承揽工程"),
        (("FINE",), ("FINE", "SUSPENSION"), ("LICENCE_REVOCATION",)),
        False,
    ),
    _PenaltyKind(
        "transport",
        (
            "未取得道路运输经营许可擅自从事道路运输经营",
            "违法超限运输",
            "未按规定维护和检测运输车辆",
        ),
        (("WARNING",), ("FINE",), ("FINE",)),
        True,
    ),
)

_TEXTS: dict[str, tuple[str, ...]] = {
    "SERIOUS_DISHONESTY": (
        "拒不履行法定义务，严重影响司法机关和行政机关公信力",
        "严重破坏市场公平竞争秩序",
        "在食品药品安全领域存在严重违法行为",
    ),
    "TAX_VIOLATION": ("偷税", "逃避追缴欠税", "骗取出口退税", "虚开增值税专用发票"),
    "GOV_DISHONESTY_ORG": (
        "拖欠中小企业账款",
        "不履行招商引资承诺",
        "拖欠政府采购合同款项",
        "不履行与企业依法签订的合同",
    ),
    "GOV_DISHONESTY_PERSON": (
        "在政务活动中弄虚作假",
        "违背向社会作出的公开承诺",
        "违反规定干预市场主体正常经营活动",
    ),
    "BROKEN_COMMITMENT": (
        "告知承诺制审批后未按期兑现承诺事项",
        "信用承诺内容与实际情况不符",
    ),
    "RED_LIST_ORG": ("纳税信用A级纳税人", "守合同重信用企业", "诚信经营示范单位"),
    "RED_LIST_PERSON": ("优秀青年志愿者", "无偿献血奉献奖获得者", "诚信示范个人"),
}
_CATEGORY_CONTENT = {
    "SERIOUS_DISHONESTY": "列入严重失信主体名单，实施联合惩戒",
    "GOV_DISHONESTY": "记入政务失信记录，限期整改",
    "BROKEN_COMMITMENT": "记入信用承诺未履行记录",
    "RED_LIST": "列入守信激励名单",
}


def decision_no(unit: Unit, word: str, year: int, number: int) -> str:
    """A decision number in the house style: 沈市监处罚〔2023〕128号."""
    return f"{unit.abbr}{word}〔{year}〕{number}号"


def credit_record(
    *,
    record_id: str,
    category: str,
    subject: Subject,
    decision_no: str,
    violation_type: str,
    penalty_types: Sequence[str],
    penalty_content: str,
    fine_amount: str | None,
    decision_date: dt.date,
    authority: Unit,
    severity: str | None,
    publicity_end: dt.date,
    disclosure: str,
    share_scope: Sequence[str],
    status: str,
    updated_at: str,
) -> dict[str, Any]:
    """One line of credit_platform/records.jsonl: every RECORD key, plus subject_name."""
    return {
        "record_id": record_id,
        "category": category,
        "subject_type": subject.type,
        "subject_code": subject.code,
        "subject_name": subject.name,
        "decision_no": decision_no,
        "violation_type": violation_type,
        "penalty_types": list(penalty_types),
        "penalty_content": penalty_content,
        "fine_amount": fine_amount,
        "decision_date": decision_date.isoformat(),
        "authority_name": authority.name,
        "authority_code": authority.code,
        "severity": severity,
        "publicity_end": publicity_end.isoformat(),
        "disclosure": disclosure,
        "share_scope": list(share_scope),
        "status": status,
        "updated_at": updated_at,
    }


def penalty_content(penalties: Sequence[str], fine_cents: int | None, months: int) -> str:
    """处罚内容 for a list of penalty types."""
    parts = {
        "WARNING": "警告",
        "FINE": f"罚款人民币{money(fine_cents or 0)}元",
        "CONFISCATION": "没收违法所得",
        "SUSPENSION": f"责令停产停业{months}个月",
        "LICENCE_REVOCATION": "吊销许可证件",
        "DETENTION": "行政拘留",
        "OTHER": "其他行政处罚",
    }
    return "，".join(parts[penalty] for penalty in penalties)


def record_content(
    category: str, penalties: Sequence[str], fine_cents: int | None, months: int = 3
) -> str:
    """处罚内容 of a record: the penalties of a penalty, else what the listing means."""
    if category == "ADMIN_PENALTY":
        return penalty_content(penalties, fine_cents, months)
    if category == "TAX_VIOLATION":
        return f"追缴税款并处罚款人民币{money(fine_cents or 0)}元"
    return _CATEGORY_CONTENT[category]


def _fine_cents(rng: random.Random, is_person: bool) -> int:
    if is_person:
        return rng.randint(2, 500) * 10_000
    if rng.random() < 0.03:  # the rare fine of two million or more (PE-03)
        return rng.randint(200, 600) * 1_000_000
    return rng.randint(5, 500) * 100_000


def _scope(rng: random.Random, disclosure: str) -> list[str]:
    if disclosure == "PUBLIC":
        return list(ALL_SCOPES)
    chance = 0.5 if disclosure == "CONDITIONAL" else 0.25
    chosen = {scope for scope in ALL_SCOPES[:3] if rng.random() < chance} | {"CREDIT_OFFICE"}
    return [scope for scope in ALL_SCOPES if scope in chosen]


def _status(
    rng: random.Random, as_of: dt.date, decided: dt.date, end: dt.date, repairable: bool
) -> tuple[str, dt.date]:
    """The record's current status and the day it took it."""
    roll = rng.random()
    if roll < 0.02:
        return "REVOKED", min(as_of - ONE_DAY, decided + dt.timedelta(days=rng.randint(20, 200)))
    if repairable and roll < 0.14 and decided + dt.timedelta(days=90) < min(as_of, end):
        return "REPAIRED", day_between(
            rng, decided + dt.timedelta(days=90), min(end, as_of - ONE_DAY)
        )
    if end >= as_of and roll > 0.97:
        return "OBJECTION_PENDING", day_between(
            rng, min(as_of - ONE_DAY, decided + dt.timedelta(days=10)), as_of - ONE_DAY
        )
    return "EFFECTIVE", decided + dt.timedelta(days=rng.randint(1, 7))


def _one_record(
    world: World, rng: random.Random, subject: Subject, category: str, number: int
) -> dict[str, Any]:
    as_of = world.as_of
    is_person = subject.type == "PERSON"
    decided = day_between(rng, add_months(as_of, -72), as_of - ONE_DAY)
    fine: int | None = None
    penalties: tuple[str, ...] = ()
    severity: str | None = "SERIOUS"
    months = 36
    repairable = False
    if category == "ADMIN_PENALTY":
        kinds = [kind for kind in _PENALTY_KINDS if kind.for_persons or not is_person]
        kind = rng.choice(kinds)
        authority = world.authority(rng, kind.role)
        word = _DOC_WORDS[kind.role]
        violation = rng.choice(kind.violations)
        penalties = rng.choice(kind.penalties)
        fine = _fine_cents(rng, is_person) if "FINE" in penalties else None
        heavy = "LICENCE_REVOCATION" in penalties or (fine or 0) >= 100_000_000
        severity = "SERIOUS" if heavy or rng.random() < 0.04 else "GENERAL"
        months = 36 if severity == "SERIOUS" else 3 if penalties == ("WARNING",) else 12
        content = penalty_content(penalties, fine, rng.randint(1, 6))
        repairable = severity == "GENERAL"
    else:
        text_key = category
        if category in ("GOV_DISHONESTY", "RED_LIST"):
            text_key += "_PERSON" if is_person else "_ORG"
        violation = rng.choice(_TEXTS[text_key])
        if category == "TAX_VIOLATION":
            authority, word = world.authority(rng, "tax"), _DOC_WORDS["tax"]
            penalties = ("FINE",)
            fine = _fine_cents(rng, is_person)
            content = record_content(category, penalties, fine)
        else:
            role = "tax" if category == "RED_LIST" and not is_person else "development"
            authority, word = world.authority(rng, role), _DOC_WORDS[role]
            content = record_content(category, penalties, fine)
            if category == "SERIOUS_DISHONESTY":
                penalties = ("OTHER",)
            elif category == "GOV_DISHONESTY":
                severity = "SERIOUS" if rng.random() < 0.3 else "GENERAL"
                repairable = severity == "GENERAL"
            elif category == "BROKEN_COMMITMENT":
                severity, months, repairable = "GENERAL", 12, True
            else:  # a red list is no dishonesty: it has no severity
                severity = None
    end = add_months(decided, months) - ONE_DAY
    if category == "RED_LIST":  # an honour is neither disputed nor repaired
        status, changed = "EFFECTIVE", decided + dt.timedelta(days=rng.randint(1, 7))
    else:
        status, changed = _status(rng, as_of, decided, end, repairable)
    disclosure = rng.choices(DISCLOSURES, weights=(75, 20, 5))[0]
    return credit_record(
        record_id=subject.row_id("CR", number),
        category=category,
        subject=subject,
        decision_no=decision_no(authority, word, decided.year, rng.randint(1, 999)),
        violation_type=violation,
        penalty_types=penalties,
        penalty_content=content,
        fine_amount=money(fine) if fine is not None else None,
        decision_date=decided,
        authority=authority,
        severity=severity,
        publicity_end=end,
        disclosure=disclosure,
        share_scope=_scope(rng, disclosure),
        status=status,
        updated_at=stamp(rng, changed, as_of),
    )


def random_records(
    world: World, rng: random.Random, subject: Subject, profile: str
) -> list[dict[str, Any]]:
    """The credit records of one random subject; `profile` is a key of _PROFILES."""
    share, mix = _PROFILES[profile]
    if rng.random() >= share:
        return []
    count = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
    categories = [category for category, _ in mix]
    weights = [weight for _, weight in mix]
    records = [
        _one_record(world, rng, subject, rng.choices(categories, weights=weights)[0], number)
        for number in range(1, count + 1)
    ]
    records.sort(key=lambda record: (record["decision_date"], record["record_id"]))
    return records
