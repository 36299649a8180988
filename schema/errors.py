"""GraphQL errors the schema raises, each with its `extensions.code`.

Codes are members of `connectors.error_codes.Code`; `refusal` is the one way a
resolver makes an error, so no resolver spells a code itself. Messages are safe
to show: they never echo an identifier, an upstream URL or a secret (connector
errors are already written that way).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from auth.principal import Role
from connectors.error_codes import Code
from connectors.errors import SourceError
from connectors.identifiers import InvalidIdentifier

from .types import Purpose, SourceName, SubjectKind

__all__ = [
    "forbidden_argument",
    "forbidden_purpose",
    "invalid_identifier",
    "purpose_not_applicable",
    "refusal",
    "source_unavailable",
]


def refusal(code: Code, message: str, **details: Any) -> GraphQLError:
    """A field error: `code` and `details` go into `extensions`."""
    return GraphQLError(message, extensions={"code": code, **details})


def forbidden_purpose(purpose: Purpose, *, asking: str | None = None) -> GraphQLError:
    """The one FORBIDDEN_PURPOSE, with the roles that grant the purpose.

    Where the caller declared the purpose, the message names it; where what it
    asked binds a purpose it never named (`asking`, e.g. "file an objection"),
    the message says who may do that instead."""
    granted = sorted(role.value for role in Role if role.grants(purpose.value))
    if asking is None:
        message = f"purpose {purpose.value} is not granted to the caller's roles"
    else:
        who = " and ".join(_WHO.get(role, role) for role in granted)
        message = f"only {who} may {asking}; the caller's roles may not"
    return refusal(Code.FORBIDDEN_PURPOSE, message, purpose=purpose.value, grantedTo=granted)


_WHO = {Role.DATA_SUBJECT.value: "the data subject (about itself)"}


def forbidden_argument(argument: str) -> GraphQLError:
    """An argument the acting role may not use (`includeInactive`: credit_admin and
    a data subject about itself only)."""
    return refusal(
        Code.FORBIDDEN_ARGUMENT,
        f"{argument} is not granted to the caller's role",
        argument=argument,
    )


def invalid_identifier(error: InvalidIdentifier) -> GraphQLError:
    return refusal(Code.INVALID_IDENTIFIER, str(error), field=error.field)


def purpose_not_applicable(purpose: Purpose, kind: SubjectKind) -> GraphQLError:
    return refusal(
        Code.PURPOSE_NOT_APPLICABLE,
        f"purpose {purpose.name} does not apply to a {kind.name.lower()}",
        purpose=purpose.name,
    )


def source_unavailable(error: SourceError) -> GraphQLError:
    source = SourceName(error.platform)
    return refusal(
        Code.SOURCE_UNAVAILABLE,
        f"{source.name} could not be consulted: {error.message}",
        source=source.name,
    )
