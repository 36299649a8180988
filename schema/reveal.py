"""`revealIdentity`: an auditor turns a pseudonym back into an identity, for a named case.

Only auditors and credit_admin may ask; a case number is required; only a
pseudonym the gateway actually handed out can be revealed (anything else is
`NOT_FOUND`). Each reveal is an access-log entry of its own, naming the case.
The answer is the identity itself: its fields are deliberately not masked.
"""

from __future__ import annotations

import re

from graphql import GraphQLError
from strawberry.types import Info

from auth.principal import Role

from .context import RequestContext
from .types import SubjectKind, SubjectRef

__all__ = ["reveal_identity"]

_CASE_NUMBER = re.compile(r"^[\w\-()（）〔〕\[\]/.#]{1,64}$")
_REVEALERS = {Role.AUDITOR, Role.CREDIT_ADMIN}


async def reveal_identity(
    info: Info[RequestContext, None], pseudonym: str, case_number: str
) -> SubjectRef:
    context = info.context
    disclosure = context.disclosure
    principal = disclosure.principal
    disclosure.purposes.add("AUDIT")
    if principal is not None and not any(principal.has_role(role) for role in _REVEALERS):
        raise GraphQLError(
            "only an auditor may reveal an identity", extensions={"code": "FORBIDDEN_PURPOSE"}
        )
    if not _CASE_NUMBER.match(case_number.strip()):
        raise GraphQLError(
            "caseNumber: name the case (1-64 letters, digits or case-number punctuation)",
            extensions={"code": "INVALID_ARGUMENT", "field": "caseNumber"},
        )
    disclosure.subjects.add(pseudonym)
    case = case_number.strip()
    found = await context.registry.lookup(pseudonym)
    if found is None:
        disclosure.events.append(f"reveal-refused:case={case}")
        raise GraphQLError("no such pseudonym was handed out", extensions={"code": "NOT_FOUND"})
    disclosure.events.append(f"reveal:case={case}")
    kind, identifier = found
    if kind == "credit_code":
        return SubjectRef(kind=SubjectKind.ORGANIZATION, credit_code=identifier)
    return SubjectRef(kind=SubjectKind.PERSON, id_number=identifier, revealed=True)
