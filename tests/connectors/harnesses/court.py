"""The court harness: the real court stand-in on loopback and a connector to it.

`Tap` is a test-only ASGI middleware in front of the stand-in. It can rewrite
the stand-in's NEXT successful answer to the main operation (so an otherwise
honest court lies in a chosen way), and it calls a test's hook after every
answer to a given path (so a test can move the stand-in's clock at an exact
point of a conversation instead of waiting for time to pass).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.base import Platform, SourceResult
from connectors.court import DEBTORS_PATH, CourtConnector
from connectors.http_client import upstream_client
from connectors.identifiers import is_valid_id_number
from connectors.records import EnforcementEntry
from connectors.resilience import RetryPolicy
from connectors.settings import CourtSettings
from simulators.court import CourtCredentials, create_court_app, load_court_dataset
from simulators.faults import SimulatorState
from tests.connectors.harness import Lie, StandinControls
from tests.support import credit_code, id_number, serve

CLIENT_ID, CLIENT_SECRET = "credgate-test", "s3cret-for-tests-only"
MAIN_OPERATION = f"POST {DEBTORS_PATH}"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)

ALICE = id_number(1)
BOB = id_number(2, birth="19791130")
ACME = credit_code(7)

# An answer is JSON bytes in, JSON bytes out.
Rewrite = Callable[[bytes], bytes]
# Called with the HTTP status of each answer to a path.
Hook = Callable[[int], None]


def entry(entry_id: str, id_code: str, **fields: Any) -> dict[str, Any]:
    """A complete ENTRY row about `id_code`; `fields` override the defaults."""
    person = is_valid_id_number(id_code)
    row: dict[str, Any] = {
        "entryId": entry_id,
        "caseCode": f"(2024)辽0102执{entry_id}号",
        "court": "沈阳市和平区人民法院",
        "province": "辽宁",
        "partyType": "PERSON" if person else "ORG",
        "partyName": "张三" if person else "某某建设有限公司",
        "idCode": id_code,
        "legalRepName": None if person else "李四",
        "basisDocNo": "(2023)辽0102民初567号",
        "basisIssuer": "沈阳市和平区人民法院",
        "obligation": "支付货款及利息",
        "performance": "NONE",
        "unperformedAmount": "1200.50",
        "behaviour": 1,
        "filingDate": "2024-01-02",
        "publishDate": "2024-03-01",
        "listingEnd": None,
        "status": "LISTED",
        "removedDate": None,
        "removalReason": None,
    }
    row.update(fields)
    return row


def restriction(order_id: str, id_code: str, **fields: Any) -> dict[str, Any]:
    """A complete consumption restriction row about `id_code`."""
    row: dict[str, Any] = {
        "orderId": order_id,
        "caseCode": "(2024)辽0102执88号",
        "court": "沈阳市和平区人民法院",
        "idCode": id_code,
        "partyName": "张三",
        "issuedDate": "2024-01-05",
        "status": "ACTIVE",
    }
    row.update(fields)
    return row


ENTRIES = [
    entry("E1", ALICE),
    entry("E2", BOB, performance="PARTIAL", unperformedAmount="88000.00", behaviour=3),
    entry(
        "E3",
        ALICE,
        status="REMOVED",
        removedDate="2024-06-30",
        removalReason="履行完毕",
        listingEnd="2026-03-01",
    ),
    entry("E4", ACME, unperformedAmount=None),
]
RESTRICTIONS = [
    restriction("R1", ALICE),
    restriction("R2", ACME, partyName="某某建设有限公司", status="LIFTED"),
]


def write_dataset(
    root: Path,
    entries: Sequence[dict[str, Any]] = ENTRIES,
    restrictions: Sequence[dict[str, Any]] = RESTRICTIONS,
) -> Path:
    """Write `court/entries.jsonl` and `court/restrictions.jsonl` under `root`."""
    folder = root / "court"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("entries", entries), ("restrictions", restrictions)):
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (folder / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    return root


def edit_json(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite that edits the decoded answer in place."""

    def rewrite(body: bytes) -> bytes:
        answer = json.loads(body)
        change(answer)
        return json.dumps(answer, ensure_ascii=False).encode()

    return rewrite


def lie_rewrite(kind: Lie) -> Rewrite:
    """How an honest page of entries is turned into the given lie."""

    def drop_last(page: dict[str, Any]) -> None:
        page["items"].pop()  # `total` still counts it

    def foreign(page: dict[str, Any]) -> None:
        item = page["items"][0]
        item["idCode"] = id_number(998) if item["partyType"] == "PERSON" else credit_code(998)

    def bad_check_digit(page: dict[str, Any]) -> None:
        item = page["items"][0]
        code = item["idCode"]
        item["idCode"] = code[:-1] + ("1" if code[-1] != "1" else "2")

    match kind:
        case "malformed":
            return lambda body: body[: len(body) // 2]
        case "wrong_count":
            return edit_json(drop_last)
        case "foreign_subject":
            return edit_json(foreign)
        case "bad_check_digit":
            return edit_json(bad_check_digit)


@dataclass
class Tap:
    """ASGI middleware: rewrites the next 200 answer to `path`; runs hooks by path."""

    app: ASGIApp
    path: str = DEBTORS_PATH
    rewrite_next: Rewrite | None = None
    hooks: dict[str, Hook] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hook = self.hooks.get(scope["path"])
        rewrite = self.rewrite_next if scope["path"] == self.path else None
        start: Message = {}
        answer = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            answer.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = bytes(answer)
            if rewrite is not None and start["status"] == 200:
                # Only a successful answer can lie; a 503 or 401 leaves the lie pending.
                self.rewrite_next = None
                body = rewrite(body)
            others = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({**start, "headers": [*others, (b"content-length", b"%d" % len(body))]})
            await send({"type": "http.response.body", "body": body})
            if hook is not None:
                hook(start["status"])

        await self.app(scope, receive, capture)


class CourtHarness(StandinControls):
    """A running court stand-in and a `CourtConnector` configured to reach it."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        state: SimulatorState,
        tap: Tap,
        connector: CourtConnector,
        servers: contextlib.AsyncExitStack,
    ) -> None:
        super().__init__(url, client, state, servers)
        self.tap = tap
        self.connector = connector
        self.platform = connector.platform
        self.known_keys: Sequence[str] = (ALICE, BOB, ACME)

    def unknown_keys(self, count: int) -> list[str]:
        return [id_number(n % 1000, birth=f"{1950 + n // 1000}0101") for n in range(count)]

    async def fetch(self, keys: Sequence[str]) -> SourceResult[str, tuple[EnforcementEntry, ...]]:
        return await self.connector.entries(keys)

    def has_records(self, value: tuple[EnforcementEntry, ...]) -> bool:
        return bool(value)

    async def requests(self, operation: str) -> int:
        """How often the stand-in was asked `operation` ("METHOD /path")."""
        stats = (await self.client.get(f"{self.url}/_sim/stats")).json()
        count: int = stats["requests"].get(operation, 0)
        return count

    async def upstream_requests(self) -> int:
        return await self.requests(MAIN_OPERATION)

    async def lie(self, kind: Lie) -> None:
        self.tap.rewrite_next = lie_rewrite(kind)


@contextlib.asynccontextmanager
async def harness(
    tmp_path: Path,
    *,
    entries: Sequence[dict[str, Any]] = ENTRIES,
    restrictions: Sequence[dict[str, Any]] = RESTRICTIONS,
    client_secret: str = CLIENT_SECRET,
    connector_clock: Callable[[], float] = time.monotonic,
    timeout_s: float = 1.0,
    attempt_timeout_s: float = 0.5,
    warm: bool = True,
    **stand_in: Any,
) -> AsyncIterator[CourtHarness]:
    """Serve the court stand-in over a small dataset; yield a harness around it.

    `stand_in` goes to `create_court_app` (`token_ttl_s`, `max_page_size`, its
    own `clock`, ...); its rate limit is off unless given. `connector_clock`
    judges token expiry in the connector. With `warm`, the connector holds a token before the test
    begins, as a running gateway would: injected faults then hit the queries.
    """
    data = load_court_dataset(write_dataset(tmp_path, entries, restrictions))
    state = SimulatorState()
    stand_in.setdefault("rate_limit_per_s", 0)
    credentials = CourtCredentials(CLIENT_ID, CLIENT_SECRET)
    tap = Tap(create_court_app(data, credentials, state, **stand_in))
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(upstream_client())
        servers = contextlib.AsyncExitStack()
        stack.push_async_callback(servers.aclose)
        url = await servers.enter_async_context(serve(tap))
        settings = CourtSettings(
            url=url,
            client_id=CLIENT_ID,
            client_secret=SecretStr(client_secret),
            timeout_s=timeout_s,
            attempt_timeout_s=attempt_timeout_s,
        )
        platform = Platform("court", settings, CourtConnector.batch_limit, retry=FAST_RETRY)
        connector = CourtConnector(settings, client, platform=platform, clock=connector_clock)
        if warm:
            await connector.tokens.bearer(attempt_timeout_s)
        yield CourtHarness(url, client, state, tap, connector, servers)
