"""The root `Query` type: look-ups by identifier, and the platforms' reachability.

Identifiers are validated (and normalised) before any platform is asked; the
purpose decides which platforms are consulted at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number

from .arguments import AsOf, PurposeArgument
from .audit import AuditQueries, audit_root
from .context import RequestContext
from .disclosure import bind
from .errors import invalid_identifier, purpose_not_applicable
from .objections import Objection, file_objection
from .organization import Organization
from .person import Person
from .purposes import sources_for
from .reports import VettingReport
from .reveal import reveal_identity
from .subjects import Consulted
from .types import Purpose, SourceName, SourceStatus, SubjectKind, SubjectRef
from .usage import UsageFeedback, UsageOutcome, record_usage, usage_feedback
from .vet import SubjectInput, vet_many, vet_one

__all__ = ["Mutation", "Query"]

Ctx = Info[RequestContext, None]


def _consulted(
    info: Ctx, purpose: Purpose, kind: SubjectKind, key: str, as_of: dt.date | None
) -> Consulted:
    sources = sources_for(purpose, kind)
    if sources is None:
        raise purpose_not_applicable(purpose, kind)
    viewer = bind(info.context.disclosure, info, purpose, kind, key)
    return Consulted(sources, as_of or info.context.today(), viewer)


@strawberry.type(
    description="What may be asked: every field reading personal data takes a purpose."
)
class Query:
    @strawberry.field(description="A person by resident ID number (18 digits; 15 are converted).")
    def person(
        self,
        info: Ctx,
        id_number: Annotated[
            str,
            strawberry.argument(
                description="Resident ID number: 18 characters, the last a digit or X "
                "(15-digit numbers are converted)."
            ),
        ],
        purpose: PurposeArgument,
        as_of: AsOf = None,
    ) -> Person | None:
        try:
            key = normalise_id_number(id_number, "idNumber")
        except InvalidIdentifier as error:
            raise invalid_identifier(error) from None
        return Person(key=key, consulted=_consulted(info, purpose, SubjectKind.PERSON, key, as_of))

    @strawberry.field(description="An organisation by unified social credit code.")
    def organization(
        self,
        info: Ctx,
        credit_code: Annotated[
            str,
            strawberry.argument(
                description="Unified social credit code: 18 characters, digits and capital letters."
            ),
        ],
        purpose: PurposeArgument,
        as_of: AsOf = None,
    ) -> Organization | None:
        try:
            key = normalise_credit_code(credit_code, "creditCode")
        except InvalidIdentifier as error:
            raise invalid_identifier(error) from None
        consulted = _consulted(info, purpose, SubjectKind.ORGANIZATION, key, as_of)
        return Organization(key=key, consulted=consulted)

    @strawberry.field(description="A vetting report on one subject for a purpose, as of a date.")
    async def vet(
        self,
        info: Ctx,
        subject: Annotated[SubjectInput, strawberry.argument(description="Whom to vet.")],
        purpose: PurposeArgument,
        as_of: AsOf = None,
    ) -> VettingReport | None:
        return await vet_one(info, subject, purpose, as_of, "subject")

    @strawberry.field(
        description="At most 1,000 subjects; a bad entry is null with an error at path "
        "[vetBatch, i]."
    )
    async def vet_batch(
        self,
        info: Ctx,
        subjects: Annotated[
            list[SubjectInput],
            strawberry.argument(description="Whom to vet: at most 1,000, answered in order."),
        ],
        purpose: PurposeArgument,
        as_of: AsOf = None,
    ) -> list[VettingReport | None]:
        # Errors stand in the list as values; GraphQL turns each into its entry's error.
        return await vet_many(info, subjects, purpose, as_of)  # type: ignore[return-value]

    @strawberry.field(description="Implies purpose AUDIT; auditor and credit_admin only.")
    async def audit(self, info: Ctx) -> AuditQueries | None:
        return await audit_root(info)

    @strawberry.field(
        description="An auditor turns a pseudonym back into an identity for a named case; "
        "every call is logged."
    )
    async def reveal_identity(
        self,
        info: Ctx,
        pseudonym: Annotated[
            str, strawberry.argument(description="A pseudonym this gateway handed out.")
        ],
        case_number: Annotated[
            str,
            strawberry.argument(description="The audit case that needs the identity (logged)."),
        ],
    ) -> SubjectRef | None:
        return await reveal_identity(info, pseudonym, case_number)

    @strawberry.field(
        description="Each outcome recorded for one of the caller's reports, oldest first, "
        "and whether the credit platform has acknowledged it."
    )
    async def usage_feedback(
        self,
        info: Ctx,
        report_id: Annotated[
            strawberry.ID, strawberry.argument(description="The reportId of a vetting report.")
        ],
    ) -> list[UsageFeedback]:
        return await usage_feedback(info, str(report_id))

    @strawberry.field(description="Each platform's reachability, checked now.")
    async def sources(self, info: Ctx) -> list[SourceStatus]:
        probes = await info.context.probe_sources()
        return [
            SourceStatus(
                source=SourceName(probe.platform),
                ok=probe.ok,
                as_of=probe.checked_at if probe.ok else None,
                error=probe.error,
            )
            for probe in probes
        ]


@strawberry.type(description="What may be changed: objections and usage outcomes.")
class Mutation:
    @strawberry.mutation(
        description="CREDIT_PLATFORM records only; data_subject (own records) and credit_admin."
    )
    async def file_objection(
        self,
        info: Ctx,
        subject: Annotated[
            SubjectInput, strawberry.argument(description="Whose record is disputed.")
        ],
        source: Annotated[
            SourceName,
            strawberry.argument(description="The record's platform (CREDIT_PLATFORM only)."),
        ],
        record_id: Annotated[
            strawberry.ID, strawberry.argument(description="The disputed record's recordId.")
        ],
        reason: Annotated[
            str, strawberry.argument(description="Why the record is wrong (1 to 2,000 characters).")
        ],
    ) -> Objection:
        return await file_objection(info, subject, source, str(record_id), reason)

    @strawberry.mutation(
        description="The human outcome of a report, forwarded to the credit platform "
        "(反馈应用情况)."
    )
    async def record_usage(
        self,
        info: Ctx,
        report_id: Annotated[
            strawberry.ID, strawberry.argument(description="The reportId of a vetting report.")
        ],
        outcome: Annotated[
            UsageOutcome, strawberry.argument(description="What the human decision was.")
        ],
        reason: Annotated[
            str | None,
            strawberry.argument(description="Why it was decided so (free text, optional)."),
        ] = None,
        measure: Annotated[
            str | None,
            strawberry.argument(
                description="The measure applied, e.g. 暂缓提拔 (free text, optional)."
            ),
        ] = None,
    ) -> UsageFeedback:
        return await record_usage(info, str(report_id), outcome, reason, measure)
