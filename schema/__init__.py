"""The GraphQL schema: Strawberry types, resolvers and (later) the vetting engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

from .query import Query

__all__ = ["build_schema"]


def build_schema(
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
) -> strawberry.Schema:
    """The gateway's schema, with the gateway's own extensions (limits, error
    masking) added. Parsing and validation are cached: by default Strawberry
    parses and validates every request anew."""
    return strawberry.Schema(
        query=Query,
        extensions=[
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            *extensions,
        ],
    )
