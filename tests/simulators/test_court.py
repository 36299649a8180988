"""The court stand-in over real HTTP: OAuth, paging, rate limit, change feed, faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.court import CourtCredentials, create_court_app, load_court_dataset
from simulators.dataset import DatasetError
from simulators.faults import SimulatorState
from tests.support import credit_code, id_number, serve

CLIENT = CourtCredentials(client_id="gateway", client_secret="s3cret")
DEBTORS = "/v1/dishonest-debtors/query"
RESTRICTIONS = "/v1/consumption-restrictions/query"

ALICE = id_number(1)
BOB = id_number(2, birth="19791130")
ACME = credit_code(7)
NOBODY = id_number(999)
WRONG_CHECK = ALICE[:-1] + ("0" if ALICE[-1] != "0" else "1")
# A number whose check character is X, to show lower-case x matches it.
CAROL = next(code for n in range(1000) if (code := id_number(n, birth="19900101")).endswith("X"))


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entry(entry_id: str, id_code: str, **extra: Any) -> dict[str, Any]:
    party_type = "ORG" if id_code == ACME else "PERSON"
    row: dict[str, Any] = {
        "entryId": entry_id,
        "idCode": id_code,
        "partyType": party_type,
        "partyName": "某某",
        "caseCode": f"(2024)辽0102执{entry_id}号",
        "behaviour": 1,
        "unperformedAmount": "1200.50",
        "publishDate": "2024-01-01",
        "status": "LISTED",
    }
    row.update(extra)
    return row


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")


def default_entries() -> list[dict[str, Any]]:
    return [
        entry("E1", ALICE, publishDate="2024-03-01"),
        entry("E2", BOB, publishDate="2024-01-15"),
        entry("E3", ALICE, publishDate="2023-12-01"),
        entry(
            "E4",
            ACME,
            publishDate="2022-05-05",
            status="REMOVED",
            removedDate="2024-02-01",
            removalReason="履行完毕",
        ),
        entry("E5", ALICE, publishDate="2024-02-10"),
        entry("E6", BOB, publishDate="2024-04-01"),
        entry("E7", ACME, publishDate="2024-05-01"),
        entry("E8", CAROL, publishDate="2024-06-01"),
    ]


def default_restrictions() -> list[dict[str, Any]]:
    return [
        {"orderId": "R1", "idCode": ALICE, "issuedDate": "2024-01-02", "status": "ACTIVE"},
        {"orderId": "R2", "idCode": ACME, "issuedDate": "2023-01-02", "status": "LIFTED"},
        {"orderId": "R3", "idCode": CAROL, "issuedDate": "2024-06-02", "status": "ACTIVE"},
    ]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / "court" / "entries.jsonl", default_entries())
    write_jsonl(tmp_path / "court" / "restrictions.jsonl", default_restrictions())
    return tmp_path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Server = Callable[..., Any]


@pytest.fixture
def court(dataset: Path, clock: FakeClock) -> Server:
    """Start a court stand-in on the test dataset; keyword arguments go to the app."""

    @asynccontextmanager
    async def start(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
        options.setdefault("clock", clock)
        app = create_court_app(load_court_dataset(dataset), CLIENT, **options)
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
            yield client

    return start


async def get_token(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT.client_id,
            "client_secret": CLIENT.client_secret,
        },
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def query_body(*codes: str, page_no: int = 1, page_size: int = 100) -> dict[str, Any]:
    return {
        "parties": [{"idCode": code} for code in codes],
        "pageNo": page_no,
        "pageSize": page_size,
    }


async def read_all_pages(
    client: httpx.AsyncClient, token: str, path: str, codes: list[str], page_size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow pageNo until `total` items are read; returns (items, page headers)."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    page_no = 1
    while True:
        answer = await client.post(
            path,
            json=query_body(*codes, page_no=page_no, page_size=page_size),
            headers=bearer(token),
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages.append({key: page[key] for key in ("total", "pageNo", "pageSize")})
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items, pages
        page_no += 1


# --- OAuth ---------------------------------------------------------------------


async def test_token_is_issued_as_bearer_with_its_lifetime(court: Server) -> None:
    async with court(token_ttl_s=120) as client:
        form = {"grant_type": "client_credentials", "client_id": "gateway"}
        answer = await client.post("/oauth/token", data={**form, "client_secret": "s3cret"})
        again = await client.post("/oauth/token", data={**form, "client_secret": "s3cret"})
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 120
        assert len(body["access_token"]) >= 32
        assert again.json()["access_token"] != body["access_token"]
        assert answer.headers["cache-control"] == "no-store"
        used = await client.post(
            DEBTORS, json=query_body(ALICE), headers=bearer(body["access_token"])
        )
        assert used.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"client_id": "gateway", "client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone", "client_secret": "s3cret"}, 401, "invalid_client"),
        ({"client_id": "gateway"}, 401, "invalid_client"),
        (
            {"grant_type": None, "client_id": "gateway", "client_secret": "s3cret"},
            400,
            "invalid_request",
        ),
        (
            {"grant_type": "password", "client_id": "gateway", "client_secret": "s3cret"},
            400,
            "unsupported_grant_type",
        ),
    ],
)
async def test_token_refusals_follow_rfc_6749(
    court: Server, form: dict[str, str | None], status: int, code: str
) -> None:
    data = {"grant_type": "client_credentials", **form}
    async with court() as client:
        answer = await client.post(
            "/oauth/token", data={key: value for key, value in data.items() if value is not None}
        )
    assert answer.status_code == status
    assert answer.json()["error"] == code


async def test_token_endpoint_takes_only_a_form_body(court: Server) -> None:
    async with court() as client:
        as_json = await client.post(
            "/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": "gateway",
                "client_secret": "s3cret",
            },
        )
        repeated = await client.post(
            "/oauth/token",
            content="grant_type=client_credentials&client_id=gateway&client_secret=s3cret"
            "&client_id=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    assert (repeated.status_code, repeated.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic Z2F0ZXdheTpzM2NyZXQ="}],
    ids=["missing", "unknown", "other-scheme"],
)
async def test_calls_without_a_valid_token_are_refused(
    court: Server, headers: dict[str, str]
) -> None:
    async with court() as client:
        query = await client.post(DEBTORS, json=query_body(ALICE), headers=headers)
        changes = await client.get("/v1/changes", headers=headers)
    for answer in (query, changes):
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_token"}
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_token_expires_after_its_lifetime(court: Server, clock: FakeClock) -> None:
    async with court(token_ttl_s=60) as client:
        token = await get_token(client)
        clock.now += 59.5
        assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 200
        clock.now += 0.5
        expired = await client.get("/v1/changes", headers=bearer(token))
        assert expired.status_code == 401
        assert expired.json() == {"error": "invalid_token"}
        fresh = await get_token(client)
        assert (await client.get("/v1/changes", headers=bearer(fresh))).status_code == 200


# --- Queries -------------------------------------------------------------------


@pytest.mark.parametrize(("asked", "cap"), [(3, 100), (5, 2), (100, 4)])
async def test_paging_returns_every_item_once(court: Server, asked: int, cap: int) -> None:
    codes = [ALICE, BOB, ACME, NOBODY]
    async with court(max_page_size=cap) as client:
        token = await get_token(client)
        items, pages = await read_all_pages(client, token, DEBTORS, codes, asked)
    used = min(asked, cap)
    assert sorted(item["entryId"] for item in items) == [f"E{n}" for n in range(1, 8)]
    assert pages == [
        {"total": 7, "pageNo": number, "pageSize": used} for number in range(1, len(pages) + 1)
    ]
    assert len(pages) == -(-7 // used)
    # Parties in request order, each party's entries in dataset order.
    assert [item["entryId"] for item in items] == ["E1", "E3", "E5", "E2", "E6", "E4", "E7"]


async def test_a_page_past_the_end_is_empty_but_keeps_the_total(court: Server) -> None:
    async with court() as client:
        token = await get_token(client)
        answer = await client.post(
            DEBTORS, json=query_body(ALICE, page_no=9), headers=bearer(token)
        )
    assert answer.json() == {"total": 3, "pageNo": 9, "pageSize": 100, "items": []}


async def test_entries_are_served_with_every_entry_key_and_removed_ones_included(
    court: Server,
) -> None:
    async with court() as client:
        token = await get_token(client)
        answer = await client.post(DEBTORS, json=query_body(ACME), headers=bearer(token))
    items = answer.json()["items"]
    assert [(item["entryId"], item["status"]) for item in items] == [
        ("E4", "REMOVED"),
        ("E7", "LISTED"),
    ]
    assert items[0]["removedDate"] == "2024-02-01"
    assert items[0]["legalRepName"] is None
    assert items[0]["unperformedAmount"] == "1200.50"
    assert "updated_at" not in items[0]


async def test_restrictions_are_paged_and_lifted_ones_included(court: Server) -> None:
    async with court() as client:
        token = await get_token(client)
        items, pages = await read_all_pages(client, token, RESTRICTIONS, [ACME, ALICE, BOB], 1)
    assert [(item["orderId"], item["status"]) for item in items] == [
        ("R2", "LIFTED"),
        ("R1", "ACTIVE"),
    ]
    assert pages == [
        {"total": 2, "pageNo": 1, "pageSize": 1},
        {"total": 2, "pageNo": 2, "pageSize": 1},
    ]


async def test_duplicate_parties_are_answered_once(court: Server) -> None:
    parties = [ALICE, CAROL, ALICE, CAROL.lower(), ALICE]
    body = {"parties": [{"idCode": code, "name": "甲"} for code in parties]}
    async with court() as client:
        token = await get_token(client)
        debtors = await client.post(DEBTORS, json=body, headers=bearer(token))
        restrictions = await client.post(RESTRICTIONS, json=body, headers=bearer(token))
    assert [item["entryId"] for item in debtors.json()["items"]] == ["E1", "E3", "E5", "E8"]
    assert debtors.json()["total"] == 4
    assert [item["orderId"] for item in restrictions.json()["items"]] == ["R1", "R3"]


async def test_matching_is_by_id_code_only(court: Server) -> None:
    body = {"parties": [{"idCode": BOB, "name": "一个不同的名字"}]}
    async with court() as client:
        token = await get_token(client)
        answer = await client.post(DEBTORS, json=body, headers=bearer(token))
    assert [item["entryId"] for item in answer.json()["items"]] == ["E2", "E6"]


async def test_at_most_200_parties(court: Server) -> None:
    many = [id_number(n) for n in range(201)]
    async with court() as client:
        token = await get_token(client)
        too_many = await client.post(DEBTORS, json=query_body(*many), headers=bearer(token))
        most = await client.post(DEBTORS, json=query_body(*many[:200]), headers=bearer(token))
        too_many_restrictions = await client.post(
            RESTRICTIONS, json=query_body(*many), headers=bearer(token)
        )
    assert too_many.status_code == 400
    assert too_many.json()["error"] == "invalid_request"
    assert "200" in too_many.json()["error_description"]
    assert too_many_restrictions.status_code == 400
    assert most.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"parties": []},
        {"parties": "x"},
        {"parties": [ALICE]},
        {"parties": [{"name": "甲"}]},
        {"parties": [{"idCode": WRONG_CHECK}]},
        {"parties": [{"idCode": 42}]},
        {"parties": [{"idCode": ALICE, "name": 7}]},
        {"parties": [{"idCode": ALICE, "type": "PERSON"}]},
        {"parties": [{"idCode": ALICE}], "pageNo": 0},
        {"parties": [{"idCode": ALICE}], "pageNo": True},
        {"parties": [{"idCode": ALICE}], "pageSize": "10"},
        {"parties": [{"idCode": ALICE}], "pageSize": 1.5},
        {"parties": [{"idCode": ALICE}], "includeRemoved": False},
    ],
)
async def test_malformed_bodies_are_invalid_requests(court: Server, body: Any) -> None:
    async with court() as client:
        token = await get_token(client)
        answer = await client.post(DEBTORS, json=body, headers=bearer(token))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["error_description"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"parties": [', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"parties": [{"idCode": "1"}], "pageNo": ' + b"9" * 5000 + b"}", "application/json"),
        (b"[" * 100_000, "application/json"),
        (json.dumps(query_body(ALICE)).encode(), "text/plain"),
    ],
    ids=["truncated", "not-utf8", "huge-integer", "deep-nesting", "wrong-type"],
)
async def test_unreadable_bodies_are_invalid_requests(
    court: Server, content: bytes, content_type: str
) -> None:
    async with court() as client:
        token = await get_token(client)
        answer = await client.post(
            DEBTORS, content=content, headers={**bearer(token), "Content-Type": content_type}
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


# --- Rate limit ----------------------------------------------------------------


async def test_21st_call_in_a_second_is_rate_limited(court: Server, clock: FakeClock) -> None:
    async with court() as client:
        token = await get_token(client)
        for _ in range(20):
            assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 200
        clock.now += 0.99
        limited = await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        clock.now = 1001.0
        assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 200


async def test_window_slides_rather_than_resetting(court: Server, clock: FakeClock) -> None:
    async with court(rate_limit_per_s=4) as client:
        token = await get_token(client)
        statuses = []
        for step in (0.0, 0.0, 0.5, 0.5, 0.9, 1.0, 1.0, 1.1, 1.5, 1.5):
            clock.now = 1000.0 + step
            statuses.append((await client.get("/v1/changes", headers=bearer(token))).status_code)
    # Two calls at 0.0 leave the window at 1.0, the two at 0.5 only at 1.5.
    assert statuses == [200, 200, 200, 200, 429, 200, 200, 429, 200, 200]


async def test_token_requests_and_rejected_calls_do_not_count(
    court: Server, clock: FakeClock
) -> None:
    async with court(rate_limit_per_s=5) as client:
        token = await get_token(client)
        for _ in range(10):
            await get_token(client)
            assert (await client.get("/v1/changes", headers=bearer("nope"))).status_code == 401
            bad = await client.post(DEBTORS, json={"parties": []}, headers=bearer(token))
            assert bad.status_code == 400
        for _ in range(5):
            assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 200
        clock.now += 0.5
        for _ in range(10):
            assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 429
        clock.now += 0.5
        # Had the 429s counted, the window would still be full until 1.5 s.
        for _ in range(5):
            assert (await client.get("/v1/changes", headers=bearer(token))).status_code == 200


async def test_rate_limit_zero_is_off(court: Server) -> None:
    async with court(rate_limit_per_s=0) as client:
        token = await get_token(client)
        statuses = {
            (await client.get("/v1/changes", headers=bearer(token))).status_code for _ in range(60)
        }
    assert statuses == {200}


# --- Change feed ---------------------------------------------------------------


async def read_changes(
    client: httpx.AsyncClient, token: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Every change after `cursor`, page by page until an empty page."""
    changes: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        answer = await client.get("/v1/changes", params=params, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        cursor = page["cursor"]
        if not page["items"]:
            return changes, cursor
        changes.extend(page["items"])


async def test_change_feed_lists_every_entry_once_in_date_order(court: Server) -> None:
    async with court(rate_limit_per_s=0) as client:
        token = await get_token(client)
        changes, cursor = await read_changes(client, token, None, 2)
        after = await client.get("/v1/changes", params={"cursor": cursor}, headers=bearer(token))
    # E4 was published first but changed status (REMOVED) on 2024-02-01.
    assert [(change["entryId"], change["op"]) for change in changes] == [
        ("E3", "LISTED"),
        ("E2", "LISTED"),
        ("E4", "REMOVED"),
        ("E5", "LISTED"),
        ("E1", "LISTED"),
        ("E6", "LISTED"),
        ("E7", "LISTED"),
        ("E8", "LISTED"),
    ]
    seqs = [change["seq"] for change in changes]
    assert seqs == sorted(set(seqs))
    assert changes[0] == {
        "seq": seqs[0],
        "idCode": ALICE,
        "entryId": "E3",
        "op": "LISTED",
        "at": "2023-12-01T00:00:00+08:00",
    }
    assert after.json()["items"] == []


async def test_admin_entries_appear_in_the_feed_and_in_queries(court: Server) -> None:
    async with court(rate_limit_per_s=0) as client:
        token = await get_token(client)
        _, cursor = await read_changes(client, token, None, 1000)
        new = entry("E9", BOB, publishDate="2025-06-01")
        assert (await client.post("/_sim/entries", json=new)).status_code == 200
        changed = {**new, "unperformedAmount": "10.00"}
        assert (await client.post("/_sim/entries", json=changed)).status_code == 200
        removed = {**changed, "status": "REMOVED", "removedDate": "2025-06-20"}
        assert (await client.post("/_sim/entries", json=removed)).status_code == 200
        relisted = {**entry("E1", ALICE), "obligation": "支付货款"}
        assert (await client.post("/_sim/entries", json=relisted)).status_code == 200
        changes, _ = await read_changes(client, token, cursor, 2)
        bob = await client.post(DEBTORS, json=query_body(BOB), headers=bearer(token))
        alice = await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
    assert [(change["entryId"], change["op"], change["idCode"]) for change in changes] == [
        ("E9", "LISTED", BOB),
        ("E9", "UPDATED", BOB),
        ("E9", "REMOVED", BOB),
        ("E1", "UPDATED", ALICE),
    ]
    assert all(change["at"].endswith("+08:00") for change in changes)
    assert [(item["entryId"], item["status"]) for item in bob.json()["items"]] == [
        ("E2", "LISTED"),
        ("E6", "LISTED"),
        ("E9", "REMOVED"),
    ]
    # A replaced entry keeps its place in the answer.
    assert [item["entryId"] for item in alice.json()["items"]] == ["E1", "E3", "E5"]
    assert alice.json()["items"][0]["obligation"] == "支付货款"


@pytest.mark.parametrize(
    "row",
    [
        {"entryId": "E10", "idCode": ALICE},
        entry("E10", ALICE, partyType="ORG"),
        entry("E10", ALICE, unperformedAmount=12.5),
        entry("E1", BOB),
    ],
    ids=["no-party-type", "person-code-as-org", "float-money", "moves-party"],
)
async def test_admin_entries_are_validated(court: Server, row: dict[str, Any]) -> None:
    async with court() as client:
        answer = await client.post("/_sim/entries", json=row)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "params",
    [{"cursor": "forged"}, {"limit": "0"}, {"limit": "ten"}, {"limit": "1" * 50}],
)
async def test_bad_change_parameters_are_invalid_requests(
    court: Server, params: dict[str, str]
) -> None:
    async with court() as client:
        token = await get_token(client)
        answer = await client.get("/v1/changes", params=params, headers=bearer(token))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


async def test_change_limit_defaults_to_100_and_caps_at_1000(dataset: Path, court: Server) -> None:
    rows = [entry(f"B{n}", id_number(n)) for n in range(1100)]
    write_jsonl(dataset / "court" / "entries.jsonl", rows)
    async with court() as client:
        token = await get_token(client)
        default = await client.get("/v1/changes", headers=bearer(token))
        capped = await client.get("/v1/changes", params={"limit": 5000}, headers=bearer(token))
    assert len(default.json()["items"]) == 100
    assert len(capped.json()["items"]) == 1000


# --- Stand-in controls ---------------------------------------------------------


async def test_down_answers_503_until_up(court: Server) -> None:
    async with court() as client:
        token = await get_token(client)
        await client.post("/_sim/down")
        query = await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
        token_call = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
        await client.post("/_sim/up")
        back = await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
    for answer in (query, token_call):
        assert answer.status_code == 503
        assert answer.json() == {"error": "temporarily_unavailable"}
    assert back.status_code == 200


async def test_stats_count_requests_per_endpoint(court: Server) -> None:
    state = SimulatorState()
    async with court(state=state) as client:
        token = await get_token(client)
        await get_token(client)
        for _ in range(3):
            await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
        await client.get("/v1/changes", headers=bearer(token))
        await client.post(RESTRICTIONS, json=query_body(ALICE), headers=bearer(token))
        stats = (await client.get("/_sim/stats")).json()
        reset = (await client.post("/_sim/reset-stats")).json()
    assert stats == {
        "requests": {
            "POST /oauth/token": 2,
            f"POST {DEBTORS}": 3,
            "GET /v1/changes": 1,
            f"POST {RESTRICTIONS}": 1,
        },
        "total": 7,
    }
    assert reset == {"requests": {}, "total": 0}
    assert state.requests == {}


# --- Dataset -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "bad_line", "reason"),
    [
        ([entry("E1", ALICE), "{not json"], 2, "not valid JSON"),
        (
            [
                entry("E1", ALICE),
                entry("E2", WRONG_CHECK),
            ],
            2,
            "check character",
        ),
        ([entry("E1", ACME, partyType="PERSON")], 1, "idCode"),
        ([entry("E1", ALICE), {"entryId": "E2", "idCode": BOB}], 2, "partyType"),
        ([entry("E1", ALICE), entry("E1", BOB)], 2, "appears twice"),
        ([entry("E1", ALICE, publishDate="2024-13-01")], 1, "publishDate"),
        ([entry("E1", ALICE, status="GONE")], 1, "status"),
    ],
)
def test_malformed_entry_lines_name_file_and_line(
    tmp_path: Path, lines: list[Any], bad_line: int, reason: str
) -> None:
    path = tmp_path / "court" / "entries.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        "utf-8",
    )
    with pytest.raises(DatasetError, match=reason) as raised:
        load_court_dataset(tmp_path)
    assert str(raised.value).startswith(f"{path}:{bad_line}:")
    assert raised.value.line == bad_line


def test_malformed_restriction_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "court" / "restrictions.jsonl"
    write_jsonl(path, [*default_restrictions(), {"orderId": "R4", "idCode": "123"}])
    with pytest.raises(DatasetError, match="idCode") as raised:
        load_court_dataset(tmp_path)
    assert str(raised.value).startswith(f"{path}:4:")


async def test_missing_files_mean_no_rows(tmp_path: Path) -> None:
    app = create_court_app(load_court_dataset(tmp_path), CLIENT)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        token = await get_token(client)
        answer = await client.post(DEBTORS, json=query_body(ALICE), headers=bearer(token))
        changes = await client.get("/v1/changes", headers=bearer(token))
    assert answer.json()["total"] == 0
    assert changes.json()["items"] == []


# --- OpenAPI -------------------------------------------------------------------


def resolve(document: dict[str, Any], node: Any) -> None:
    """Fail on any $ref in `node` that does not point into `document`."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
        for value in node.values():
            resolve(document, value)
    elif isinstance(node, list):
        for value in node:
            resolve(document, value)


async def test_openapi_document_lists_every_path_served(court: Server) -> None:
    async with court() as client:
        answer = await client.get("/openapi.json")
        document = answer.json()
        token = await get_token(client)
        served = {}
        for path, operations in document["paths"].items():
            for method in operations:
                reply = await client.request(method, path, headers=bearer(token))
                served[(method, path)] = reply.status_code
    assert answer.status_code == 200
    assert document["openapi"].startswith("3.1.")
    assert set(document["paths"]) == {
        "/oauth/token",
        DEBTORS,
        RESTRICTIONS,
        "/v1/changes",
        "/openapi.json",
    }
    assert not [key for key, status in served.items() if status in (404, 405)]
    scheme = document["components"]["securitySchemes"]["oauth2"]
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert document["security"] == [{"oauth2": []}]
    token_op = document["paths"]["/oauth/token"]["post"]
    assert token_op["security"] == []
    assert "application/x-www-form-urlencoded" in token_op["requestBody"]["content"]
    assert "Retry-After" in document["paths"][DEBTORS]["post"]["responses"]["429"]["headers"]
    resolve(document, document)


async def test_unknown_paths_and_methods_answer_json(court: Server) -> None:
    async with court() as client:
        missing = await client.get("/v2/nothing")
        wrong = await client.get(DEBTORS)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    assert "POST" in wrong.headers["allow"]
