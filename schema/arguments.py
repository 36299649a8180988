"""Arguments used by several fields, each with the description clients see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from .types import Purpose

__all__ = ["AsOf", "DateFrom", "DateTo", "IncludeInactive", "PurposeArgument"]

PurposeArgument = Annotated[
    Purpose,
    strawberry.argument(
        description="Why you ask: your roles must grant it, and it decides which platforms "
        "are consulted (FORBIDDEN_PURPOSE otherwise)."
    ),
]
AsOf = Annotated[
    dt.date | None,
    strawberry.argument(
        description="The day records are judged on (in force, open, inside their windows); "
        "default today in China. The demo data is anchored at 2025-06-30."
    ),
]
IncludeInactive = Annotated[
    bool | None,
    strawberry.argument(
        description="Also the records not in force on the as-of date (with inForce false): "
        "credit_admin and the data subject about itself only (FORBIDDEN_ARGUMENT otherwise)."
    ),
]
DateFrom = Annotated[
    dt.date, strawberry.argument(name="from", description="First day of the period.")
]
DateTo = Annotated[dt.date, strawberry.argument(description="Last day of the period.")]
