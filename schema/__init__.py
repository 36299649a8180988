"""The GraphQL schema: Strawberry types, resolvers and the vetting engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from connectors.error_codes import Code

from .query import Mutation, Query
from .scalars import SCALARS

__all__ = ["GatewaySchema", "build_schema"]

logger = logging.getLogger("credgate.graphql")


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, logging errors without the request's text.

    By default every error is logged with the GraphQL source around it, which
    would copy the caller's arguments (ID numbers) into the logs. Here a log line
    holds the error's code, path and message (our messages never carry
    identifiers); an unexpected error keeps its traceback, which is never sent
    to the caller.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = (error.extensions or {}).get("code", Code.INTERNAL)
            original = error.original_error
            unexpected = original is not None and not isinstance(original, GraphQLError)
            logger.log(
                logging.ERROR if unexpected else logging.INFO,
                "graphql error code=%s path=%s: %s",
                code,
                error.path,
                error.message,
                exc_info=original if unexpected else None,
            )


def build_schema(
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    """The gateway's schema, with the gateway's own extensions (parsing, limits,
    error masking) added. Validation is cached: by default Strawberry validates
    every request anew; the gateway's parse is cached where it is made."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides=SCALARS,
        extensions=[
            lambda: ValidationCache(maxsize=512),
            *extensions,
        ],
    )
