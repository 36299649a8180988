"""What the outbox tests share: waiting on observable state, reading the stand-in's counts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

from tests.test_cli import PROJECT, free_ports

T = TypeVar("T")

FAST_RETRIES = {"retry_base_s": 0.05, "retry_max_s": 0.5, "poll_interval_s": 0.2}
"""Outbox settings for tests: a platform back up is noticed within half a second."""


async def eventually(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout_s: float = 60.0
) -> T:
    """Read an observable state until `done` holds for it; its last value.

    Fails with the last value seen when `timeout_s` passes: a bound against a
    hang, not a wait for luck (each read is of the state the test needs).
    """
    value = await read()
    try:
        async with asyncio.timeout(timeout_s):
            while not done(value):
                await asyncio.sleep(0.05)
                value = await read()
    except TimeoutError:
        raise AssertionError(f"still not there after {timeout_s} s: {value!r}") from None
    return value


async def sim(url: str, method: str, path: str, body: Any = None) -> Any:
    """A stand-in admin endpoint's `data` (or whole JSON for the shared /_sim ones)."""
    async with httpx.AsyncClient() as admin:
        answer = await admin.request(method, f"{url}{path}", json=body)
        answer.raise_for_status()
        body = answer.json()
    return body["data"] if isinstance(body, dict) and "data" in body else body


@contextlib.asynccontextmanager
async def gateway_process(
    config: Path, log: Path, **env_overrides: str
) -> AsyncIterator[tuple[Process, str]]:
    """`credgate serve` on a free port as a process of its own; yields it and its URL.

    Its output goes to `log` (a pipe nobody reads could fill and stall it); it
    is ready once /healthz answers. Stopped (SIGTERM) on exit unless already dead.
    """
    (port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDGATE_")} | env_overrides
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "serve", "--config", str(config),
            "--port", str(port),
            cwd=PROJECT, env={**env, "PYTHONPATH": str(PROJECT)},
            stdout=output, stderr=output,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        async def healthy() -> bool:
            if process.returncode is not None:
                raise AssertionError(f"the gateway exited; its output is in {log}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{url}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, bool)
        yield process, url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def gateway_config(platform_config: Path, target: Path, **sections: dict[str, Any]) -> Path:
    """The stand-ins' gateway config plus `sections` (TOML tables of plain values)."""
    lines = [platform_config.read_text(encoding="utf-8")]
    for name, values in sections.items():
        lines.append(f"\n[{name}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


OUTBOX_ROWS = "SELECT item_id, reference, state, attempts, answer, lease_owner FROM outbox"


def outbox_rows(dsn: str) -> list[tuple[Any, ...]]:
    """Every outbox row: (item_id, reference, state, attempts, answer, lease_owner)."""
    if dsn.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(dsn.removeprefix("sqlite:///"))) as db:
            return db.execute(OUTBOX_ROWS).fetchall()
    with psycopg.connect(dsn) as db:
        return db.execute(OUTBOX_ROWS).fetchall()


async def rows_when(
    dsn: str, done: Callable[[list[tuple[Any, ...]]], bool], *, timeout_s: float = 90.0
) -> list[tuple[Any, ...]]:
    """The outbox rows, once `done` holds for them."""
    return await eventually(lambda: asyncio.to_thread(outbox_rows, dsn), done, timeout_s=timeout_s)


def all_delivered(count: int) -> Callable[[list[tuple[Any, ...]]], bool]:
    return lambda rows: len(rows) == count and all(row[2] == "DELIVERED" for row in rows)
