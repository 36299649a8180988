"""What one request may disclose, and the record of what it did disclose.

Every root field that reads personal data binds its declared purpose to the
caller (`bind`): the acting role is the first of the token's roles that grants
the purpose, and a data subject may ask only about itself. The resulting
`Viewer` is kept under the root field's response key, so every field below it
— however deeply nested, aliased or reached through fragments — is masked for
that viewer by the `Masked` field extension, which asks the versioned policy
file (auth/policy.toml) and never decides anything itself.

The same object collects, for the access log and `extensions`: the subjects
touched (as pseudonyms, never raw identifiers), the fields returned, and every
masked or hidden field (`privacy`, path + action).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info

from auth.access_log_entry import ReportRow
from auth.outbox_item import OutboxItem
from auth.policy import Policy
from auth.principal import Principal, Role
from auth.principal import Purpose as AuthPurpose
from auth.visibility import Viewer
from connectors.error_codes import Code

from .errors import forbidden_purpose, refusal
from .masking import response_path, root_key
from .types import Purpose, SubjectKind

__all__ = ["ANONYMOUS", "Disclosure", "bind", "grant"]

ANONYMOUS = "anonymous (access control off)"


@dataclass
class Disclosure:
    """Per request: who asks, and what the answer disclosed."""

    principal: Principal | None  # None: access control switched off (development only)
    policy: Policy
    viewers: dict[str, Viewer] = field(default_factory=dict)
    privacy: list[dict[str, Any]] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    reports: list[ReportRow] = field(default_factory=list)
    rule_set_version: str | None = None
    # Accountable events besides reads, kept in the log entry's fields:
    # "usage:REPORT:OUTCOME" (recordUsage), "reveal:case=CASE" (revealIdentity),
    # "objection:RECORD:OBJECTION" (fileObjection).
    events: list[str] = field(default_factory=list)
    # What the request owes the credit platform: stored with its log entry.
    outbox: list[OutboxItem] = field(default_factory=list)
    # Pseudonyms handed out, with what stands behind them (for revealIdentity).
    pseudonyms: set[tuple[str, str, str]] = field(default_factory=set)

    @property
    def actor(self) -> str:
        return self.principal.subject if self.principal else ANONYMOUS

    @property
    def sensitive(self) -> bool:
        """Whether the request reached personal data (or tried to): it must be logged."""
        return bool(self.subjects or self.purposes)

    def viewer(self, info: Info[Any, Any]) -> Viewer | None:
        return self.viewers.get(root_key(info))

    def note(self, info: Info[Any, Any], action: str, **details: Any) -> None:
        self.privacy.append({"path": response_path(info), "action": action, **details})

    def touch(self, kind: SubjectKind, key: str) -> None:
        """Remember a subject for the access log, by its pseudonym."""
        pseudonyms = self.policy.pseudonymiser
        self.subjects.add(
            pseudonyms.person(key) if kind is SubjectKind.PERSON else pseudonyms.organisation(key)
        )


def grant(disclosure: Disclosure, purpose: Purpose, *, asking: str | None = None) -> Role | None:
    """The caller's acting role for `purpose` (None: access control off), or
    FORBIDDEN_PURPOSE (`asking`: what the caller asked, when it did not name the
    purpose). The purpose is recorded first: a refused attempt is logged as such."""
    disclosure.purposes.add(purpose.value)
    principal = disclosure.principal
    if principal is None:
        return None
    role = principal.acting_role(AuthPurpose(purpose.value))
    if role is None:
        raise forbidden_purpose(purpose, asking=asking)
    return role


def bind(
    disclosure: Disclosure,
    info: Info[Any, Any],
    purpose: Purpose,
    kind: SubjectKind,
    key: str,
    *,
    asking: str | None = None,
) -> Viewer:
    """Check the declared purpose (or the one `asking` binds) against the caller and
    remember the viewer."""
    wanted = AuthPurpose(purpose.value)
    # Recorded before the checks: a refused attempt is logged as such.
    disclosure.touch(kind, key)
    role = grant(disclosure, purpose, asking=asking)
    principal = disclosure.principal
    if role is None or principal is None:  # access control off
        viewer = Viewer.unrestricted(wanted)
    else:
        # Only the data subject is "self": an officer's own unit or ID number in its
        # token widens nothing (it sees them as a colleague from another unit would).
        is_self = role is Role.DATA_SUBJECT
        own = principal.id_number if kind is SubjectKind.PERSON else principal.unit
        if is_self and own != key:
            raise refusal(Code.FORBIDDEN_SUBJECT, "a data subject may ask only about itself")
        viewer = Viewer(role, wanted, is_self=is_self)
        disclosure.roles.add(role.value)
    disclosure.viewers[root_key(info)] = viewer
    return viewer
