"""The GraphQL schema: Strawberry types, resolvers and (later) the vetting engine."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from .query import Query

__all__ = ["build_schema"]


def build_schema() -> strawberry.Schema:
    """The gateway's schema. Parsing and validation are cached: by default
    Strawberry parses and validates every request anew."""
    return strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )
