"""Abuse limits: what an operation may ask, how often a caller may ask, what errors say.

- Depth and aliases: Strawberry's own limiters; tokens: the parser's bound
  (`error_phases.PhaseCodes`). Every limit refuses with LIMIT_EXCEEDED naming
  the limit in `extensions.limit`.
- Cost and subjects (`gateway/cost.py`), weighed with the request's variables
  before anything runs: an operation above `max_cost` is refused as
  `LIMIT_EXCEEDED`, one naming more than `MAX_BATCH` subjects (every `vetBatch`
  list, `vet`, `person` and `organization` field together) as `BATCH_TOO_LARGE`.
- Introspection: off in production for everyone but credit_admin, and with it
  graphql-core's "Did you mean ...?" hints (`without_suggestions`).
- Errors: only unexpected (internal) errors are masked; limit and validation
  errors keep their message; codes are given by `error_phases`.
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
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from auth.principal import Principal, Role
from connectors.error_codes import Code, LimitName
from schema.vet import MAX_BATCH

from .cost import weigh
from .error_phases import PhaseCodes, limit_exceeded
from .refusals import refuse
from .settings import Settings

__all__ = ["PrincipalRateLimit", "may_introspect", "schema_extensions", "without_suggestions"]

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The limit and error extensions, as factories (one instance per request).

    The validation rules are built ONCE: Strawberry's limiters make a new rule
    class per instance, and ValidationCache keys on the rules, so rules made per
    request would never hit the cache and every request would be validated anew.
    """
    limits = settings.limits
    rules = [
        *(
            _limit_rule(rule, LimitName.DEPTH, limits.max_depth)
            for rule in QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
        ),
        *(
            _limit_rule(rule, LimitName.ALIASES, limits.max_aliases)
            for rule in MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
        ),
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: PhaseCodes(max_tokens=limits.max_tokens),
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


def _limit_rule(
    rule: type[ASTValidationRule], limit: LimitName, maximum: int
) -> type[ASTValidationRule]:
    """`rule` (one of Strawberry's limiters) with its errors coded LIMIT_EXCEEDED.

    Those limiters check the whole document when they are made and report to the
    validation context there, so the context's `report_error` is wrapped for that
    time: the error says which limit it is because this rule reported it."""

    def __init__(self: ASTValidationRule, context: ValidationContext) -> None:
        report = context.report_error

        def tagged(error: GraphQLError) -> None:
            report(limit_exceeded(error, limit, maximum))

        context.report_error = tagged  # type: ignore[method-assign]
        try:
            rule.__init__(self, context)
        finally:
            context.report_error = report  # type: ignore[method-assign]

    return type(rule.__name__, (rule,), {"__init__": __init__})


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
                    extensions={"code": Code.BATCH_TOO_LARGE, "limit": MAX_BATCH},
                )
            if weight.cost > self.max_cost:
                message = f"the operation costs {weight.cost}, above the limit of {self.max_cost}"
                raise limit_exceeded(GraphQLError(message), LimitName.COST, self.max_cost)
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


def without_suggestions(errors: Sequence[Any]) -> list[Any]:
    """Formatted errors without graphql-core's "Did you mean ...?" hints: they
    name fields, arguments and enum values, so where introspection is off they
    would tell the schema piece by piece."""
    return [
        {**error, "message": _SUGGESTION.sub("", str(error["message"]))}
        if "message" in error
        else error
        for error in errors
    ]


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
            await refuse(
                scope,
                receive,
                send,
                Code.RATE_LIMITED,
                "too many requests",
                headers={"Retry-After": str(wait)},
            )

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
