"""The `Organization` type: a unit, supplier or enterprise from every consulted platform."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from connectors import records as r
from connectors.error_codes import Code
from connectors.procurement import AwardQuery
from connectors.records import SubjectKey, SubjectType

from .arguments import DateFrom, DateTo, IncludeInactive
from .context import RequestContext
from .errors import refusal
from .in_force import debarment_in_force, issue_open
from .objections import Objection, subject_objections
from .records import (
    Award,
    CreditRecord,
    Debarment,
    EnforcementEntry,
    PurchaserIssue,
    Violation,
)
from .subjects import Consulted, source_status
from .types import SourceName, SourceStatus, SubjectRef

__all__ = ["GOVERNMENT_UNIT_PREFIX", "Organization"]

Ctx = Info[RequestContext, None]

# GB 32100: registration authority 1 (机构编制) and category 1 (机关) = a government organ.
GOVERNMENT_UNIT_PREFIX = "11"
_REGISTERED = frozenset({"ACTIVE", "SUSPENDED", "CANCELLED"})


@strawberry.type(
    description=(
        "An organisation as the platforms know it, masked for the caller's role and purpose."
    )
)
class Organization:
    """An organisation, keyed by unified social credit code."""

    key: strawberry.Private[str]
    consulted: strawberry.Private[Consulted]

    @strawberry.field(description="Its unified social credit code.")
    def credit_code(self) -> str | None:
        return self.key

    @strawberry.field(description="The name (credit platform's registry, else procurement's).")
    async def name(self, info: Ctx) -> str | None:
        """As the credit platform's registry has it, else as procurement has it."""
        subject = await self._credit(info)
        if subject is not None and subject.name:
            return subject.name
        supplier = await self._supplier(info)
        return supplier.name if supplier else None

    @strawberry.field(
        description="GOVERNMENT_UNIT (a 机关 by its credit code), SUPPLIER (registered "
        "in procurement) or ENTERPRISE."
    )
    async def kind(self, info: Ctx) -> str | None:
        # Decided from the code, not the archive: the archive is not consulted for
        # organisations under most purposes (minimum necessary), and a unit's code says it.
        if self.key.startswith(GOVERNMENT_UNIT_PREFIX):
            return "GOVERNMENT_UNIT"
        supplier = await self._supplier(info)
        if supplier is None:
            return None
        return "SUPPLIER" if supplier.registration_status in _REGISTERED else "ENTERPRISE"

    @strawberry.field(
        description=("Its supplier registration: ACTIVE, SUSPENDED, CANCELLED or NOT_REGISTERED.")
    )
    async def registration_status(self, info: Ctx) -> str | None:
        supplier = await self._supplier(info)
        return supplier.registration_status if supplier else None

    @strawberry.field(description="Its legal representative (法定代表人), masked by role.")
    async def legal_representative(self, info: Ctx) -> SubjectRef | None:
        supplier = await self._supplier(info)
        if supplier is None or supplier.legal_representative is None:
            return None
        person = supplier.legal_representative
        return SubjectRef.person(person.id_number, person.name, legal_rep=True)

    @strawberry.field(description="Records of the credit platform about the organisation.")
    async def credit_records(
        self, info: Ctx, include_inactive: IncludeInactive = False
    ) -> list[CreditRecord] | None:
        return await self.consulted.credit_records(
            info, SubjectKey(SubjectType.ORG, self.key), include_inactive
        )

    @strawberry.field(
        description="Entries of the court's dishonest-debtor list about the organisation."
    )
    async def enforcement(
        self, info: Ctx, include_inactive: IncludeInactive = False
    ) -> list[EnforcementEntry] | None:
        return await self.consulted.enforcement(info, self.key, include_inactive)

    @strawberry.field(description="Debarments in force on the as-of date come first.")
    async def debarments(self, info: Ctx) -> list[Debarment] | None:
        supplier = await self._supplier(info)
        if supplier is None:
            return None
        current = self.consulted.current(supplier.debarments, debarment_in_force)
        found = [Debarment.of(d, self.consulted.as_of) for d in current]
        return sorted(found, key=lambda d: not d.in_force)

    @strawberry.field(
        description="Its records of serious illegal or dishonest conduct in procurement."
    )
    async def violations(self, info: Ctx) -> list[Violation] | None:
        supplier = await self._supplier(info)
        return None if supplier is None else [Violation.of(v) for v in supplier.violations]

    @strawberry.field(
        description="As a government buyer: late payments, delayed acceptances and breaches."
    )
    async def purchaser_issues(self, info: Ctx) -> list[PurchaserIssue] | None:
        performance = await self.consulted.load(
            SourceName.PROCUREMENT, info.context.loaders.purchasers, self.key
        )
        if performance is None:
            return None
        current = self.consulted.current(performance.issues, issue_open)
        return [PurchaserIssue.of(issue, self.consulted.as_of) for issue in current]

    @strawberry.field(description="Awards made BY this organisation as purchaser.")
    async def awards(
        self,
        info: Ctx,
        from_: DateFrom,
        to: DateTo,
    ) -> list[Award] | None:
        if from_ > to:
            raise refusal(Code.INVALID_ARGUMENT, "awards: `from` is after `to`")
        query = AwardQuery(purchaser_code=self.key, start=from_, end=to)
        found = await self.consulted.load(
            SourceName.PROCUREMENT, info.context.loaders.awards, query
        )
        return None if found is None else [Award.of(award) for award in found]

    @strawberry.field(
        description="Objections filed about this organisation, with the credit platform's "
        "decision (the unit itself as data subject, and credit_admin only)."
    )
    async def objections(self, info: Ctx) -> list[Objection] | None:
        return await subject_objections(info, self.consulted.viewer, self.key)

    @strawberry.field(description="Each consulted platform: answered or not, and when.")
    async def sources(self, info: Ctx) -> list[SourceStatus]:
        loaders = info.context.loaders
        checks = {
            SourceName.CREDIT_PLATFORM: lambda: source_status(
                SourceName.CREDIT_PLATFORM, loaders.credit, SubjectKey(SubjectType.ORG, self.key)
            ),
            SourceName.PROCUREMENT: lambda: source_status(
                SourceName.PROCUREMENT, loaders.suppliers, self.key
            ),
            SourceName.COURT: lambda: source_status(
                SourceName.COURT, loaders.enforcement, self.key
            ),
        }
        return await self.consulted.statuses(checks)

    async def _credit(self, info: Ctx) -> r.CreditSubject | None:
        return await self.consulted.load(
            SourceName.CREDIT_PLATFORM,
            info.context.loaders.credit,
            SubjectKey(SubjectType.ORG, self.key),
        )

    async def _supplier(self, info: Ctx) -> r.SupplierStatus | None:
        return await self.consulted.load(
            SourceName.PROCUREMENT, info.context.loaders.suppliers, self.key
        )
