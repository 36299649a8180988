"""`audit { accessLog }`: who asked what about whom, from the tamper-evident access log.

The log keeps subjects as pseudonyms only, so a subject asked about is turned
into its pseudonym with the policy's key (`Pseudonymiser`) and searched for as
such; the entries' subjects come back as pseudonyms, never as identities (an
auditor who needs one asks `revealIdentity`, for a named case). Entries come
newest first, at most `LOG_LIMIT` of them; `to` is exclusive. A time without an
offset is read as Asia/Shanghai time.
"""

from __future__ import annotations

import datetime as dt

from strawberry.types import Info

from connectors.base import SHANGHAI

from .audit_types import AccessLogEntry
from .context import RequestContext
from .types import SubjectKind
from .vet import SubjectInput, subject_of

__all__ = ["LOG_LIMIT", "access_log"]

LOG_LIMIT = 1_000


async def access_log(
    info: Info[RequestContext, None],
    subject: SubjectInput | None,
    actor: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[AccessLogEntry]:
    context = info.context
    pseudonym = None
    if subject is not None:
        kind, key = subject_of(subject, "subject")
        context.disclosure.touch(kind, key)
        pseudonyms = context.disclosure.policy.pseudonymiser
        pseudonym = (
            pseudonyms.person(key) if kind is SubjectKind.PERSON else pseudonyms.organisation(key)
        )
    entries = await context.access_log.search(
        subject=pseudonym, actor=actor, start=_aware(start), end=_aware(end), limit=LOG_LIMIT
    )
    return [AccessLogEntry.of(entry) for entry in entries]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=SHANGHAI)
