"""GraphQL errors the schema raises, each with its `extensions.code`.

Messages are safe to show: they never echo an identifier, an upstream URL or a
secret (connector errors are already written that way).
"""

from __future__ import annotations

from graphql import GraphQLError

from connectors.errors import SourceError
from connectors.identifiers import InvalidIdentifier

from .types import Purpose, SourceName, SubjectKind

__all__ = [
    "forbidden_argument",
    "invalid_identifier",
    "purpose_not_applicable",
    "source_unavailable",
]


def forbidden_argument(argument: str) -> GraphQLError:
    """An argument the acting role may not use (`includeInactive`: credit_admin and
    a data subject about itself only)."""
    return GraphQLError(
        f"{argument} is not granted to the caller's role",
        extensions={"code": "FORBIDDEN_ARGUMENT", "argument": argument},
    )


def invalid_identifier(error: InvalidIdentifier) -> GraphQLError:
    return GraphQLError(str(error), extensions={"code": "INVALID_IDENTIFIER", "field": error.field})


def purpose_not_applicable(purpose: Purpose, kind: SubjectKind) -> GraphQLError:
    return GraphQLError(
        f"purpose {purpose.name} does not apply to a {kind.name.lower()}",
        extensions={"code": "PURPOSE_NOT_APPLICABLE", "purpose": purpose.name},
    )


def source_unavailable(error: SourceError) -> GraphQLError:
    source = SourceName(error.platform)
    return GraphQLError(
        f"{source.name} could not be consulted: {error.message}",
        extensions={"code": "SOURCE_UNAVAILABLE", "source": source.name},
    )
