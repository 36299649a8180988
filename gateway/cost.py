"""What one operation asks for, weighed before it runs: its cost and its subjects.

Cost: every selected field costs 1, times the weight of each field above it.
A field's weight is the size of its largest list argument (the list as sent,
literal or variable), and at least 10 when it returns a list: `vetBatch` over
1,000 subjects weighs 1,000, so each field selected under it costs 1,000.
Fragments are counted where they are spread (a fragment spread twice costs
twice).

Subjects: the persons and organisations the operation names at its root —
each `person`, `organization` and `vet` field counts one, each `vetBatch` the
size of its `subjects` list — summed over every alias and fragment. One
request may name at most `schema.vet.MAX_BATCH` of them, however they are
spread over fields.

Weighed per request, after validation, since list sizes come from the
variables (the validated document is cached, the variables are not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NullValueNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
)

__all__ = ["LIST_MULTIPLIER", "Weight", "weigh"]

LIST_MULTIPLIER = 10
"""The weight of a list-returning field whose size no argument tells."""

_ONE_SUBJECT = frozenset({"person", "organization", "vet"})
_SUBJECT_LISTS = {"vetBatch": "subjects"}


@dataclass(frozen=True)
class Weight:
    cost: int
    subjects: int


def weigh(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Weight:
    """The cost and subject count of the operation `operation_name` selects."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Weight(0, 0)  # no single operation: execution refuses it
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Weight(0, 0)
    walk = _Walk(schema, document, variables or {})
    cost = walk.cost(operation.selection_set, root, 1)
    return Weight(cost, walk.subjects(operation.selection_set))


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self._schema = schema
        self._variables = variables
        self._fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }

    def cost(self, selections: SelectionSetNode | None, parent: Any, multiplier: int) -> int:
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        cost = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                field = parent.fields.get(selection.name.value)
                if field is None:
                    continue  # an unknown field is validation's error
                listed = self._largest_list_argument(selection)
                returns_list = is_list_type(get_nullable_type(field.type))
                weight = max(listed, LIST_MULTIPLIER if returns_list else 1)
                cost += multiplier * max(listed, 1) + self.cost(
                    selection.selection_set, get_named_type(field.type), multiplier * weight
                )
            else:
                inner, target = self._fragment(selection, parent)
                cost += self.cost(inner, target, multiplier)
        return cost

    def subjects(self, selections: SelectionSetNode) -> int:
        count = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in _ONE_SUBJECT:
                    count += 1
                elif name in _SUBJECT_LISTS:
                    count += self._list_size(selection, _SUBJECT_LISTS[name])
            else:
                inner, _ = self._fragment(selection, None)
                if inner is not None:
                    count += self.subjects(inner)
        return count

    def _fragment(
        self, selection: Any, parent: Any
    ) -> tuple[SelectionSetNode | None, GraphQLNamedType | None]:
        """An inline fragment's or a spread fragment's selections and type."""
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = self._schema.get_type(condition.name.value) if condition else parent
            return selection.selection_set, target
        if isinstance(selection, FragmentSpreadNode):
            fragment = self._fragments.get(selection.name.value)
            if fragment is not None:
                target = self._schema.get_type(fragment.type_condition.name.value)
                return fragment.selection_set, target
        return None, None

    def _largest_list_argument(self, field: FieldNode) -> int:
        return max(
            (self._size(argument.value) for argument in field.arguments or ()),
            default=0,
        )

    def _list_size(self, field: FieldNode, argument_name: str) -> int:
        for argument in field.arguments or ():
            if argument.name.value == argument_name:
                return self._size(argument.value)
        return 0

    def _size(self, value: ValueNode) -> int:
        """How many items a list argument holds (a single value is a list of one)."""
        if isinstance(value, ListValueNode):
            return len(value.values)
        if isinstance(value, VariableNode):
            given = self._variables.get(value.name.value)
            if given is None:
                return 0
            return len(given) if isinstance(given, list) else 1
        return 0 if isinstance(value, NullValueNode) else 1
