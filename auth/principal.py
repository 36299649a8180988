"""Who is asking: the roles a token may carry, and the verified caller.

The role table is DOMAIN.md's "Roles, purposes, sectors":

    role                 purposes it may declare            sector (share_scope)
    hr_officer           CADRE_SELECTION, HONOURS           ORG_HR
    procurement_officer  PROCUREMENT_ELIGIBILITY            PROCUREMENT
    auditor              AUDIT                              AUDIT
    credit_admin         every purpose                      CREDIT_OFFICE
    data_subject         SELF_CHECK                         none

Purposes and sectors are small string enums of this package: `auth` does not
import the GraphQL schema (the dependency runs schema -> auth), and a `StrEnum`
member compares equal to its plain name, so the schema can pass `purpose.value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Principal", "Purpose", "Role", "Sector"]


class Purpose(StrEnum):
    """A purpose a caller declares for a query."""

    CADRE_SELECTION = "CADRE_SELECTION"
    HONOURS = "HONOURS"
    PROCUREMENT_ELIGIBILITY = "PROCUREMENT_ELIGIBILITY"
    AUDIT = "AUDIT"
    SELF_CHECK = "SELF_CHECK"


class Sector(StrEnum):
    """The sector a role belongs to, matched against a record's `share_scope`."""

    ORG_HR = "ORG_HR"
    PROCUREMENT = "PROCUREMENT"
    AUDIT = "AUDIT"
    CREDIT_OFFICE = "CREDIT_OFFICE"


class Role(StrEnum):
    """A role named in a token's `roles` claim; the value is the claim's spelling."""

    HR_OFFICER = "hr_officer"
    PROCUREMENT_OFFICER = "procurement_officer"
    AUDITOR = "auditor"
    CREDIT_ADMIN = "credit_admin"
    DATA_SUBJECT = "data_subject"

    @property
    def purposes(self) -> frozenset[Purpose]:
        """The purposes this role may declare."""
        return _PURPOSES[self]

    @property
    def sector(self) -> Sector | None:
        """The role's sector; None for a data subject, who belongs to none."""
        return _SECTORS[self]

    def grants(self, purpose: str) -> bool:
        """True when this role may declare `purpose` (a purpose name)."""
        return purpose in _PURPOSES[self]


_PURPOSES: dict[Role, frozenset[Purpose]] = {
    Role.HR_OFFICER: frozenset({Purpose.CADRE_SELECTION, Purpose.HONOURS}),
    Role.PROCUREMENT_OFFICER: frozenset({Purpose.PROCUREMENT_ELIGIBILITY}),
    Role.AUDITOR: frozenset({Purpose.AUDIT}),
    Role.CREDIT_ADMIN: frozenset(Purpose),
    Role.DATA_SUBJECT: frozenset({Purpose.SELF_CHECK}),
}

_SECTORS: dict[Role, Sector | None] = {
    Role.HR_OFFICER: Sector.ORG_HR,
    Role.PROCUREMENT_OFFICER: Sector.PROCUREMENT,
    Role.AUDITOR: Sector.AUDIT,
    Role.CREDIT_ADMIN: Sector.CREDIT_OFFICE,
    Role.DATA_SUBJECT: None,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The verified caller, as its token describes it.

    `roles` keeps the token's order (unknown names dropped, duplicates removed):
    the order decides the acting role. `unit` and `id_number` are canonical
    identifiers. The name and ID number stay out of `repr`, so a principal that
    ends up in a log line or a traceback does not carry them along.
    """

    subject: str
    name: str | None = field(default=None, repr=False)
    roles: tuple[Role, ...]
    unit: str | None = None
    id_number: str | None = field(default=None, repr=False)

    def acting_role(self, purpose: str) -> Role | None:
        """The first of the token's roles that grants `purpose`, or None.

        Its sector and masks apply to the query (ARCHITECTURE.md, "Settled
        details"); None means the purpose is forbidden to this caller.
        """
        return next((role for role in self.roles if role.grants(purpose)), None)

    def has_role(self, role: Role) -> bool:
        """True when the token carries `role`, whatever the purpose."""
        return role in self.roles
