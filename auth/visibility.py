"""Record visibility (row level), applied before masking: DOMAIN.md rule 3.

`Viewer` is the caller as one root field sees it: the acting role (the first of
the token's roles that grants the declared purpose), that role's sector, the
purpose, and whether it is a data subject asking about itself. "Self" belongs
to the data_subject role alone: an officer whose token names its own unit or
ID number sees that unit, or itself, exactly as a colleague from another unit
would (an officer's token says where it works, not what it may see).

A record is then SHOWN, used to DECIDE only (a RESTRICTED record: its finding
is reported, every detail is hidden), or NOT visible at all:

    credit record   PUBLIC → shown to every role
                    CONDITIONAL → shown when the role's sector is in share_scope
                    RESTRICTED → decide-only when the sector is in share_scope
    archive row     only the ORG_HR, AUDIT and CREDIT_OFFICE sectors (and a data
                    subject about itself); its `disclosure` then decides only
                    whether details are shown (RESTRICTED → decide-only)
    court, procurement   no disclosure attribute: public
    credit_admin    sees every record; a data subject sees every record about itself

In force (rule 1) and the consulted sources (rule 4) are decided elsewhere
(schema/in_force.py, schema/purposes.py); records no longer in force (and
REPAIRED or REVOKED ones) reach only the viewers that see everything.
`Viewer.unrestricted()` is the viewer when access control is switched off
(development only).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .principal import Purpose, Role, Sector

__all__ = ["ARCHIVE_SECTORS", "Access", "Viewer", "archive_access", "credit_access"]

ARCHIVE_SECTORS = frozenset({Sector.ORG_HR, Sector.AUDIT, Sector.CREDIT_OFFICE})


class Access(enum.Enum):
    SHOW = "SHOW"
    DECIDE_ONLY = "DECIDE_ONLY"
    NONE = "NONE"


@dataclass(frozen=True)
class Viewer:
    """Who looks at a subject, for which purpose."""

    role: Role | None  # None: access control is off (development mode only)
    purpose: Purpose
    is_self: bool = False  # a data subject asking about itself (no other role is ever "self")

    def __post_init__(self) -> None:
        if self.is_self and self.role is not Role.DATA_SUBJECT:
            raise ValueError("only a data subject can be its own subject")

    @classmethod
    def unrestricted(cls, purpose: Purpose) -> Viewer:
        return cls(role=None, purpose=purpose)

    @property
    def sector(self) -> Sector | None:
        return self.role.sector if self.role is not None else None

    @property
    def sees_everything(self) -> bool:
        """credit_admin, a data subject about itself, or access control off: every
        record whatever its disclosure, and records no longer in force too."""
        return self.role is None or self.role is Role.CREDIT_ADMIN or self.is_self

    def in_scope(self, share_scope: Iterable[str]) -> bool:
        return self.sector is not None and self.sector in set(share_scope)


def credit_access(disclosure: str, share_scope: Iterable[str], viewer: Viewer) -> Access:
    """How a credit-platform record may be used by `viewer`."""
    if viewer.sees_everything or disclosure == "PUBLIC":
        return Access.SHOW
    if not viewer.in_scope(share_scope):
        return Access.NONE
    return Access.DECIDE_ONLY if disclosure == "RESTRICTED" else Access.SHOW


def archive_access(disclosure: str | None, viewer: Viewer) -> Access:
    """How an archive row (profile, sanction, investigation, ...) may be used."""
    if viewer.sees_everything:
        return Access.SHOW
    if viewer.sector not in ARCHIVE_SECTORS:
        return Access.NONE
    return Access.DECIDE_ONLY if disclosure == "RESTRICTED" else Access.SHOW
