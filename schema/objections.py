"""`fileObjection`: a data subject disputes one of its credit records (异议); and its status.

Who: the data subject about itself, and credit_admin on a subject's behalf —
the declared purpose is SELF_CHECK, so the usual binding applies: another role
gets FORBIDDEN_PURPOSE, a data subject naming someone else FORBIDDEN_SUBJECT
(*reading*: the contract names the two roles, not the purpose or the codes).
The caller declared no purpose, so the refusal says who may file (the roles
that grant SELF_CHECK) rather than naming one.
Only credit-platform records can be disputed here (`OBJECTION_NOT_SUPPORTED`
for the other sources).

The objection goes to the credit platform at once, with the connector's retries
(the platform answers a repeat of the very same pending filing with that
filing, and the filing carries its outbox item's id as `Idempotency-Key`).
Then:

- the platform took it: the answer carries its id and status, `queued: false`,
  and everything cached about the subject is evicted — in every replica —
  without waiting for the change feed, so the next answer shows the record as
  disputed;
- the platform refused it (unknown record, another subject's, revoked, already
  under another objection): `NOT_FOUND`, nothing is kept;
- the platform could not be reached (down, too slow, rate limited, breaker
  open): the objection is kept in the outbox and forwarded later by the
  delivery worker (`gateway/delivery.py`); the answer says `queued: true`
  with no id yet;
- any other failure (credentials refused, an answer that cannot be trusted):
  `SOURCE_UNAVAILABLE`, nothing kept.

Either way the filing is an access-log entry of its own (outcome
`OBJECTION_FILED`) and an outbox row in the same transaction (DELIVERED at once
when the platform took it), durable before the answer leaves.

`objections` on a person or organisation (the data subject itself and
credit_admin only) lists every objection filed through the gateway about the
subject, with the platform's decision read now from
`GET /api/v2/objections/{id}` (RECEIVED, UPHELD or REJECTED, and when); a
decision the platform could not be asked for is null with `SOURCE_UNAVAILABLE`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import secrets
from typing import Any

import strawberry
from strawberry.types import Info

from auth.outbox import ItemStatus
from auth.outbox_item import ItemKind, ItemState, OutboxItem
from auth.principal import Role
from auth.visibility import Viewer
from connectors.base import SHANGHAI
from connectors.credit_parse import ObjectionDecision
from connectors.error_codes import Code
from connectors.errors import SourceError, SourceRefused, SourceUnavailable

from .context import RequestContext
from .delivery import DeliveryState
from .disclosure import bind
from .errors import refusal, source_unavailable
from .types import Purpose, SourceName, describe_values
from .vet import SubjectInput, subject_of

__all__ = [
    "MAX_REASON_CHARS",
    "MAX_RECORD_ID_CHARS",
    "Objection",
    "ObjectionStatus",
    "file_objection",
    "subject_objections",
]

MAX_REASON_CHARS = 2_000
MAX_RECORD_ID_CHARS = 64

Ctx = Info[RequestContext, None]


@strawberry.enum(description="Where an objection stands at the credit platform.")
class ObjectionStatus(enum.Enum):
    RECEIVED = "RECEIVED"
    UPHELD = "UPHELD"
    REJECTED = "REJECTED"


describe_values(
    ObjectionStatus,
    {
        "RECEIVED": "Filed; the record is OBJECTION_PENDING until it is decided.",
        "UPHELD": "Upheld: the record is revoked.",
        "REJECTED": "Rejected: the record is back as it was.",
    },
)


@strawberry.type(description="An objection (异议) to a credit record, and where it stands.")
class Objection:
    objection_id: strawberry.ID | None = strawberry.field(
        description="The credit platform's objection id; null until it has taken the objection."
    )
    queued: bool = strawberry.field(
        description="True while the gateway keeps it, to be forwarded: the platform could not "
        "take it yet."
    )
    record_id: strawberry.ID = strawberry.field(description="The credit record objected to.")
    filed_at: dt.datetime = strawberry.field(description="When it was filed through the gateway.")
    delivery: DeliveryState = strawberry.field(
        description="Where its forwarding to the credit platform stands."
    )
    # What the platform said (at filing, or asked now); its error when it could not be asked.
    decision: strawberry.Private[ObjectionDecision | SourceError | None]

    @strawberry.field(
        description="Its status at the platform, asked now; null until it has taken the objection."
    )
    def status(self) -> ObjectionStatus | None:
        if isinstance(self.decision, SourceError):
            raise source_unavailable(self.decision)
        return None if self.decision is None else ObjectionStatus(self.decision.status)

    @strawberry.field(description="When the platform decided (UPHELD or REJECTED).")
    def decided_at(self) -> dt.datetime | None:
        return self.decision.decided_at if isinstance(self.decision, ObjectionDecision) else None

    @classmethod
    def of(cls, item: ItemStatus, decision: ObjectionDecision | SourceError | None) -> Objection:
        delivery = DeliveryState.of(item.state)
        return cls(
            objection_id=None if item.answer is None else strawberry.ID(item.answer),
            queued=delivery is DeliveryState.QUEUED,
            record_id=strawberry.ID(item.reference),
            filed_at=item.created_at.astimezone(SHANGHAI),
            delivery=delivery,
            decision=decision,
        )


async def file_objection(
    info: Ctx,
    subject: SubjectInput,
    source: SourceName,
    record_id: str,
    reason: str,
) -> Objection:
    kind, key = subject_of(subject, "subject")
    context = info.context
    disclosure = context.disclosure
    bind(disclosure, info, Purpose.SELF_CHECK, kind, key, asking="file an objection")
    if source is not SourceName.CREDIT_PLATFORM:
        raise refusal(
            Code.OBJECTION_NOT_SUPPORTED,
            f"objections to {source.name} records are not taken here",
            source=source.name,
        )
    reason, record_id = reason.strip(), record_id.strip()
    if not 0 < len(reason) <= MAX_REASON_CHARS or not 0 < len(record_id) <= MAX_RECORD_ID_CHARS:
        raise refusal(
            Code.INVALID_ARGUMENT,
            f"give a record id of 1 to {MAX_RECORD_ID_CHARS} characters and a reason"
            f" of 1 to {MAX_REASON_CHARS}",
        )
    item_id = secrets.token_hex(16)
    filing: dict[str, Any] = {
        "record_id": record_id,
        "subject_code": key,
        "reason": reason,
        "filed_by": disclosure.actor,
    }
    decision: ObjectionDecision | None = None
    try:
        objection_id, status = await context.file_objection(
            record_id, key, reason, disclosure.actor, item_id
        )
        decision = ObjectionDecision(objection_id, record_id, status, None)
    except SourceRefused:
        raise refusal(
            Code.NOT_FOUND,
            "the credit platform has no such record of this subject open to an objection",
        ) from None
    except SourceUnavailable:
        pass  # kept, and forwarded once the platform can be reached
    except SourceError as error:
        raise source_unavailable(error) from None
    item = OutboxItem(
        kind=ItemKind.OBJECTION,
        actor=disclosure.actor,
        subject_code=key,
        reference=record_id,
        body=filing,
        answer=None if decision is None else decision.objection_id,
        item_id=item_id,
    )
    disclosure.outbox.append(item)
    disclosure.events.append(f"objection:{record_id}:{item.answer or 'QUEUED'}")
    cache = context.loaders.cache
    if decision is not None and cache is not None:
        await cache.evict_subjects([key])
    return Objection(
        objection_id=None if decision is None else strawberry.ID(decision.objection_id),
        queued=decision is None,
        record_id=strawberry.ID(record_id),
        filed_at=dt.datetime.fromtimestamp(item.created_at, SHANGHAI),
        delivery=DeliveryState.QUEUED if decision is None else DeliveryState.DELIVERED,
        decision=decision,
    )


async def subject_objections(info: Ctx, viewer: Viewer, key: str) -> list[Objection] | None:
    """The objections filed about subject `key`, for the data subject itself and credit_admin."""
    context = info.context
    if not (viewer.is_self or viewer.role in {None, Role.CREDIT_ADMIN}):
        context.disclosure.note(info, "HIDDEN")
        return None
    items = await context.outbox.items(ItemKind.OBJECTION, subject_code=key)

    async def decision(item: ItemStatus) -> ObjectionDecision | SourceError | None:
        if item.state is not ItemState.DELIVERED or item.answer is None:
            return None
        try:
            return await context.objection_decision(item.answer)
        except SourceError as error:
            return error

    decisions = await asyncio.gather(*(decision(item) for item in items))
    return [Objection.of(item, found) for item, found in zip(items, decisions, strict=True)]
