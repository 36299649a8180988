"""Reading the values of a rule file strictly: each reader names the place it refuses.

Small typed readers over the dicts `tomllib` returns (tables, strings, lists,
enums, months) and `params`, which turns a clause's condition parameters into
`Params`. Nothing here knows what a rule means; rules.py does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from .matches import Params, Period

__all__ = [
    "RuleSetError",
    "Table",
    "boolean",
    "enum_value",
    "params",
    "positive_int",
    "table",
    "tables",
    "text",
]

E = TypeVar("E", bound=Enum)
Table = dict[str, object]

_PERIOD_KEYS = frozenset(
    {"months", "plus_period_months", "default_period_months", "period_months_override"}
)


class RuleSetError(ValueError):
    """The rule file is not a valid rule set; the message names the place."""


def table(value: object, where: str, allowed: frozenset[str] | None = None) -> Table:
    """A TOML table, refusing keys outside `allowed` (when given)."""
    if not isinstance(value, dict):
        raise RuleSetError(f"{where}: expected a table")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise RuleSetError(f"{where}: unknown key {unknown[0]!r}")
    return {str(key): item for key, item in value.items()}


def tables(parent: Table, key: str, where: str) -> list[Table]:
    """An array of tables (`[[key]]`); missing reads as empty."""
    value = parent.get(key, [])
    if not isinstance(value, list):
        raise RuleSetError(f"{where}: {key!r} must be an array of tables")
    return [table(item, f"{where}: {key}[{n}]") for n, item in enumerate(value, 1)]


def text(parent: Table, key: str, where: str) -> str:
    """A required, non-blank string."""
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleSetError(f"{where}: {key!r} must be a non-empty string")
    return value


def boolean(parent: Table, key: str, where: str) -> bool:
    value = parent.get(key, False)
    if not isinstance(value, bool):
        raise RuleSetError(f"{where}: {key!r} must be true or false")
    return value


def positive_int(parent: Table, key: str, where: str) -> int | None:
    """An optional whole number of at least 1 (months)."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleSetError(f"{where}: {key!r} must be a whole number of at least 1")
    return value


def enum_value(kind: type[E], value: object, where: str, *, by_value: bool = False) -> E:
    """A member of `kind` by name (or by value); the message lists the choices."""
    members = {(m.value if by_value else m.name): m for m in kind}
    if not isinstance(value, str) or value not in members:
        raise RuleSetError(f"{where}: {value!r} is not one of {', '.join(members)}")
    return members[value]


def params(raw: Table, given: set[str], where: str) -> Params:
    """The condition parameters of a clause (only the keys in `given` are read)."""

    def strings(key: str) -> frozenset[str] | None:
        if key not in given:
            return None
        value = raw[key]
        if not isinstance(value, list) or not value:
            raise RuleSetError(f"{where}: {key!r} must be a non-empty list of strings")
        if not all(isinstance(item, str) and item for item in value):
            raise RuleSetError(f"{where}: {key!r} must be a non-empty list of strings")
        return frozenset(str(item) for item in value)

    def offsets() -> frozenset[int]:
        if "year_offsets" not in given:
            return frozenset()
        value = raw["year_offsets"]
        years = value if isinstance(value, list) else []
        if not years or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in years
        ):
            raise RuleSetError(f"{where}: 'year_offsets' must be a non-empty list of whole years")
        return frozenset(int(n) for n in years)

    return Params(
        categories=strings("categories"),
        severities=strings("severities"),
        penalty_types=strings("penalty_types"),
        min_fine=_money(raw, where) if "min_fine" in given else None,
        periods=_periods(raw, where) if "periods" in given else {},
        year_offsets=offsets(),
        grades=strings("grades") or frozenset(),
        results=strings("results") or frozenset(),
        roles=strings("roles") or frozenset(),
        statuses=strings("statuses") or frozenset(),
        types=strings("types") or frozenset(),
    )


def _money(raw: Table, where: str) -> Decimal:
    # A string, not a TOML float: 2000000.00 must compare exactly.
    value = raw["min_fine"]
    try:
        amount = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise RuleSetError(f"{where}: 'min_fine' must be an amount in a string, e.g. \"2000.00\"")
    return amount


def _periods(raw: Table, where: str) -> dict[str, Period]:
    """`periods`: sanction kind -> months, "permanent", or a table (see Period)."""
    periods = table(raw["periods"], f"{where}: periods")
    if not periods:
        raise RuleSetError(f"{where}: 'periods' names no sanction kind")
    result = {}
    for kind, value in periods.items():
        place = f"{where}: periods.{kind}"
        if value == "permanent":
            result[kind] = Period(None)
        elif isinstance(value, int) and not isinstance(value, bool):
            result[kind] = Period(positive_int({"months": value}, "months", place))
        elif isinstance(value, dict):
            spec = table(value, place, _PERIOD_KEYS)
            months = positive_int(spec, "months", place)
            plus = boolean(spec, "plus_period_months", place)
            default = positive_int(spec, "default_period_months", place)
            if months is None:
                raise RuleSetError(f"{place}: 'months' is required in a period table")
            if plus and default is None:
                raise RuleSetError(f"{place}: 'plus_period_months' needs 'default_period_months'")
            override = boolean(spec, "period_months_override", place)
            if plus and override:
                raise RuleSetError(f"{place}: a period either adds or overrides period_months")
            result[kind] = Period(months, plus, default, override)
        else:
            raise RuleSetError(f'{place}: expected months, "permanent" or a table')
    return result
