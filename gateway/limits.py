"""Abuse limits: what an operation may ask, how often a caller may ask, what errors say.

- Depth, aliases and tokens: Strawberry's own limiters.
- Cost and subjects (`gateway/cost.py`), weighed with the request's variables
  before anything runs: an operation above `max_cost` is refused as
  `LIMIT_EXCEEDED`, one naming more than `MAX_BATCH` subjects (every `vetBatch`
  list, `vet`, `person` and `organization` field together) as `BATCH_TOO_LARGE`.
- Introspection: off in production for everyone but credit_admin.
- Errors: only unexpected (internal) errors are masked; limit and validation
  errors keep their message and get a code.
- Requests per principal: a sliding one-minute window per replica, answered
  with HTTP 429 and `RATE_LIMITED`.
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from auth.principal import Principal, Role
from schema.vet import MAX_BATCH

from .cost import weigh
from .settings import Settings

__all__ = ["PrincipalRateLimit", "error_codes", "may_introspect", "schema_extensions"]

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The limit and error extensions, as factories (one instance per request).

    The validation rules are built ONCE: Strawberry's limiters make a new rule
    class per instance, and ValidationCache keys on the rules, so rules made per
    request would never hit the cache and every request would be validated anew.
    """
    limits = settings.limits
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: _Budget(limits.max_cost),
        lambda: MaskErrors(should_mask_error=_unexpected),
    ]
    if settings.gateway.mode == "production":
        extensions.append(_IntrospectionGate)
    return extensions


def _unexpected(error: GraphQLError) -> bool:
    """Mask an error only when it is not one of ours: limit, validation and
    domain errors are GraphQLErrors raised on purpose and keep their message."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class _Budget(SchemaExtension):
    """Refuse an operation that costs too much or names too many subjects, before
    it runs (so before any upstream call or log entry)."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            weight = weigh(
                context.schema._schema, document, context.operation_name, context.variables
            )
            if weight.subjects > MAX_BATCH:
                raise GraphQLError(
                    f"the request names {weight.subjects} subjects; at most {MAX_BATCH} "
                    "per request (vetBatch, vet, person and organization together)",
                    extensions={"code": "BATCH_TOO_LARGE", "limit": MAX_BATCH},
                )
            if weight.cost > self.max_cost:
                raise GraphQLError(
                    f"the operation costs {weight.cost}, above the limit of {self.max_cost}",
                    extensions={"code": "LIMIT_EXCEEDED", "limit": self.max_cost},
                )
        yield


class _IntrospectionGate(AddValidationRules):
    """Introspection off, except for credit_admin (production mode only)."""

    def __init__(self) -> None:
        super().__init__([NoSchemaIntrospectionCustomRule])

    def on_operation(self) -> Iterator[None]:
        if may_introspect(self.execution_context.context.disclosure.principal, "production"):
            yield
            return
        yield from super().on_operation()


def may_introspect(principal: Principal | None, mode: str) -> bool:
    """Whether the caller may learn the schema (introspection, "did you mean" hints)."""
    return mode == "development" or (
        principal is not None and principal.has_role(Role.CREDIT_ADMIN)
    )


def error_codes(errors: Sequence[Any], *, suggestions: bool = True) -> list[Any]:
    """Give every error an `extensions.code`: limits and validation keep their
    message; a masked internal error says INTERNAL.

    `suggestions` False drops graphql-core's "Did you mean ...?" hints, which
    name fields, arguments and enum values: where introspection is off they
    would tell the schema piece by piece."""
    coded = []
    for error in errors:
        if not suggestions and "message" in error:
            error = {**error, "message": _SUGGESTION.sub("", str(error["message"]))}
        extensions = dict(error.get("extensions") or {})
        if "code" not in extensions:
            message = str(error.get("message", ""))
            if message == "Unexpected error.":
                extensions["code"] = "INTERNAL"
            elif "exceeds maximum" in message or "maximum" in message.lower():
                extensions["code"] = "LIMIT_EXCEEDED"
            else:
                extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
        coded.append({**error, "extensions": extensions})
    return coded


class PrincipalRateLimit:
    """At most `per_minute` GraphQL requests per principal (or per client address
    when access control is off), in a sliding one-minute window, per replica."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, collections.deque[float]] = {}

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            principal = scope.get("state", {}).get("principal")
            client = scope.get("client") or ("?", 0)
            who = principal.subject if principal is not None else f"address:{client[0]}"
            wait = self._admit(who)
            if wait is None:
                await app(scope, receive, send)
                return
            body = {
                "data": None,
                "errors": [
                    {"message": "too many requests", "extensions": {"code": "RATE_LIMITED"}}
                ],
            }
            response = JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})
            await response(scope, receive, send)

        return limited

    def _admit(self, who: str) -> int | None:
        """None when admitted, else the whole seconds until a slot frees."""
        now = self.clock()
        window = self._seen.setdefault(who, collections.deque())
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(1, int(60 - (now - window[0])) + 1)
        window.append(now)
        if len(self._seen) > 10_000:  # forget idle callers so memory stays bounded
            for key in [k for k, q in self._seen.items() if not q or now - q[-1] >= 60]:
                del self._seen[key]
        return None
