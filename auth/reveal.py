"""The pseudonym registry: which identifier stands behind a pseudonym an auditor was shown.

Pseudonyms are keyed HMACs: one-way by design. So that an auditor can, for a
named case, turn one back into an identity (`revealIdentity`), the gateway
remembers every pseudonym it actually handed out, with the identifier behind
it, in a table beside the access log (same database). Nothing else reads it;
each reveal is itself an access-log entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterable

import psycopg

__all__ = ["PseudonymRegistry", "open_registry"]

_CREATE = (
    "CREATE TABLE IF NOT EXISTS pseudonym_registry "
    "(pseudonym TEXT PRIMARY KEY, kind TEXT NOT NULL, identifier TEXT NOT NULL)"
)
_SQLITE = "sqlite:///"


class PseudonymRegistry:
    """Remembers (pseudonym → kind, identifier); SQLite or PostgreSQL by DSN."""

    def __init__(self, dsn: str) -> None:
        if not dsn.startswith((_SQLITE, "postgresql://", "postgres://")):
            raise ValueError("the registry DSN must start with sqlite:/// or postgresql://")
        self.dsn = dsn

    async def register(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """Store (pseudonym, kind, identifier) rows; known pseudonyms are left as they are."""
        rows = sorted(set(entries))
        if not rows:
            return
        if self.dsn.startswith(_SQLITE):
            await asyncio.to_thread(self._sqlite_register, rows)
            return
        connect = psycopg.AsyncConnection.connect
        async with await connect(self.dsn) as connection, connection.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO pseudonym_registry VALUES (%s, %s, %s) "
                "ON CONFLICT (pseudonym) DO NOTHING",
                rows,
            )

    async def lookup(self, pseudonym: str) -> tuple[str, str] | None:
        """(kind, identifier) behind `pseudonym`, or None when it was never handed out."""
        if self.dsn.startswith(_SQLITE):
            return await asyncio.to_thread(self._sqlite_lookup, pseudonym)
        async with await psycopg.AsyncConnection.connect(self.dsn) as connection:
            cursor = await connection.execute(
                "SELECT kind, identifier FROM pseudonym_registry WHERE pseudonym = %s",
                (pseudonym,),
            )
            row = await cursor.fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def _sqlite_register(self, rows: list[tuple[str, str, str]]) -> None:
        with contextlib.closing(sqlite3.connect(self.dsn.removeprefix(_SQLITE))) as db, db:
            db.executemany("INSERT OR IGNORE INTO pseudonym_registry VALUES (?, ?, ?)", rows)

    def _sqlite_lookup(self, pseudonym: str) -> tuple[str, str] | None:
        with contextlib.closing(sqlite3.connect(self.dsn.removeprefix(_SQLITE))) as db:
            row = db.execute(
                "SELECT kind, identifier FROM pseudonym_registry WHERE pseudonym = ?",
                (pseudonym,),
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None


async def open_registry(dsn: str) -> PseudonymRegistry:
    """The registry at `dsn`, its table created if missing."""
    registry = PseudonymRegistry(dsn)
    if dsn.startswith(_SQLITE):
        path = dsn.removeprefix(_SQLITE)

        def create() -> None:
            with contextlib.closing(sqlite3.connect(path)) as db, db:
                db.execute(_CREATE)

        await asyncio.to_thread(create)
    else:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
            await connection.execute(_CREATE)
    return registry
