"""The delivery worker: what the outbox owes the credit platform, sent until acknowledged.

One worker per gateway process, started and stopped with the app. It claims
due items with a lease (`auth/outbox.py`), sends each with the credit
connector — usage feedback to `POST /api/v2/usage-feedback`, an objection to
`POST /api/v2/objections`, both with the item id as `Idempotency-Key` — and
records the outcome:

    acknowledged                 DELIVERED, with the platform's id
    E4000 (SourceRefused)        REFUSED: the platform will not take it as it is
    anything else                due again after a backoff with jitter:
                                 half of min(retry_max_s, retry_base_s * 2^(n-1)),
                                 plus a uniform draw of up to the other half

One attempt is bounded by half the lease, so it is over before another worker
may claim the item. A process killed mid-delivery leaves its leases to run out;
the items are then sent again, and the platform answers the repeated key as
the first time. When an objection is delivered, everything cached about its
subject is evicted (the record is disputed from then on).

The worker is woken when a request has committed new items, and otherwise
looks for due ones (others' leases run out, retries fall due) every
`poll_interval_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import sqlite3
from collections.abc import Awaitable, Callable

import psycopg

from auth.outbox import Claimed, Delivered, Outbox, Outcome, Postponed, Refused
from auth.outbox_item import ItemKind
from connectors.credit import CreditConnector
from connectors.errors import SourceError, SourceRefused

from .settings import OutboxSettings

__all__ = ["DeliveryWorker"]

logger = logging.getLogger(__name__)

_DATABASE_ERRORS = (sqlite3.Error, psycopg.Error, OSError)


class DeliveryWorker:
    """Sends this process's share of the outbox to the credit platform."""

    def __init__(
        self,
        outbox: Outbox,
        credit: CreditConnector,
        settings: OutboxSettings,
        *,
        delivered_objection: Callable[[str], Awaitable[None]],
        rng: random.Random | None = None,
    ) -> None:
        """`delivered_objection(subject_code)` runs once an objection is acknowledged."""
        self._outbox = outbox
        self._credit = credit
        self._settings = settings
        self._delivered_objection = delivered_objection
        # Backoff jitter needs no cryptographic quality.
        self._rng = rng or random.Random()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        """The lease owner's name: unique per worker, readable by an operator."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.delivered = 0
        self.refused = 0
        self.postponed = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-delivery")

    def wake(self) -> None:
        """New items were committed: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the items in hand (each bounded by half a lease), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    def counters(self) -> dict[str, int]:
        return {"delivered": self.delivered, "refused": self.refused, "postponed": self.postponed}

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if await self._deliver_due():
                    continue  # more may be due already
            except Exception:  # the worker must outlive any one bad round
                logger.exception("outbox: a delivery round failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.poll_interval_s):
                    await self._wake.wait()

    async def _deliver_due(self) -> bool:
        """Claim, send and settle one batch; whether there was anything to send."""
        try:
            claimed = await self._outbox.claim(
                self.owner, self._settings.batch, self._settings.lease_s
            )
        except _DATABASE_ERRORS:
            logger.exception("outbox: claiming due items failed")
            return False
        if not claimed:
            return False
        outcomes = await asyncio.gather(*(self._deliver(item) for item in claimed))
        await self._settle(outcomes)
        await self._after_delivery(claimed, outcomes)
        return True

    async def _deliver(self, item: Claimed) -> Outcome:
        try:
            async with asyncio.timeout(self._settings.lease_s / 2):
                answer = await self._send(item)
        except SourceRefused as refusal:
            logger.warning("outbox: %s %s refused: %s", item.kind.value, item.item_id, refusal)
            self.refused += 1
            return Refused(item.item_id, str(refusal))
        except (SourceError, TimeoutError) as error:
            reason = str(error) or "no answer within half a lease"
            delay = self._backoff(item.attempts)
            logger.info("outbox: %s again in %.1f s: %s", item.item_id, delay, reason)
            self.postponed += 1
            return Postponed(item.item_id, reason, delay)
        self.delivered += 1
        return Delivered(item.item_id, answer)

    async def _settle(self, outcomes: list[Outcome]) -> None:
        # Not recorded: the leases run out and the items are sent again, which
        # their keys make harmless.
        try:
            await self._outbox.settle(self.owner, outcomes)
        except _DATABASE_ERRORS:
            logger.exception("outbox: recording %d delivery outcomes failed", len(outcomes))

    async def _after_delivery(self, claimed: list[Claimed], outcomes: list[Outcome]) -> None:
        for item, outcome in zip(claimed, outcomes, strict=True):
            if item.kind is ItemKind.OBJECTION and isinstance(outcome, Delivered):
                try:
                    await self._delivered_objection(item.subject_code)
                except Exception:  # the change feed evicts it later; the filing stands
                    logger.exception("outbox: eviction after objection %s failed", item.item_id)

    async def _send(self, item: Claimed) -> str:
        if item.kind is ItemKind.USAGE_FEEDBACK:
            return await self._credit.usage_feedback(item.body, item.item_id)
        body = item.body
        objection_id, _ = await self._credit.file_objection(
            body["record_id"], body["subject_code"], body["reason"], body["filed_by"], item.item_id
        )
        return objection_id

    def _backoff(self, attempts: int) -> float:
        ceiling = min(
            self._settings.retry_max_s, self._settings.retry_base_s * 2.0 ** min(attempts - 1, 30)
        )
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)
