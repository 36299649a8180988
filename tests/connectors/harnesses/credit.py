"""The credit platform harness: the real stand-in on loopback and a connector to it.

`Tap` is a test-only ASGI middleware in front of the stand-in. It records what
reached the main operation (headers and body, for the signing tests) and can
rewrite the stand-in's NEXT answer to it, so tests can make an otherwise honest
platform lie in a chosen way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.base import Platform, SourceResult
from connectors.credit import BATCH_QUERY_PATH, OBJECTIONS_PATH, CreditConnector
from connectors.http_client import upstream_client
from connectors.records import CreditSubject, SubjectKey, SubjectType
from connectors.resilience import RetryPolicy
from connectors.settings import CreditSettings
from simulators.credit import CreditCredentials, create_credit_app, load_credit_dataset
from simulators.faults import SimulatorState
from tests.connectors.harness import Lie, StandinControls
from tests.support import credit_code, id_number, serve

APP_KEY, APP_SECRET = "credgate-test", "s3cret-for-tests-only"
MAIN_OPERATION = f"POST {BATCH_QUERY_PATH}"
OBJECTION_OPERATION = f"POST {OBJECTIONS_PATH}"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)

PERSON = SubjectKey(SubjectType.PERSON, id_number(1))
PERSON_INACTIVE = SubjectKey(SubjectType.PERSON, id_number(2))
ORG = SubjectKey(SubjectType.ORG, credit_code(1))
AUTHORITY = credit_code(900)

# An answer is JSON bytes in, JSON bytes out.
Rewrite = Callable[[bytes], bytes]


def record(record_id: str, key: SubjectKey, **fields: Any) -> dict[str, Any]:
    """A complete RECORD row about `key`; `fields` override the defaults."""
    person = key.type is SubjectType.PERSON
    row = {
        "record_id": record_id,
        "category": "ADMIN_PENALTY",
        "subject_type": key.type.value,
        "subject_code": key.code,
        "subject_name": "张三" if person else "某某建设有限公司",
        "decision_no": "辽市监罚〔2025〕12号",
        "violation_type": "未按规定公示年度报告",
        "penalty_types": ["WARNING", "FINE"],
        "penalty_content": "警告并处罚款",
        "fine_amount": "2500000.00",
        "decision_date": "2025-01-10",
        "authority_name": "某市市场监督管理局",
        "authority_code": AUTHORITY,
        "severity": "SERIOUS",
        "publicity_end": "2099-01-10",
        "disclosure": "CONDITIONAL",
        "share_scope": ["ORG_HR", "PROCUREMENT"],
        "status": "EFFECTIVE",
        "updated_at": "2025-01-10T09:00:00+08:00",
    }
    row.update(fields)
    return row


RECORDS = [
    record("R-PERSON-1", PERSON, category="GOV_DISHONESTY", fine_amount=None),
    record("R-PERSON-2", PERSON, severity="GENERAL", penalty_types=["FINE"]),
    record("R-ORG-1", ORG, share_scope=["PROCUREMENT", "AUDIT", "CREDIT_OFFICE"]),
    # Inactive: the platform leaves these out unless includeInactive is true.
    record("R-REPAIRED", PERSON_INACTIVE, status="REPAIRED"),
    record("R-EXPIRED", PERSON_INACTIVE, publicity_end="2020-01-10"),
]


def write_dataset(root: Path, records: Sequence[dict[str, Any]] = RECORDS) -> Path:
    folder = root / "credit_platform"
    folder.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(row, ensure_ascii=False) for row in records)
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def lie_rewrite(kind: Lie) -> Rewrite:
    """How an honest batchQuery answer is turned into the given lie."""

    def edit(change: Callable[[dict[str, Any]], None]) -> Rewrite:
        def rewrite(body: bytes) -> bytes:
            answer = json.loads(body)
            change(answer["data"])
            return json.dumps(answer, ensure_ascii=False).encode()

        return rewrite

    def drop_last(data: dict[str, Any]) -> None:
        data["results"].pop()

    def foreign(data: dict[str, Any]) -> None:
        data["results"][-1].update(type="ORG", code=credit_code(999_999), records=[])

    def bad_check_digit(data: dict[str, Any]) -> None:
        result = data["results"][0]
        code = result["code"]
        wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
        result["code"] = wrong
        for row in result["records"]:
            row["subject_code"] = wrong

    match kind:
        case "malformed":
            return lambda body: body[: len(body) // 2]
        case "wrong_count":
            return edit(drop_last)
        case "foreign_subject":
            return edit(foreign)
        case "bad_check_digit":
            return edit(bad_check_digit)


@dataclass
class Seen:
    """One request that reached the main operation."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Tap:
    """ASGI middleware: records main-operation requests, rewrites the next answer."""

    app: ASGIApp
    seen: list[Seen] = field(default_factory=list)
    rewrite_next: Rewrite | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = f"{scope.get('method')} {scope.get('path')}"
        if scope["type"] != "http" or operation not in (MAIN_OPERATION, OBJECTION_OPERATION):
            await self.app(scope, receive, send)
            return
        body = await _read_all(receive)
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        self.seen.append(Seen(headers, body))
        replay = _replaying(body)
        rewrite, self.rewrite_next = self.rewrite_next, None
        if rewrite is None:
            await self.app(scope, replay, send)
            return
        start: Message = {}
        answer = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                answer.extend(message.get("body", b""))

        await self.app(scope, replay, capture)
        lied = rewrite(bytes(answer))
        others = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers_out = [*others, (b"content-length", str(len(lied)).encode())]
        await send({**start, "headers": headers_out})
        await send({"type": "http.response.body", "body": lied})


async def _read_all(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body.extend(message.get("body", b""))
        if not message.get("more_body", False):
            return bytes(body)


def _replaying(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class CreditHarness(StandinControls):
    """A running credit stand-in and a `CreditConnector` configured to reach it."""

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        state: SimulatorState,
        tap: Tap,
        settings: CreditSettings,
        servers: contextlib.AsyncExitStack,
    ) -> None:
        super().__init__(url, client, state, servers)
        self.tap = tap
        self.settings = settings
        self.connector = CreditConnector(settings, client, platform=self.new_platform(settings))
        self.platform = self.connector.platform
        self.known_keys: Sequence[SubjectKey] = (PERSON, ORG, PERSON_INACTIVE)

    @staticmethod
    def new_platform(settings: CreditSettings, batch_limit: int = 100) -> Platform:
        return Platform("credit", settings, batch_limit, retry=FAST_RETRY)

    def unknown_keys(self, count: int) -> list[SubjectKey]:
        # Alternate the two kinds, so batches mix PERSON and ORG keys.
        return [
            SubjectKey(
                SubjectType.PERSON, id_number(n // 2 % 1000, birth=f"{1950 + n // 2000}0101")
            )
            if n % 2 == 0
            else SubjectKey(SubjectType.ORG, credit_code(100_000 + n))
            for n in range(count)
        ]

    async def fetch(self, keys: Sequence[SubjectKey]) -> SourceResult[SubjectKey, CreditSubject]:
        return await self.connector.subjects(keys)

    def has_records(self, value: CreditSubject) -> bool:
        return bool(value.records)

    async def upstream_requests(self, operation: str = MAIN_OPERATION) -> int:
        stats = (await self.client.get(f"{self.url}/_sim/stats")).json()
        count: int = stats["requests"].get(operation, 0)
        return count

    async def lie(self, kind: Lie) -> None:
        self.tap.rewrite_next = lie_rewrite(kind)

    async def add_record(self, row: dict[str, Any]) -> None:
        """Insert or replace a record through the stand-in's admin endpoint."""
        await self.admin("/_sim/records", row)


@contextlib.asynccontextmanager
async def harness(
    tmp_path: Path,
    *,
    rate_limit_per_s: int = 0,
    timeout_s: float = 1.0,
    attempt_timeout_s: float = 0.5,
) -> AsyncIterator[CreditHarness]:
    """Serve the credit stand-in over a small dataset; yield a harness around it."""
    data = load_credit_dataset(write_dataset(tmp_path))
    state = SimulatorState()
    credentials = CreditCredentials(APP_KEY, APP_SECRET)
    tap = Tap(create_credit_app(data, credentials, state, rate_limit_per_s=rate_limit_per_s))
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(upstream_client())
        servers = contextlib.AsyncExitStack()
        stack.push_async_callback(servers.aclose)
        url = await servers.enter_async_context(serve(tap))
        settings = CreditSettings(
            url=url,
            app_key=APP_KEY,
            app_secret=SecretStr(APP_SECRET),
            timeout_s=timeout_s,
            attempt_timeout_s=attempt_timeout_s,
        )
        yield CreditHarness(url, client, state, tap, settings, servers)
