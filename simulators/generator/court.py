"""Court enforcement data: dishonest judgment debtors (失信被执行人) and consumption
restrictions (限制消费令), random and planted.

Listing periods follow the behaviour codes of DOMAIN.md: code 1 (able but
refusing to perform) has no fixed term (listingEnd null); codes 2-6 are listed
for two years, up to five when serious. listingEnd is the last listed day. An
entry is removed early when the debt is performed or settled, or the basis is
revoked; some expired entries are removed with the reason 失信期限届满, others
are still marked LISTED (their listingEnd has passed: not in force either way).
Most debtors also get a consumption restriction, lifted when the entry goes.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from .dates import ONE_DAY, add_months, day_between, money, stamp
from .people import Subject
from .places import PROVINCE, District
from .world import World

__all__ = [
    "COURT_STATUSES",
    "RESTRICTION_STATUSES",
    "Case",
    "court_entry",
    "random_court",
    "restriction",
]

COURT_STATUSES = ("LISTED", "REMOVED")
RESTRICTION_STATUSES = ("ACTIVE", "LIFTED")
PROVINCE_NAME = PROVINCE.removesuffix("省")

# Share of subjects listed as debtors, and listed under a bare restriction, per profile.
_SHARES = {
    "person": (0.015, 0.004),
    "servant": (0.002, 0.0005),
    "unit": (0.02, 0.0),
    "supplier": (0.02, 0.003),
    "enterprise": (0.03, 0.003),
}
_OBLIGATIONS = (
    "支付货款人民币{}元及逾期付款利息",
    "偿还借款本金人民币{}元及利息",
    "支付劳动报酬人民币{}元",
    "支付工程款人民币{}元及违约金",
    "支付租金人民币{}元",
)
_REMOVAL_REASONS = (
    "已履行生效法律文书确定的义务",
    "与申请执行人达成执行和解协议并已履行完毕",
    "执行依据被撤销",
    "申请执行人撤回执行申请",
)
EXPIRED_REASON = "失信期限届满"


@dataclass(frozen=True)
class Case:
    """An enforcement case: its number, court and basis."""

    case_code: str
    court: str
    basis_doc_no: str
    basis_issuer: str

    @classmethod
    def draw(cls, rng: random.Random, district: District, filed: dt.date) -> Case:
        """A case filed at `district`'s court on `filed`."""
        case_code = f"({filed.year}){district.court_code}执{rng.randint(1, 9999)}号"
        basis_year = filed.year - rng.randint(0, 1)
        if rng.random() < 0.15:
            city = district.city
            return cls(
                case_code,
                district.court,
                f"{city.short}仲裁字〔{basis_year}〕第{rng.randint(1, 999)}号",
                f"{city.short}仲裁委员会",
            )
        basis = f"({basis_year}){district.court_code}民初{rng.randint(1, 19999)}号"
        return cls(case_code, district.court, basis, district.court)


def court_entry(
    *,
    entry_id: str,
    case: Case,
    party: Subject,
    legal_rep_name: str | None,
    obligation: str,
    performance: str,
    unperformed_amount: str | None,
    behaviour: int,
    filing_date: dt.date,
    publish_date: dt.date,
    listing_end: dt.date | None,
    status: str,
    removed_date: dt.date | None,
    removal_reason: str | None,
    updated_at: str,
) -> dict[str, Any]:
    """One line of court/entries.jsonl: every ENTRY key, plus updated_at."""
    return {
        "entryId": entry_id,
        "caseCode": case.case_code,
        "court": case.court,
        "province": PROVINCE_NAME,
        "partyType": party.type,
        "partyName": party.name,
        "idCode": party.code,
        "legalRepName": legal_rep_name if party.type == "ORG" else None,
        "basisDocNo": case.basis_doc_no,
        "basisIssuer": case.basis_issuer,
        "obligation": obligation,
        "performance": performance,
        "unperformedAmount": unperformed_amount,
        "behaviour": behaviour,
        "filingDate": filing_date.isoformat(),
        "publishDate": publish_date.isoformat(),
        "listingEnd": listing_end.isoformat() if listing_end else None,
        "status": status,
        "removedDate": removed_date.isoformat() if removed_date else None,
        "removalReason": removal_reason,
        "updated_at": updated_at,
    }


def restriction(
    *, order_id: str, case: Case, party: Subject, issued_date: dt.date, status: str
) -> dict[str, Any]:
    """One line of court/restrictions.jsonl."""
    return {
        "orderId": order_id,
        "caseCode": case.case_code,
        "court": case.court,
        "idCode": party.code,
        "partyName": party.name,
        "issuedDate": issued_date.isoformat(),
        "status": status,
    }


def _amounts(rng: random.Random, party: Subject) -> tuple[str, str, str | None]:
    """(obligation, performance, unperformed amount)."""
    scale = 1_000_000 if party.type == "ORG" else 100_000
    owed = rng.randint(5, 500) * scale
    obligation = rng.choice(_OBLIGATIONS).format(money(owed))
    if rng.random() < 0.7:
        return obligation, "NONE", money(owed)
    return obligation, "PARTIAL", money(owed * rng.randint(20, 90) // 100)


def _one_entry(
    world: World,
    rng: random.Random,
    party: Subject,
    district: District,
    legal_rep_name: str | None,
    number: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    as_of = world.as_of
    filed = day_between(rng, add_months(as_of, -72), as_of - dt.timedelta(days=40))
    published = day_between(rng, filed + dt.timedelta(days=20), min(add_months(filed, 4), as_of))
    published = min(published, as_of - ONE_DAY)
    behaviour = rng.choices((1, 2, 3, 4, 5, 6), weights=(55, 10, 10, 10, 10, 5))[0]
    listing_end = None
    if behaviour != 1:
        years = 2 if rng.random() < 0.8 else rng.randint(3, 5)
        listing_end = add_months(published, 12 * years) - ONE_DAY
    status, removed, reason = "LISTED", None, None
    if listing_end is not None and listing_end < as_of and rng.random() < 0.6:
        status, removed, reason = "REMOVED", listing_end + ONE_DAY, EXPIRED_REASON
    elif rng.random() < 0.35:
        candidate = published + dt.timedelta(days=rng.randint(30, 900))
        if candidate < as_of and (listing_end is None or candidate <= listing_end):
            status, removed, reason = "REMOVED", candidate, rng.choice(_REMOVAL_REASONS)
    case = Case.draw(rng, district, filed)
    obligation, performance, unperformed = _amounts(rng, party)
    entry = court_entry(
        entry_id=party.row_id("SX", number),
        case=case,
        party=party,
        legal_rep_name=legal_rep_name,
        obligation=obligation,
        performance=performance,
        unperformed_amount=unperformed,
        behaviour=behaviour,
        filing_date=filed,
        publish_date=published,
        listing_end=listing_end,
        status=status,
        removed_date=removed,
        removal_reason=reason,
        updated_at=stamp(rng, removed or published, as_of),
    )
    order = None
    if rng.random() < 0.75:
        issued = min(filed + dt.timedelta(days=rng.randint(0, 60)), as_of - ONE_DAY)
        lifted = status == "REMOVED" and rng.random() < 0.85
        order = restriction(
            order_id=party.row_id("XF", number),
            case=case,
            party=party,
            issued_date=issued,
            status="LIFTED" if lifted else "ACTIVE",
        )
    return entry, order


def random_court(
    world: World,
    rng: random.Random,
    party: Subject,
    district: District,
    legal_rep_name: str | None,
    profile: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries, restrictions) of one random subject; `profile` as in credit."""
    listed_share, bare_share = _SHARES[profile]
    entries: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    roll = rng.random()
    if roll < listed_share:
        for number in range(1, rng.choice((1, 1, 1, 1, 2)) + 1):
            entry, order = _one_entry(world, rng, party, district, legal_rep_name, number)
            entries.append(entry)
            if order is not None:
                orders.append(order)
    elif roll < listed_share + bare_share:
        # A restriction without a listing: the debtor is restricted but not (yet) listed.
        as_of = world.as_of
        filed = day_between(rng, add_months(as_of, -36), as_of - dt.timedelta(days=30))
        issued = filed + dt.timedelta(days=rng.randint(0, 29))
        orders.append(
            restriction(
                order_id=party.row_id("XF", 1),
                case=Case.draw(rng, district, filed),
                party=party,
                issued_date=issued,
                status="ACTIVE" if rng.random() < 0.6 else "LIFTED",
            )
        )
    return entries, orders
