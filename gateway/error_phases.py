"""Codes for errors GraphQL itself reports, by the phase that reported them.

A document that does not parse is GRAPHQL_PARSE_FAILED, one that does not
validate GRAPHQL_VALIDATION_FAILED, variables that do not coerce BAD_USER_INPUT,
and a limit LIMIT_EXCEEDED with `extensions.limit` and `extensions.maximum`.
The code comes from where the error arose (parser, validator, the start of
execution, the limit's own rule), never from reading its message. An error
that reaches the answer with no code at all is an unexpected one, masked on
the way out: INTERNAL.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    Lexer,
    OperationDefinitionNode,
    Source,
    TokenKind,
    get_operation_ast,
    parse,
)
from strawberry.extensions import SchemaExtension

from connectors.error_codes import Code, LimitName

__all__ = ["PhaseCodes", "limit_exceeded", "no_single_operation", "refused_code", "with_codes"]


def limit_exceeded(error: GraphQLError, limit: LimitName, maximum: int) -> GraphQLError:
    """`error`, coded as the limit `limit` (of `maximum`) exceeded."""
    error.extensions = {
        **(error.extensions or {}),
        "code": Code.LIMIT_EXCEEDED,
        "limit": limit,
        "maximum": maximum,
    }
    return error


def _code(errors: Sequence[GraphQLError], code: Code) -> None:
    for error in errors:
        if "code" not in (error.extensions or {}):
            error.extensions = {**(error.extensions or {}), "code": code}


@functools.lru_cache(maxsize=512)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_lexical_tokens=max_tokens)


class PhaseCodes(SchemaExtension):
    """Parses (cached, within the token bound) and codes parse, validation and
    variable errors.

    The token bound is the parser's own (`max_lexical_tokens`, comments not
    counted); a failed parse is the bound's when the error stands at the first
    token past the bound. The parse happens here, not in Strawberry's parser
    cache, because an error raised there never comes back to an extension."""

    def __init__(self, *, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            try:
                context.graphql_document = _parse(context.query, self.max_tokens)
            except GraphQLSyntaxError as error:
                if self._at_token_bound(error):
                    limit_exceeded(error, LimitName.TOKENS, self.max_tokens)
                _code([error], Code.GRAPHQL_PARSE_FAILED)
                raise
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        _code(self.execution_context.pre_execution_errors or (), Code.GRAPHQL_VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        result: Any = self.execution_context.result
        errors: Sequence[GraphQLError] = getattr(result, "errors", None) or ()
        # Every error a field raises has its path; before the first field, execution
        # only coerces the variables.
        _code([error for error in errors if error.path is None], Code.BAD_USER_INPUT)

    def _at_token_bound(self, error: GraphQLSyntaxError) -> bool:
        query = self.execution_context.query
        if query is None or not error.positions:
            return False
        lexer = Lexer(Source(query))
        try:
            for _ in range(self.max_tokens + 1):
                token = lexer.advance()
                if token.kind is TokenKind.EOF:
                    return False
        except GraphQLError:  # a lexical error before the bound
            return False
        positions: Sequence[int] = list(error.positions)
        return token.start == positions[0]


def no_single_operation(query: str, name: str | None, max_tokens: int) -> str | None:
    """Why `name` picks no single operation of the document, or None when it does
    (or when the document does not parse: that is reported as a parse error).

    Strawberry would run the first of several operations when no name is given."""
    try:
        document = _parse(query, max_tokens)  # the parse PhaseCodes makes, cached
    except GraphQLError:
        return None
    if get_operation_ast(document, name) is not None:
        return None
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if name is not None:
        message = f"the document has no operation named {name}"
    elif operations:
        message = f"the document has {operations} operations: name one in operationName"
    else:
        message = "the document has no operation to run"
    return message


def with_codes(errors: Sequence[Any]) -> list[Any]:
    """Formatted errors, each with a code: one without is a masked internal error."""
    return [
        error
        if "code" in (error.get("extensions") or {})
        else {**error, "extensions": {**(error.get("extensions") or {}), "code": Code.INTERNAL}}
        for error in errors
    ]


def refused_code(errors: Sequence[Any] | None) -> Code | None:
    """The code refusing the request as a whole when every error (coded) is a
    request-level one, else None (errors of fields, beside data)."""
    codes = [Code[(error.get("extensions") or {})["code"]] for error in errors or ()]
    if codes and all(code.status is not None for code in codes):
        return codes[0]
    return None
