"""`fileObjection`: a data subject disputes one of its credit records (异议).

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
filing, so a retry files nothing twice). Once it is filed, everything cached
about the subject is evicted — in every replica — without waiting for the
platform's change feed, so the next answer shows the record as disputed. A
refusal by the platform (unknown record, another subject's, revoked, already
under another objection) is `NOT_FOUND`; a platform that cannot be reached is
`SOURCE_UNAVAILABLE`, and nothing was filed. The filing is an access-log entry
of its own (outcome `OBJECTION_FILED`), durable before the answer leaves.

Left for the outbox (DOMAIN.md: objections and usage feedback are forwarded
through one durable outbox): keeping a filing that could not be delivered and
forwarding it later. Until then `queued` is always false: an answer either
carries the platform's objection id or is an error.
"""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from connectors.error_codes import Code
from connectors.errors import SourceError, SourceRefused

from .context import RequestContext
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
]

MAX_REASON_CHARS = 2_000
MAX_RECORD_ID_CHARS = 64


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


@strawberry.type(description="An objection (异议) filed with the credit platform.")
class Objection:
    objection_id: strawberry.ID | None = strawberry.field(
        description="The credit platform's objection id."
    )
    status: ObjectionStatus | None = strawberry.field(description="Its status at the platform.")
    queued: bool = strawberry.field(
        description="Always false for now: an objection is filed at once, or fails."
    )


async def file_objection(
    info: Info[RequestContext, None],
    subject: SubjectInput,
    source: SourceName,
    record_id: str,
    reason: str,
) -> Objection:
    kind, key = subject_of(subject, "subject")
    context = info.context
    bind(context.disclosure, info, Purpose.SELF_CHECK, kind, key, asking="file an objection")
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
    try:
        objection_id, status = await context.file_objection(
            record_id, key, reason, context.disclosure.actor
        )
    except SourceRefused:
        raise refusal(
            Code.NOT_FOUND,
            "the credit platform has no such record of this subject open to an objection",
        ) from None
    except SourceError as error:
        raise source_unavailable(error) from None
    context.disclosure.events.append(f"objection:{record_id}:{objection_id}")
    cache = context.loaders.cache
    if cache is not None:
        await cache.evict_subjects([key])
    return Objection(
        objection_id=strawberry.ID(objection_id), status=ObjectionStatus(status), queued=False
    )
