"""`audit { ... }`: the auditors' cross-source queries over the whole dataset.

`audit_root` is the root field's resolver. It binds the purpose AUDIT — granted
to auditors and credit_admin only, anyone else gets FORBIDDEN_PURPOSE (logged) —
and keeps the viewer under the root field's response key, so everything below
it is masked as the policy says for that role: civil servants' ID numbers and
names are pseudonyms for an auditor, in full for credit_admin.

The queries themselves: `audit_people` (conflictsOfInterest,
promotionsDuringBars), `audit_units` (governmentDebtors,
awardsToIneligibleSuppliers), `audit_log` (accessLog); what they share,
`audit_scan`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from auth.principal import Purpose as AuthPurpose
from auth.visibility import Viewer
from connectors.error_codes import Code
from connectors.identifiers import InvalidIdentifier, normalise_credit_code

from .arguments import DateFrom, DateTo
from .audit_log import access_log
from .audit_people import conflicts_of_interest, promotions_during_bars
from .audit_scan import AuditCall
from .audit_types import (
    AccessLogEntry,
    ConflictOfInterest,
    GovernmentDebtor,
    ImproperPromotion,
    IneligibleAward,
)
from .audit_units import awards_to_ineligible_suppliers, government_debtors
from .context import RequestContext
from .disclosure import grant
from .errors import invalid_identifier, refusal
from .masking import root_key
from .types import Purpose
from .vet import SubjectInput

__all__ = ["AuditQueries", "audit_root"]

Ctx = Info[RequestContext, None]
FromTime = Annotated[
    dt.datetime | None,
    strawberry.argument(name="from", description="From this moment on (included)."),
]
ToTime = Annotated[
    dt.datetime | None, strawberry.argument(description="Before this moment (excluded).")
]


async def audit_root(info: Ctx) -> AuditQueries:
    """Bind purpose AUDIT to the caller and remember the viewer for the fields below."""
    disclosure = info.context.disclosure
    role = grant(disclosure, Purpose.AUDIT)
    if role is None:  # access control switched off (development only)
        viewer = Viewer.unrestricted(AuthPurpose.AUDIT)
    else:
        viewer = Viewer(role, AuthPurpose.AUDIT)
        disclosure.roles.add(role.value)
    disclosure.viewers[root_key(info)] = viewer
    return AuditQueries()


@strawberry.type(description="Cross-source queries for auditors, over the whole dataset.")
class AuditQueries:
    @strawberry.field(
        description="Civil servants (of one unit, if given) who are legal representatives or "
        "shareholders of registered suppliers, with the awards from their own unit."
    )
    async def conflicts_of_interest(
        self,
        info: Ctx,
        unit_code: Annotated[
            str | None,
            strawberry.argument(description="Only this government unit's (a credit code)."),
        ] = None,
    ) -> list[ConflictOfInterest]:
        unit = _credit_code(unit_code, "unitCode") if unit_code is not None else None
        return await conflicts_of_interest(AuditCall.of(info), unit)

    @strawberry.field(
        description="Position changes starting in [from, to] while a CADRE_SELECTION bar held, "
        "with the bars."
    )
    async def promotions_during_bars(
        self, info: Ctx, from_: DateFrom, to: DateTo
    ) -> list[ImproperPromotion]:
        _ordered(from_, to)
        return await promotions_during_bars(AuditCall.of(info), from_, to)

    @strawberry.field(
        description="Government units listed as dishonest judgment debtors today, or with open "
        "LATE_PAYMENT / BREACH issues as purchasers."
    )
    async def government_debtors(self, info: Ctx) -> list[GovernmentDebtor]:
        return await government_debtors(AuditCall.of(info))

    @strawberry.field(
        description="Awards in [from, to] (of one purchaser, if given) whose supplier was "
        "PROCUREMENT_ELIGIBILITY-ineligible on the award date."
    )
    async def awards_to_ineligible_suppliers(
        self,
        info: Ctx,
        purchaser_code: Annotated[
            str | None,
            strawberry.argument(description="Only this purchaser's awards (a credit code)."),
        ] = None,
        *,
        from_: DateFrom,
        to: DateTo,
    ) -> list[IneligibleAward]:
        _ordered(from_, to)
        purchaser = (
            _credit_code(purchaser_code, "purchaserCode") if purchaser_code is not None else None
        )
        return await awards_to_ineligible_suppliers(AuditCall.of(info), purchaser, from_, to)

    @strawberry.field(
        description="Access-log entries, newest first (at most 1,000), about a subject, by an "
        "actor, in [from, to)."
    )
    async def access_log(
        self,
        info: Ctx,
        subject: Annotated[
            SubjectInput | None, strawberry.argument(description="Only entries about this subject.")
        ] = None,
        actor: Annotated[
            str | None,
            strawberry.argument(description="Only entries by this actor (token subject)."),
        ] = None,
        from_: FromTime = None,
        to: ToTime = None,
    ) -> list[AccessLogEntry]:
        return await access_log(info, subject, actor, from_, to)


def _credit_code(value: str, field: str) -> str:
    try:
        return normalise_credit_code(value, field)
    except InvalidIdentifier as error:
        raise invalid_identifier(error) from None


def _ordered(first: dt.date, last: dt.date) -> None:
    if first > last:
        raise refusal(Code.INVALID_ARGUMENT, "`from` is after `to`")
