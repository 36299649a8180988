"""The procurement connector over real HTTP to its stand-in: what the contract suite does not
cover — hostile XML, faults, the other three operations, award paging, distrust of values."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.errors import SourceAuthError, SourceProtocolError
from connectors.identifiers import InvalidIdentifier
from connectors.procurement import AwardQuery
from connectors.records import BusinessRole, PersonRef, PurchaserIssue
from tests.connectors.harnesses.procurement import (
    AWARD_START,
    AWARDS,
    LEGAL_REPRESENTATIVE,
    NOBODY,
    PASSWORD,
    PURCHASER,
    SHAREHOLDER,
    SUPPLIER_NAMES,
    SUPPLIERS,
    ProcurementHarness,
    Rewrite,
    running,
    wrong_check_digit,
)
from tests.support import credit_code, id_number

UNKNOWN = credit_code(999)
ALL_AWARDS = AwardQuery(PURCHASER, AWARD_START, dt.date(2025, 12, 31))
JANUARY = AwardQuery(PURCHASER, AWARD_START, dt.date(2024, 1, 31))


@pytest.fixture
async def procurement(tmp_path: Path) -> AsyncIterator[ProcurementHarness]:
    # A deadline well above what a refusal takes, so "refused quickly" means something.
    async with running(tmp_path, timeout_s=5.0, attempt_timeout_s=2.0) as started:
        yield started


@pytest.fixture
def passwd_lines() -> list[str]:
    """The lines of the file the XXE answer points at, to look for in what we return."""
    text = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


def substitute(old: bytes, new: bytes) -> Rewrite:
    """A rewrite replacing the first `old` in an answer's body by `new`."""

    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        assert old in body, f"{old!r} is not in the answer"
        return status, body.replace(old, new, 1)

    return rewrite


# Suppliers ---------------------------------------------------------------------


async def test_suppliers_are_normalised_records(procurement):
    result = await procurement.connector.suppliers([*SUPPLIERS, UNKNOWN])
    assert result.status.ok, result.status.error
    first, _, third = (result.values[code] for code in SUPPLIERS)
    assert first.name == SUPPLIER_NAMES[0]
    assert first.registration_status == "ACTIVE"
    assert first.legal_representative == PersonRef("王强", LEGAL_REPRESENTATIVE)
    (debarment,) = first.debarments
    assert debarment.record_no == "DB-2024-001"
    assert (debarment.start_date, debarment.end_date, debarment.published_date) == (
        dt.date(2024, 5, 1),
        dt.date(2025, 4, 30),
        dt.date(2024, 5, 3),
    )
    assert result.values[SUPPLIERS[1]].violations[0].penalty_date == dt.date(2023, 11, 20)
    # Empty elements are None, not empty strings.
    assert third.legal_representative == PersonRef("赵刚", None)
    assert (third.debarments[0].reason, third.debarments[0].end_date) == (None, None)
    unknown = result.values[UNKNOWN]
    assert unknown.registration_status == "NOT_REGISTERED"
    assert (unknown.name, unknown.legal_representative) == (None, None)
    assert (unknown.debarments, unknown.violations) == ((), ())


async def test_an_answer_with_another_namespace_prefix_reads_the_same(procurement):
    honest = await procurement.connector.suppliers(SUPPLIERS)

    def other_prefix(status: int, body: bytes) -> tuple[int, bytes]:
        body = re.sub(rb"(</?)p:", rb"\1ns7:", body)
        return status, body.replace(b"xmlns:p=", b"xmlns:ns7=")

    procurement.rewrite_next(other_prefix)
    renamed = await procurement.connector.suppliers(SUPPLIERS)
    assert renamed.status.ok, renamed.status.error
    assert renamed.values == honest.values


async def test_invalid_keys_are_refused_before_any_request(procurement):
    with pytest.raises(InvalidIdentifier):
        await procurement.connector.suppliers([SUPPLIERS[0], wrong_check_digit(SUPPLIERS[1])])
    with pytest.raises(InvalidIdentifier):
        await procurement.connector.representatives([LEGAL_REPRESENTATIVE[:-1]])
    assert await procurement.upstream_requests() == 0


# Hostile XML ---------------------------------------------------------------------


async def test_an_xxe_answer_is_refused_and_the_file_never_read(procurement, passwd_lines):
    await procurement.hostile("xxe")
    result = await procurement.connector.suppliers(SUPPLIERS)
    error = result.status.error
    assert isinstance(error, SourceProtocolError)
    assert "DTD" in error.message
    assert dict(result.values) == {}
    shown = repr(result) + "".join(str(e) for e in result.errors.values())
    assert passwd_lines
    assert all(line not in shown for line in passwd_lines)
    assert "root:" not in shown
    assert (await procurement.connector.suppliers(SUPPLIERS)).status.ok


async def test_a_billion_laughs_answer_is_refused_at_once_without_expansion(procurement):
    await procurement.hostile("billion_laughs")
    started = time.monotonic()
    result = await procurement.connector.suppliers(SUPPLIERS)
    elapsed = time.monotonic() - started
    assert isinstance(result.status.error, SourceProtocolError)
    assert "DTD" in result.status.error.message
    # Expanding 10^10 entities would take minutes and gigabytes; refusing takes milliseconds.
    assert elapsed < 1.0, elapsed
    assert await procurement.upstream_requests() == 1  # hostile answers are not retried


async def test_an_oversize_answer_is_cut_off_and_refused(procurement):
    await procurement.hostile("oversize")
    result = await procurement.connector.suppliers(SUPPLIERS)
    assert isinstance(result.status.error, SourceProtocolError)
    assert "answer over" in result.status.error.message
    assert dict(result.values) == {}
    assert (await procurement.connector.suppliers(SUPPLIERS)).status.ok


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(b">ACTIVE<", b">DORMANT<", "unknown RegistrationStatus", id="enumeration"),
        pytest.param(b">2024-05-01<", b">2024-13-01<", "StartDate is not", id="impossible-date"),
        pytest.param(b">2024-05-03<", b">03/05/2024<", "PublishedDate is not", id="date-format"),
        pytest.param(
            LEGAL_REPRESENTATIVE.encode(),
            wrong_check_digit(LEGAL_REPRESENTATIVE).encode(),
            "IdNumber fails its format or check digit",
            id="nested-id-number-check-digit",
        ),
        pytest.param(b">DB-2024-001<", b"><p:Nested/><", "holds elements", id="element-for-text"),
    ],
)
async def test_an_untrustworthy_value_fails_the_batch(procurement, old, new, reason):
    procurement.rewrite_next(substitute(old, new))
    result = await procurement.connector.suppliers(SUPPLIERS)
    assert isinstance(result.status.error, SourceProtocolError), result.status.error
    assert reason in result.status.error.message
    assert dict(result.values) == {}
    assert set(result.errors) == set(SUPPLIERS)


# Faults ------------------------------------------------------------------------


async def test_a_wrong_password_is_an_auth_error_and_not_retried(procurement):
    connector = procurement.connector_for("not-the-password")
    result = await connector.suppliers(SUPPLIERS)
    assert isinstance(result.status.error, SourceAuthError)
    assert set(result.errors) == set(SUPPLIERS)
    assert "not-the-password" not in str(result.status.error)
    assert PASSWORD not in str(result.status.error)
    assert await procurement.upstream_requests() == 1


async def test_a_refused_request_is_a_protocol_error_and_not_retried(procurement):
    # More codes than the service takes in one request: it answers TOO_MANY_CODES.
    procurement.platform.batch_limit = 60
    result = await procurement.connector.suppliers([credit_code(n) for n in range(60)])
    assert isinstance(result.status.error, SourceProtocolError)
    assert "TOO_MANY_CODES" in result.status.error.message
    assert await procurement.upstream_requests() == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, b"Service Unavailable"), (500, b"<html><body>Bad gateway</body></html>")],
    ids=["http-503", "http-500-without-soap-fault"],
)
async def test_server_errors_without_a_soap_fault_are_retried(procurement, status, body):
    def unavailable(_status: int, _body: bytes) -> tuple[int, bytes]:
        return status, body

    procurement.rewrite_next(unavailable, unavailable)
    result = await procurement.connector.suppliers(SUPPLIERS)
    assert result.status.ok, result.status.error
    assert await procurement.upstream_requests() == 3


# Representatives and purchasers -------------------------------------------------


async def test_representatives_list_legal_representative_and_shareholder_roles(procurement):
    result = await procurement.connector.representatives(
        [LEGAL_REPRESENTATIVE, SHAREHOLDER, NOBODY]
    )
    assert result.status.ok, result.status.error
    first, second = SUPPLIERS[:2]
    assert set(result.values[LEGAL_REPRESENTATIVE].roles) == {
        BusinessRole(first, SUPPLIER_NAMES[0], "ACTIVE", "LEGAL_REPRESENTATIVE"),
        BusinessRole(second, SUPPLIER_NAMES[1], "SUSPENDED", "SHAREHOLDER"),
    }
    assert {(r.supplier_code, r.role) for r in result.values[SHAREHOLDER].roles} == {
        (first, "SHAREHOLDER"),
        (second, "LEGAL_REPRESENTATIVE"),
    }
    assert result.values[NOBODY].roles == ()


async def test_purchasers_list_open_and_resolved_issues(procurement):
    result = await procurement.connector.purchasers([PURCHASER, UNKNOWN])
    assert result.status.ok, result.status.error
    assert result.values[PURCHASER].issues == (
        PurchaserIssue(
            "LNCG-2024-0031", "LATE_PAYMENT", Decimal("2500000.00"), dt.date(2024, 3, 31), None
        ),
        PurchaserIssue(
            "LNCG-2023-0112",
            "ACCEPTANCE_DELAY",
            Decimal("18000.50"),
            dt.date(2023, 9, 1),
            dt.date(2023, 10, 15),
        ),
        PurchaserIssue("LNCG-2022-0007", "BREACH", None, None, None),
    )
    assert result.values[UNKNOWN].issues == ()


async def test_a_purchaser_amount_that_is_no_decimal_fails_the_batch(procurement):
    procurement.rewrite_next(substitute(b">2500000.00<", b">2.5E6<"))
    result = await procurement.connector.purchasers([PURCHASER])
    assert isinstance(result.status.error, SourceProtocolError)
    assert "Amount is not a decimal" in result.status.error.message


@pytest.mark.parametrize("operation", ["representatives", "purchasers"])
async def test_every_operation_batches_fifty_codes_a_request(procurement, operation):
    if operation == "representatives":
        keys = [id_number(n) for n in range(120)]
        result = await procurement.connector.representatives(keys)
    else:
        keys = [credit_code(n) for n in range(120)]
        result = await procurement.connector.purchasers(keys)
    assert result.status.ok, result.status.error
    assert set(result.values) == set(keys)
    assert await procurement.upstream_requests() == 3


# Awards --------------------------------------------------------------------------


async def test_awards_follow_every_page_and_list_each_award_once(procurement):
    result = await procurement.connector.awards([ALL_AWARDS, JANUARY, ALL_AWARDS])
    assert result.status.ok, result.status.error
    awards = result.values[ALL_AWARDS]
    assert len(awards) == AWARDS
    assert len({award.contract_no for award in awards}) == AWARDS
    assert [a.award_date for a in awards] == sorted(a.award_date for a in awards)
    assert all(ALL_AWARDS.start <= a.award_date <= ALL_AWARDS.end for a in awards)
    assert all(a.purchaser_code == PURCHASER for a in awards)
    assert awards[1].amount == Decimal("1000.25")
    assert len(result.values[JANUARY]) == 31
    # 450 awards are three pages of 200; January is one page; the duplicate is asked once.
    assert await procurement.upstream_requests() == 3 + 1


async def test_an_award_outside_the_range_asked_fails_the_query(procurement):
    procurement.rewrite_next(substitute(b">2024-01-02<", b">2023-12-31<"))
    result = await procurement.connector.awards([JANUARY])
    assert isinstance(result.status.error, SourceProtocolError)
    assert set(result.errors) == {JANUARY}


async def test_a_next_page_that_skips_pages_fails_the_query(procurement):
    procurement.rewrite_next(substitute(b"NextPage>2<", b"NextPage>5<"))
    result = await procurement.connector.awards([ALL_AWARDS])
    assert isinstance(result.status.error, SourceProtocolError)
    assert set(result.errors) == {ALL_AWARDS}
    assert await procurement.upstream_requests() == 1  # page 5 was never asked for


def test_an_award_query_must_name_a_valid_purchaser_and_an_ordered_range():
    with pytest.raises(InvalidIdentifier):
        AwardQuery(wrong_check_digit(PURCHASER), AWARD_START, AWARD_START)
    with pytest.raises(ValueError, match="start is after its end"):
        AwardQuery(PURCHASER, AWARD_START, AWARD_START - dt.timedelta(days=1))
