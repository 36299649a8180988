"""Every error code the gateway answers with: its name, HTTP status and meaning.

The one place a code is defined. Every other module names a member of `Code`
(a `str`, so it goes into `extensions.code` as it is); `docs/errors.md` is
generated from this table (`credgate export-errors`) and a test keeps the two
equal.

Why here, in `connectors/`: the codes must be importable by every layer
(gateway -> schema -> auth -> connectors), and `connectors` is the one package
all the others already import. This module imports nothing of the project and
nothing of GraphQL: it is a vocabulary (strings, statuses, sentences), and the
connectors themselves never use it (they raise `SourceError`, which the schema
turns into SOURCE_UNAVAILABLE).

`status` is the HTTP status of a request-level refusal: the whole request is
refused with it and the answer has no `data`. A code with no status is a
field-level error: it comes in `errors[]` of an HTTP 200 answer beside the data
the other fields could give.
"""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus
from pathlib import Path

__all__ = ["ERRORS_DOC", "Code", "LimitName", "errors_markdown"]

# In a checkout, beside the packages; the document is written from a checkout only.
ERRORS_DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


class Code(StrEnum):
    """An error code (the value is the name) with its HTTP status and meaning."""

    status: HTTPStatus | None
    meaning: str

    def __new__(cls, name: str, status: int | None, meaning: str) -> Code:
        member = str.__new__(cls, name)
        member._value_ = name
        member.status = None if status is None else HTTPStatus(status)
        member.meaning = meaning
        return member

    # Request-level: the request is refused as a whole.
    UNAUTHENTICATED = (
        "UNAUTHENTICATED",
        401,
        "No bearer token, or one that is malformed, expired or not signed by a trusted key.",
    )
    RATE_LIMITED = (
        "RATE_LIMITED",
        429,
        "The caller asked more often than `[limits] requests_per_minute`; `Retry-After` says when"
        " to ask again.",
    )
    OVERLOADED = (
        "OVERLOADED",
        503,
        "The gateway is at capacity and refused the request before starting it; `Retry-After`"
        " says when to ask again.",
    )
    BAD_REQUEST = (
        "BAD_REQUEST",
        400,
        "The HTTP request is not a GraphQL request: body not JSON, a batch array, no `query`,"
        " a member of the wrong type, or an operation name that is missing, unknown or ambiguous.",
    )
    GRAPHQL_PARSE_FAILED = (
        "GRAPHQL_PARSE_FAILED",
        400,
        "The document is not valid GraphQL syntax.",
    )
    GRAPHQL_VALIDATION_FAILED = (
        "GRAPHQL_VALIDATION_FAILED",
        400,
        "The document does not fit the schema (unknown field, wrong argument type, ...).",
    )
    BAD_USER_INPUT = (
        "BAD_USER_INPUT",
        400,
        "The `variables` do not fit the operation's variable definitions.",
    )
    LIMIT_EXCEEDED = (
        "LIMIT_EXCEEDED",
        400,
        "The operation is over one of the `[limits]`; `extensions.limit` names which"
        " (depth, aliases, tokens, cost) and `extensions.maximum` its value.",
    )
    PERSISTED_QUERY_NOT_FOUND = (
        "PERSISTED_QUERY_NOT_FOUND",
        400,
        "In production with `[gateway] trusted_documents`, the document is not in the list.",
    )
    METHOD_NOT_ALLOWED = (
        "METHOD_NOT_ALLOWED",
        405,
        "The HTTP method is not one the endpoint takes (a mutation over GET included); `Allow`"
        " lists those it does.",
    )
    NOT_ACCEPTABLE = (
        "NOT_ACCEPTABLE",
        406,
        "The `Accept` header allows none of `application/graphql-response+json` and"
        " `application/json`.",
    )
    REQUEST_TIMEOUT = (
        "REQUEST_TIMEOUT",
        408,
        "The request body did not arrive within `[limits] body_timeout_s`.",
    )
    PAYLOAD_TOO_LARGE = (
        "PAYLOAD_TOO_LARGE",
        413,
        "The request body is larger than `[limits] max_body_bytes`.",
    )
    UNSUPPORTED_MEDIA_TYPE = (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "A POST whose `Content-Type` is not `application/json`.",
    )
    # Field-level: the field is null, the rest of the answer stands.
    FORBIDDEN_PURPOSE = (
        "FORBIDDEN_PURPOSE",
        None,
        "The declared purpose is not granted to any of the caller's roles.",
    )
    FORBIDDEN_SUBJECT = (
        "FORBIDDEN_SUBJECT",
        None,
        "A data subject asked about someone other than itself.",
    )
    FORBIDDEN_ARGUMENT = (
        "FORBIDDEN_ARGUMENT",
        None,
        "An argument the caller's role may not use (such as `includeInactive`).",
    )
    PURPOSE_NOT_APPLICABLE = (
        "PURPOSE_NOT_APPLICABLE",
        None,
        "The purpose does not apply to this kind of subject (or `vet` under AUDIT).",
    )
    INVALID_IDENTIFIER = (
        "INVALID_IDENTIFIER",
        None,
        "An ID number or unified social credit code fails its format or check digit;"
        " `extensions.field` names the argument.",
    )
    INVALID_SUBJECT = (
        "INVALID_SUBJECT",
        None,
        "A subject gives neither or both of `idNumber` and `creditCode`.",
    )
    INVALID_ARGUMENT = (
        "INVALID_ARGUMENT",
        None,
        "An argument is well-typed but not usable (a period that ends before it starts, an"
        " empty reason, a malformed case number).",
    )
    BATCH_TOO_LARGE = (
        "BATCH_TOO_LARGE",
        None,
        "`vetBatch` was given more subjects than it takes in one call.",
    )
    SOURCE_UNAVAILABLE = (
        "SOURCE_UNAVAILABLE",
        None,
        "A platform could not be consulted; its fields are null and `extensions.source` names it.",
    )
    OBJECTION_NOT_SUPPORTED = (
        "OBJECTION_NOT_SUPPORTED",
        None,
        "Objections to this source's records are not taken through the gateway.",
    )
    NOT_FOUND = (
        "NOT_FOUND",
        None,
        "No such report, pseudonym or record for this caller.",
    )
    INTERNAL = (
        "INTERNAL",
        None,
        "Something failed inside the gateway (details are logged, never sent); an answer"
        " whose access could not be recorded comes with no data.",
    )


class LimitName(StrEnum):
    """Which limit a LIMIT_EXCEEDED names in `extensions.limit`."""

    DEPTH = "depth"
    ALIASES = "aliases"
    TOKENS = "tokens"
    COST = "cost"


def errors_markdown() -> str:
    """`docs/errors.md`: the table above, as the reader sees it."""
    lines = [
        "# Error codes",
        "",
        "Generated from `connectors/error_codes.py` by `credgate export-errors`; do not edit.",
        "",
        "Every error carries `extensions.code`. A code with an HTTP status refuses the whole",
        "request: the answer has that status and no `data` (with",
        "`application/graphql-response+json`; an `application/json` answer to a document that",
        "does not parse, validate or coerce keeps HTTP 200 as that media type expects). A code",
        "without one is a field error in an HTTP 200 answer: that field is null, the rest stands.",
        "",
        "| code | HTTP status | meaning |",
        "|---|---|---|",
    ]
    for code in Code:
        status = "—" if code.status is None else f"{code.status.value} {code.status.phrase}"
        lines.append(f"| `{code.value}` | {status} | {code.meaning} |")
    return "\n".join(lines) + "\n"
