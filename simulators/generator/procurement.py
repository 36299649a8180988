"""Government procurement data: the supplier registry, purchaser issues, awards.

A supplier row carries the fields of QuerySupplierStatus in snake_case, plus
its shareholders. Debarments (不良行为记录, 1-3 years from StartDate, EndDate the
last barred day) and serious violations (严重违法失信行为) are rare. Awards go
from government units to registered suppliers; a supplier tied to a civil
servant often wins contracts from that servant's own unit. Units may owe
suppliers: late payments, delayed acceptance, breaches, most resolved later.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from .dates import ONE_DAY, add_months, day_between, money, stamp
from .organisations import Org
from .people import Person
from .units import Unit
from .world import World

__all__ = [
    "ISSUE_TYPES",
    "REGISTRATION_STATUSES",
    "award",
    "debarment",
    "purchaser_issue",
    "random_awards",
    "random_issues",
    "random_supplier",
    "supplier_row",
    "violation",
]

REGISTRATION_STATUSES = ("ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED")
ISSUE_TYPES = ("LATE_PAYMENT", "ACCEPTANCE_DELAY", "BREACH")

_ART77 = "《中华人民共和国政府采购法》第七十七条第一款第（{}）项"
DEBARMENT_GROUNDS = (
    ("提供虚假材料谋取中标、成交", _ART77.format("一")),
    ("采取不正当手段诋毁、排挤其他供应商", _ART77.format("二")),
    ("与采购人、其他供应商或者采购代理机构恶意串通", _ART77.format("三")),
    ("向采购人、采购代理机构行贿或者提供其他不正当利益", _ART77.format("四")),
    ("在招标采购过程中与采购人进行协商谈判", _ART77.format("五")),
    ("拒绝有关部门监督检查或者提供虚假情况", _ART77.format("六")),
)
VIOLATION_BASIS = "《中华人民共和国政府采购法实施条例》第十九条"
VIOLATION_CIRCUMSTANCES = (
    ("因违法经营被处以较大数额罚款", "罚款人民币{}元"),
    ("因违法经营被责令停产停业", "责令停产停业{}个月"),
    ("因违法经营被吊销许可证", "吊销许可证"),
)


def debarment(
    *,
    record_no: str,
    reason: str,
    legal_basis: str,
    authority: str,
    start: dt.date,
    end: dt.date,
    published: dt.date,
) -> dict[str, Any]:
    """One debarment (禁止参加政府采购活动) of a supplier row."""
    return {
        "record_no": record_no,
        "reason": reason,
        "legal_basis": legal_basis,
        "authority": authority,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "published_date": published.isoformat(),
    }


def violation(
    *,
    record_no: str,
    circumstance: str,
    penalty: str,
    legal_basis: str,
    penalty_date: dt.date,
    authority: str,
) -> dict[str, Any]:
    """One serious violation record of a supplier row."""
    return {
        "record_no": record_no,
        "circumstance": circumstance,
        "penalty": penalty,
        "legal_basis": legal_basis,
        "penalty_date": penalty_date.isoformat(),
        "authority": authority,
    }


def _party(person: Person) -> dict[str, str]:
    return {"name": person.name, "id_number": person.id_number}


def supplier_row(
    org: Org,
    status: str,
    debarments: Sequence[dict[str, Any]],
    violations: Sequence[dict[str, Any]],
    updated_at: str,
) -> dict[str, Any]:
    """One line of procurement/suppliers.jsonl."""
    seen: set[str] = set()
    shareholders = []
    for holder in org.shareholders:
        if holder.id_number not in seen:
            seen.add(holder.id_number)
            shareholders.append(_party(holder))
    return {
        "credit_code": org.code,
        "name": org.name,
        "registration_status": status,
        "legal_representative": _party(org.representative) if org.representative else None,
        "debarments": list(debarments),
        "violations": list(violations),
        "shareholders": shareholders,
        "updated_at": updated_at,
    }


def purchaser_issue(
    *,
    purchaser: str,
    contract_no: str,
    kind: str,
    amount: str,
    due: dt.date,
    resolved: dt.date | None,
) -> dict[str, Any]:
    """One line of procurement/purchaser_issues.jsonl."""
    return {
        "purchaser_code": purchaser,
        "contract_no": contract_no,
        "type": kind,
        "amount": amount,
        "due_date": due.isoformat(),
        "resolved_date": resolved.isoformat() if resolved else None,
    }


def award(
    *, purchaser: str, contract_no: str, supplier: Org, awarded: dt.date, amount: str
) -> dict[str, Any]:
    """One line of procurement/awards.jsonl."""
    return {
        "purchaser_code": purchaser,
        "contract_no": contract_no,
        "supplier_code": supplier.code,
        "supplier_name": supplier.name,
        "award_date": awarded.isoformat(),
        "amount": amount,
    }


def finance_authority(world: World, rng: random.Random) -> Unit:
    """The finance department supervising procurement (it debars suppliers)."""
    return world.authority(rng, "finance")


def _contract_cents(rng: random.Random) -> int:
    magnitude = rng.choices((10_000, 100_000, 1_000_000), weights=(50, 40, 10))[0]
    return rng.randint(5, 99) * magnitude * 100


def random_supplier(
    world: World, rng: random.Random, org: Org
) -> tuple[dict[str, Any], str, dt.date | None]:
    """(supplier row, registration status, day it stopped being ACTIVE or None)."""
    as_of = world.as_of
    status = rng.choices(("ACTIVE", "SUSPENDED", "CANCELLED"), weights=(88, 4, 8))[0]
    if org.servant is not None:
        status = "ACTIVE"  # a conflict of interest matters while the supplier trades
    stopped = None
    if status != "ACTIVE":
        stopped = day_between(rng, add_months(as_of, -48), as_of - ONE_DAY)
    changed = stopped or day_between(rng, add_months(as_of, -24), as_of - ONE_DAY)
    debarments = []
    if rng.random() < 0.03:
        for number in range(1, rng.choice((1, 1, 2)) + 1):
            start = day_between(rng, add_months(as_of, -72), as_of - ONE_DAY)
            end = add_months(start, 12 * rng.randint(1, 3)) - ONE_DAY
            reason, basis = rng.choice(DEBARMENT_GROUNDS)
            debarments.append(
                debarment(
                    record_no=org.subject.row_id("BL", number),
                    reason=reason,
                    legal_basis=basis,
                    authority=finance_authority(world, rng).name,
                    start=start,
                    end=end,
                    published=start,
                )
            )
            changed = max(changed, min(start, as_of - ONE_DAY))
    violations = []
    if rng.random() < 0.02:
        penalty_date = day_between(rng, add_months(as_of, -72), as_of - ONE_DAY)
        circumstance, penalty = rng.choice(VIOLATION_CIRCUMSTANCES)
        violations.append(
            violation(
                record_no=org.subject.row_id("WF", 1),
                circumstance=circumstance,
                penalty=penalty.format(
                    money(rng.randint(20, 300) * 10_000_000) if "{}元" in penalty else 3
                ),
                legal_basis=VIOLATION_BASIS,
                penalty_date=penalty_date,
                authority=world.authority(rng, "market", "finance").name,
            )
        )
        changed = max(changed, penalty_date)
    row = supplier_row(org, status, debarments, violations, stamp(rng, changed, as_of))
    return row, status, stopped


def random_awards(
    world: World, rng: random.Random, org: Org, status: str, stopped: dt.date | None
) -> list[dict[str, Any]]:
    """The contracts a supplier won, oldest first."""
    as_of = world.as_of
    last = (stopped or as_of) - ONE_DAY
    first = add_months(as_of, -72)
    count = rng.choice((0, 0, 1, 1, 2, 3, 4, 6) if status == "ACTIVE" else (0, 1, 2))
    purchasers = [rng.randrange(len(world.units)) for _ in range(count)]
    if org.servant is not None and rng.random() < 0.6:
        # The civil servant's own unit buys from the supplier they are tied to.
        own = world.service.unit_of(org.servant)
        purchasers += [own] * rng.randint(1, 3)
    dated = sorted((day_between(rng, first, last), unit) for unit in purchasers)
    return [
        award(
            purchaser=world.units[unit].code,
            contract_no=f"LNZC{day.year}-{org.key:08d}-{number:02d}",
            supplier=org,
            awarded=day,
            amount=money(_contract_cents(rng)),
        )
        for number, (day, unit) in enumerate(dated, start=1)
    ]


def random_issues(world: World, rng: random.Random, unit: Unit) -> list[dict[str, Any]]:
    """A unit's failings as a buyer; most units have none."""
    if rng.random() >= 0.2:
        return []
    as_of = world.as_of
    issues = []
    for number in range(1, rng.randint(1, 3) + 1):
        due = day_between(rng, add_months(as_of, -60), as_of + dt.timedelta(days=60))
        resolved = None
        if rng.random() < 0.65:
            candidate = due + dt.timedelta(days=rng.randint(1, 300))
            resolved = candidate if candidate < as_of else None
        issues.append(
            purchaser_issue(
                purchaser=unit.code,
                contract_no=f"HT{due.year}-{unit.index:06d}-{number:02d}",
                kind=rng.choices(ISSUE_TYPES, weights=(60, 25, 15))[0],
                amount=money(_contract_cents(rng)),
                due=due,
                resolved=resolved,
            )
        )
    return issues
