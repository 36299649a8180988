"""`vet` and `vetBatch`: one subject or up to 1,000, judged by the rule set on a date.

Each subject is checked on its own (identifier, purpose, caller), so a bad entry
in a batch fails that entry — null, with its error at [vetBatch, i] — and not
the batch. An entry naming neither or both identifiers is not an entry at all:
`SubjectInput` is `@oneOf`, so GraphQL refuses the request before it runs.

All subjects of a batch are fetched together: the DataLoaders make
one batched call per platform, split only by the platforms' batch limits.
Every answer gets a fresh report id, stored with the access-log entry (same
commit) so `recordUsage` can find it.

Level 2 of the cache: what an evaluation gave (`Judged`: the engine's report,
the subject's name, the credit records it rested on, when each source was
fetched) is kept by (subject, purpose, as-of date, rule-set version, policy
version, visibility class). Record visibility shapes the evidence, so the class
is the acting role's sector, or "self" for a data subject about itself; masking
still happens on the way out, per role. Only a report every source answered
for (fresh) is kept; it expires with the earliest record end among its
evidence, is evicted with any of its level-1 entries, and is not used once a
source's data is past its freshness limit. A cached report is still a new
answer: its own report id, generation time and access-log entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.access_log_entry import ReportRow
from auth.visibility import Viewer
from connectors.base import now_shanghai
from connectors.cache import ReportKey
from connectors.error_codes import Code
from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number
from connectors.records import SubjectKey, SubjectType

from .context import RequestContext
from .disclosure import bind
from .errors import invalid_identifier, purpose_not_applicable, refusal
from .gather import gather_evidence
from .loaders import SourceCache
from .purposes import sources_for
from .reports import VettingReport
from .types import Purpose, SourceName, SourceStatus, SubjectKind, SubjectRef
from .vetting import (
    Effect,
    Finding,
    Missing,
    MissingSource,
    NotApplicable,
    Report,
    Verdict,
    evaluate,
)

__all__ = [
    "MAX_BATCH",
    "REPORT_TYPES",
    "Judged",
    "SubjectInput",
    "new_report_id",
    "vet_many",
    "vet_one",
]

MAX_BATCH = 1_000
Ctx = Info[RequestContext, None]


@dataclass(frozen=True)
class Judged:
    """One evaluation as the report cache keeps it: nothing of the caller, no report id."""

    report: Report
    subject_name: str | None  # as the credit platform's registry has it
    credit_record_ids: tuple[str, ...]
    fetched: tuple[tuple[SourceName, dt.datetime | None], ...]  # each source's fetch time


# Every type a cached `Judged` holds: the cache's codec must know them.
REPORT_TYPES: tuple[type, ...] = (
    Judged,
    Report,
    Finding,
    MissingSource,
    Verdict,
    Effect,
    Missing,
    SourceName,
    Purpose,
    SubjectKind,
)


@strawberry.input(
    description="A person or an organisation: exactly one of the two (`@oneOf`).", one_of=True
)
class SubjectInput:
    id_number: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Resident ID number: 18 characters, the last a digit or X "
        "(15-digit numbers are converted).",
    )
    credit_code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Unified social credit code: 18 characters, digits and capital letters.",
    )


def subject_of(subject: SubjectInput, field: str) -> tuple[SubjectKind, str]:
    """The subject's kind and canonical identifier, or INVALID_IDENTIFIER.

    `@oneOf` let exactly one of the two through (the other is UNSET).
    """
    try:
        if isinstance(subject.id_number, str):
            return SubjectKind.PERSON, normalise_id_number(subject.id_number, f"{field}.idNumber")
        return SubjectKind.ORGANIZATION, normalise_credit_code(
            subject.credit_code or "", f"{field}.creditCode"
        )
    except InvalidIdentifier as error:
        raise invalid_identifier(error) from None


async def vet_one(
    info: Ctx, subject: SubjectInput, purpose: Purpose, as_of: dt.date | None, field: str
) -> VettingReport:
    """The report on one subject; raises a GraphQL error when it cannot be given."""
    kind, key = subject_of(subject, field)
    sources = sources_for(purpose, kind)
    if sources is None or purpose is Purpose.AUDIT:
        raise purpose_not_applicable(purpose, kind)
    context = info.context
    viewer = bind(context.disclosure, info, purpose, kind, key)
    day = as_of or context.today()
    judged, statuses = await _judge(info, kind, key, purpose, sources, viewer, day)
    report = judged.report
    report_id = new_report_id()
    context.disclosure.rule_set_version = report.rule_set_version
    context.disclosure.reports.append(
        ReportRow(
            report_id=report_id,
            actor=context.disclosure.actor,
            subject=key,
            purpose=purpose.value,
            as_of=day,
            verdict=report.verdict.value,
            credit_record_ids=judged.credit_record_ids,
        )
    )
    cache = context.loaders.cache
    return VettingReport.of(
        report,
        report_id=report_id,
        subject=(
            SubjectRef.person(key, judged.subject_name)
            if kind is SubjectKind.PERSON
            else SubjectRef.organization(key, judged.subject_name)
        ),
        purpose=purpose,
        sources=statuses,
        policy_version=context.disclosure.policy.version,
        generated_at=cache.now() if cache is not None else now_shanghai(),
    )


async def _judge(
    info: Ctx,
    kind: SubjectKind,
    key: str,
    purpose: Purpose,
    sources: frozenset[SourceName],
    viewer: Viewer,
    day: dt.date,
) -> tuple[Judged, list[SourceStatus]]:
    """The evaluation and its sources: cached for this visibility class, else made now."""
    context = info.context
    cache = context.loaders.cache
    report_key = ReportKey(
        subject=key,
        purpose=purpose.value,
        as_of=day,
        rule_set_version=context.vetting.rule_set.version,
        policy_version=context.disclosure.policy.version,
        visibility=visibility_class(viewer),
    )
    if cache is not None and cache.keeps:
        held = await cache.records.report(report_key)
        statuses = _still_fresh(held.value, cache) if held is not None else None
        if held is not None and statuses is not None:
            context.basis.rests_on(held, (cache.freshness_s[s.value] for s in sources))
            return held.value, statuses
    gathered = await gather_evidence(
        context.loaders, kind, key, sources, viewer, context.vetting.freshness_s
    )
    await context.vetting.pacer.turn()  # a batch's evaluations share the loop's turns
    try:
        report = evaluate(context.vetting.rule_set, purpose, kind, day, gathered.evidence)
    except NotApplicable:
        raise purpose_not_applicable(purpose, kind) from None
    judged = Judged(
        report=report,
        subject_name=await _subject_name(info, kind, key),
        credit_record_ids=gathered.credit_record_ids,
        fetched=tuple((status.source, status.as_of) for status in gathered.sources),
    )
    fetched = [status.as_of for status in gathered.sources if status.ok and not status.stale]
    if (
        cache is not None
        and cache.keeps
        and len(fetched) == len(gathered.sources)
        and None not in fetched
    ):
        # As old as its oldest data: an eviction since then (heard or not yet
        # heard here) refuses it.
        oldest = min(at for at in fetched if at is not None)
        await cache.records.store_report(
            report_key,
            judged,
            ttl_s=min(cache.ttl_s[source.value] for source in sources),
            depends_on=gathered.depends_on,
            fetched_at=oldest,
            asked_at=oldest,
        )
    return judged, gathered.sources


def new_report_id() -> str:
    """A report id: random, so one answer's id tells nothing of another's."""
    return secrets.token_hex(12)


def visibility_class(viewer: Viewer) -> str:
    """Who sees the same evidence: the acting role's sector, or "self" (a data
    subject about itself: no other role is ever "self", see auth/visibility.py)."""
    if viewer.is_self:
        return "self"
    if viewer.role is None:
        return "unrestricted"  # access control off (development only)
    return viewer.sector.value if viewer.sector is not None else viewer.role.value


def _still_fresh(judged: Judged, cache: SourceCache) -> list[SourceStatus] | None:
    """The sources of a cached evaluation, or None once one is past its freshness limit."""
    now = cache.now()
    statuses = []
    for source, fetched_at in judged.fetched:
        if fetched_at is None:
            return None
        age_s = max((now - fetched_at).total_seconds(), 0.0)
        if age_s > cache.freshness_s[source.value]:
            return None
        statuses.append(SourceStatus(source=source, ok=True, as_of=fetched_at, age_s=age_s))
    return statuses


async def vet_many(
    info: Ctx, subjects: Sequence[SubjectInput], purpose: Purpose, as_of: dt.date | None
) -> list[VettingReport | GraphQLError]:
    if len(subjects) > MAX_BATCH:
        raise refusal(
            Code.BATCH_TOO_LARGE, f"at most {MAX_BATCH} subjects per call, got {len(subjects)}"
        )
    outcomes = await asyncio.gather(
        *(vet_one(info, s, purpose, as_of, f"subjects[{i}]") for i, s in enumerate(subjects)),
        return_exceptions=True,
    )
    # A GraphQLError in the list becomes that entry's error (null at [vetBatch, i]).
    return [
        outcome if isinstance(outcome, VettingReport | GraphQLError) else _internal(outcome)
        for outcome in outcomes
    ]


def _internal(error: BaseException) -> GraphQLError:
    if not isinstance(error, Exception):
        raise error  # cancellation and the like are not answers
    return GraphQLError("internal error", original_error=error)


async def _subject_name(info: Ctx, kind: SubjectKind, key: str) -> str | None:
    """The subject's name as the credit platform's registry has it, if it answered."""
    subject_type = SubjectType.PERSON if kind is SubjectKind.PERSON else SubjectType.ORG
    fetched = await info.context.loaders.credit.load(SubjectKey(subject_type, key))
    answered = fetched.value if fetched.error is None else None
    return answered.name if answered is not None else None
