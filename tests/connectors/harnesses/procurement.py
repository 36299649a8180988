"""The procurement stand-in and its connector, for the contract suite and test_procurement.py.

The real stand-in serves a small hand-written dataset over real HTTP on
loopback. In front of it sits `AnswerRewriter`, a test-only ASGI middleware
that rewrites the next answer(s) of the SOAP endpoint (status and body bytes),
for lies the stand-in cannot tell by itself: a subject not asked about, an
identifier failing its check digit, an unknown enumeration value, a different
namespace prefix. Malformed and short answers come from the stand-in's own
`/_sim/hostile`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.base import Platform, SourceResult
from connectors.http_client import upstream_client
from connectors.procurement import ProcurementConnector
from connectors.records import SupplierStatus
from connectors.resilience import RetryPolicy
from connectors.settings import ProcurementSettings
from simulators.faults import SimulatorState
from simulators.procurement import (
    SERVICE_PATH,
    ProcurementCredentials,
    create_procurement_app,
    load_procurement_dataset,
)
from tests.connectors.harness import Lie, StandinControls
from tests.support import credit_code, id_number, serve

USERNAME = "credgate-gw"
PASSWORD = "s3cret & <pass>"  # markup characters: the envelope must escape them
MAIN_OPERATION = f"POST {SERVICE_PATH}"

SUPPLIERS = (credit_code(1), credit_code(2), credit_code(3))
LEGAL_REPRESENTATIVE = id_number(1)  # represents SUPPLIERS[0], holds shares in SUPPLIERS[1]
SHAREHOLDER = id_number(2)  # represents SUPPLIERS[1], holds shares in SUPPLIERS[0]
NOBODY = id_number(999)
PURCHASER = credit_code(100, prefix="11210000")
AWARDS = 450  # one a day from AWARD_START: three pages of 200
AWARD_START = dt.date(2024, 1, 1)
OLD_AWARDS = 7  # dated the year before AWARD_START

Rewrite = Callable[[int, bytes], tuple[int, bytes]]
_CREDIT_CODE = re.compile(rb"CreditCode>([0-9A-Z]{18})<")


def replace_first_credit_code(new_code: Callable[[str], str]) -> Rewrite:
    """A rewrite swapping the first CreditCode in an answer for `new_code(old)`."""

    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        found = _CREDIT_CODE.search(body)
        assert found is not None, "the answer names no CreditCode"
        start, end = found.span(1)
        return status, body[:start] + new_code(found.group(1).decode()).encode() + body[end:]

    return rewrite


def wrong_check_digit(code: str) -> str:
    """`code` with another last character, so its check digit fails."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


class AnswerRewriter:
    """ASGI middleware: the next answers of `POST SERVICE_PATH` go through queued rewrites."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pending: list[Rewrite] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = scope["type"] == "http" and (scope["method"], scope["path"]) == (
            "POST",
            SERVICE_PATH,
        )
        if not (wanted and self.pending):
            await self.app(scope, receive, send)
            return
        rewrite = self.pending.pop(0)
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        status, new_body = rewrite(start["status"], bytes(body))
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(new_body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": new_body})


class ProcurementHarness(StandinControls):
    """The running stand-in, its controls, and a connector configured to reach it."""

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        state: SimulatorState,
        rewriter: AnswerRewriter,
        server: contextlib.AsyncExitStack,
        *,
        timeout_s: float,
        attempt_timeout_s: float,
    ) -> None:
        super().__init__(base_url, client, state, server)
        self.rewriter = rewriter
        self._timeouts = {"timeout_s": timeout_s, "attempt_timeout_s": attempt_timeout_s}
        self.connector = self.connector_for(PASSWORD)
        self.platform: Platform = self.connector.platform
        self.known_keys: Sequence[str] = SUPPLIERS

    def connector_for(self, password: str) -> ProcurementConnector:
        """A connector of its own (own breaker and counts) using `password`."""
        settings = ProcurementSettings(
            url=f"{self.url}{SERVICE_PATH}",
            username=USERNAME,
            password=SecretStr(password),
            **self._timeouts,
        )
        retry = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
        platform = Platform("procurement", settings, ProcurementConnector.batch_limit, retry=retry)
        return ProcurementConnector(settings, self.client, platform=platform)

    def unknown_keys(self, count: int) -> list[str]:
        return [credit_code(10_000 + n) for n in range(count)]

    async def fetch(self, keys: Sequence[str]) -> SourceResult[str, SupplierStatus]:
        return await self.connector.suppliers(keys)

    def has_records(self, value: Any) -> bool:
        return isinstance(value, SupplierStatus) and bool(value.debarments or value.violations)

    async def upstream_requests(self) -> int:
        stats = (await self.client.get(f"{self.url}/_sim/stats")).json()
        return int(stats["requests"].get(MAIN_OPERATION, 0))

    async def hostile(self, kind: str, count: int = 1) -> None:
        """The stand-in's own hostile answers: xxe, billion_laughs, malformed, oversize, ..."""
        await self.admin("/_sim/hostile", {"kind": kind, "count": count})

    def rewrite_next(self, *rewrites: Rewrite) -> None:
        """The next answers of the SOAP endpoint go through `rewrites`, one each."""
        self.rewriter.pending.extend(rewrites)

    async def lie(self, kind: Lie) -> None:
        if kind in ("malformed", "wrong_count"):
            await self.hostile(kind)
        elif kind == "foreign_subject":
            self.rewrite_next(replace_first_credit_code(lambda _: credit_code(999_999)))
        else:
            self.rewrite_next(replace_first_credit_code(wrong_check_digit))


@contextlib.asynccontextmanager
async def harness(tmp_path: Path) -> AsyncIterator[ProcurementHarness]:
    """The harness the contract suite uses: 1 s deadline, 0.5 s per attempt."""
    async with running(tmp_path) as started:
        yield started


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, *, timeout_s: float = 1.0, attempt_timeout_s: float = 0.5
) -> AsyncIterator[ProcurementHarness]:
    """Write the dataset, serve the stand-in on loopback, and connect to it."""
    write_dataset(tmp_path)
    state = SimulatorState()
    app = create_procurement_app(
        load_procurement_dataset(tmp_path), ProcurementCredentials(USERNAME, PASSWORD), state
    )
    rewriter = AnswerRewriter(app)
    async with contextlib.AsyncExitStack() as server, upstream_client() as client:
        base_url = await server.enter_async_context(serve(rewriter))
        yield ProcurementHarness(
            base_url,
            client,
            state,
            rewriter,
            server,
            timeout_s=timeout_s,
            attempt_timeout_s=attempt_timeout_s,
        )


# The dataset -------------------------------------------------------------------


def write_dataset(root: Path) -> None:
    """suppliers, purchaser issues and awards in the layout the stand-in loads."""
    folder = root / "procurement"
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "suppliers.jsonl", _suppliers())
    _write(folder / "purchaser_issues.jsonl", _issues())
    _write(folder / "awards.jsonl", _awards())


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = (json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SUPPLIER_NAMES = ("沈阳华信建设有限公司", "大连海诚贸易有限公司", "鞍山宏远科技有限公司")


def _suppliers() -> list[dict[str, Any]]:
    first, second, third = SUPPLIERS
    return [
        {
            "credit_code": first,
            "name": SUPPLIER_NAMES[0],
            "registration_status": "ACTIVE",
            "legal_representative": {"name": "王强", "id_number": LEGAL_REPRESENTATIVE},
            "shareholders": [{"name": "李梅", "id_number": SHAREHOLDER}],
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
        },
        {
            "credit_code": second,
            "name": SUPPLIER_NAMES[1],
            "registration_status": "SUSPENDED",
            "legal_representative": {"name": "李梅", "id_number": SHAREHOLDER},
            "shareholders": [{"name": "王强", "id_number": LEGAL_REPRESENTATIVE}],
            "violations": [
                {
                    "record_no": "WF-2023-017",
                    "circumstance": "恶意串通",
                    "penalty": "罚款并列入不良行为记录名单",
                    "legal_basis": "政府采购法第七十七条第一款",
                    "penalty_date": "2023-11-20",
                    "authority": "辽宁省财政厅",
                }
            ],
        },
        {
            "credit_code": third,
            "name": SUPPLIER_NAMES[2],
            "registration_status": "CANCELLED",
            "legal_representative": {"name": "赵刚"},
            "debarments": [{"record_no": "DB-2022-105", "start_date": "2022-03-01"}],
            "violations": [{"record_no": "WF-2022-044"}],
        },
    ]


def _issues() -> list[dict[str, Any]]:
    return [
        {
            "purchaser_code": PURCHASER,
            "contract_no": "LNCG-2024-0031",
            "type": "LATE_PAYMENT",
            "amount": "2500000.00",
            "due_date": "2024-03-31",
        },
        {
            "purchaser_code": PURCHASER,
            "contract_no": "LNCG-2023-0112",
            "type": "ACCEPTANCE_DELAY",
            "amount": "18000.50",
            "due_date": "2023-09-01",
            "resolved_date": "2023-10-15",
        },
        {"purchaser_code": PURCHASER, "contract_no": "LNCG-2022-0007", "type": "BREACH"},
    ]


def _awards() -> list[dict[str, Any]]:
    def award(day: dt.date, number: int) -> dict[str, Any]:
        return {
            "purchaser_code": PURCHASER,
            "contract_no": f"LNCG-{day.year}-{number:04d}",
            "supplier_code": SUPPLIERS[number % len(SUPPLIERS)],
            "supplier_name": SUPPLIER_NAMES[number % len(SUPPLIERS)],
            "award_date": day.isoformat(),
            "amount": f"{number * 1000}.25",
        }

    dated = [award(AWARD_START + dt.timedelta(days=n), n) for n in range(AWARDS)]
    old = [award(AWARD_START - dt.timedelta(days=30 + n), 9000 + n) for n in range(OLD_AWARDS)]
    return dated + old
