"""What the outbox tests share: waiting on observable state, reading the stand-in's counts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

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
