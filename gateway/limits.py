"""Abuse limits: what an operation may ask, how often a caller may ask, what errors say.

- Depth and aliases: Strawberry's own limiters; tokens: the parser's bound
  (`error_phases.PhaseCodes`). Every limit refuses with LIMIT_EXCEEDED naming
  the limit in `extensions.limit`.
- Cost: a validation rule that prices every selected field, multiplying by 10
  under each list-returning field (fragments are expanded where they are
  spread, so a fragment used twice costs twice), refused as `LIMIT_EXCEEDED`.
- Introspection: off in production for everyone but credit_admin.
- Errors: only unexpected (internal) errors are masked; limit and validation
  errors keep their message; codes are given by `error_phases`.
- Requests per principal: a sliding one-minute window per replica, answered
  with HTTP 429 and `RATE_LIMITED`.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from auth.principal import Role
from connectors.error_codes import Code, LimitName

from .error_phases import PhaseCodes, limit_exceeded
from .refusals import refuse
from .settings import Settings

__all__ = ["PrincipalRateLimit", "schema_extensions"]

LIST_MULTIPLIER = 10


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
        _cost_rule(limits.max_cost),
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: PhaseCodes(max_tokens=limits.max_tokens),
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


class _IntrospectionGate(AddValidationRules):
    """Introspection off, except for credit_admin (production mode only)."""

    def __init__(self) -> None:
        super().__init__([NoSchemaIntrospectionCustomRule])

    def on_operation(self) -> Iterator[None]:
        principal = self.execution_context.context.disclosure.principal
        if principal is not None and principal.has_role(Role.CREDIT_ADMIN):
            yield
            return
        yield from super().on_operation()


def _cost_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            schema = self.context.schema
            root = schema.get_root_type(node.operation)
            if root is None:
                return
            fragments = {
                f.name.value: f
                for f in self.context.document.definitions
                if isinstance(f, FragmentDefinitionNode)
            }
            cost = _selection_cost(node.selection_set, root, fragments, schema, 1)
            if cost > max_cost:
                message = f"the operation costs {cost}, above the limit of {max_cost}"
                self.report_error(
                    limit_exceeded(GraphQLError(message, node), LimitName.COST, max_cost)
                )

    return CostLimit


def _selection_cost(
    selection_set: SelectionSetNode | None,
    parent: Any,
    fragments: dict[str, Any],
    schema: Any,
    multiplier: int,
) -> int:
    if selection_set is None or not isinstance(parent, GraphQLObjectType):
        return 0
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue  # an unknown field is another rule's error
            inner = get_nullable_type(field.type)
            factor = multiplier * (LIST_MULTIPLIER if is_list_type(inner) else 1)
            cost += multiplier + _selection_cost(
                selection.selection_set, get_named_type(field.type), fragments, schema, factor
            )
        elif isinstance(selection, InlineFragmentNode):
            target = (
                schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            cost += _selection_cost(selection.selection_set, target, fragments, schema, multiplier)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value)
                cost += _selection_cost(
                    fragment.selection_set, target, fragments, schema, multiplier
                )
    return cost


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
