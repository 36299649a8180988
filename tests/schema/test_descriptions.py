"""The exported schema documents itself: what clients and code generators read."""

from pathlib import Path

import graphql
import pytest

import schema as schema_package

EXPORTED = Path(schema_package.__file__).parent / "schema.graphql"
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def exported() -> graphql.GraphQLSchema:
    return graphql.build_schema(EXPORTED.read_text(encoding="utf-8"))


def described_parts(schema: graphql.GraphQLSchema) -> dict[str, bool]:
    """Every type, field, argument, input field and enum value: described or not."""
    parts: dict[str, bool] = {}
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        parts[name] = bool(named.description)
        for field_name, field in getattr(named, "fields", {}).items():
            parts[f"{name}.{field_name}"] = bool(field.description)
            for arg_name, arg in getattr(field, "args", {}).items():
                parts[f"{name}.{field_name}({arg_name})"] = bool(arg.description)
        for value_name, value in getattr(named, "values", {}).items():
            parts[f"{name}.{value_name}"] = bool(value.description)
    return parts


def test_at_least_95_percent_of_the_schema_is_described():
    parts = described_parts(exported())
    missing = sorted(part for part, described in parts.items() if not described)
    share = 1 - len(missing) / len(parts)
    print(f"described: {len(parts) - len(missing)} of {len(parts)} ({share:.1%})")
    assert len(parts) > 300
    assert share >= 0.95, missing


@pytest.mark.parametrize(
    "kind", ["types", "fields", "arguments", "enum values"]
)  # each kind on its own: a good total must not hide an undocumented kind
def test_each_kind_of_part_is_described(kind):
    parts = described_parts(exported())

    def of_kind(part: str) -> bool:
        if kind == "arguments":
            return "(" in part
        if kind == "types":
            return "." not in part
        enum_value = part.split(".")[-1].isupper()
        return "." in part and "(" not in part and enum_value == (kind == "enum values")

    chosen = {part: described for part, described in parts.items() if of_kind(part)}
    assert chosen
    assert sum(chosen.values()) / len(chosen) >= 0.95, [p for p, d in chosen.items() if not d]


def test_subject_input_is_one_of():
    subject = exported().type_map["SubjectInput"]
    assert isinstance(subject, graphql.GraphQLInputObjectType)
    assert subject.is_one_of
    assert all(not isinstance(f.type, graphql.GraphQLNonNull) for f in subject.fields.values())


@pytest.mark.parametrize(
    ("scalar", "example"),
    [("Date", "2025-06-30"), ("DateTime", "+08:00"), ("Decimal", '"5000.00"')],
)
def test_dates_and_amounts_say_their_wire_format(scalar, example):
    named = exported().type_map[scalar]
    assert isinstance(named, graphql.GraphQLScalarType)
    assert example in (named.description or "")
    if scalar != "Decimal":  # no public specification of a decimal string to point at
        assert (named.specified_by_url or "").startswith("https://scalars.graphql.org/")
