"""One item of the outbox, and how the access-log writer stores it with its entry.

The outbox holds what the gateway owes the credit platform: usage feedback
(反馈应用情况) and objections (异议). An item rides on the access-log entry of
the request that made it (`Entry.outbox`) and is inserted in the same
transaction as that entry: no entry, no item; no item without its entry (the
row names the entry's chain and seq). From then on the delivery worker owns it.

    QUEUED      not yet acknowledged by the platform (leased while being sent)
    DELIVERED   acknowledged: `answer` holds the platform's id for it
    REFUSED     the platform refused it as such (E4000): never sent again

The item's id is also its `Idempotency-Key`, so a repeat after a lost answer,
a crash or an expired lease is harmless at the platform. Unlike the entry, the
row changes as delivery goes on, so it is not part of the entry's hash: the
entry's own fields record the request (`usage:REPORT:OUTCOME`, `objection:...`).
"""

from __future__ import annotations

import enum
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OUTBOX_COLUMNS",
    "OUTBOX_POSTGRES_DDL",
    "OUTBOX_SQLITE_DDL",
    "ItemKind",
    "ItemState",
    "OutboxItem",
    "outbox_insert_sql",
    "outbox_values",
]


class ItemKind(enum.Enum):
    USAGE_FEEDBACK = "USAGE_FEEDBACK"
    OBJECTION = "OBJECTION"


class ItemState(enum.Enum):
    QUEUED = "QUEUED"
    DELIVERED = "DELIVERED"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class OutboxItem:
    """What is owed to the platform: `body` is the JSON it is sent as.

    `answer` is set for an objection the platform took at once (its objection
    id): the row is stored DELIVERED, as the record of that filing.
    """

    kind: ItemKind
    actor: str
    subject_code: str
    reference: str  # the report id (usage feedback) or the record id (objection)
    body: Mapping[str, Any]
    answer: str | None = None
    item_id: str = field(default_factory=lambda: secrets.token_hex(16))
    created_at: float = field(default_factory=time.time)

    @property
    def state(self) -> ItemState:
        return ItemState.QUEUED if self.answer is None else ItemState.DELIVERED


OUTBOX_COLUMNS = (
    "item_id",
    "kind",
    "chain_id",
    "seq",
    "actor",
    "subject_code",
    "reference",
    "body",
    "created_at",
    "state",
    "attempts",
    "next_attempt_at",
    "answer",
    "answered_at",
)

# Times are unix seconds (double precision): leases and due times are compared
# with the clock of the process that claims, the same arithmetic in both databases.
_COLUMNS_DDL = """
    item_id {text} PRIMARY KEY,
    kind {text} NOT NULL,
    chain_id {text} NOT NULL,
    seq {integer} NOT NULL,
    actor {text} NOT NULL,
    subject_code {text} NOT NULL,
    reference {text} NOT NULL,
    body {text} NOT NULL,
    created_at {real} NOT NULL,
    state {text} NOT NULL,
    attempts {integer} NOT NULL,
    next_attempt_at {real} NOT NULL,
    answer {text},
    answered_at {real},
    lease_owner {text},
    lease_until {real},
    last_error {text}
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_reference ON outbox (kind, reference);
CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (kind, subject_code);
"""
OUTBOX_SQLITE_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox ("
    + _COLUMNS_DDL.format(text="TEXT", integer="INTEGER", real="REAL")
    + ");"
    + _INDEXES
)
OUTBOX_POSTGRES_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox ("
    + _COLUMNS_DDL.format(text="text", integer="bigint", real="double precision")
    + ");"
    + _INDEXES
)


def outbox_insert_sql(placeholder: str) -> str:
    marks = ", ".join([placeholder] * len(OUTBOX_COLUMNS))
    return f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) VALUES ({marks})"  # noqa: S608


def outbox_values(chain_id: str, seq: int, items: Sequence[OutboxItem]) -> list[tuple[object, ...]]:
    """The rows of the items an entry (chain_id, seq) carries, in OUTBOX_COLUMNS order."""
    return [
        (
            item.item_id,
            item.kind.value,
            chain_id,
            seq,
            item.actor,
            item.subject_code,
            item.reference,
            json.dumps(item.body, ensure_ascii=False, sort_keys=True),
            item.created_at,
            item.state.value,
            0 if item.answer is None else 1,
            item.created_at,
            item.answer,
            None if item.answer is None else item.created_at,
        )
        for item in items
    ]
