"""Reading the procurement system's answers into records, trusting nothing.

Each function takes one `<p:OPERATIONResponse>` element (already safely parsed by
`connectors.soap`) and returns normalised records, or raises
`SourceProtocolError` when the answer breaks the service's contract:

- an element the WSDL requires is missing, repeated, or holds elements where
  text belongs;
- an identifier fails its format or check digit;
- a value is outside its enumeration, a date is not `YYYY-MM-DD`, an amount is
  not a decimal string;
- an award is dated outside the range that was asked for.

Elements are found by namespace URI and local name, never by prefix. An empty
element is None ("Nulls are empty elements"). Messages name the element that
failed, never its value: values may identify people.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from xml.etree.ElementTree import Element

from .errors import SourceProtocolError
from .identifiers import is_valid_credit_code, is_valid_id_number
from .records import (
    Award,
    BusinessRole,
    Debarment,
    PersonRef,
    PurchaserIssue,
    PurchaserPerformance,
    Representative,
    SupplierStatus,
    Violation,
)

__all__ = [
    "NAMESPACE",
    "PLATFORM",
    "awards_page",
    "purchasers",
    "representatives",
    "suppliers",
]

PLATFORM = "procurement"
NAMESPACE = "urn:gov:procurement:credit:2019"

REGISTRATION_STATUSES = frozenset({"ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED"})
ROLES = frozenset({"LEGAL_REPRESENTATIVE", "SHAREHOLDER"})
ISSUE_TYPES = frozenset({"LATE_PAYMENT", "ACCEPTANCE_DELAY", "BREACH"})

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# xs:decimal's lexical space: no exponent, no NaN or Infinity.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_PAGE = re.compile(r"[1-9]\d{0,8}")


def suppliers(response: Element) -> list[SupplierStatus]:
    """The `<p:Supplier>` elements of a QuerySupplierStatusResponse, in order."""
    return [_supplier(element) for element in _all(response, "Supplier")]


def representatives(response: Element) -> list[Representative]:
    """The `<p:Representative>` elements of a QuerySuppliersByRepresentativeResponse."""
    return [_representative(element) for element in _all(response, "Representative")]


def purchasers(response: Element) -> list[PurchaserPerformance]:
    """The `<p:Purchaser>` elements of a QueryPurchaserPerformanceResponse."""
    return [_purchaser(element) for element in _all(response, "Purchaser")]


def awards_page(
    response: Element, purchaser_code: str, start: dt.date, end: dt.date
) -> tuple[list[Award], int | None]:
    """One page of a QueryAwardsResponse: its awards, and the next page (None on the last)."""
    page = _one(response, "Awards", "QueryAwardsResponse")
    awards = [_award(element, purchaser_code) for element in _all(page, "Award")]
    if any(not start <= award.award_date <= end for award in awards):
        raise _error("an Award is dated outside the range asked for")
    next_page = _text(page, "NextPage", "Awards")
    if next_page is not None and not _PAGE.fullmatch(next_page):
        raise _error("NextPage is not a page number")
    return awards, None if next_page is None else int(next_page)


# Records ---------------------------------------------------------------------


def _supplier(element: Element) -> SupplierStatus:
    what = "Supplier"
    return SupplierStatus(
        credit_code=_required(element, "CreditCode", what, is_valid_credit_code),
        name=_text(element, "Name", what),
        registration_status=_choice(element, "RegistrationStatus", what, REGISTRATION_STATUSES),
        legal_representative=_person(_one(element, "LegalRepresentative", what)),
        debarments=tuple(map(_debarment, _listed(element, "Debarments", "Debarment"))),
        violations=tuple(map(_violation, _listed(element, "Violations", "Violation"))),
    )


def _person(element: Element) -> PersonRef | None:
    what = "LegalRepresentative"
    name = _text(element, "Name", what)
    id_number = _text(element, "IdNumber", what, is_valid_id_number)
    return None if name is None and id_number is None else PersonRef(name, id_number)


def _debarment(element: Element) -> Debarment:
    what = "Debarment"
    return Debarment(
        record_no=_required(element, "RecordNo", what),
        reason=_text(element, "Reason", what),
        legal_basis=_text(element, "LegalBasis", what),
        authority=_text(element, "Authority", what),
        start_date=_date(element, "StartDate", what),
        end_date=_date(element, "EndDate", what),
        published_date=_date(element, "PublishedDate", what),
    )


def _violation(element: Element) -> Violation:
    what = "Violation"
    return Violation(
        record_no=_required(element, "RecordNo", what),
        circumstance=_text(element, "Circumstance", what),
        penalty=_text(element, "Penalty", what),
        legal_basis=_text(element, "LegalBasis", what),
        penalty_date=_date(element, "PenaltyDate", what),
        authority=_text(element, "Authority", what),
    )


def _representative(element: Element) -> Representative:
    return Representative(
        id_number=_required(element, "IdNumber", "Representative", is_valid_id_number),
        roles=tuple(_business_role(supplier) for supplier in _all(element, "Supplier")),
    )


def _business_role(element: Element) -> BusinessRole:
    what = "Representative's Supplier"
    status = _text(element, "RegistrationStatus", what)
    if status is not None and status not in REGISTRATION_STATUSES:
        raise _error(f"a {what} has an unknown RegistrationStatus")
    return BusinessRole(
        supplier_code=_required(element, "CreditCode", what, is_valid_credit_code),
        supplier_name=_text(element, "Name", what),
        registration_status=status,
        role=_choice(element, "Role", what, ROLES),
    )


def _purchaser(element: Element) -> PurchaserPerformance:
    return PurchaserPerformance(
        credit_code=_required(element, "CreditCode", "Purchaser", is_valid_credit_code),
        issues=tuple(map(_issue, _listed(element, "Issues", "Issue"))),
    )


def _issue(element: Element) -> PurchaserIssue:
    what = "Issue"
    return PurchaserIssue(
        contract_no=_required(element, "ContractNo", what),
        type=_choice(element, "Type", what, ISSUE_TYPES),
        amount=_money(element, "Amount", what),
        due_date=_date(element, "DueDate", what),
        resolved_date=_date(element, "ResolvedDate", what),
    )


def _award(element: Element, purchaser_code: str) -> Award:
    what = "Award"
    award_date = _date(element, "AwardDate", what)
    if award_date is None:
        # Awards are asked for by date range, so every one answered must have a date.
        raise _error("an Award has no AwardDate")
    return Award(
        purchaser_code=purchaser_code,
        contract_no=_required(element, "ContractNo", what),
        supplier_code=_required(element, "SupplierCode", what, is_valid_credit_code),
        supplier_name=_text(element, "SupplierName", what),
        award_date=award_date,
        amount=_money(element, "Amount", what),
    )


# Elements and values ---------------------------------------------------------


def _error(message: str) -> SourceProtocolError:
    return SourceProtocolError(PLATFORM, message)


def _all(element: Element, name: str) -> list[Element]:
    return element.findall(f"{{{NAMESPACE}}}{name}")


def _one(element: Element, name: str, what: str) -> Element:
    found = _all(element, name)
    if len(found) != 1:
        problem = "no" if not found else "more than one"
        raise _error(f"a {what} has {problem} {name}")
    return found[0]


def _listed(element: Element, container: str, item: str) -> list[Element]:
    """The `item` elements inside the one `container` child (`Debarments/Debarment*`)."""
    return _all(_one(element, container, _local(element)), item)


def _text(
    element: Element, name: str, what: str, valid: Callable[[str], bool] | None = None
) -> str | None:
    """The text of the one `name` child; None when empty; checked by `valid` if given."""
    child = _one(element, name, what)
    if len(child):
        raise _error(f"a {what}'s {name} holds elements instead of text")
    text = (child.text or "").strip()
    if not text:
        return None
    if valid is not None and not valid(text):
        raise _error(f"a {what}'s {name} fails its format or check digit")
    return text


def _required(
    element: Element, name: str, what: str, valid: Callable[[str], bool] | None = None
) -> str:
    text = _text(element, name, what, valid)
    if text is None:
        raise _error(f"a {what} has an empty {name}")
    return text


def _choice(element: Element, name: str, what: str, allowed: frozenset[str]) -> str:
    text = _required(element, name, what)
    if text not in allowed:
        raise _error(f"a {what} has an unknown {name}")
    return text


def _date(element: Element, name: str, what: str) -> dt.date | None:
    text = _text(element, name, what)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(name)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _error(f"a {what}'s {name} is not a YYYY-MM-DD date") from None


def _money(element: Element, name: str, what: str) -> Decimal | None:
    text = _text(element, name, what)
    if text is None:
        return None
    if not _DECIMAL.fullmatch(text):
        raise _error(f"a {what}'s {name} is not a decimal amount")
    return Decimal(text)


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]
