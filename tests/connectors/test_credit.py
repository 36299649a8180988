"""The credit connector beyond the contract suite: signing, inactive records, 429,
typed records and the distrust of every field, over real HTTP to the stand-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.credit import MAX_ANSWER_BYTES, CreditConnector
from connectors.credit_signing import sign, signed_path
from connectors.errors import (
    SourceAuthError,
    SourceProtocolError,
    SourceRateLimited,
    SourceRefused,
)
from connectors.records import CreditRecord, SubjectKey, SubjectType
from connectors.resilience import BreakerState
from simulators.credit_auth import signature as platform_signature
from tests.connectors.harnesses.credit import (
    APP_SECRET,
    AUTHORITY,
    OBJECTION_OPERATION,
    ORG,
    PERSON,
    PERSON_INACTIVE,
    CreditHarness,
    Rewrite,
    harness,
    record,
)
from tests.support import credit_code, id_number

CN = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
async def credit(tmp_path):
    async with harness(tmp_path) as running:
        yield running


def connector_with(running: CreditHarness, clock: Callable[[], float] = time.time, **settings):
    """Another connector to the same stand-in, with its own breaker and settings."""
    changed = running.settings.model_copy(update=settings)
    return CreditConnector(
        changed, running.client, platform=running.new_platform(changed), clock=clock
    )


class SteppingClock:
    """Real time, one second further on at every reading, remembering each reading."""

    def __init__(self) -> None:
        self.readings: list[float] = []

    def __call__(self) -> float:
        reading = time.time() + len(self.readings) + 1
        self.readings.append(reading)
        return reading


# --- signing ------------------------------------------------------------------


def test_the_signature_is_the_documented_hmac_over_the_canonical_text():
    body = b'{"subjects":[]}'
    text = "POST\n/api/v2/subjects:batchQuery\n1735689600000\nabcdefghijklmnop\n"
    text += hashlib.sha256(body).hexdigest()
    expected = hmac.new(b"k3y", text.encode(), hashlib.sha256).hexdigest()
    args = ("POST", "/api/v2/subjects:batchQuery", "1735689600000", "abcdefghijklmnop", body)
    assert sign("k3y", *args) == expected == platform_signature("k3y", *args)
    assert expected == expected.lower()


def test_the_signed_path_is_the_path_as_sent_without_the_query():
    url = httpx.URL("http://platform.example/base%20dir/api/v2/changes?since=a%2Fb&limit=5")
    assert signed_path(url) == "/base%20dir/api/v2/changes"


async def test_a_signed_batch_of_persons_and_organisations_is_accepted(credit):
    result = await credit.fetch([PERSON, ORG])
    assert result.status.ok, result.status.error
    assert [r.record_id for r in result.values[PERSON].records] == ["R-PERSON-1", "R-PERSON-2"]
    assert [r.record_id for r in result.values[ORG].records] == ["R-ORG-1"]
    assert await credit.upstream_requests() == 1
    [seen] = credit.tap.seen
    assert json.loads(seen.body)["subjects"] == [
        {"type": "PERSON", "code": PERSON.code},
        {"type": "ORG", "code": ORG.code},
    ]
    headers = seen.headers
    assert 16 <= len(headers["x-nonce"]) <= 64
    assert headers["x-signature"] == platform_signature(
        APP_SECRET,
        "POST",
        "/api/v2/subjects:batchQuery",
        headers["x-timestamp"],
        headers["x-nonce"],
        seen.body,
    )


async def test_every_attempt_is_signed_afresh_with_a_new_nonce_and_timestamp(credit):
    clock = SteppingClock()
    connector = connector_with(credit, clock=clock)
    await credit.fail_next(1)
    first = await connector.subjects([PERSON])  # a 503, then the retry
    second = await connector.subjects([PERSON])
    assert first.status.ok
    assert second.status.ok
    seen = credit.tap.seen
    assert len(seen) == 3
    nonces = [s.headers["x-nonce"] for s in seen]
    assert len(set(nonces)) == 3
    assert [s.headers["x-timestamp"] for s in seen] == [
        str(int(reading * 1000)) for reading in clock.readings
    ]


@pytest.mark.parametrize(
    ("change", "clock_offset_s"),
    [
        ({"app_secret": SecretStr("not-the-secret")}, 0),
        ({"app_key": "someone-else"}, 0),
        ({}, 3600),  # our clock an hour off: a stale timestamp
    ],
    ids=["wrong-secret", "wrong-key", "stale-timestamp"],
)
async def test_refused_credentials_are_an_auth_error_and_not_retried(
    credit, change, clock_offset_s
):
    connector = connector_with(credit, clock=lambda: time.time() + clock_offset_s, **change)
    result = await connector.subjects(credit.known_keys)
    assert isinstance(result.status.error, SourceAuthError), result.status.error
    assert dict(result.values) == {}
    assert set(result.errors) == set(credit.known_keys)
    assert await credit.upstream_requests() == 1
    # The platform answered: it is up, so the breaker does not count this.
    assert connector.platform.breaker.state is BreakerState.CLOSED
    assert "not-the-secret" not in str(result.status.error)


# --- what is asked and what comes back ----------------------------------------


async def test_inactive_records_are_returned_for_the_gateway_to_judge(credit):
    result = await credit.fetch([PERSON_INACTIVE])
    assert result.status.ok, result.status.error
    records = {r.record_id: r for r in result.values[PERSON_INACTIVE].records}
    assert records["R-REPAIRED"].status == "REPAIRED"
    assert records["R-EXPIRED"].publicity_end == dt.date(2020, 1, 10)
    assert json.loads(credit.tap.seen[0].body)["includeInactive"] is True


async def test_records_are_typed_values(credit):
    await credit.add_record(
        record(
            "R-ORG-2",
            ORG,
            fine_amount="1234567890.12345",
            penalty_types=["FINE", "CONFISCATION"],
            share_scope=[],
            status="OBJECTION_PENDING",
            updated_at="2025-03-01T10:30:00+08:00",
        )
    )
    result = await credit.fetch([ORG])
    assert result.status.ok, result.status.error
    assert result.status.as_of is not None
    assert result.status.as_of.utcoffset() is not None
    subject = result.values[ORG]
    assert subject.key == ORG
    assert subject.name == "某某建设有限公司"
    assert subject.records[1] == CreditRecord(
        record_id="R-ORG-2",
        category="ADMIN_PENALTY",
        subject_type=SubjectType.ORG,
        subject_code=ORG.code,
        subject_name="某某建设有限公司",
        decision_no="辽市监罚〔2025〕12号",
        violation_type="未按规定公示年度报告",
        penalty_types=("FINE", "CONFISCATION"),
        penalty_content="警告并处罚款",
        fine_amount=Decimal("1234567890.12345"),
        decision_date=dt.date(2025, 1, 10),
        authority_name="某市市场监督管理局",
        authority_code=AUTHORITY,
        severity="SERIOUS",
        publicity_end=dt.date(2099, 1, 10),
        disclosure="CONDITIONAL",
        share_scope=(),
        status="OBJECTION_PENDING",
        updated_at=dt.datetime(2025, 3, 1, 10, 30, tzinfo=CN),
    )
    assert result.values[ORG].records[0].share_scope == ("PROCUREMENT", "AUDIT", "CREDIT_OFFICE")


async def test_an_unknown_subject_has_no_name_and_no_records(credit):
    unknown = SubjectKey(SubjectType.ORG, credit_code(424_242))
    result = await credit.fetch([unknown, PERSON])
    assert result.status.ok, result.status.error
    assert result.values[unknown].name is None
    assert result.values[unknown].records == ()
    assert result.values[PERSON].records


async def test_a_429_is_waited_out_as_retry_after_says_then_succeeds(tmp_path):
    async with harness(tmp_path, rate_limit_per_s=1, timeout_s=3.0) as credit:
        assert (await credit.fetch([PERSON])).status.ok  # fills the one-second window
        started = time.monotonic()
        result = await credit.fetch([ORG])  # 429 Retry-After: 1, then admitted
        waited = time.monotonic() - started
        assert result.status.ok, result.status.error
        assert await credit.upstream_requests() == 3
        assert waited >= 0.9


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(tmp_path):
    async with harness(tmp_path, rate_limit_per_s=1, timeout_s=0.5) as credit:
        assert (await credit.fetch([PERSON])).status.ok
        result = await credit.fetch([ORG])
        error = result.status.error
        assert isinstance(error, SourceRateLimited), error
        assert error.retry_after_s == 1.0
        assert await credit.upstream_requests() == 2


async def test_a_batch_the_platform_finds_too_large_is_a_protocol_error(credit):
    connector = connector_with(credit)
    connector.platform.batch_limit = 101  # more than the platform takes
    keys = [SubjectKey(SubjectType.ORG, credit_code(n)) for n in range(101)]
    result = await connector.subjects(keys)
    assert isinstance(result.status.error, SourceProtocolError), result.status.error
    assert "E4130" in str(result.status.error)
    assert await credit.upstream_requests() == 1


async def test_a_request_the_platform_finds_malformed_is_a_protocol_error(credit):
    invalid = SubjectKey(SubjectType.PERSON, id_number(7)[:-1] + "0")
    assert invalid.code != id_number(7)
    result = await credit.fetch([PERSON, invalid])
    assert isinstance(result.status.error, SourceProtocolError), result.status.error
    assert "E4000" in str(result.status.error)
    assert await credit.upstream_requests() == 1


# --- distrust ---------------------------------------------------------------------


def edit(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite applying `change` to the answer envelope."""

    def rewrite(body: bytes) -> bytes:
        answer = json.loads(body)
        change(answer)
        return json.dumps(answer, ensure_ascii=False).encode()

    return rewrite


def first_record(**fields: Any) -> Rewrite:
    """A rewrite setting `fields` on the first record of the first result."""
    return edit(lambda answer: answer["data"]["results"][0]["records"][0].update(fields))


def duplicate_record(answer: dict[str, Any]) -> None:
    records = answer["data"]["results"][0]["records"]
    records.append(dict(records[0]))


def other_subjects_record(answer: dict[str, Any]) -> None:
    # A record about someone else, placed in PERSON's result.
    answer["data"]["results"][0]["records"].append(
        record("R-STRAY", SubjectKey(SubjectType.PERSON, id_number(99)))
    )


LIES: dict[str, tuple[Rewrite, str]] = {
    "fine as a JSON number": (first_record(fine_amount=2500000.0), "fine_amount is not a decimal"),
    "fine with separators": (first_record(fine_amount="2,500,000.00"), "fine_amount is not"),
    "fine negative": (first_record(fine_amount="-1.00"), "fine_amount is not a decimal"),
    "unknown category": (first_record(category="GOSSIP"), "category is not a value"),
    "missing category": (first_record(category=None), "category is missing"),
    "unknown severity": (first_record(severity="MODERATE"), "severity is not a value"),
    "missing disclosure": (first_record(disclosure=None), "disclosure is missing"),
    "unknown share sector": (first_record(share_scope=["ORG_HR", "PRESS"]), "share_scope"),
    "share scope not a list": (first_record(share_scope="ORG_HR"), "share_scope"),
    "unknown status": (first_record(status="DELETED"), "status is not a value"),
    "unknown penalty type": (first_record(penalty_types=["FINE", "PILLORY"]), "penalty_types"),
    "impossible date": (first_record(decision_date="2025-02-30"), "decision_date is not"),
    "basic-format date": (first_record(publicity_end="20990110"), "publicity_end is not"),
    "timestamp without offset": (
        first_record(updated_at="2025-01-10T09:00:00"),
        "updated_at has no offset",
    ),
    "record type not the result's": (
        first_record(subject_type="ORG", subject_code=ORG.code),
        "results[0] holds a record about another subject",
    ),
    "record about another person": (
        edit(other_subjects_record),
        "results[0] holds a record about another subject",
    ),
    "authority code failing its check digit": (
        first_record(authority_code=AUTHORITY[:-1] + ("Y" if AUTHORITY[-1] != "Y" else "X")),
        "authority_code fails its format or check digit",
    ),
    "record id twice": (edit(duplicate_record), "a record id appears twice"),
    "empty record id": (first_record(record_id=""), "record_id is missing or empty"),
    "asOf without offset": (
        edit(lambda a: a["data"].update(asOf="2025-06-30T12:00:00")),
        "data.asOf has no offset",
    ),
    "asOf missing": (edit(lambda a: a["data"].pop("asOf")), "data.asOf is missing"),
    "results not a list": (
        edit(lambda a: a["data"].update(results={"0": {}})),
        "data.results is not a list",
    ),
    "records not a list": (
        edit(lambda a: a["data"]["results"][0].update(records=None)),
        "results[0].records is not a list",
    ),
    "name not a string": (
        edit(lambda a: a["data"]["results"][0].update(name=["张三"])),
        "results[0].name is not a string",
    ),
    "data not an object": (edit(lambda a: a.update(data=[])), "data is not a JSON object"),
    "error code in an HTTP 200": (
        edit(lambda a: a.update(code="E5030", data=None)),
        "HTTP 200 answer carries E5030",
    ),
    "not an envelope": (lambda body: b'["0000"]', "not a JSON envelope"),
    "an oversized answer": (lambda body: body + b" " * MAX_ANSWER_BYTES, "answer over"),
}


@pytest.mark.parametrize(("lie", "reason"), LIES.values(), ids=LIES.keys())
async def test_an_untrustworthy_field_refuses_the_whole_answer(credit, lie, reason):
    credit.tap.rewrite_next = lie
    keys = [PERSON, ORG]
    result = await credit.fetch(keys)
    error = result.status.error
    assert isinstance(error, SourceProtocolError), error
    assert reason in str(error)
    assert dict(result.values) == {}
    assert set(result.errors) == set(keys)
    assert await credit.upstream_requests() == 1  # not retried: asking again won't help
    for code in (PERSON.code, ORG.code, AUTHORITY, id_number(99)):
        assert code not in str(error)


# --- objections -------------------------------------------------------------------


async def test_an_objection_is_filed_once_even_when_its_answer_is_lost(credit):
    credit.tap.rewrite_next = lambda body: b"not json"  # filed, but the answer is unreadable
    connector = connector_with(credit)
    with pytest.raises(SourceProtocolError, match="not a JSON envelope"):
        await connector.file_objection("R-PERSON-1", PERSON.code, "paid in 2024", "me")
    # Filed again, the same filing is answered with the pending objection.
    first = await connector.file_objection("R-PERSON-1", PERSON.code, "paid in 2024", "me")
    again = await connector.file_objection("R-PERSON-1", PERSON.code, "paid in 2024", "me")
    assert first == again
    assert first[1] == "RECEIVED"
    assert await credit.upstream_requests(OBJECTION_OPERATION) == 3


@pytest.mark.parametrize(
    ("record_id", "code"),
    [("R-NONE", PERSON.code), ("R-PERSON-1", ORG.code)],
    ids=["unknown record", "another subject's record"],
)
async def test_an_objection_the_platform_will_not_take_is_refused_not_retried(
    credit, record_id, code
):
    with pytest.raises(SourceRefused, match="E4000"):
        await connector_with(credit).file_objection(record_id, code, "wrong", "me")
    assert await credit.upstream_requests(OBJECTION_OPERATION) == 1


async def test_an_objection_answer_with_an_unknown_status_is_not_believed(credit):
    credit.tap.rewrite_next = edit(lambda a: a["data"].update(status="MAYBE"))
    with pytest.raises(SourceProtocolError, match="status"):
        await connector_with(credit).file_objection("R-PERSON-1", PERSON.code, "paid", "me")
