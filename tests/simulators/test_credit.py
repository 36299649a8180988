"""The credit platform stand-in, spoken to over real HTTP as UPSTREAMS.md §1 describes it."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.identifiers import is_valid_credit_code
from simulators.credit import CreditCredentials, CreditData, create_credit_app, load_credit_dataset
from simulators.credit_auth import NonceLedger
from simulators.dataset import DatasetError
from simulators.faults import SimulatorState
from tests.support import credit_code, id_number, serve

KEY, SECRET = "app-test", "secret-test"
CN = dt.timezone(dt.timedelta(hours=8))
NOON_30_JUNE = dt.datetime(2025, 6, 30, 12, 0, tzinfo=CN).timestamp()

PERSON = id_number(1)
PERSON_NO_RECORDS = id_number(2)
ORG = credit_code(1)
ORG_REGISTERED = credit_code(2)
ORG_UNKNOWN = credit_code(3)
ID_ENDING_X = next(id_number(n) for n in range(1000) if id_number(n).endswith("X"))


class FakeClock:
    """A server clock the test moves by hand."""

    def __init__(self, now: float = NOON_30_JUNE) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def set(self, when: dt.datetime) -> None:
        self.now = when.timestamp()


def record(record_id: str, subject_type: str, code: str, **fields: Any) -> dict[str, Any]:
    row = {
        "record_id": record_id,
        "category": "ADMIN_PENALTY",
        "subject_type": subject_type,
        "subject_code": code,
        "subject_name": "张三" if subject_type == "PERSON" else "某某建设有限公司",
        "penalty_types": ["FINE"],
        "fine_amount": "5000.00",
        "decision_date": "2025-01-10",
        "severity": "GENERAL",
        "publicity_end": "2026-01-10",
        "disclosure": "PUBLIC",
        "share_scope": ["ORG_HR", "PROCUREMENT"],
        "status": "EFFECTIVE",
        "updated_at": "2025-01-10T09:00:00+08:00",
    }
    row.update(fields)
    return row


BASE_RECORDS = [
    # Out of updated_at order on purpose: the change feed must sort them.
    record("R-ORG-1", "ORG", ORG, updated_at="2025-03-01T10:00:00+08:00"),
    record("R-P-END", "PERSON", PERSON, publicity_end="2025-06-30"),
    record("R-P-REPAIRED", "PERSON", PERSON, status="REPAIRED"),
    record("R-P-REVOKED", "PERSON", PERSON, status="REVOKED"),
    record("R-P-OPEN", "PERSON", PERSON, publicity_end=None, updated_at="2025-02-01T00:00:00Z"),
]


def write_dataset(
    root: Path, records: list[dict[str, Any]], subjects: list[dict[str, Any]] | None = None
) -> Path:
    folder = root / "credit_platform"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) for row in records]
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if subjects is not None:
        lines = [json.dumps(row, ensure_ascii=False) for row in subjects]
        (folder / "subjects.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def base_data(tmp_path: Path) -> CreditData:
    registry = [{"type": "ORG", "code": ORG_REGISTERED, "name": "登记在册有限公司"}]
    return load_credit_dataset(write_dataset(tmp_path, BASE_RECORDS, registry))


@dataclass
class Platform:
    """A running stand-in and a client that signs its calls as the spec says."""

    http: httpx.AsyncClient
    clock: FakeClock

    async def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        key: str = KEY,
        secret: str = SECRET,
        nonce: str | None = None,
        timestamp: str | None = None,
        sign_body: bytes | None = None,
        omit: str | None = None,
    ) -> httpx.Response:
        """One signed request; the keyword arguments bend it for the failure tests."""
        if raw is None:
            raw = b"" if body is None else json.dumps(body).encode()
        nonce = nonce or secrets.token_hex(12)
        timestamp = timestamp or str(int(self.clock() * 1000))
        signed = raw if sign_body is None else sign_body
        digest = hashlib.sha256(signed).hexdigest()
        text = f"{method}\n{path}\n{timestamp}\n{nonce}\n{digest}"
        sig = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        auth = {"X-App-Key": key, "X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": sig}
        if omit:
            del auth[omit]
        all_headers = {**auth, **(headers or {})}
        if raw:
            all_headers["Content-Type"] = "application/json"
        return await self.http.request(
            method, path, content=raw, params=params, headers=all_headers
        )

    async def query(self, *subjects: tuple[str, str], include_inactive: bool = False) -> Any:
        body = {
            "subjects": [{"type": kind, "code": code} for kind, code in subjects],
            "includeInactive": include_inactive,
        }
        response = await self.call("POST", "/api/v2/subjects:batchQuery", body)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def record_ids(self, subject: tuple[str, str], include_inactive: bool = False) -> Any:
        data = await self.query(subject, include_inactive=include_inactive)
        return [r["record_id"] for r in data["results"][0]["records"]]

    async def admin(self, method: str, path: str, body: object = None) -> httpx.Response:
        return await self.http.request(method, path, json=body)


@contextlib.asynccontextmanager
async def running(
    data: CreditData, clock: FakeClock | None = None, rate_limit_per_s: int = 0
) -> AsyncIterator[Platform]:
    clock = clock or FakeClock()
    app = create_credit_app(
        data,
        CreditCredentials(KEY, SECRET),
        SimulatorState(),
        rate_limit_per_s=rate_limit_per_s,
        clock=clock,
    )
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        yield Platform(http, clock)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with running(base_data(tmp_path)) as started:
        yield started


def error_code(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["data"] is None
    return response.status_code, body["code"]


# -- signing -------------------------------------------------------------------


async def test_a_correctly_signed_call_succeeds(platform: Platform) -> None:
    response = await platform.call("POST", "/api/v2/subjects:batchQuery", {"subjects": []})
    assert response.status_code == 200
    assert response.json() == {
        "code": "0000",
        "message": "success",
        "data": {"asOf": "2025-06-30T12:00:00+08:00", "results": []},
    }


async def test_a_wrong_signature_is_refused(platform: Platform) -> None:
    response = await platform.call(
        "POST", "/api/v2/subjects:batchQuery", {"subjects": []}, secret="x"
    )
    assert error_code(response) == (401, "E4010")


async def test_the_signature_covers_the_body(platform: Platform) -> None:
    response = await platform.call(
        "POST", "/api/v2/subjects:batchQuery", {"subjects": []}, sign_body=b'{"subjects": [ ]}'
    )
    assert error_code(response) == (401, "E4010")


async def test_an_upper_case_signature_is_refused(platform: Platform) -> None:
    timestamp, nonce = str(int(platform.clock() * 1000)), "n" * 16
    text = f"GET\n/api/v2/changes\n{timestamp}\n{nonce}\n{hashlib.sha256(b'').hexdigest()}"
    sig = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    headers = {"X-App-Key": KEY, "X-Timestamp": timestamp, "X-Nonce": nonce}
    upper = await platform.http.get(
        "/api/v2/changes", headers={**headers, "X-Signature": sig.upper()}
    )
    assert error_code(upper) == (401, "E4010")
    lower = await platform.http.get("/api/v2/changes", headers={**headers, "X-Signature": sig})
    assert lower.status_code == 200


async def test_an_unknown_key_is_refused(platform: Platform) -> None:
    response = await platform.call("GET", "/api/v2/changes", key="someone-else")
    assert error_code(response) == (401, "E4010")


@pytest.mark.parametrize("header", ["X-App-Key", "X-Timestamp", "X-Nonce", "X-Signature"])
async def test_a_missing_auth_header_is_refused(platform: Platform, header: str) -> None:
    response = await platform.call("GET", "/api/v2/changes", omit=header)
    assert error_code(response) == (401, "E4010")


@pytest.mark.parametrize(
    ("offset_s", "expected"), [(-301, 401), (301, 401), (-299, 200), (299, 200)]
)
async def test_timestamps_more_than_300_s_off_are_stale(
    platform: Platform, offset_s: int, expected: int
) -> None:
    timestamp = str(int((platform.clock() + offset_s) * 1000))
    response = await platform.call("GET", "/api/v2/changes", timestamp=timestamp)
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["code"] == "E4011"


async def test_a_non_numeric_timestamp_is_stale(platform: Platform) -> None:
    response = await platform.call("GET", "/api/v2/changes", timestamp="2025-06-30T12:00:00")
    assert error_code(response) == (401, "E4011")


@pytest.mark.parametrize(("length", "expected"), [(15, 401), (16, 200), (64, 200), (65, 401)])
async def test_nonces_must_be_16_to_64_characters(
    platform: Platform, length: int, expected: int
) -> None:
    response = await platform.call("GET", "/api/v2/changes", nonce="a" * length)
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["code"] == "E4010"


async def test_a_replayed_nonce_is_refused(platform: Platform) -> None:
    nonce = "replayed-nonce-0001"
    assert (await platform.call("GET", "/api/v2/changes", nonce=nonce)).status_code == 200
    replay = await platform.call("GET", "/api/v2/changes", nonce=nonce)
    assert error_code(replay) == (401, "E4012")


async def test_a_nonce_whose_signature_failed_is_not_used_up(platform: Platform) -> None:
    nonce = "first-attempt-forged"
    forged = await platform.call("GET", "/api/v2/changes", nonce=nonce, secret="wrong")
    assert error_code(forged) == (401, "E4010")
    genuine = await platform.call("GET", "/api/v2/changes", nonce=nonce)
    assert genuine.status_code == 200


async def test_a_nonce_may_return_after_600_s(platform: Platform) -> None:
    nonce = "nonce-to-be-forgotten"
    assert (await platform.call("GET", "/api/v2/changes", nonce=nonce)).status_code == 200
    platform.clock.now += 599
    assert error_code(await platform.call("GET", "/api/v2/changes", nonce=nonce)) == (401, "E4012")
    platform.clock.now += 2
    assert (await platform.call("GET", "/api/v2/changes", nonce=nonce)).status_code == 200


async def test_checks_run_in_the_documented_order(platform: Platform) -> None:
    stale = str(int((platform.clock() - 1000) * 1000))
    # key before timestamp
    response = await platform.call("GET", "/api/v2/changes", key="other", timestamp=stale)
    assert error_code(response) == (401, "E4010")
    # timestamp before nonce length and signature
    response = await platform.call("GET", "/api/v2/changes", timestamp=stale, nonce="short")
    assert error_code(response) == (401, "E4011")
    # signature before replay
    used = "nonce-used-once-only"
    assert (await platform.call("GET", "/api/v2/changes", nonce=used)).status_code == 200
    response = await platform.call("GET", "/api/v2/changes", nonce=used, secret="wrong")
    assert error_code(response) == (401, "E4010")


async def test_the_signed_path_leaves_out_the_query_string(platform: Platform) -> None:
    response = await platform.call("GET", "/api/v2/changes", params={"limit": "2"})
    assert response.status_code == 200
    assert len(response.json()["data"]["changes"]) == 2


# -- batchQuery ------------------------------------------------------------------


async def test_batch_of_101_subjects_is_too_many(platform: Platform) -> None:
    subjects = [{"type": "ORG", "code": credit_code(n)} for n in range(101)]
    response = await platform.call("POST", "/api/v2/subjects:batchQuery", {"subjects": subjects})
    assert error_code(response) == (413, "E4130")
    answer = await platform.call(
        "POST", "/api/v2/subjects:batchQuery", {"subjects": subjects[:100]}
    )
    assert len(answer.json()["data"]["results"]) == 100


async def test_results_follow_request_order_with_duplicates_and_unknowns(
    platform: Platform,
) -> None:
    data = await platform.query(
        ("ORG", ORG),
        ("PERSON", PERSON_NO_RECORDS),
        ("ORG", ORG_REGISTERED),
        ("ORG", ORG),
        ("PERSON", PERSON),
    )
    results = data["results"]
    assert [(r["type"], r["code"]) for r in results] == [
        ("ORG", ORG),
        ("PERSON", PERSON_NO_RECORDS),
        ("ORG", ORG_REGISTERED),
        ("ORG", ORG),
        ("PERSON", PERSON),
    ]
    assert results[0] == results[3]
    assert [r["record_id"] for r in results[0]["records"]] == ["R-ORG-1"]
    assert results[1] == {"type": "PERSON", "code": PERSON_NO_RECORDS, "name": None, "records": []}
    assert results[2] == {
        "type": "ORG",
        "code": ORG_REGISTERED,
        "name": "登记在册有限公司",
        "records": [],
    }
    assert results[4]["name"] == "张三"


def code_valid_as_both_kinds() -> str:
    """An 18-character string that is a valid ID number AND a valid credit code."""
    for n in range(1000):
        candidate = id_number(n)
        if is_valid_credit_code(candidate):
            return candidate
    raise AssertionError("no such code among the first 1000")


async def test_subjects_match_on_type_and_code(tmp_path: Path) -> None:
    code = code_valid_as_both_kinds()
    data = load_credit_dataset(write_dataset(tmp_path, [record("R-AMBIG", "PERSON", code)]))
    async with running(data) as platform:
        answer = await platform.query(("ORG", code), ("PERSON", code))
    as_org, as_person = answer["results"]
    assert as_org == {"type": "ORG", "code": code, "name": None, "records": []}
    assert [r["record_id"] for r in as_person["records"]] == ["R-AMBIG"]


async def test_a_record_carries_every_record_field(platform: Platform) -> None:
    data = await platform.query(("ORG", ORG))
    (found,) = data["results"][0]["records"]
    assert found == {
        **record("R-ORG-1", "ORG", ORG, updated_at="2025-03-01T10:00:00+08:00"),
        "decision_no": None,
        "violation_type": None,
        "penalty_content": None,
        "authority_name": None,
        "authority_code": None,
    }


async def test_inactive_records_are_left_out_unless_asked_for(platform: Platform) -> None:
    assert await platform.record_ids(("PERSON", PERSON)) == ["R-P-END", "R-P-OPEN"]
    assert await platform.record_ids(("PERSON", PERSON), include_inactive=True) == [
        "R-P-END",
        "R-P-REPAIRED",
        "R-P-REVOKED",
        "R-P-OPEN",
    ]


async def test_publicity_end_day_is_public_in_platform_time(platform: Platform) -> None:
    platform.clock.set(dt.datetime(2025, 6, 30, 23, 59, 59, tzinfo=CN))
    assert "R-P-END" in await platform.record_ids(("PERSON", PERSON))
    # 00:00 on 1 July in +08:00 is still 30 June in UTC: the platform's own date counts.
    platform.clock.set(dt.datetime(2025, 7, 1, 0, 0, tzinfo=CN))
    assert await platform.record_ids(("PERSON", PERSON)) == ["R-P-OPEN"]
    assert "R-P-END" in await platform.record_ids(("PERSON", PERSON), include_inactive=True)
    data = await platform.query(("PERSON", PERSON))
    assert data["asOf"] == "2025-07-01T00:00:00+08:00"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"subjects": {}}',
        b'{"subjects": [], "extra": 1}',
        b'{"subjects": [], "includeInactive": "yes"}',
        b'{"subjects": ["x"]}',
        b'{"subjects": [{"type": "ORG"}]}',
        b'{"subjects": [{"type": "ORG", "code": "x", "name": "n"}]}',
        b'{"subjects": [{"type": "COMPANY", "code": "x"}]}',
        json.dumps({"subjects": [{"type": "ORG", "code": credit_code(1)[:-1] + "0"}]}).encode(),
        json.dumps({"subjects": [{"type": "PERSON", "code": credit_code(1)}]}).encode(),
        json.dumps({"subjects": [{"type": "PERSON", "code": ID_ENDING_X.lower()}]}).encode(),
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_malformed_batch_queries_are_refused(platform: Platform, body: bytes) -> None:
    response = await platform.call("POST", "/api/v2/subjects:batchQuery", raw=body)
    assert error_code(response) == (400, "E4000")


async def test_an_oversized_body_is_refused_in_the_envelope(platform: Platform) -> None:
    response = await platform.http.post(
        "/api/v2/subjects:batchQuery", content=b" " * (1024 * 1024 + 1)
    )
    assert error_code(response) == (413, "E4130")


async def test_unknown_paths_are_answered_in_the_envelope(platform: Platform) -> None:
    response = await platform.call("GET", "/api/v2/nothing-here")
    assert error_code(response) == (404, "E4040")


# -- change feed -------------------------------------------------------------------


async def read_feed(platform: Platform, since: str | None, limit: int) -> tuple[list[Any], str]:
    """Every change after `since`, page by page until an empty page; and the last cursor."""
    changes: list[Any] = []
    while True:
        params = {"limit": str(limit), **({"since": since} if since else {})}
        response = await platform.call("GET", "/api/v2/changes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()["data"]
        assert len(page["changes"]) <= limit
        since = page["next"]
        if not page["changes"]:
            return changes, since
        changes.extend(page["changes"])


async def test_change_feed_starts_with_every_record_in_updated_at_order(
    platform: Platform,
) -> None:
    changes, _ = await read_feed(platform, None, limit=2)
    assert [c["record_id"] for c in changes] == [
        "R-P-END",  # 2025-01-10T09:00+08:00 ×3, in file order
        "R-P-REPAIRED",
        "R-P-REVOKED",
        "R-P-OPEN",  # 2025-02-01T00:00Z
        "R-ORG-1",  # 2025-03-01
    ]
    assert all(c["op"] == "UPSERT" for c in changes)
    assert [c["seq"] for c in changes] == sorted({c["seq"] for c in changes})
    assert changes[-1] == {
        "seq": changes[-1]["seq"],
        "subject_code": ORG,
        "record_id": "R-ORG-1",
        "op": "UPSERT",
        "at": "2025-03-01T10:00:00+08:00",
    }


async def test_later_changes_are_appended_exactly_once_in_order(platform: Platform) -> None:
    initial, cursor = await read_feed(platform, None, limit=3)
    assert len(initial) == len(BASE_RECORDS)

    filed = await platform.call("POST", "/api/v2/objections", objection_body("R-ORG-1", ORG))
    objection_id = filed.json()["data"]["objection_id"]
    platform.clock.now += 60
    decided = await platform.admin(
        "POST", f"/_sim/objections/{objection_id}/decide", {"status": "REJECTED"}
    )
    assert decided.status_code == 200
    new_person = id_number(7)
    put = await platform.admin("POST", "/_sim/records", record("R-NEW", "PERSON", new_person))
    assert put.json()["code"] == "0000"
    deleted = await platform.admin("DELETE", "/_sim/records/R-P-OPEN")
    assert deleted.json()["code"] == "0000"

    later, cursor = await read_feed(platform, cursor, limit=3)
    assert [(c["record_id"], c["op"]) for c in later] == [
        ("R-ORG-1", "UPSERT"),
        ("R-ORG-1", "UPSERT"),
        ("R-NEW", "UPSERT"),
        ("R-P-OPEN", "DELETE"),
    ]
    assert [c["at"] for c in later[:2]] == [
        "2025-06-30T12:00:00+08:00",
        "2025-06-30T12:01:00+08:00",
    ]
    assert later[2]["subject_code"] == new_person
    seqs = [c["seq"] for c in initial + later]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert await read_feed(platform, cursor, limit=3) == ([], cursor)


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"since": "bogus!"}]
)
async def test_bad_change_feed_parameters_are_refused(
    platform: Platform, params: dict[str, str]
) -> None:
    response = await platform.call("GET", "/api/v2/changes", params=params)
    assert error_code(response) == (400, "E4000")


async def test_change_feed_limit_defaults_to_100(tmp_path: Path) -> None:
    rows = [record(f"R{n:03d}", "ORG", credit_code(n)) for n in range(150)]
    async with running(load_credit_dataset(write_dataset(tmp_path, rows))) as platform:
        response = await platform.call("GET", "/api/v2/changes")
        assert len(response.json()["data"]["changes"]) == 100
        response = await platform.call("GET", "/api/v2/changes", params={"limit": "1000"})
        assert len(response.json()["data"]["changes"]) == 150


async def test_records_put_through_admin_are_served_and_replace_by_id(platform: Platform) -> None:
    moved = record("R-ORG-1", "ORG", ORG_REGISTERED, subject_name="新名称有限公司")
    assert (await platform.admin("POST", "/_sim/records", moved)).status_code == 200
    assert await platform.record_ids(("ORG", ORG)) == []
    data = await platform.query(("ORG", ORG_REGISTERED))
    # The registry's name wins over a record's.
    assert data["results"][0]["name"] == "登记在册有限公司"
    assert [r["record_id"] for r in data["results"][0]["records"]] == ["R-ORG-1"]
    bad = record("R-BAD", "ORG", credit_code(5)[:-1] + "0")
    response = await platform.admin("POST", "/_sim/records", bad)
    assert error_code(response) == (400, "E4000")
    response = await platform.admin("DELETE", "/_sim/records/R-NOPE")
    assert error_code(response) == (400, "E4000")


# -- objections ------------------------------------------------------------------


def objection_body(record_id: str, code: str, reason: str = "已履行") -> dict[str, str]:
    return {"record_id": record_id, "subject_code": code, "reason": reason, "filed_by": "张三"}


async def file_objection(platform: Platform, record_id: str, code: str) -> str:
    response = await platform.call("POST", "/api/v2/objections", objection_body(record_id, code))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "RECEIVED"
    objection_id: str = data["objection_id"]
    return objection_id


async def objection_status(platform: Platform, objection_id: str) -> Any:
    response = await platform.call("GET", f"/api/v2/objections/{objection_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def record_status(platform: Platform, code: str, record_id: str) -> str:
    data = await platform.query(("PERSON", code), include_inactive=True)
    (found,) = [r for r in data["results"][0]["records"] if r["record_id"] == record_id]
    status: str = found["status"]
    return status


async def test_an_objection_rejected_restores_the_record(platform: Platform) -> None:
    objection_id = await file_objection(platform, "R-P-OPEN", PERSON)
    assert await record_status(platform, PERSON, "R-P-OPEN") == "OBJECTION_PENDING"
    # A disputed record is still in force.
    assert "R-P-OPEN" in await platform.record_ids(("PERSON", PERSON))
    assert await objection_status(platform, objection_id) == {
        "objection_id": objection_id,
        "record_id": "R-P-OPEN",
        "status": "RECEIVED",
        "decided_at": None,
    }
    platform.clock.now += 3600
    decided = await platform.admin(
        "POST", f"/_sim/objections/{objection_id}/decide", {"status": "REJECTED"}
    )
    assert decided.json()["data"]["status"] == "REJECTED"
    assert await record_status(platform, PERSON, "R-P-OPEN") == "EFFECTIVE"
    assert await objection_status(platform, objection_id) == {
        "objection_id": objection_id,
        "record_id": "R-P-OPEN",
        "status": "REJECTED",
        "decided_at": "2025-06-30T13:00:00+08:00",
    }


async def test_a_rejected_objection_restores_a_repaired_record_as_repaired(
    platform: Platform,
) -> None:
    objection_id = await file_objection(platform, "R-P-REPAIRED", PERSON)
    await platform.admin("POST", f"/_sim/objections/{objection_id}/decide", {"status": "REJECTED"})
    assert await record_status(platform, PERSON, "R-P-REPAIRED") == "REPAIRED"


async def test_an_objection_upheld_revokes_the_record(platform: Platform) -> None:
    objection_id = await file_objection(platform, "R-P-OPEN", PERSON)
    decided = await platform.admin(
        "POST", f"/_sim/objections/{objection_id}/decide", {"status": "UPHELD"}
    )
    assert decided.status_code == 200
    assert (await objection_status(platform, objection_id))["status"] == "UPHELD"
    assert await record_status(platform, PERSON, "R-P-OPEN") == "REVOKED"
    assert "R-P-OPEN" not in await platform.record_ids(("PERSON", PERSON))
    again = await platform.admin(
        "POST", f"/_sim/objections/{objection_id}/decide", {"status": "REJECTED"}
    )
    assert error_code(again) == (400, "E4000")
    # Nothing left to object to.
    refused = await platform.call("POST", "/api/v2/objections", objection_body("R-P-OPEN", PERSON))
    assert error_code(refused) == (400, "E4000")


async def test_filing_the_same_objection_twice_answers_the_pending_one(platform: Platform) -> None:
    first = await file_objection(platform, "R-P-END", PERSON)
    assert await file_objection(platform, "R-P-END", PERSON) == first
    other = await platform.call(
        "POST", "/api/v2/objections", objection_body("R-P-END", PERSON, reason="另一理由")
    )
    assert error_code(other) == (400, "E4000")
    listed = (await platform.admin("GET", "/_sim/objections")).json()["data"]
    assert [(o["objection_id"], o["reason"]) for o in listed] == [(first, "已履行")]


@pytest.mark.parametrize(
    "body",
    [
        objection_body("R-NOPE", PERSON),  # unknown record
        objection_body("R-P-OPEN", ORG),  # not the record's subject
        {"record_id": "R-P-OPEN", "subject_code": PERSON, "reason": "x"},  # filed_by missing
        {**objection_body("R-P-OPEN", PERSON), "reason": " "},
        {**objection_body("R-P-OPEN", PERSON), "extra": 1},
    ],
)
async def test_bad_objections_are_refused(platform: Platform, body: dict[str, Any]) -> None:
    response = await platform.call("POST", "/api/v2/objections", body)
    assert error_code(response) == (400, "E4000")
    assert await record_status(platform, PERSON, "R-P-OPEN") == "EFFECTIVE"


async def test_unknown_objections_are_refused(platform: Platform) -> None:
    assert error_code(await platform.call("GET", "/api/v2/objections/OBJ-NOPE")) == (400, "E4000")
    decide = await platform.admin("POST", "/_sim/objections/OBJ-NOPE/decide", {"status": "UPHELD"})
    assert error_code(decide) == (400, "E4000")
    objection_id = await file_objection(platform, "R-P-OPEN", PERSON)
    bad = await platform.admin(
        "POST", f"/_sim/objections/{objection_id}/decide", {"status": "MAYBE"}
    )
    assert error_code(bad) == (400, "E4000")


# -- usage feedback ------------------------------------------------------------------


def feedback_body(outcome: str = "ADOPTED") -> dict[str, Any]:
    return {
        "query_ref": "q-0001",
        "subject_code": PERSON,
        "purpose": "CADRE_SELECTION",
        "outcome": outcome,
        "record_ids": ["R-P-END"],
        "at": "2025-06-30T11:00:00+08:00",
    }


async def test_usage_feedback_is_idempotent_per_key(platform: Platform) -> None:
    first = await platform.call(
        "POST", "/api/v2/usage-feedback", feedback_body(), headers={"Idempotency-Key": "k-1"}
    )
    assert first.status_code == 200
    repeat = await platform.call(
        "POST",
        "/api/v2/usage-feedback",
        feedback_body("NOT_ADOPTED"),
        headers={"Idempotency-Key": "k-1"},
    )
    assert repeat.json() == first.json()
    other = await platform.call(
        "POST", "/api/v2/usage-feedback", feedback_body(), headers={"Idempotency-Key": "k-2"}
    )
    assert other.json()["data"]["feedback_id"] != first.json()["data"]["feedback_id"]
    received = (await platform.admin("GET", "/_sim/feedback")).json()["data"]
    assert [(f["idempotency_key"], f["outcome"]) for f in received] == [
        ("k-1", "ADOPTED"),
        ("k-2", "ADOPTED"),
    ]


async def test_usage_feedback_needs_an_idempotency_key(platform: Platform) -> None:
    response = await platform.call("POST", "/api/v2/usage-feedback", feedback_body())
    assert error_code(response) == (400, "E4000")


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "MAYBE"},
        {"record_ids": "R-P-END"},
        {"record_ids": ["R-NOPE"]},
        {"subject_code": "not-a-code"},
        {"at": "yesterday"},
        {"at": "2025-06-30T11:00:00"},
        {"query_ref": ""},
        {"extra": True},
    ],
)
async def test_malformed_feedback_is_refused_and_does_not_use_the_key(
    platform: Platform, change: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "k-bad"}
    body = {**feedback_body(), **change}
    response = await platform.call("POST", "/api/v2/usage-feedback", body, headers=headers)
    assert error_code(response) == (400, "E4000")
    retry = await platform.call("POST", "/api/v2/usage-feedback", feedback_body(), headers=headers)
    assert retry.status_code == 200


# -- rate limit, faults, stats ---------------------------------------------------------


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    async with running(base_data(tmp_path), rate_limit_per_s=2) as platform:
        for _ in range(2):
            assert (await platform.call("GET", "/api/v2/changes")).status_code == 200
        limited = await platform.call("GET", "/api/v2/changes")
        assert error_code(limited) == (429, "E4290")
        assert limited.headers["Retry-After"] == "1"
        platform.clock.now += 1.0
        assert (await platform.call("GET", "/api/v2/changes")).status_code == 200


async def test_no_rate_limit_unless_configured(platform: Platform) -> None:
    for _ in range(30):
        assert (await platform.call("GET", "/api/v2/changes")).status_code == 200


async def test_down_answers_503_until_up(platform: Platform) -> None:
    assert (await platform.admin("POST", "/_sim/down")).status_code == 200
    response = await platform.call("GET", "/api/v2/changes")
    assert error_code(response) == (503, "E5030")
    assert (await platform.admin("POST", "/_sim/up")).status_code == 200
    assert (await platform.call("GET", "/api/v2/changes")).status_code == 200


async def test_stats_count_api_calls_per_endpoint(platform: Platform) -> None:
    await platform.query(("ORG", ORG))
    await platform.query(("ORG", ORG))
    await platform.call("GET", "/api/v2/changes", secret="wrong")
    await platform.http.get("/openapi.json")
    await platform.admin("GET", "/_sim/objections")
    stats = (await platform.admin("GET", "/_sim/stats")).json()
    assert stats == {
        "requests": {"POST /api/v2/subjects:batchQuery": 2, "GET /api/v2/changes": 1},
        "total": 3,
    }
    await platform.admin("POST", "/_sim/reset-stats")
    assert (await platform.admin("GET", "/_sim/stats")).json()["total"] == 0


# -- dataset -------------------------------------------------------------------------


def test_a_subject_code_failing_its_check_digit_names_file_and_line(tmp_path: Path) -> None:
    bad = record("R2", "ORG", credit_code(9)[:-1] + ("0" if credit_code(9)[-1] != "0" else "1"))
    write_dataset(tmp_path, [record("R1", "ORG", ORG), bad])
    with pytest.raises(DatasetError, match=r"records\.jsonl:2: .*check character"):
        load_credit_dataset(tmp_path)


@pytest.mark.parametrize(
    ("second_line", "reason"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"record_id": "R2", "subject_type": "ORG"}), "subject_code"),
        (json.dumps(record("R2", "FIRM", ORG)), "PERSON or ORG"),
        (json.dumps(record("R1", "ORG", ORG)), "duplicate record_id"),
        (json.dumps(record("R2", "ORG", ORG, status="GONE")), "status"),
        (json.dumps(record("R2", "ORG", ORG, publicity_end="30/06/2025")), "publicity_end"),
        (json.dumps(record("R2", "ORG", ORG, updated_at="soon")), "updated_at"),
    ],
)
def test_malformed_record_lines_name_file_and_line(
    tmp_path: Path, second_line: str, reason: str
) -> None:
    folder = tmp_path / "credit_platform"
    folder.mkdir()
    first = json.dumps(record("R1", "ORG", ORG))
    (folder / "records.jsonl").write_text(f"{first}\n\n{second_line}\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"records\.jsonl:3: .*{reason}"):
        load_credit_dataset(tmp_path)


def test_malformed_subject_registry_lines_name_file_and_line(tmp_path: Path) -> None:
    subjects = [
        {"type": "ORG", "code": ORG_REGISTERED, "name": "甲"},
        {"type": "PERSON", "code": ORG_REGISTERED, "name": "乙"},
    ]
    write_dataset(tmp_path, [], subjects)
    with pytest.raises(DatasetError, match=r"subjects\.jsonl:2: "):
        load_credit_dataset(tmp_path)


def test_a_missing_dataset_means_no_records(tmp_path: Path) -> None:
    data = load_credit_dataset(tmp_path)
    assert data.changes.page(None, 10)[0] == []


async def test_unknown_keys_are_dropped_and_missing_ones_defaulted(tmp_path: Path) -> None:
    rows = [{"record_id": "R1", "subject_type": "ORG", "subject_code": ORG, "colour": "red"}]
    loaded_at = dt.datetime(2025, 6, 1, 8, 0, tzinfo=CN).timestamp()
    data = load_credit_dataset(write_dataset(tmp_path, rows), loaded_at=loaded_at)
    async with running(data) as platform:
        (found,) = (await platform.query(("ORG", ORG)))["results"][0]["records"]
    assert "colour" not in found
    assert found["status"] == "EFFECTIVE"
    assert found["updated_at"] == "2025-06-01T08:00:00+08:00"
    assert found["penalty_types"] == []
    assert found["fine_amount"] is None


# -- OpenAPI ---------------------------------------------------------------------------

SERVED = {
    ("post", "/api/v2/subjects:batchQuery"),
    ("get", "/api/v2/changes"),
    ("post", "/api/v2/usage-feedback"),
    ("post", "/api/v2/objections"),
    ("get", "/api/v2/objections/{objection_id}"),
}


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


async def test_openapi_document_describes_every_served_path(platform: Platform) -> None:
    response = await platform.http.get("/openapi.json")  # unsigned
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"]
    assert document["info"]["version"]
    operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert operations == SERVED
    for method, path in SERVED:
        operation = document["paths"][path][method]
        assert operation["operationId"]
        assert {"200", "400", "401", "503"} <= operation["responses"].keys()
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in {"query", "header", "path", "cookie"}
            if parameter["in"] == "path":
                assert parameter["required"] is True
                assert "{" + parameter["name"] + "}" in path
    for ref in refs(document):
        resolve(document, ref)
    schemes = document["components"]["securitySchemes"]
    assert {(s["type"], s["in"], s["name"]) for s in schemes.values()} == {
        ("apiKey", "header", "X-App-Key"),
        ("apiKey", "header", "X-Timestamp"),
        ("apiKey", "header", "X-Nonce"),
        ("apiKey", "header", "X-Signature"),
    }
    assert all(name in schemes for requirement in document["security"] for name in requirement)


async def test_openapi_document_is_served_while_down(platform: Platform) -> None:
    await platform.admin("POST", "/_sim/down")
    assert (await platform.http.get("/openapi.json")).status_code == 200


async def test_the_openapi_schemas_match_a_real_answer(platform: Platform) -> None:
    document = (await platform.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    data = await platform.query(("PERSON", PERSON))
    answer_schema = schemas["BatchQueryAnswer"]["properties"]["data"]
    assert set(data) == set(answer_schema["required"])
    (result,) = data["results"]
    assert set(result) == set(schemas["SubjectResult"]["required"])
    assert set(result["records"][0]) == set(schemas["Record"]["required"])


def test_nonce_ledger_forgets_nonces_after_600_s() -> None:
    ledger = NonceLedger()
    for n in range(50):
        ledger.use(f"nonce-{n:016d}", now=1000.0 + n)
    assert len(ledger) == 50
    assert ledger.seen("nonce-0000000000000000", now=1599.0)
    assert not ledger.seen("nonce-0000000000000000", now=1600.0)
    ledger.use("late-nonce-000000", now=2000.0)
    assert len(ledger) == 1
