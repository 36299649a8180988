"""`vet` and `vetBatch`: one subject or up to 1,000, judged by the rule set on a date.

Each subject is checked on its own (identifier, purpose, caller), so a bad entry
in a batch fails that entry — null, with its error at [vetBatch, i] — and not
the batch. All subjects of a batch are fetched together: the DataLoaders make
one batched call per platform, split only by the platforms' batch limits.
Every answer gets a fresh report id, stored with the access-log entry (same
commit) so `recordUsage` can find it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Sequence

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from auth.access_log_entry import ReportRow
from connectors.base import now_shanghai
from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number
from connectors.records import SubjectKey, SubjectType

from .context import RequestContext
from .disclosure import bind
from .errors import invalid_identifier, purpose_not_applicable
from .gather import gather_evidence
from .purposes import sources_for
from .reports import VettingReport
from .types import Purpose, SubjectKind, SubjectRef
from .vetting import NotApplicable, evaluate

__all__ = ["MAX_BATCH", "SubjectInput", "vet_many", "vet_one"]

MAX_BATCH = 1_000
Ctx = Info[RequestContext, None]


@strawberry.input(description="Exactly one of the two.")
class SubjectInput:
    id_number: str | None = None
    credit_code: str | None = None


def subject_of(subject: SubjectInput, field: str) -> tuple[SubjectKind, str]:
    """The subject's kind and canonical identifier, or INVALID_SUBJECT / INVALID_IDENTIFIER."""
    if (subject.id_number is None) == (subject.credit_code is None):
        raise GraphQLError(
            f"{field}: give exactly one of idNumber and creditCode",
            extensions={"code": "INVALID_SUBJECT", "field": field},
        )
    try:
        if subject.id_number is not None:
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
    gathered = await gather_evidence(
        context.loaders, kind, key, sources, viewer, context.vetting.freshness_s
    )
    try:
        report = evaluate(context.vetting.rule_set, purpose, kind, day, gathered.evidence)
    except NotApplicable:
        raise purpose_not_applicable(purpose, kind) from None
    report_id = secrets.token_hex(12)
    context.disclosure.rule_set_version = report.rule_set_version
    context.disclosure.reports.append(
        ReportRow(
            report_id=report_id,
            actor=context.disclosure.actor,
            subject=key,
            purpose=purpose.value,
            as_of=day,
            verdict=report.verdict.value,
            credit_record_ids=gathered.credit_record_ids,
        )
    )
    return VettingReport.of(
        report,
        report_id=report_id,
        subject=await _subject_ref(info, kind, key),
        purpose=purpose,
        sources=gathered.sources,
        policy_version=context.disclosure.policy.version,
        generated_at=now_shanghai(),
    )


async def vet_many(
    info: Ctx, subjects: Sequence[SubjectInput], purpose: Purpose, as_of: dt.date | None
) -> list[VettingReport | GraphQLError]:
    if len(subjects) > MAX_BATCH:
        raise GraphQLError(
            f"at most {MAX_BATCH} subjects per call, got {len(subjects)}",
            extensions={"code": "BATCH_TOO_LARGE"},
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


async def _subject_ref(info: Ctx, kind: SubjectKind, key: str) -> SubjectRef:
    """The subject with its name as the credit platform's registry has it, if it answered."""
    subject_type = SubjectType.PERSON if kind is SubjectKind.PERSON else SubjectType.ORG
    fetched = await info.context.loaders.credit.load(SubjectKey(subject_type, key))
    name = fetched.value.name if fetched.value is not None else None
    if kind is SubjectKind.PERSON:
        return SubjectRef.person(key, name)
    return SubjectRef.organization(key, name)
