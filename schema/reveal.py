"""`revealIdentity`: an auditor turns a pseudonym back into an identity, for a named case.

Only a role granted AUDIT (auditors, credit_admin) may ask; a case number is required; only a
pseudonym the gateway actually handed out can be revealed (anything else is
`NOT_FOUND`). Each reveal is an access-log entry of its own, naming the case.
The answer is the identity itself: its fields are deliberately not masked.
"""

from __future__ import annotations

import re

from strawberry.types import Info

from connectors.error_codes import Code

from .context import RequestContext
from .disclosure import grant
from .errors import refusal
from .types import Purpose, SubjectKind, SubjectRef

__all__ = ["reveal_identity"]

_CASE_NUMBER = re.compile(r"^[\w\-()（）〔〕\[\]/.#]{1,64}$")


async def reveal_identity(
    info: Info[RequestContext, None], pseudonym: str, case_number: str
) -> SubjectRef:
    context = info.context
    disclosure = context.disclosure
    role = grant(disclosure, Purpose.AUDIT)
    if role is not None:
        disclosure.roles.add(role.value)
    if not _CASE_NUMBER.match(case_number.strip()):
        raise refusal(
            Code.INVALID_ARGUMENT,
            "caseNumber: name the case (1-64 letters, digits or case-number punctuation)",
            field="caseNumber",
        )
    disclosure.subjects.add(pseudonym)
    case = case_number.strip()
    found = await context.registry.lookup(pseudonym)
    if found is None:
        disclosure.events.append(f"reveal-refused:case={case}")
        raise refusal(Code.NOT_FOUND, "no such pseudonym was handed out")
    disclosure.events.append(f"reveal:case={case}")
    kind, identifier = found
    if kind == "credit_code":
        return SubjectRef(kind=SubjectKind.ORGANIZATION, credit_code=identifier)
    return SubjectRef(kind=SubjectKind.PERSON, id_number=identifier, revealed=True)
