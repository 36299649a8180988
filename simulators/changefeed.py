"""An append-only change feed with opaque cursors, as every platform keeps one.

Existing records appear first, as initial changes in `updated_at` order; later
changes are appended with increasing `seq`. A cursor names the last change a
client has read; a page may be shorter than the limit, and only an empty page
means the client is up to date.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

__all__ = ["ChangeFeed", "InvalidCursor"]


class InvalidCursor(ValueError):
    """A cursor this feed did not issue."""


class ChangeFeed:
    """Changes in `seq` order; each change is a dict that includes `seq`."""

    def __init__(self, initial: Iterable[dict[str, Any]] = ()) -> None:
        self._changes: list[dict[str, Any]] = []
        for change in initial:
            self.append(change)

    def append(self, change: dict[str, Any]) -> dict[str, Any]:
        """Add a change, giving it the next `seq`; returns the stored change."""
        stored = {"seq": len(self._changes) + 1, **change}
        self._changes.append(stored)
        return stored

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str]:
        """Changes after `cursor` (from the start when None) and the next cursor."""
        after = self.decode(cursor) if cursor else 0
        page = self._changes[after : after + limit]
        return page, self.encode(page[-1]["seq"] if page else after)

    @staticmethod
    def encode(seq: int) -> str:
        return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str) -> int:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            prefix, _, number = text.partition(":")
            if prefix != "seq" or not number.isdigit():
                raise ValueError(cursor)
            return int(number)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidCursor("cursor was not issued by this feed") from None
