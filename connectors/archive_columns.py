"""Typed reads from one row of the exchange database, trusting nothing.

`Columns` reads one row of one table: text is `str`, integers are `int`, dates
are `date` values or `YYYY-MM-DD` text (SQLite keeps dates as ISO text),
timestamps are aware datetimes or ISO 8601 text — text without an offset is the
archive's local time, +08:00 — and come back in +08:00. A row lacking a
column, or a value of the wrong kind, is `Refused`; the message names the table
and column, never the value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Mapping

from .base import SHANGHAI

__all__ = ["Columns", "Refused"]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)


class Refused(Exception):
    """Why rows cannot be trusted; becomes a SourceProtocolError at the top."""


class Columns:
    """Typed reads from one row of one table; a column the row lacks is refused."""

    def __init__(self, table: str, row: Mapping[str, object]) -> None:
        self.table = table
        self.row = row

    def _get(self, column: str) -> object:
        if column not in self.row:
            raise Refused(f"a {self.table} row lacks {column}")
        return self.row[column]

    def _refuse(self, column: str, reason: str) -> Refused:
        return Refused(f"{self.table}.{column} {reason}")

    def text(self, column: str) -> str | None:
        value = self._get(column)
        if value is not None and not isinstance(value, str):
            raise self._refuse(column, "is not text")
        return value

    def required_text(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self._refuse(column, "is missing or empty")
        return value

    def choice(self, column: str, allowed: frozenset[str]) -> str | None:
        value = self.text(column)
        if value is not None and value not in allowed:
            raise self._refuse(column, "is not a value the archive defines")
        return value

    def required_choice(self, column: str, allowed: frozenset[str]) -> str:
        value = self.choice(column, allowed)
        if value is None:
            raise self._refuse(column, "is missing")
        return value

    def integer(self, column: str) -> int | None:
        value = self._get(column)
        # bool is an int to Python, never to SQL.
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self._refuse(column, "is not an integer")
        return value

    def required_integer(self, column: str) -> int:
        value = self.integer(column)
        if value is None:
            raise self._refuse(column, "is missing")
        return value

    def date(self, column: str) -> dt.date | None:
        value = self._get(column)
        if value is None:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self._refuse(column, "is not a date")

    def required_date(self, column: str) -> dt.date:
        value = self.date(column)
        if value is None:
            raise self._refuse(column, "is missing")
        return value

    def timestamp(self, column: str) -> dt.datetime | None:
        value = self._get(column)
        if value is None:
            return None
        if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
            with contextlib.suppress(ValueError):
                value = dt.datetime.fromisoformat(value)
        if not isinstance(value, dt.datetime):
            raise self._refuse(column, "is not a timestamp")
        if value.tzinfo is None:
            return value.replace(tzinfo=SHANGHAI)
        return value.astimezone(SHANGHAI)
