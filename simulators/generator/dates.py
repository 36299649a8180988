"""Calendar arithmetic and timestamps for generated data (DOMAIN.md date conventions).

Every generated date is derived from the dataset's as-of date, never from the
clock. A period of N months from D ends before `add_months(D, N)`: calendar
months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb).
Timestamps are ISO 8601 in +08:00 and never later than the as-of date's
midnight, the moment the dataset claims to have been generated.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random

__all__ = [
    "ONE_DAY",
    "add_months",
    "age",
    "day_between",
    "midnight",
    "money",
    "stamp",
]

ONE_DAY = dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus (or minus) calendar months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def age(born: dt.date, on: dt.date) -> int:
    """Completed years of life on `on`."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A uniformly drawn day in [first, last]; `first` when the range is empty."""
    span = (last - first).days
    return first if span <= 0 else first + dt.timedelta(days=rng.randint(0, span))


def midnight(day: dt.date) -> str:
    """00:00:00 of `day` in +08:00."""
    return f"{day.isoformat()}T00:00:00+08:00"


def stamp(rng: random.Random, day: dt.date, ceiling: dt.date) -> str:
    """A time in office hours on `day`, +08:00; at most `ceiling` 00:00.

    Something that happened on or after the as-of date is stamped with the
    as-of midnight, so no timestamp lies after the dataset's generation time.
    """
    if day >= ceiling:
        return midnight(ceiling)
    seconds = rng.randint(8 * 3600, 18 * 3600 + 59 * 60)
    hours, rest = divmod(seconds, 3600)
    return f"{day.isoformat()}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08:00"


def money(cents: int) -> str:
    """Integer cents as a CNY decimal string ("2500000.00"); money is never a float."""
    return f"{cents // 100}.{cents % 100:02d}"
