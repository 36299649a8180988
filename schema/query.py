"""The root `Query` type: look-ups by identifier, and the platforms' reachability.

Identifiers are validated (and normalised) before any platform is asked; the
purpose decides which platforms are consulted at all.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number

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
from .usage import UsageFeedback, UsageOutcome, record_usage
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


@strawberry.type
class Query:
    @strawberry.field(description="A person by resident ID number (18 digits; 15 are converted).")
    def person(
        self, info: Ctx, id_number: str, purpose: Purpose, as_of: dt.date | None = None
    ) -> Person | None:
        try:
            key = normalise_id_number(id_number, "idNumber")
        except InvalidIdentifier as error:
            raise invalid_identifier(error) from None
        return Person(key=key, consulted=_consulted(info, purpose, SubjectKind.PERSON, key, as_of))

    @strawberry.field(description="An organisation by unified social credit code.")
    def organization(
        self, info: Ctx, credit_code: str, purpose: Purpose, as_of: dt.date | None = None
    ) -> Organization | None:
        try:
            key = normalise_credit_code(credit_code, "creditCode")
        except InvalidIdentifier as error:
            raise invalid_identifier(error) from None
        consulted = _consulted(info, purpose, SubjectKind.ORGANIZATION, key, as_of)
        return Organization(key=key, consulted=consulted)

    @strawberry.field(description="A vetting report on one subject for a purpose, as of a date.")
    async def vet(
        self, info: Ctx, subject: SubjectInput, purpose: Purpose, as_of: dt.date | None = None
    ) -> VettingReport | None:
        return await vet_one(info, subject, purpose, as_of, "subject")

    @strawberry.field(
        description="At most 1,000 subjects; a bad entry is null with an error at path "
        "[vetBatch, i]."
    )
    async def vet_batch(
        self,
        info: Ctx,
        subjects: list[SubjectInput],
        purpose: Purpose,
        as_of: dt.date | None = None,
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
        self, info: Ctx, pseudonym: str, case_number: str
    ) -> SubjectRef | None:
        return await reveal_identity(info, pseudonym, case_number)

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


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="CREDIT_PLATFORM records only; data_subject (own records) and credit_admin."
    )
    async def file_objection(
        self,
        info: Ctx,
        subject: SubjectInput,
        source: SourceName,
        record_id: strawberry.ID,
        reason: str,
    ) -> Objection:
        return await file_objection(info, subject, source, str(record_id), reason)

    @strawberry.mutation(
        description="The human outcome of a report, forwarded to the credit platform "
        "(反馈应用情况)."
    )
    async def record_usage(
        self, info: Ctx, report_id: strawberry.ID, outcome: UsageOutcome
    ) -> UsageFeedback:
        return await record_usage(info, str(report_id), outcome)
