"""The `Person` type: one person's data from every platform the purpose consults."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from auth.access_log_entry import Entry
from auth.principal import Role
from auth.visibility import Access, archive_access
from connectors import records as r
from connectors.identifiers import id_number_birth_date
from connectors.records import SubjectKey, SubjectType

from .arguments import IncludeInactive
from .context import RequestContext
from .in_force import investigation_open, restriction_active, sanction_in_force
from .masking import Masked, MaskRule
from .objections import Objection, subject_objections
from .records import BusinessRole, ConsumptionRestriction, CreditRecord, EnforcementEntry
from .subjects import Consulted, source_status
from .types import Purpose, SourceName, SourceStatus, SubjectRef

__all__ = ["CivilServant", "Person"]

Ctx = Info[RequestContext, None]
SHOW = Access.SHOW


@strawberry.type(description="One post a civil servant held (a promotion or a move).")
class PositionChange:
    position: str | None = strawberry.field(description="The post.")
    rank_level: str | None = strawberry.field(description="The rank (职级) in the post.")
    unit: SubjectRef | None = strawberry.field(description="The government unit of the post.")
    start_date: dt.date | None = strawberry.field(description="When the post began.")
    end_date: dt.date | None = strawberry.field(
        description="When it ended; null for the current post."
    )


@strawberry.type(description="A civil servant's annual assessment (年度考核).")
class Assessment:
    year: int = strawberry.field(description="The year assessed.")
    grade: str = strawberry.field(
        description="EXCELLENT, COMPETENT, BASICALLY_COMPETENT, INCOMPETENT or NOT_GRADED."
    )


@strawberry.type(description="A disciplinary sanction: 政务处分, 党纪处分, 诫勉 or 组织处理.")
class Sanction:
    sanction_id: strawberry.ID = strawberry.field(description="The archive's sanction id.")
    kind: str = strawberry.field(
        description=(
            "The kind of sanction, e.g. GOV_DEMERIT or PARTY_WARNING (DOMAIN.md lists them)."
        )
    )
    decision_no: str | None = strawberry.field(description="Number of the decision document.")
    authority: str | None = strawberry.field(description="The body that decided.")
    decision_date: dt.date | None = strawberry.field(
        description="When it was decided; its period runs from this day."
    )
    period_months: int | None = strawberry.field(
        description="Its period in months, where the decision set one."
    )
    reason: str | None = strawberry.field(description="Why it was given.")
    revoked_date: dt.date | None = strawberry.field(description="When it was revoked, if it was.")
    disclosure: str | None = strawberry.field(
        description="PUBLIC, CONDITIONAL or RESTRICTED, as the archive marks it."
    )
    in_force: bool = strawberry.field(
        description="Within its period, and not revoked, on the question's as-of date."
    )


@strawberry.type(description="A case opened against a civil servant (立案审查调查).")
class Investigation:
    case_id: strawberry.ID = strawberry.field(description="The archive's case id.")
    authority: str | None = strawberry.field(description="The body investigating.")
    opened_date: dt.date | None = strawberry.field(description="When the case was opened.")
    closed_date: dt.date | None = strawberry.field(
        description="When it was closed; null while it is open."
    )


@strawberry.type(
    description="A check of a civil servant's report on personal matters (个人有关事项报告查核)."
)
class MattersReportCheck:
    year: int = strawberry.field(description="The year of the report checked.")
    check_date: dt.date = strawberry.field(description="When it was checked.")
    result: str = strawberry.field(description="CONSISTENT, MINOR_OMISSION or CONCEALMENT.")


@strawberry.type(description="An honour a civil servant received.")
class Honour:
    year: int = strawberry.field(description="The year it was given.")
    title: str = strawberry.field(description="The honour.")
    level: str | None = strawberry.field(description="Its level (e.g. provincial, municipal).")


@strawberry.type(description="One request about the person, as the access log recorded it.")
class AccessHistoryEntry:
    at: dt.datetime = strawberry.field(description="When the request was made.")
    actor_unit: str | None = strawberry.field(
        description="The unit of whoever asked; null when the caller had none."
    )
    purpose: Purpose | None = strawberry.field(
        description="The purpose declared; null when the request declared none or several."
    )
    outcome: str = strawberry.field(
        description="What became of the request, as the access log records it: OK, "
        "PARTIAL (answered with errors), DENIED (refused: the caller asked for what its "
        "roles do not allow), OBJECTION_FILED, USAGE_RECORDED or IDENTITY_REVEALED."
    )

    @classmethod
    def of(cls, entry: Entry) -> AccessHistoryEntry:
        purposes = {p.value for p in Purpose}
        return cls(
            at=entry.time,
            actor_unit=None if entry.unit == "-" else entry.unit,
            # An entry naming several purposes (one request, several root fields) has none single.
            purpose=Purpose(entry.purpose) if entry.purpose in purposes else None,
            outcome=entry.outcome,
        )


@strawberry.type(description="A person's record in the civil-service integrity archive.")
class CivilServant:
    unit: SubjectRef | None = strawberry.field(
        description="The government unit the person works for."
    )
    position: str | None = strawberry.field(description="The current post.")
    rank_level: str | None = strawberry.field(description="The current rank (职级).")
    status: str | None = strawberry.field(description="ACTIVE, RETIRED or DISMISSED.")
    position_history: list[PositionChange] | None = strawberry.field(
        description="Every post held, oldest first."
    )
    assessments: list[Assessment] | None = strawberry.field(
        description="Annual assessments, by year."
    )
    sanctions: list[Sanction] | None = strawberry.field(
        description=("Disciplinary sanctions; those not in force only with their inForce false.")
    )
    investigations: list[Investigation] | None = strawberry.field(
        description="Cases opened against the person (hidden from most roles).",
        extensions=[Masked(lambda _: MaskRule("investigations", "text"), leaf=False)],
    )
    matters_report_checks: list[MattersReportCheck] | None = strawberry.field(
        description="Checks of the person's reports on personal matters."
    )
    honours: list[Honour] | None = strawberry.field(description="Honours received.")

    @classmethod
    def of(cls, file: r.CivilServantFile, consulted: Consulted, info: Ctx) -> CivilServant:
        """The file as the viewer may see it: RESTRICTED sanctions and
        investigations only decide, so they are left out (and the answer says so)."""
        as_of, viewer = consulted.as_of, consulted.viewer
        # What is no longer in force does not exist for an officer: it is neither
        # listed nor counted among the omitted.
        usable_sanctions = consulted.current(file.sanctions, sanction_in_force)
        usable_investigations = consulted.current(file.investigations, investigation_open)
        sanctions = [s for s in usable_sanctions if archive_access(s.disclosure, viewer) is SHOW]
        investigations = [
            i for i in usable_investigations if archive_access(i.disclosure, viewer) is SHOW
        ]
        omitted = len(usable_sanctions) + len(usable_investigations)
        consulted.note_decide_only(info, omitted - len(sanctions) - len(investigations))
        return cls(
            unit=SubjectRef.organization(file.unit_code, file.unit_name),
            position=file.position,
            rank_level=file.rank_level,
            status=file.status,
            position_history=[
                PositionChange(
                    position=change.position,
                    rank_level=change.rank_level,
                    unit=SubjectRef.organization(change.unit_code, None),
                    start_date=change.start_date,
                    end_date=change.end_date,
                )
                for change in file.position_history
            ],
            assessments=[Assessment(year=a.year, grade=a.grade) for a in file.assessments],
            sanctions=[
                Sanction(
                    sanction_id=strawberry.ID(s.sanction_id),
                    kind=s.kind,
                    decision_no=s.decision_no,
                    authority=s.authority,
                    decision_date=s.decision_date,
                    period_months=s.period_months,
                    reason=s.reason,
                    revoked_date=s.revoked_date,
                    disclosure=s.disclosure,
                    in_force=sanction_in_force(s, as_of),
                )
                for s in sanctions
            ],
            investigations=[
                Investigation(
                    case_id=strawberry.ID(i.case_id),
                    authority=i.authority,
                    opened_date=i.opened_date,
                    closed_date=i.closed_date,
                )
                for i in investigations
            ],
            matters_report_checks=[
                MattersReportCheck(year=c.year, check_date=c.check_date, result=c.result)
                for c in file.matters_report_checks
            ],
            honours=[Honour(year=h.year, title=h.title, level=h.level) for h in file.honours],
        )


@strawberry.type(
    description=("A person as the platforms know it, masked for the caller's role and purpose.")
)
class Person:
    """A person, keyed by resident ID number; source-backed fields are null when
    their platform failed (with an error) or is not consulted for the purpose."""

    key: strawberry.Private[str]  # the validated ID number every platform is asked with
    consulted: strawberry.Private[Consulted]

    @strawberry.field(
        description="The resident ID number, masked as the caller's role requires.",
        extensions=[Masked(lambda p: MaskRule("person_id_number", "id_number", p.key))],
    )
    def id_number(self) -> str | None:
        return self.key

    @strawberry.field(
        description="The name (credit platform's registry, else the archive), masked by role.",
        extensions=[Masked(lambda p: MaskRule("person_name", "name", p.key))],
    )
    async def name(self, info: Ctx) -> str | None:
        """As the credit platform's registry has it, else as the archive has it."""
        subject = await self._credit(info)
        if subject is not None and subject.name:
            return subject.name
        file = await self.consulted.load(SourceName.ARCHIVE, info.context.loaders.archive, self.key)
        return file.name if file else None

    @strawberry.field(description="M or F, from the 17th digit of the ID number.")
    def gender(self) -> str | None:
        return "M" if int(self.key[16]) % 2 else "F"

    @strawberry.field(
        description="YYYY-MM-DD, from the ID number (YYYY under YEAR_ONLY).",
        extensions=[Masked(lambda p: MaskRule("birth_date", "date", p.key))],
    )
    def birth_date(self) -> str | None:
        born = id_number_birth_date(self.key)
        return born.isoformat() if born else None

    @strawberry.field(
        description="The person's file in the civil-service integrity archive; null for "
        "someone who is not a civil servant, or whose role or purpose may not see it.",
        extensions=[Masked(lambda _: MaskRule("civil_servant", "text"), leaf=False)],
    )
    async def civil_servant(self, info: Ctx) -> CivilServant | None:
        if archive_access(None, self.consulted.viewer) is Access.NONE:
            info.context.disclosure.note(info, "HIDDEN")
            return None
        file = await self.consulted.load(SourceName.ARCHIVE, info.context.loaders.archive, self.key)
        return CivilServant.of(file, self.consulted, info) if file else None

    @strawberry.field(description="Records of the credit platform about the person.")
    async def credit_records(
        self, info: Ctx, include_inactive: IncludeInactive = False
    ) -> list[CreditRecord] | None:
        return await self.consulted.credit_records(
            info, SubjectKey(SubjectType.PERSON, self.key), include_inactive
        )

    @strawberry.field(description="Entries of the court's dishonest-debtor list about the person.")
    async def enforcement(
        self, info: Ctx, include_inactive: IncludeInactive = False
    ) -> list[EnforcementEntry] | None:
        return await self.consulted.enforcement(info, self.key, include_inactive)

    @strawberry.field(description="Court orders restricting the person's high consumption.")
    async def consumption_restrictions(self, info: Ctx) -> list[ConsumptionRestriction] | None:
        orders = await self.consulted.load(
            SourceName.COURT, info.context.loaders.restrictions, self.key
        )
        if orders is None:
            return None
        return [
            ConsumptionRestriction.of(o) for o in self.consulted.current(orders, restriction_active)
        ]

    @strawberry.field(description="Suppliers the person represents or holds shares in.")
    async def business_roles(self, info: Ctx) -> list[BusinessRole] | None:
        person = await self.consulted.load(
            SourceName.PROCUREMENT, info.context.loaders.representatives, self.key
        )
        return None if person is None else [BusinessRole.of(role) for role in person.roles]

    @strawberry.field(
        description="Who looked this person up: the actor's unit and purpose, never the actor "
        "(the data subject itself and credit_admin only)."
    )
    async def access_history(self, info: Ctx) -> list[AccessHistoryEntry] | None:
        viewer = self.consulted.viewer
        if not (viewer.is_self or viewer.role in {None, Role.CREDIT_ADMIN}):
            info.context.disclosure.note(info, "HIDDEN")
            return None
        pseudonym = info.context.disclosure.policy.pseudonymiser.person(self.key)
        entries = await info.context.access_log.search(subject=pseudonym, limit=500)
        return [AccessHistoryEntry.of(entry) for entry in entries]

    @strawberry.field(
        description="Objections filed about this person, with the credit platform's decision "
        "(the data subject itself and credit_admin only)."
    )
    async def objections(self, info: Ctx) -> list[Objection] | None:
        return await subject_objections(info, self.consulted.viewer, self.key)

    @strawberry.field(description="Each consulted platform: answered or not, and when.")
    async def sources(self, info: Ctx) -> list[SourceStatus]:
        loaders = info.context.loaders
        checks = {
            SourceName.CREDIT_PLATFORM: lambda: source_status(
                SourceName.CREDIT_PLATFORM, loaders.credit, SubjectKey(SubjectType.PERSON, self.key)
            ),
            SourceName.PROCUREMENT: lambda: source_status(
                SourceName.PROCUREMENT, loaders.representatives, self.key
            ),
            SourceName.COURT: lambda: source_status(
                SourceName.COURT, loaders.enforcement, self.key
            ),
            SourceName.ARCHIVE: lambda: source_status(
                SourceName.ARCHIVE, loaders.archive, self.key
            ),
        }
        return await self.consulted.statuses(checks)

    async def _credit(self, info: Ctx) -> r.CreditSubject | None:
        return await self.consulted.load(
            SourceName.CREDIT_PLATFORM,
            info.context.loaders.credit,
            SubjectKey(SubjectType.PERSON, self.key),
        )
