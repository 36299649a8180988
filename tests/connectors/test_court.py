"""The court connector over real HTTP to the court stand-in: what is court-specific.

Paging under a page-size cap, the OAuth token's life (reuse, refresh before
expiry, one renewal when the court forgets it, wrong credentials), the rate
limit, consumption restrictions, and answers that must not be believed. The
behaviour every connector shares is in `test_contract.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from connectors.court import DEBTORS_PATH, GRANT_PATH, RESTRICTIONS_PATH
from connectors.errors import SourceAuthError, SourceProtocolError, SourceRateLimited
from connectors.records import ConsumptionRestriction, EnforcementEntry, SubjectType
from connectors.resilience import BreakerState
from tests.connectors.harnesses.court import (
    ACME,
    ALICE,
    BOB,
    Hook,
    Rewrite,
    edit_json,
    entry,
    harness,
)
from tests.support import id_number

NOBODY = id_number(999)
QUERIES = f"POST {DEBTORS_PATH}"
TOKENS = f"POST {GRANT_PATH}"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def once(action: Callable[[], None], *, on_status: int = 200) -> Hook:
    """A hook that runs `action` after the first answer with status `on_status`."""
    done = False

    def hook(status: int) -> None:
        nonlocal done
        if status == on_status and not done:
            done = True
            action()

    return hook


def many_entries() -> list[dict[str, Any]]:
    return [
        *(entry(f"A{n}", ALICE) for n in range(10)),
        *(entry(f"B{n}", BOB) for n in range(7)),
        *(entry(f"C{n}", ACME) for n in range(4)),
    ]


def ids(entries: tuple[EnforcementEntry, ...]) -> list[str]:
    return [item.entry_id for item in entries]


# --- paging -------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "pages"), [(3, 7), (4, 6), (100, 1)])
async def test_pages_are_followed_to_the_total_in_the_size_the_court_reports(tmp_path, cap, pages):
    async with harness(tmp_path, entries=many_entries(), max_page_size=cap) as court:
        result = await court.connector.entries([ALICE, NOBODY, BOB, ACME])
        assert result.status.ok, result.status.error
        assert ids(result.values[ALICE]) == [f"A{n}" for n in range(10)]
        assert ids(result.values[BOB]) == [f"B{n}" for n in range(7)]
        assert ids(result.values[ACME]) == [f"C{n}" for n in range(4)]
        assert result.values[NOBODY] == ()
        # The connector asked for 100 a page; the court's cap decides the pages.
        assert await court.upstream_requests() == pages


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda page: page.update(total=page["total"] + 1), id="total-changes"),
        pytest.param(lambda page: page["items"][0].update(entryId="E1"), id="repeats-page-one"),
    ],
)
async def test_a_second_page_that_disagrees_with_the_first_is_not_believed(tmp_path, change):
    async with harness(tmp_path, max_page_size=2) as court:

        def spoil_page_two() -> None:
            court.tap.rewrite_next = edit_json(change)

        court.tap.hooks[DEBTORS_PATH] = once(spoil_page_two)
        result = await court.fetch([ALICE, BOB, ACME])
        assert isinstance(result.status.error, SourceProtocolError), result.status.error
        assert await court.upstream_requests() == 2


# --- what the records hold ----------------------------------------------------


async def test_entries_are_typed_and_removed_ones_are_kept(tmp_path):
    async with harness(tmp_path) as court:
        result = await court.connector.entries([ALICE, ACME])
    assert result.status.ok, result.status.error
    listed, removed = result.values[ALICE]
    assert listed == EnforcementEntry(
        entry_id="E1",
        case_code="(2024)辽0102执E1号",
        court="沈阳市和平区人民法院",
        province="辽宁",
        party_type=SubjectType.PERSON,
        party_name="张三",
        id_code=ALICE,
        legal_rep_name=None,
        basis_doc_no="(2023)辽0102民初567号",
        basis_issuer="沈阳市和平区人民法院",
        obligation="支付货款及利息",
        performance="NONE",
        unperformed_amount=Decimal("1200.50"),
        behaviour=1,
        filing_date=dt.date(2024, 1, 2),
        publish_date=dt.date(2024, 3, 1),
        listing_end=None,
        status="LISTED",
        removed_date=None,
        removal_reason=None,
    )
    assert (removed.status, removed.removed_date) == ("REMOVED", dt.date(2024, 6, 30))
    assert removed.listing_end == dt.date(2026, 3, 1)
    (org,) = result.values[ACME]
    assert (org.party_type, org.legal_rep_name, org.unperformed_amount) == (
        SubjectType.ORG,
        "李四",
        None,
    )


async def test_restrictions_are_answered_for_every_party_lifted_ones_included(tmp_path):
    async with harness(tmp_path) as court:
        result = await court.connector.restrictions([ALICE, ACME, BOB])
        assert await court.requests(f"POST {RESTRICTIONS_PATH}") == 1
    assert result.status.ok, result.status.error
    assert result.values[ALICE] == (
        ConsumptionRestriction(
            order_id="R1",
            case_code="(2024)辽0102执88号",
            court="沈阳市和平区人民法院",
            id_code=ALICE,
            party_name="张三",
            issued_date=dt.date(2024, 1, 5),
            status="ACTIVE",
        ),
    )
    assert [order.status for order in result.values[ACME]] == ["LIFTED"]
    assert result.values[BOB] == ()


# --- the token's life ---------------------------------------------------------


async def test_one_token_serves_many_calls_and_concurrent_callers_share_its_request(tmp_path):
    async with harness(tmp_path, warm=False) as court:
        keys = [ALICE, BOB, ACME, NOBODY, id_number(998)]
        results = await asyncio.gather(*(court.fetch([key]) for key in keys))
        for _ in range(3):
            results.append(await court.fetch([ALICE, BOB]))
        assert all(result.status.ok for result in results)
        assert await court.requests(TOKENS) == 1
        # The five concurrent callers' keys went out merged, in one request.
        assert await court.upstream_requests() == 1 + 3


async def test_a_token_is_refreshed_before_it_expires(tmp_path):
    clock = FakeClock()  # both sides see the same time
    async with harness(
        tmp_path, warm=False, connector_clock=clock, clock=clock, token_ttl_s=100
    ) as court:
        assert (await court.fetch([ALICE])).status.ok
        clock.now += 50
        assert (await court.fetch([ALICE])).status.ok
        assert await court.requests(TOKENS) == 1
        clock.now += 45  # 5 s left of 100: less than a tenth of its life
        assert (await court.fetch([ALICE])).status.ok
        assert await court.requests(TOKENS) == 2
        # Renewed in time: no query was ever refused for its token.
        assert await court.upstream_requests() == 3


async def test_a_token_the_court_forgets_mid_paging_is_replaced_once(tmp_path):
    court_clock = FakeClock()  # the connector's clock stands still: it cannot foresee this
    async with harness(
        tmp_path,
        connector_clock=lambda: 0.0,
        clock=court_clock,
        token_ttl_s=100,
        max_page_size=2,
    ) as court:

        def expire_tokens() -> None:
            court_clock.now += 200

        court.tap.hooks[DEBTORS_PATH] = once(expire_tokens)
        result = await court.fetch([ALICE, BOB, ACME])
        assert result.status.ok, result.status.error
        assert [ids(result.values[key]) for key in (ALICE, BOB, ACME)] == [
            ["E1", "E3"],
            ["E2"],
            ["E4"],
        ]
        assert await court.requests(TOKENS) == 2  # the warm-up's, and one replacement
        assert await court.upstream_requests() == 3  # page 1, refused page 2, page 2


async def test_a_fresh_token_refused_again_is_an_auth_error_not_a_loop(tmp_path):
    court_clock = FakeClock()
    async with harness(
        tmp_path, warm=False, connector_clock=lambda: 0.0, clock=court_clock, token_ttl_s=10
    ) as court:

        def outlive_the_token(status: int) -> None:
            court_clock.now += 60  # every token is dead by the time it is used

        court.tap.hooks[GRANT_PATH] = outlive_the_token
        result = await court.fetch([ALICE, BOB])
        assert isinstance(result.status.error, SourceAuthError), result.status.error
        assert set(result.errors) == {ALICE, BOB}
        assert await court.requests(TOKENS) == 2
        assert await court.upstream_requests() == 2


async def test_a_wrong_client_secret_is_an_auth_error_without_a_retry_storm(tmp_path):
    async with harness(tmp_path, warm=False, client_secret="not-the-secret") as court:
        result = await court.fetch([ALICE, BOB])
        assert isinstance(result.status.error, SourceAuthError), result.status.error
        assert "not-the-secret" not in str(result.status.error)
        assert set(result.errors) == {ALICE, BOB}
        assert await court.requests(TOKENS) == 1
        # A burst of callers shares one refused token request, too.
        burst = await asyncio.gather(*(court.fetch([key]) for key in (ALICE, BOB, ACME)))
        assert all(isinstance(each.status.error, SourceAuthError) for each in burst)
        assert await court.requests(TOKENS) == 2
        assert await court.upstream_requests() == 0
        # The court answered: it is up, and the breaker knows it.
        assert court.platform.breaker.state is BreakerState.CLOSED


BAD_GRANTS: dict[str, Rewrite] = {
    "not-bearer": edit_json(lambda grant: grant.update(token_type="mac")),
    "lifetime-as-text": edit_json(lambda grant: grant.update(expires_in="3600")),
    "no-lifetime": edit_json(lambda grant: grant.pop("expires_in")),
    "no-token": edit_json(lambda grant: grant.pop("access_token")),
    "token-not-ascii": edit_json(lambda grant: grant.update(access_token="令牌")),
    "not-json": lambda body: b"access_token=abc",
}


@pytest.mark.parametrize("rewrite", BAD_GRANTS.values(), ids=BAD_GRANTS.keys())
async def test_a_token_answer_of_the_wrong_shape_is_not_used(tmp_path, rewrite):
    async with harness(tmp_path, warm=False) as court:
        court.tap.path, court.tap.rewrite_next = GRANT_PATH, rewrite
        result = await court.fetch([ALICE])
        assert isinstance(result.status.error, SourceProtocolError), result.status.error
        assert await court.upstream_requests() == 0
        assert (await court.fetch([ALICE])).status.ok


# --- the rate limit -----------------------------------------------------------


async def test_a_rate_limited_call_waits_as_long_as_retry_after_says_then_succeeds(tmp_path):
    court_clock = FakeClock()
    async with harness(
        tmp_path, clock=court_clock, rate_limit_per_s=2, timeout_s=3.0, attempt_timeout_s=1.0
    ) as court:

        def time_passes(status: int) -> None:
            # The window moves on while the connector waits out the Retry-After (1 s).
            if status == 429:
                court_clock.now += 1.0

        court.tap.hooks[DEBTORS_PATH] = time_passes
        for key in (ALICE, BOB):  # the window is full
            assert (await court.fetch([key])).status.ok
        started = time.monotonic()
        result = await court.fetch([ACME])
        waited = time.monotonic() - started
        assert result.status.ok, result.status.error
        assert waited >= 0.99
        assert await court.upstream_requests() == 4  # two, the refused one, its retry


async def test_a_retry_after_beyond_the_deadline_is_reported_not_slept_through(tmp_path):
    async with harness(tmp_path, clock=FakeClock(), rate_limit_per_s=1, timeout_s=0.5) as court:
        assert (await court.fetch([ALICE])).status.ok
        result = await court.fetch([BOB])
        assert isinstance(result.status.error, SourceRateLimited), result.status.error
        assert result.status.error.retry_after_s == 1.0
        assert await court.upstream_requests() == 2


# --- answers that must not be believed ----------------------------------------


def _set_first(**fields: Any) -> Rewrite:
    return edit_json(lambda page: page["items"][0].update(fields))


UNTRUSTWORTHY: dict[str, Rewrite] = {
    "amount-as-float": _set_first(unperformedAmount=1200.5),
    "amount-as-nan": _set_first(unperformedAmount=float("nan")),
    "behaviour-as-text": _set_first(behaviour="1"),
    "behaviour-out-of-range": _set_first(behaviour=7),
    "date-in-another-format": _set_first(filingDate="2024/01/02"),
    "impossible-date": _set_first(publishDate="2024-02-30"),
    "unknown-status": _set_first(status="SUSPENDED"),
    "no-entry-id": edit_json(lambda page: page["items"][0].pop("entryId")),
    "person-with-credit-code": _set_first(idCode=ACME),
    "repeated-entry-id": edit_json(lambda page: page["items"][1].update(entryId="E1")),
    "total-beyond-items": edit_json(lambda page: page.update(total=page["total"] + 1)),
    "items-beyond-total": edit_json(lambda page: page.update(total=page["total"] - 1)),
    "total-as-text": edit_json(lambda page: page.update(total=str(page["total"]))),
    "page-larger-than-asked": edit_json(lambda page: page.update(pageSize=500)),
    "another-page-number": edit_json(lambda page: page.update(pageNo=2)),
    "items-not-a-list": edit_json(lambda page: page.update(items={"0": page["items"][0]})),
    "not-an-object": lambda body: b"[]",
}


@pytest.mark.parametrize("rewrite", UNTRUSTWORTHY.values(), ids=UNTRUSTWORTHY.keys())
async def test_an_answer_of_the_wrong_shape_is_a_protocol_error(tmp_path, rewrite):
    async with harness(tmp_path) as court:
        court.tap.rewrite_next = rewrite
        result = await court.fetch([ALICE, BOB, ACME])
        assert isinstance(result.status.error, SourceProtocolError), result.status.error
        assert result.values == {}
        assert (await court.fetch([ALICE, BOB, ACME])).status.ok


async def test_a_query_the_court_refuses_is_a_protocol_error_naming_no_identifier(tmp_path):
    async with harness(tmp_path) as court:
        bad = "2101021985O3120017"  # a letter O where a digit belongs
        result = await court.fetch([ALICE, bad])
        assert isinstance(result.status.error, SourceProtocolError), result.status.error
        assert "invalid_request" in str(result.status.error)
        assert ALICE not in str(result.status.error)
        assert bad not in str(result.status.error)
        assert await court.upstream_requests() == 1  # a 400 is not retried
