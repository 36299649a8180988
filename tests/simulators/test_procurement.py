"""The procurement stand-in over real HTTP: SOAP 1.1 envelopes in, answers and faults out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import httpx
import pytest
from defusedxml.ElementTree import fromstring

from simulators.dataset import DatasetError
from simulators.procurement import (
    ProcurementCredentials,
    create_procurement_app,
    load_procurement_dataset,
)
from tests.support import credit_code, id_number, serve

P = "urn:gov:procurement:credit:2019"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"
ENDPOINT = "/ws/SupplierCreditService"
CREDENTIALS = ProcurementCredentials(username="procure-gw", password="s3cret & <pass>")
OPERATIONS = {
    "QuerySupplierStatus",
    "QuerySuppliersByRepresentative",
    "QueryPurchaserPerformance",
    "QueryAwards",
    "GetChanges",
}

SUPPLIER = credit_code(1)
SUSPENDED = credit_code(2)
BARE = credit_code(3)
PURCHASER = credit_code(100, prefix="11210000")
SMALL_BUYER = credit_code(101, prefix="11210000")
UNKNOWN = credit_code(999)
REP = id_number(1)
HOLDER = id_number(2)
AWARDS = 450
AWARD_START = dt.date(2024, 1, 1)

SUPPLIER_FIELDS = [
    "CreditCode",
    "Name",
    "RegistrationStatus",
    "LegalRepresentative",
    "Debarments",
    "Violations",
]


# Helpers ---------------------------------------------------------------------


def q(name: str) -> str:
    return f"{{{P}}}{name}"


def wrong_check(code: str) -> str:
    """`code` with a different last character, so its check digit fails."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def envelope(
    operation: str,
    inner: str,
    *,
    username: str = CREDENTIALS.username,
    password: str = CREDENTIALS.password,
    password_type: str | None = PASSWORD_TEXT,
    security: bool = True,
    prolog: str = "",
) -> str:
    """A SOAP 1.1 request the way a client would write it."""
    type_attribute = f' Type="{password_type}"' if password_type is not None else ""
    header = (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1">'
        f"<wsse:UsernameToken><wsse:Username>{escape(username)}</wsse:Username>"
        f"<wsse:Password{type_attribute}>{escape(password)}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
        if security
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}'
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:cr="{P}">{header}'
        f"<soap:Body><cr:{operation}>{inner}</cr:{operation}></soap:Body></soap:Envelope>"
    )


def codes(name: str, values: Iterable[str]) -> str:
    return "".join(f"<cr:{name}>{value}</cr:{name}>" for value in values)


def names(element: Element) -> list[str]:
    """Local names of the children, each checked to be in the service namespace."""
    result = []
    for child in element:
        assert child.tag.startswith(f"{{{P}}}"), f"{child.tag} is not namespace-qualified"
        result.append(child.tag.removeprefix(f"{{{P}}}"))
    return result


def text(element: Element, name: str) -> str:
    found = element.find(q(name))
    assert found is not None, f"no {name}"
    return found.text or ""


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Service:
    base: str
    client: httpx.AsyncClient

    async def post(
        self, operation: str, inner: str = "", *, action: str | None = None, **options: Any
    ) -> httpx.Response:
        body = envelope(operation, inner, **options)
        return await self.post_raw(body.encode(), action or operation)

    async def post_raw(self, body: bytes, action: str | None) -> httpx.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if action is not None:
            headers["SOAPAction"] = f'"{P}/{action}"'
        return await self.client.post(self.base + ENDPOINT, content=body, headers=headers)

    async def answer(self, operation: str, inner: str = "") -> Element:
        """The `<p:OPERATIONResponse>` of a successful call."""
        response = await self.post(operation, inner)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        root = fromstring(response.content)
        assert root.tag == f"{{{SOAP}}}Envelope"
        body = root.find(f"{{{SOAP}}}Body")
        assert body is not None
        assert [child.tag for child in body] == [q(f"{operation}Response")]
        return body[0]

    async def admin(self, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(self.base + path, json=payload)


def fault(response: httpx.Response) -> tuple[str, str]:
    """(fault side, detail code) of a SOAP Fault, which must come with HTTP 500 and text/xml."""
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = fromstring(response.content)
    found = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert found is not None, response.text
    faultcode = found.findtext("faultcode") or ""
    prefix, _, side = faultcode.partition(":")
    assert f'xmlns:{prefix}="{SOAP}"' in response.text
    return side, found.findtext(f"detail/{q('code')}") or ""


# Fixtures --------------------------------------------------------------------


def supplier_rows() -> list[dict[str, Any]]:
    return [
        {
            "credit_code": SUPPLIER,
            "name": "沈阳华信建设有限公司",
            "registration_status": "ACTIVE",
            "legal_representative": {"name": "王强", "id_number": REP},
            "shareholders": [{"name": "李梅", "id_number": HOLDER}],
            "debarments": [
                {
                    "record_no": "DB-2024-001",
                    "reason": "提供虚假材料谋取中标",
                    "legal_basis": "政府采购法第七十七条",
                    "authority": "沈阳市财政局",
                    "start_date": "2024-05-01",
                    "end_date": "2025-04-30",
                    "published_date": "2024-05-03",
                }
            ],
            "violations": [
                {
                    "record_no": "VI-2023-007",
                    "circumstance": "串通投标",
                    "penalty": "罚款 & 禁止参加政府采购活动一年",
                    "legal_basis": "政府采购法第七十七条",
                    "penalty_date": "2023-08-10",
                    "authority": "辽宁省财政厅",
                }
            ],
            "updated_at": "2025-03-01T10:00:00+08:00",
            "ignored_extra_key": True,
        },
        {
            "credit_code": SUSPENDED,
            "name": "大连远航贸易有限公司",
            "registration_status": "SUSPENDED",
            "legal_representative": {"name": "李梅", "id_number": HOLDER},
            "debarments": [],
            "violations": [],
            "updated_at": "2025-01-15T09:00:00+08:00",
        },
        {"credit_code": BARE},
    ]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "procurement"
    write_jsonl(folder / "suppliers.jsonl", supplier_rows())
    write_jsonl(
        folder / "purchaser_issues.jsonl",
        [
            {
                "purchaser_code": PURCHASER,
                "contract_no": "HT-2024-0101",
                "type": "LATE_PAYMENT",
                "amount": "1250000.00",
                "due_date": "2024-10-31",
                "resolved_date": None,
            },
            {
                "purchaser_code": PURCHASER,
                "contract_no": "HT-2023-0042",
                "type": "ACCEPTANCE_DELAY",
                "amount": "80000.50",
                "due_date": "2023-06-30",
                "resolved_date": "2023-09-01",
            },
        ],
    )
    awards = [
        {
            "purchaser_code": PURCHASER,
            "contract_no": f"ZB-{n:04d}",
            "supplier_code": SUPPLIER,
            "supplier_name": "沈阳华信建设有限公司",
            "award_date": (AWARD_START + dt.timedelta(days=n)).isoformat(),
            "amount": f"{1000 + n}.00",
        }
        for n in range(AWARDS)
    ]
    awards += [
        {
            "purchaser_code": SMALL_BUYER,
            "contract_no": f"XB-{day}",
            "supplier_code": SUSPENDED,
            "award_date": f"2025-02-{day:02d}",
            "amount": "99.90",
        }
        for day in (1, 2, 3, 4, 5)
    ]
    write_jsonl(folder / "awards.jsonl", awards)
    return tmp_path


@pytest.fixture
async def service(dataset: Path) -> AsyncIterator[Service]:
    app = create_procurement_app(load_procurement_dataset(dataset), CREDENTIALS)
    async with serve(app) as base, httpx.AsyncClient(timeout=30) as client:
        yield Service(base, client)


# WSDL ------------------------------------------------------------------------


async def test_wsdl_describes_the_five_document_literal_operations(service: Service) -> None:
    response = await service.client.get(service.base + ENDPOINT, params={"wsdl": ""})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    wsdl = fromstring(response.content)
    assert wsdl.tag == f"{{{WSDL_NS}}}definitions"
    assert wsdl.get("targetNamespace") == P
    port_type = wsdl.find(f"{{{WSDL_NS}}}portType")
    assert port_type is not None
    assert {op.get("name") for op in port_type} == OPERATIONS
    binding = wsdl.find(f"{{{WSDL_NS}}}binding")
    assert binding is not None
    soap_binding = binding.find(f"{{{WSDL_SOAP}}}binding")
    assert soap_binding is not None
    assert soap_binding.get("style") == "document"
    actions = {
        op.get("name"): op.find(f"{{{WSDL_SOAP}}}operation").get("soapAction")  # type: ignore[union-attr]
        for op in binding.findall(f"{{{WSDL_NS}}}operation")
    }
    assert actions == {name: f"{P}/{name}" for name in OPERATIONS}
    uses = {body.get("use") for body in binding.iter(f"{{{WSDL_SOAP}}}body")}
    assert uses == {"literal"}
    schema = wsdl.find(f"{{{WSDL_NS}}}types/{{{XS}}}schema")
    assert schema is not None
    assert schema.get("elementFormDefault") == "qualified"
    declared = {element.get("name") for element in schema.findall(f"{{{XS}}}element")}
    assert declared >= OPERATIONS | {f"{name}Response" for name in OPERATIONS} | {"code"}
    address = wsdl.find(f"{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/{{{WSDL_SOAP}}}address")
    assert address is not None
    assert address.get("location") == service.base + ENDPOINT


async def test_get_without_wsdl_query_is_a_fault(service: Service) -> None:
    response = await service.client.get(service.base + ENDPOINT)

    assert fault(response) == ("Client", "INVALID_REQUEST")


# Operations ------------------------------------------------------------------


async def test_supplier_status_answers_each_code_in_order(service: Service) -> None:
    result = await service.answer(
        "QuerySupplierStatus", codes("CreditCode", [SUPPLIER, UNKNOWN, SUPPLIER, BARE])
    )

    assert names(result) == ["Supplier"] * 4
    known, unknown, again, bare = list(result)
    assert [text(s, "CreditCode") for s in result] == [SUPPLIER, UNKNOWN, SUPPLIER, BARE]
    assert names(known) == SUPPLIER_FIELDS
    assert text(known, "Name") == "沈阳华信建设有限公司"
    assert text(known, "RegistrationStatus") == "ACTIVE"
    representative = known.find(q("LegalRepresentative"))
    assert representative is not None
    assert names(representative) == ["Name", "IdNumber"]
    assert (text(representative, "Name"), text(representative, "IdNumber")) == ("王强", REP)
    debarments = known.find(q("Debarments"))
    assert debarments is not None
    assert names(debarments) == ["Debarment"]
    assert names(debarments[0]) == [
        "RecordNo",
        "Reason",
        "LegalBasis",
        "Authority",
        "StartDate",
        "EndDate",
        "PublishedDate",
    ]
    assert text(debarments[0], "EndDate") == "2025-04-30"
    violations = known.find(q("Violations"))
    assert violations is not None
    assert names(violations[0]) == [
        "RecordNo",
        "Circumstance",
        "Penalty",
        "LegalBasis",
        "PenaltyDate",
        "Authority",
    ]
    assert text(violations[0], "Penalty") == "罚款 & 禁止参加政府采购活动一年"
    assert names(again) == SUPPLIER_FIELDS
    # Unknown: NOT_REGISTERED, nulls as empty elements, empty lists.
    assert names(unknown) == SUPPLIER_FIELDS
    assert text(unknown, "RegistrationStatus") == "NOT_REGISTERED"
    assert text(unknown, "Name") == ""
    assert list(unknown.find(q("Debarments"))) == []  # type: ignore[arg-type]
    assert list(unknown.find(q("Violations"))) == []  # type: ignore[arg-type]
    # A supplier row with nothing but its code: registered, details empty.
    assert names(bare) == SUPPLIER_FIELDS
    assert text(bare, "Name") == ""
    assert names(bare.find(q("LegalRepresentative"))) == ["Name", "IdNumber"]  # type: ignore[arg-type]


async def test_suppliers_by_representative_covers_legal_representatives_and_shareholders(
    service: Service,
) -> None:
    nobody = id_number(3)

    result = await service.answer(
        "QuerySuppliersByRepresentative", codes("IdNumber", [HOLDER, REP, nobody])
    )

    assert names(result) == ["Representative"] * 3
    holder, rep, unknown = list(result)
    assert names(holder) == ["IdNumber", "Supplier", "Supplier"]
    assert text(holder, "IdNumber") == HOLDER
    ties = [
        (text(s, "CreditCode"), text(s, "Name"), text(s, "RegistrationStatus"), text(s, "Role"))
        for s in holder.findall(q("Supplier"))
    ]
    assert ties == [
        (SUPPLIER, "沈阳华信建设有限公司", "ACTIVE", "SHAREHOLDER"),
        (SUSPENDED, "大连远航贸易有限公司", "SUSPENDED", "LEGAL_REPRESENTATIVE"),
    ]
    assert names(holder[1]) == ["CreditCode", "Name", "RegistrationStatus", "Role"]
    assert [text(s, "Role") for s in rep.findall(q("Supplier"))] == ["LEGAL_REPRESENTATIVE"]
    assert names(unknown) == ["IdNumber"]
    assert text(unknown, "IdNumber") == nobody


async def test_purchaser_performance_lists_issues_with_open_ones_empty(service: Service) -> None:
    result = await service.answer(
        "QueryPurchaserPerformance", codes("CreditCode", [PURCHASER, UNKNOWN])
    )

    assert names(result) == ["Purchaser", "Purchaser"]
    purchaser, unknown = list(result)
    assert names(purchaser) == ["CreditCode", "Issues"]
    assert text(purchaser, "CreditCode") == PURCHASER
    issues = purchaser.find(q("Issues"))
    assert issues is not None
    assert names(issues) == ["Issue", "Issue"]
    assert names(issues[0]) == ["ContractNo", "Type", "Amount", "DueDate", "ResolvedDate"]
    assert [
        (text(i, "ContractNo"), text(i, "Type"), text(i, "Amount"), text(i, "ResolvedDate"))
        for i in issues
    ] == [
        ("HT-2024-0101", "LATE_PAYMENT", "1250000.00", ""),
        ("HT-2023-0042", "ACCEPTANCE_DELAY", "80000.50", "2023-09-01"),
    ]
    assert names(unknown) == ["CreditCode", "Issues"]
    assert list(unknown.find(q("Issues"))) == []  # type: ignore[arg-type]


async def test_awards_paging_returns_every_award_exactly_once(service: Service) -> None:
    seen: list[str] = []
    next_pages: list[str] = []
    page = "1"
    while page:
        result = await service.answer(
            "QueryAwards",
            f"<cr:PurchaserCode>{PURCHASER}</cr:PurchaserCode><cr:Page>{page}</cr:Page>",
        )
        assert names(result) == ["Awards"]
        awards = result[0]
        assert names(awards)[-1] == "NextPage"
        assert set(names(awards)[:-1]) <= {"Award"}
        for award in awards.findall(q("Award")):
            assert names(award) == [
                "ContractNo",
                "SupplierCode",
                "SupplierName",
                "AwardDate",
                "Amount",
            ]
            seen.append(text(award, "ContractNo"))
        page = text(awards, "NextPage")
        next_pages.append(page)

    assert next_pages == ["2", "3", ""]
    assert seen == [f"ZB-{n:04d}" for n in range(AWARDS)]


async def test_awards_from_and_to_are_inclusive(service: Service) -> None:
    result = await service.answer(
        "QueryAwards",
        f"<cr:PurchaserCode>{SMALL_BUYER}</cr:PurchaserCode>"
        "<cr:From>2025-02-02</cr:From><cr:To>2025-02-04</cr:To><cr:Page>1</cr:Page>",
    )

    awards = result[0]
    assert [text(a, "AwardDate") for a in awards.findall(q("Award"))] == [
        "2025-02-02",
        "2025-02-03",
        "2025-02-04",
    ]
    assert text(awards, "NextPage") == ""
    first = awards.find(q("Award"))
    assert first is not None
    assert (text(first, "SupplierName"), text(first, "Amount")) == ("", "99.90")


@pytest.mark.parametrize(
    "arguments",
    [
        "<cr:From>2025-01-01</cr:From><cr:To>2025-12-31</cr:To><cr:Page>0</cr:Page>",
        "<cr:Page>two</cr:Page>",
        "<cr:Page>-1</cr:Page>",
        "<cr:From>2025/01/01</cr:From>",
        "<cr:To>2025-02-30</cr:To>",
        "<cr:From>2025-03-01</cr:From><cr:To>2025-02-01</cr:To>",
        "<cr:Page>1</cr:Page><cr:Page>2</cr:Page>",
    ],
)
async def test_awards_with_bad_dates_or_pages_are_invalid_requests(
    service: Service, arguments: str
) -> None:
    response = await service.post(
        "QueryAwards", f"<cr:PurchaserCode>{PURCHASER}</cr:PurchaserCode>{arguments}"
    )

    assert fault(response) == ("Client", "INVALID_REQUEST")


async def test_get_changes_lists_suppliers_by_updated_at_then_upserts(service: Service) -> None:
    first = await service.answer("GetChanges")

    changes = first.findall(q("Change"))
    assert names(first) == ["Change"] * 3 + ["Next"]
    assert names(changes[0]) == ["Seq", "CreditCode", "At"]
    # BARE has no updated_at: it counts as changed when loaded, after the others.
    assert [text(c, "CreditCode") for c in changes] == [SUSPENDED, SUPPLIER, BARE]
    assert text(changes[0], "At") == "2025-01-15T09:00:00+08:00"
    assert dt.datetime.fromisoformat(text(changes[2], "At")).tzinfo is not None
    seqs = [int(text(c, "Seq")) for c in changes]
    assert seqs == sorted(seqs)
    cursor = text(first, "Next")
    caught_up = await service.answer("GetChanges", f"<cr:Since>{cursor}</cr:Since>")
    assert names(caught_up) == ["Next"]

    renamed = {**supplier_rows()[1], "name": "大连远航贸易集团", "legal_representative": None}
    upserted = await service.admin("/_sim/suppliers", renamed)
    assert upserted.status_code == 200

    after = await service.answer("GetChanges", f"<cr:Since>{text(caught_up, 'Next')}</cr:Since>")
    assert [text(c, "CreditCode") for c in after.findall(q("Change"))] == [SUSPENDED]
    assert int(text(after[0], "Seq")) > seqs[-1]
    again = await service.answer("GetChanges", f"<cr:Since>{text(after, 'Next')}</cr:Since>")
    assert names(again) == ["Next"]
    status = await service.answer("QuerySupplierStatus", codes("CreditCode", [SUSPENDED]))
    assert text(status[0], "Name") == "大连远航贸易集团"
    # The replaced supplier no longer lists its former legal representative.
    holder = await service.answer("QuerySuppliersByRepresentative", codes("IdNumber", [HOLDER]))
    assert [text(s, "CreditCode") for s in holder[0].findall(q("Supplier"))] == [SUPPLIER]


async def test_get_changes_pages_at_most_100_until_empty(tmp_path: Path) -> None:
    count = 230
    base = dt.datetime(2025, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    # Written newest first, so the feed must sort by updated_at.
    rows = [
        {"credit_code": credit_code(n), "updated_at": (base + dt.timedelta(minutes=n)).isoformat()}
        for n in reversed(range(count))
    ]
    write_jsonl(tmp_path / "procurement" / "suppliers.jsonl", rows)
    app = create_procurement_app(load_procurement_dataset(tmp_path), CREDENTIALS)
    async with serve(app) as url, httpx.AsyncClient(timeout=30) as client:
        service = Service(url, client)
        seen: list[str] = []
        sizes: list[int] = []
        since = ""
        while True:
            result = await service.answer("GetChanges", f"<cr:Since>{since}</cr:Since>")
            page = [text(c, "CreditCode") for c in result.findall(q("Change"))]
            sizes.append(len(page))
            since = text(result, "Next")
            if not page:
                break
            seen.extend(page)

    assert all(size <= 100 for size in sizes)
    assert sizes[-1] == 0
    assert seen == [credit_code(n) for n in range(count)]


async def test_get_changes_refuses_a_cursor_it_did_not_issue(service: Service) -> None:
    response = await service.post("GetChanges", "<cr:Since>not-a-cursor</cr:Since>")

    assert fault(response) == ("Client", "INVALID_REQUEST")


# Authentication --------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"password": "wrong"},
        {"username": "someone-else"},
        {"password": ""},
        {
            "password_type": "http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
        },
        {"security": False},
    ],
    ids=["bad-password", "bad-username", "empty-password", "digest", "no-security-header"],
)
async def test_bad_or_missing_credentials_are_auth_failed(
    service: Service, options: dict[str, Any]
) -> None:
    response = await service.post("QuerySupplierStatus", codes("CreditCode", [SUPPLIER]), **options)

    assert fault(response) == ("Client", "AUTH_FAILED")
    assert "沈阳华信" not in response.text


async def test_password_without_type_is_plain_text(service: Service) -> None:
    result = await service.answer("GetChanges")

    response = await service.post("GetChanges", password_type=None)

    assert response.status_code == 200
    assert names(fromstring(response.content)[0][0]) == names(result)


# Request faults --------------------------------------------------------------


async def test_more_than_50_codes_are_too_many(service: Service) -> None:
    fifty = [credit_code(n) for n in range(50)]

    allowed = await service.answer("QuerySupplierStatus", codes("CreditCode", fifty))
    refused = await service.post(
        "QuerySupplierStatus", codes("CreditCode", [*fifty, credit_code(50)])
    )

    assert len(allowed) == 50
    assert fault(refused) == ("Client", "TOO_MANY_CODES")


@pytest.mark.parametrize(
    ("operation", "element", "bad"),
    [
        ("QuerySupplierStatus", "CreditCode", wrong_check(SUPPLIER)),
        ("QuerySupplierStatus", "CreditCode", SUPPLIER.lower()),
        ("QuerySupplierStatus", "CreditCode", SUPPLIER[:-1]),
        ("QueryPurchaserPerformance", "CreditCode", "not-a-code"),
        ("QuerySuppliersByRepresentative", "IdNumber", wrong_check(REP)),
        ("QueryAwards", "PurchaserCode", wrong_check(PURCHASER)),
    ],
)
async def test_bad_format_or_check_digit_is_invalid_code(
    service: Service, operation: str, element: str, bad: str
) -> None:
    inner = codes(element, [SUPPLIER if element == "CreditCode" else REP]) + codes(element, [bad])
    if operation == "QueryAwards":
        inner = codes(element, [bad])

    response = await service.post(operation, inner)

    assert fault(response) == ("Client", "INVALID_CODE")
    assert bad not in response.text


async def test_soap_action_must_name_the_body_operation(service: Service) -> None:
    inner = codes("CreditCode", [SUPPLIER])

    mismatch = await service.post("QuerySupplierStatus", inner, action="QueryPurchaserPerformance")
    missing = await service.post_raw(envelope("QuerySupplierStatus", inner).encode(), None)

    assert fault(mismatch) == ("Client", "INVALID_REQUEST")
    assert fault(missing) == ("Client", "INVALID_REQUEST")


@pytest.mark.parametrize(
    "body",
    [
        b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>",
        b"this is not xml",
        b"",
        b"<Envelope><Body><QuerySupplierStatus/></Body></Envelope>",
        envelope("DeleteSupplier", "").encode(),
        envelope("QuerySupplierStatus", "<CreditCode>unqualified</CreditCode>").encode(),
    ],
    ids=["truncated", "not-xml", "empty", "not-soap", "unknown-operation", "unqualified"],
)
async def test_malformed_requests_are_invalid_requests(service: Service, body: bytes) -> None:
    response = await service.post_raw(body, "QuerySupplierStatus")

    assert fault(response) == ("Client", "INVALID_REQUEST")


async def test_request_over_one_mib_is_refused(service: Service) -> None:
    padding = "<!--" + "x" * (1024 * 1024) + "-->"
    body = envelope("QuerySupplierStatus", codes("CreditCode", [SUPPLIER]) + padding).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    declared = await service.post_raw(body, "QuerySupplierStatus")
    # Sent chunked, with no Content-Length to refuse it up front.
    streamed = await service.client.post(
        service.base + ENDPOINT,
        content=chunks(),
        headers={"SOAPAction": f'"{P}/QuerySupplierStatus"', "Content-Type": "text/xml"},
    )

    assert fault(declared) == ("Client", "INVALID_REQUEST")
    assert fault(streamed) == ("Client", "INVALID_REQUEST")
    just_under = envelope("QuerySupplierStatus", codes("CreditCode", [SUPPLIER]))
    just_under += " " * (1024 * 1024 - len(just_under.encode()))
    accepted = await service.post_raw(just_under.encode(), "QuerySupplierStatus")
    assert accepted.status_code == 200


XXE_PROLOG = '<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
LAUGHS_PROLOG = (
    '<!DOCTYPE soap:Envelope [\n<!ENTITY lol0 "lol">\n'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10))
    + "]>\n"
)


@pytest.mark.parametrize(
    ("prolog", "reference"),
    [(XXE_PROLOG, "&xxe;"), (LAUGHS_PROLOG, "&lol9;")],
    ids=["xxe", "billion-laughs"],
)
async def test_requests_with_dtds_or_entities_are_refused_not_expanded(
    service: Service, prolog: str, reference: str
) -> None:
    body = envelope("QuerySupplierStatus", codes("CreditCode", [reference]), prolog=prolog)

    response = await service.post_raw(body.encode(), "QuerySupplierStatus")

    assert fault(response) == ("Client", "INVALID_REQUEST")
    assert "root:" not in response.text
    assert "lollol" not in response.text


# Hostile answers -------------------------------------------------------------


async def hostile(service: Service, kind: str, count: int) -> httpx.Response:
    armed = await service.admin("/_sim/hostile", {"kind": kind, "count": count})
    assert armed.status_code == 200
    assert armed.json() == {"kind": kind, "remaining": count}
    return await service.post("QuerySupplierStatus", codes("CreditCode", [SUPPLIER, SUSPENDED]))


async def assert_normal_again(service: Service) -> None:
    result = await service.answer("QuerySupplierStatus", codes("CreditCode", [SUPPLIER, SUSPENDED]))
    assert names(result) == ["Supplier", "Supplier"]


async def test_hostile_xxe_answer_declares_an_external_entity(service: Service) -> None:
    for _ in range(2):
        response = await hostile(service, "xxe", 1)
        assert response.status_code == 200
        assert '<!ENTITY xxe SYSTEM "file:///etc/passwd">' in response.text
        assert "<p:Name>&xxe;</p:Name>" in response.text
        with pytest.raises(defusedxml.DTDForbidden):
            fromstring(response.content, forbid_dtd=True)
        with pytest.raises(defusedxml.EntitiesForbidden):
            fromstring(response.content)
        await assert_normal_again(service)


async def test_hostile_billion_laughs_answer_nests_entities(service: Service) -> None:
    response = await hostile(service, "billion_laughs", 1)

    assert response.status_code == 200
    assert '<!ENTITY lol10 "&lol9;&lol9;' in response.text
    assert "<p:Name>&lol10;</p:Name>" in response.text
    with pytest.raises(defusedxml.EntitiesForbidden):
        fromstring(response.content)
    await assert_normal_again(service)


async def test_hostile_malformed_answer_is_cut_off(service: Service) -> None:
    response = await hostile(service, "malformed", 1)

    assert response.status_code == 200
    assert response.text.startswith("<?xml")
    with pytest.raises(ParseError):
        fromstring(response.content)
    await assert_normal_again(service)


async def test_hostile_oversize_answer_is_several_mib(service: Service) -> None:
    response = await hostile(service, "oversize", 1)

    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert len(response.content) > 5 * 1024 * 1024
    assert fromstring(response.content).tag == f"{{{SOAP}}}Envelope"
    await assert_normal_again(service)


async def test_hostile_wrong_count_answer_has_one_item_too_few(service: Service) -> None:
    first = await hostile(service, "wrong_count", 2)
    second = await service.post("QuerySupplierStatus", codes("CreditCode", [SUPPLIER, SUSPENDED]))

    for response in (first, second):
        assert response.status_code == 200
        result = fromstring(response.content)[0][0]
        assert names(result) == ["Supplier"]
        assert text(result[0], "CreditCode") == SUPPLIER
    await assert_normal_again(service)


async def test_hostile_wrong_count_drops_the_last_award(service: Service) -> None:
    armed = await service.admin("/_sim/hostile", {"kind": "wrong_count", "count": 1})
    assert armed.status_code == 200

    result = await service.answer(
        "QueryAwards", f"<cr:PurchaserCode>{SMALL_BUYER}</cr:PurchaserCode>"
    )

    assert names(result[0]) == ["Award"] * 4 + ["NextPage"]


async def test_hostile_none_disarms_and_bad_kinds_are_refused(service: Service) -> None:
    await service.admin("/_sim/hostile", {"kind": "xxe", "count": 5})
    disarmed = await service.admin("/_sim/hostile", {"kind": "none"})
    unknown = await service.admin("/_sim/hostile", {"kind": "zip_bomb", "count": 1})
    negative = await service.admin("/_sim/hostile", {"kind": "xxe", "count": -1})

    assert disarmed.json() == {"kind": "none", "remaining": 0}
    assert unknown.status_code == 400
    assert negative.status_code == 400
    await assert_normal_again(service)


async def test_hostile_answers_count_as_requests(service: Service) -> None:
    await service.admin("/_sim/reset-stats")
    await hostile(service, "malformed", 1)
    await assert_normal_again(service)

    stats = (await service.client.get(service.base + "/_sim/stats")).json()

    assert stats == {"requests": {f"POST {ENDPOINT}": 2}, "total": 2}


# Admin and fault injection ---------------------------------------------------


async def test_down_answers_a_server_fault_until_up(service: Service) -> None:
    await service.admin("/_sim/down")
    down = await service.post("QuerySupplierStatus", codes("CreditCode", [SUPPLIER]))
    wsdl = await service.client.get(service.base + ENDPOINT, params={"wsdl": ""})
    await service.admin("/_sim/up")

    assert fault(down) == ("Server", "UNAVAILABLE")
    assert fault(wsdl) == ("Server", "UNAVAILABLE")
    await assert_normal_again(service)


async def test_stats_count_soap_and_wsdl_requests_but_not_admin(service: Service) -> None:
    await service.admin("/_sim/reset-stats")
    await service.post("GetChanges")
    await service.post("GetChanges", password="wrong")
    await service.client.get(service.base + ENDPOINT, params={"wsdl": ""})
    await service.admin("/_sim/suppliers", supplier_rows()[2])

    stats = (await service.client.get(service.base + "/_sim/stats")).json()

    assert stats == {"requests": {f"POST {ENDPOINT}": 2, f"GET {ENDPOINT}": 1}, "total": 3}


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "no code"},
        {"credit_code": wrong_check(SUPPLIER)},
        {"credit_code": SUPPLIER, "registration_status": "DORMANT"},
        {"credit_code": SUPPLIER, "debarments": [{"start_date": "yesterday"}]},
    ],
)
async def test_sim_suppliers_refuses_a_bad_supplier(
    service: Service, payload: dict[str, Any]
) -> None:
    response = await service.admin("/_sim/suppliers", payload)

    assert response.status_code == 400
    status = await service.answer("QuerySupplierStatus", codes("CreditCode", [SUPPLIER]))
    assert text(status[0], "Name") == "沈阳华信建设有限公司"


# Dataset loading -------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "bad_line"),
    [
        ("suppliers.jsonl", "{not json"),
        ("suppliers.jsonl", json.dumps({"name": "no code"})),
        ("suppliers.jsonl", json.dumps({"credit_code": wrong_check(SUPPLIER)})),
        ("suppliers.jsonl", json.dumps({"credit_code": SUSPENDED})),
        (
            "suppliers.jsonl",
            json.dumps({"credit_code": UNKNOWN, "legal_representative": {"id_number": "123"}}),
        ),
        ("suppliers.jsonl", json.dumps({"credit_code": UNKNOWN, "updated_at": "last week"})),
        ("purchaser_issues.jsonl", json.dumps({"purchaser_code": PURCHASER, "amount": 12.5})),
        ("purchaser_issues.jsonl", json.dumps({"purchaser_code": PURCHASER, "type": "LATE"})),
        ("awards.jsonl", json.dumps({"purchaser_code": PURCHASER, "award_date": "2025-13-01"})),
        ("awards.jsonl", json.dumps({"purchaser_code": PURCHASER, "supplier_code": "X"})),
    ],
    ids=[
        "not-json",
        "no-code",
        "check-digit",
        "duplicate",
        "rep-id",
        "timestamp",
        "float-money",
        "issue-type",
        "date",
        "supplier-code",
    ],
)
def test_malformed_dataset_line_names_file_and_line(
    tmp_path: Path, file: str, bad_line: str
) -> None:
    good = {
        "suppliers.jsonl": {"credit_code": SUSPENDED},
        "purchaser_issues.jsonl": {"purchaser_code": PURCHASER},
        "awards.jsonl": {"purchaser_code": PURCHASER},
    }[file]
    path = tmp_path / "procurement" / file
    write_jsonl(path, [good, "", bad_line])

    with pytest.raises(DatasetError) as raised:
        load_procurement_dataset(tmp_path)

    assert f"{path}:3" in str(raised.value)
    assert raised.value.line == 3


def test_missing_files_mean_no_rows(tmp_path: Path) -> None:
    data = load_procurement_dataset(tmp_path)

    assert data.supplier(SUPPLIER) is None
    assert data.issues(PURCHASER) == []
    assert data.changes.page(None, 100)[0] == []
