"""The outbox beside the access log: leases for the delivery worker, states for readers.

    outbox = Outbox(dsn)                              # the access log's DSN
    await outbox.claim(owner, limit, lease_s)         # QUEUED items now due, leased
    await outbox.settle(owner, outcomes)              # what became of them, in one go:
        Delivered(item_id, answer)                    #   -> DELIVERED (by owner)
        Refused(item_id, error)                       #   -> REFUSED (not sent again)
        Postponed(item_id, error, delay_s)            #   due again in delay_s seconds
    await outbox.items(kind, reference=..., subject_code=...)   # for the API

Items are inserted by the access-log writer, in the transaction of their
entry (`auth/outbox_item.py`); the table is created with the access log's.

A lease: `claim` sets `lease_owner` and `lease_until` on the items it takes,
in one statement, only on items whose lease is free or has run out. In
PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so two replicas
claiming at the same moment take different items; in SQLite the statement
holds the database's write lock. A worker that dies (SIGKILL) leaves its
leases to run out; then any worker takes the items again, and the item id,
sent as `Idempotency-Key`, makes the repeat harmless at the platform. Times
are the claiming process's clock (unix seconds): replicas' clocks must agree
to well within a lease (NTP does).

Recording a delivery does not ask whose lease it is: the platform has taken
the item whoever sent it; the row keeps who recorded the delivery
(`lease_owner`). A refusal or a postponement is recorded only by the lease's
owner, so a worker whose lease ran out cannot undo what another did since.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from .outbox_item import ItemKind, ItemState

__all__ = ["Claimed", "Delivered", "ItemStatus", "Outbox", "Outcome", "Postponed", "Refused"]

_SQLITE = "sqlite:///"
_BUSY_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 10
_ERROR_CHARS = 500

_CLAIM = """
UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
WHERE item_id IN (
    SELECT item_id FROM outbox
    WHERE state = 'QUEUED' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
    ORDER BY next_attempt_at LIMIT ? {lock}
)
RETURNING item_id, kind, subject_code, body, attempts
"""
_ACKNOWLEDGE = (
    "UPDATE outbox SET state = 'DELIVERED', answer = ?, answered_at = ?, "
    "lease_owner = ?, lease_until = NULL, last_error = NULL "
    "WHERE item_id = ? AND state = 'QUEUED'"
)
_REFUSE = (
    "UPDATE outbox SET state = 'REFUSED', answered_at = ?, last_error = ?, "
    "lease_owner = NULL, lease_until = NULL "
    "WHERE item_id = ? AND state = 'QUEUED' AND lease_owner = ?"
)
_POSTPONE = (
    "UPDATE outbox SET next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL "
    "WHERE item_id = ? AND state = 'QUEUED' AND lease_owner = ?"
)
_STATUS_COLUMNS = (
    "item_id, kind, actor, subject_code, reference, body, created_at, state, attempts, "
    "answer, answered_at"
)
_COUNTS = "SELECT state, count(*) FROM outbox GROUP BY state"


@dataclass(frozen=True)
class Claimed:
    """An item leased to one worker: what to send, and how often it was tried."""

    item_id: str
    kind: ItemKind
    subject_code: str
    body: dict[str, Any]
    attempts: int  # including this one


@dataclass(frozen=True)
class Delivered:
    """The platform acknowledged the item; `answer` is its id for it."""

    item_id: str
    answer: str


@dataclass(frozen=True)
class Refused:
    """The platform refused the item as such: it is not sent again."""

    item_id: str
    error: str


@dataclass(frozen=True)
class Postponed:
    """Not delivered this time: the lease is freed, due again in `delay_s` seconds."""

    item_id: str
    error: str
    delay_s: float


Outcome = Delivered | Refused | Postponed


@dataclass(frozen=True)
class ItemStatus:
    """Where an item stands, as the API shows it."""

    item_id: str
    kind: ItemKind
    actor: str
    subject_code: str
    reference: str
    body: dict[str, Any]
    created_at: dt.datetime
    state: ItemState
    attempts: int
    answer: str | None
    answered_at: dt.datetime | None


def _time(value: object) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(str(value)), dt.UTC)


def _status(row: Sequence[Any]) -> ItemStatus:
    item_id, kind, actor, code, reference, body, created, state, attempts, answer, answered = row
    return ItemStatus(
        item_id=str(item_id),
        kind=ItemKind(kind),
        actor=str(actor),
        subject_code=str(code),
        reference=str(reference),
        body=json.loads(body),
        created_at=_time(created),
        state=ItemState(state),
        attempts=int(attempts),
        answer=None if answer is None else str(answer),
        answered_at=None if answered is None else _time(answered),
    )


class Outbox:
    """The outbox table of the access-log database at `dsn` (SQLite or PostgreSQL)."""

    def __init__(self, dsn: str) -> None:
        if not dsn.startswith((_SQLITE, "postgresql://", "postgres://")):
            raise ValueError("the outbox DSN must start with sqlite:/// or postgresql://")
        self.dsn = dsn
        self._sqlite = dsn.startswith(_SQLITE)

    async def claim(self, owner: str, limit: int, lease_s: float) -> list[Claimed]:
        """Lease up to `limit` due items to `owner` for `lease_s` seconds."""
        now = time.time()
        lock = "" if self._sqlite else "FOR UPDATE SKIP LOCKED"
        params = (owner, now + lease_s, now, now, limit)
        rows = await self._run([(_CLAIM.format(lock=lock), params)])
        return [
            Claimed(str(item_id), ItemKind(kind), str(code), json.loads(body), int(attempts))
            for item_id, kind, code, body, attempts in rows
        ]

    async def settle(self, owner: str, outcomes: Sequence[Outcome]) -> None:
        """Record what became of `owner`'s items, in one transaction."""
        now = time.time()
        statements: list[tuple[str, tuple[object, ...]]] = []
        for outcome in outcomes:
            if isinstance(outcome, Delivered):
                statements.append((_ACKNOWLEDGE, (outcome.answer, now, owner, outcome.item_id)))
            elif isinstance(outcome, Refused):
                error = outcome.error[:_ERROR_CHARS]
                statements.append((_REFUSE, (now, error, outcome.item_id, owner)))
            else:
                due, error = now + outcome.delay_s, outcome.error[:_ERROR_CHARS]
                statements.append((_POSTPONE, (due, error, outcome.item_id, owner)))
        if statements:
            await self._run(statements)

    async def items(
        self,
        kind: ItemKind,
        *,
        reference: str | None = None,
        subject_code: str | None = None,
    ) -> list[ItemStatus]:
        """Items of `kind` for one reference or one subject, oldest first."""
        column, value = (
            ("reference", reference) if reference is not None else ("subject_code", subject_code)
        )
        if value is None:
            raise ValueError("give a reference or a subject code")
        statement = (
            f"SELECT {_STATUS_COLUMNS} FROM outbox WHERE kind = ? AND {column} = ? "  # noqa: S608
            "ORDER BY created_at, item_id"
        )
        rows = await self._run([(statement, (kind.value, value))], write=False)
        return [_status(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        """Items by state, for readiness and metrics."""
        rows = await self._run([(_COUNTS, ())], write=False)
        return {state.value: 0 for state in ItemState} | {str(s): int(n) for s, n in rows}

    async def _run(
        self, statements: Sequence[tuple[str, tuple[object, ...]]], *, write: bool = True
    ) -> list[tuple[Any, ...]]:
        """The statements in one transaction; the last one's rows."""
        if self._sqlite:
            return await asyncio.to_thread(self._sqlite_run, statements, write)
        rows: list[tuple[Any, ...]] = []
        async with await psycopg.AsyncConnection.connect(
            self.dsn, connect_timeout=_CONNECT_TIMEOUT_S
        ) as connection:  # leaving the block commits
            for statement, params in statements:
                cursor = await connection.execute(statement.replace("?", "%s"), params)
                rows = await cursor.fetchall() if cursor.description is not None else []
        return rows

    def _sqlite_run(
        self, statements: Sequence[tuple[str, tuple[object, ...]]], write: bool
    ) -> list[tuple[Any, ...]]:
        path = self.dsn.removeprefix(_SQLITE)
        with contextlib.closing(
            sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        ) as connection:
            # A writer takes the write lock first (IMMEDIATE), so two claims cannot
            # interleave and contention waits out the busy timeout instead of failing.
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                rows: list[tuple[Any, ...]] = []
                for statement, params in statements:
                    rows = connection.execute(statement, params).fetchall()
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return rows
