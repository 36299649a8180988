"""The wire format of the schema's dates and amounts, said in the schema itself.

Strawberry's own `Date`, `DateTime` and `Decimal` say only "isoformat" and
"fixed-point", so code generators type them `unknown`. The same scalars (same
parsing, same serialisation) are given here with `@specifiedBy` where a public
specification exists and a description of the wire format in every case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

__all__ = ["SCALARS"]

SCALARS: dict[object, ScalarDefinition] = {
    dt.date: dataclasses.replace(
        DateDefinition,
        description="A calendar date as a string, YYYY-MM-DD (RFC 3339 full-date), "
        "e.g. 2025-06-30; dates of the platforms are dates in China (UTC+8).",
        specified_by_url="https://scalars.graphql.org/andimarek/local-date.html",
    ),
    dt.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="A moment as a string, RFC 3339 date-time with its offset, e.g. "
        "2025-06-30T09:15:00.123456+08:00 (answers are in China time, +08:00).",
        specified_by_url="https://scalars.graphql.org/andimarek/date-time.html",
    ),
    decimal.Decimal: dataclasses.replace(
        DecimalDefinition,
        description='An exact decimal number as a string, e.g. "5000.00" (amounts in '
        "yuan): never a JSON number, so no digit is lost to floating point.",
    ),
}
