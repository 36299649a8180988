"""The five operations of SupplierCreditService: a request element in, an answer tree out.

Each answer is wrapped in `<p:OPERATIONResponse>`, as the WSDL declares. Code
lists take at most 50 codes (TOO_MANY_CODES) and are answered one element per
code, in request order, duplicates included; a code must already be in its
canonical form (18 characters, upper case) with a correct check digit, else
INVALID_CODE. An unknown code is answered NOT_REGISTERED with empty lists.
Request children must be qualified in the service namespace; anything else
in a request is INVALID_REQUEST.

QueryAwards: `From`/`To` are optional (absent or empty = open-ended) and
inclusive, `Page` is 1-based and defaults to 1; a page past the last is empty.
Awards are listed by AwardDate, then ContractNo. GetChanges: no `Since` (or an
empty one) reads from the beginning; at most 100 changes per answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from xml.etree.ElementTree import Element

from connectors.identifiers import is_valid_credit_code, is_valid_id_number
from simulators.changefeed import InvalidCursor
from simulators.procurement_data import (
    Award,
    Debarment,
    Link,
    ProcurementData,
    PurchaserIssue,
    Supplier,
    Violation,
)
from simulators.procurement_xml import P_NS, Node, SoapFault, invalid_request, leaf, split_tag

__all__ = [
    "AWARDS_PER_PAGE",
    "CHANGES_PER_ANSWER",
    "MAX_CODES",
    "OPERATIONS",
    "answer",
    "without_last_item",
]

OPERATIONS = (
    "QuerySupplierStatus",
    "QuerySuppliersByRepresentative",
    "QueryPurchaserPerformance",
    "QueryAwards",
    "GetChanges",
)
MAX_CODES = 50
AWARDS_PER_PAGE = 200
CHANGES_PER_ANSWER = 100

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PAGE = re.compile(r"\d{1,9}")


def answer(operation: str, request: Element, data: ProcurementData) -> Node:
    """The `<p:OPERATIONResponse>` tree for one request; `SoapFault` for a bad one."""
    match operation:
        case "QuerySupplierStatus":
            codes = _codes(request, "CreditCode", is_valid_credit_code)
            items = [_supplier(code, data.supplier(code)) for code in codes]
        case "QuerySuppliersByRepresentative":
            numbers = _codes(request, "IdNumber", is_valid_id_number)
            items = [_representative(number, data.links(number)) for number in numbers]
        case "QueryPurchaserPerformance":
            codes = _codes(request, "CreditCode", is_valid_credit_code)
            items = [_purchaser(code, data.issues(code)) for code in codes]
        case "QueryAwards":
            items = [_awards(request, data)]
        case "GetChanges":
            items = _changes(request, data)
        case _:
            raise invalid_request("unknown operation")
    return Node(f"{operation}Response", tuple(items))


def without_last_item(operation: str, response: Node) -> Node:
    """`response` with its last repeated item (Supplier, Award, Change, ...) left out."""
    item = {
        "QuerySupplierStatus": "Supplier",
        "QuerySuppliersByRepresentative": "Representative",
        "QueryPurchaserPerformance": "Purchaser",
        "QueryAwards": "Award",
        "GetChanges": "Change",
    }[operation]
    return _drop_last(response, item)


def _drop_last(node: Node, item: str) -> Node:
    positions = [i for i, child in enumerate(node.children) if child.name == item]
    if positions:
        last = positions[-1]
        return Node(node.name, node.children[:last] + node.children[last + 1 :], node.text)
    # The item may sit one level down, as Award does inside Awards.
    return Node(node.name, tuple(_drop_last(child, item) for child in node.children), node.text)


# Reading requests ------------------------------------------------------------


def _arguments(request: Element, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    """(local name, text) of each child, refusing unqualified, unknown or nested ones."""
    arguments = []
    for child in request:
        namespace, name = split_tag(child.tag)
        if namespace != P_NS or name not in allowed:
            raise invalid_request(f"unexpected element in {split_tag(request.tag)[1]}")
        if len(child):
            raise invalid_request(f"{name} must hold text only")
        arguments.append((name, (child.text or "").strip()))
    return arguments


def _codes(request: Element, name: str, valid: Callable[[str], bool]) -> list[str]:
    codes = [text for _, text in _arguments(request, (name,))]
    if len(codes) > MAX_CODES:
        raise SoapFault("Client", "TOO_MANY_CODES", f"at most {MAX_CODES} codes per request")
    for position, code in enumerate(codes, start=1):
        if not valid(code):
            # The position, not the value: codes may identify real people.
            raise SoapFault(
                "Client", "INVALID_CODE", f"{name} #{position} fails its format or check digit"
            )
    return codes


def _single(arguments: list[tuple[str, str]], name: str) -> str | None:
    values = [text for key, text in arguments if key == name]
    if len(values) > 1:
        raise invalid_request(f"{name} may be given once")
    return values[0] if values and values[0] else None


def _date(arguments: list[tuple[str, str]], name: str) -> dt.date | None:
    text = _single(arguments, name)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid_request(f"{name} must be a YYYY-MM-DD date") from None


# Answers ---------------------------------------------------------------------


def _supplier(code: str, supplier: Supplier | None) -> Node:
    if supplier is None:
        return Node(
            "Supplier",
            (
                leaf("CreditCode", code),
                leaf("Name", None),
                leaf("RegistrationStatus", "NOT_REGISTERED"),
                Node("LegalRepresentative", (leaf("Name", None), leaf("IdNumber", None))),
                leaf("Debarments", None),
                leaf("Violations", None),
            ),
        )
    person = supplier.legal_representative
    return Node(
        "Supplier",
        (
            leaf("CreditCode", supplier.credit_code),
            leaf("Name", supplier.name),
            leaf("RegistrationStatus", supplier.registration_status),
            Node(
                "LegalRepresentative",
                (leaf("Name", person.name), leaf("IdNumber", person.id_number)),
            ),
            Node("Debarments", tuple(_debarment(d) for d in supplier.debarments)),
            Node("Violations", tuple(_violation(v) for v in supplier.violations)),
        ),
    )


def _debarment(debarment: Debarment) -> Node:
    return Node(
        "Debarment",
        (
            leaf("RecordNo", debarment.record_no),
            leaf("Reason", debarment.reason),
            leaf("LegalBasis", debarment.legal_basis),
            leaf("Authority", debarment.authority),
            leaf("StartDate", debarment.start_date),
            leaf("EndDate", debarment.end_date),
            leaf("PublishedDate", debarment.published_date),
        ),
    )


def _violation(violation: Violation) -> Node:
    return Node(
        "Violation",
        (
            leaf("RecordNo", violation.record_no),
            leaf("Circumstance", violation.circumstance),
            leaf("Penalty", violation.penalty),
            leaf("LegalBasis", violation.legal_basis),
            leaf("PenaltyDate", violation.penalty_date),
            leaf("Authority", violation.authority),
        ),
    )


def _representative(number: str, links: list[Link]) -> Node:
    suppliers = tuple(
        Node(
            "Supplier",
            (
                leaf("CreditCode", link.supplier.credit_code),
                leaf("Name", link.supplier.name),
                leaf("RegistrationStatus", link.supplier.registration_status),
                leaf("Role", link.role),
            ),
        )
        for link in links
    )
    return Node("Representative", (leaf("IdNumber", number), *suppliers))


def _purchaser(code: str, issues: list[PurchaserIssue]) -> Node:
    return Node("Purchaser", (leaf("CreditCode", code), Node("Issues", tuple(map(_issue, issues)))))


def _issue(issue: PurchaserIssue) -> Node:
    return Node(
        "Issue",
        (
            leaf("ContractNo", issue.contract_no),
            leaf("Type", issue.type),
            leaf("Amount", None if issue.amount is None else f"{issue.amount:f}"),
            leaf("DueDate", issue.due_date),
            leaf("ResolvedDate", issue.resolved_date),
        ),
    )


def _awards(request: Element, data: ProcurementData) -> Node:
    arguments = _arguments(request, ("PurchaserCode", "From", "To", "Page"))
    code = _single(arguments, "PurchaserCode")
    if code is None:
        raise invalid_request("PurchaserCode is required")
    if not is_valid_credit_code(code):
        raise SoapFault("Client", "INVALID_CODE", "PurchaserCode fails its format or check digit")
    start, end = _date(arguments, "From"), _date(arguments, "To")
    if start is not None and end is not None and start > end:
        raise invalid_request("From is after To")
    page_text = _single(arguments, "Page") or "1"
    if not _PAGE.fullmatch(page_text) or int(page_text) < 1:
        raise invalid_request("Page must be a whole number from 1")
    page = int(page_text)
    awards = data.awards(code, start, end)
    first = (page - 1) * AWARDS_PER_PAGE
    shown = awards[first : first + AWARDS_PER_PAGE]
    more = first + AWARDS_PER_PAGE < len(awards)
    return Node(
        "Awards",
        (*map(_award, shown), leaf("NextPage", page + 1 if more else None)),
    )


def _award(award: Award) -> Node:
    return Node(
        "Award",
        (
            leaf("ContractNo", award.contract_no),
            leaf("SupplierCode", award.supplier_code),
            leaf("SupplierName", award.supplier_name),
            leaf("AwardDate", award.award_date),
            leaf("Amount", None if award.amount is None else f"{award.amount:f}"),
        ),
    )


def _changes(request: Element, data: ProcurementData) -> list[Node]:
    since = _single(_arguments(request, ("Since",)), "Since")
    try:
        changes, cursor = data.changes.page(since, CHANGES_PER_ANSWER)
    except InvalidCursor:
        raise invalid_request("Since is not a cursor this service issued") from None
    items = [
        Node(
            "Change",
            (
                leaf("Seq", change["seq"]),
                leaf("CreditCode", change["credit_code"]),
                leaf("At", change["at"].isoformat()),
            ),
        )
        for change in changes
    ]
    return [*items, leaf("Next", cursor)]
