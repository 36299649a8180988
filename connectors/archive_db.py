"""The archive's exchange database, read-only, over SQLite or PostgreSQL by DSN.

    ArchiveDatabase.query(sql, params, timeout_s) -> rows as dicts
    open_database(dsn, statement_timeout_s)       -> the implementation for the DSN
    translate_error(platform, error)              -> the SourceError for a driver error

Why the drivers directly, not SQLAlchemy: the connector runs a handful of fixed
SELECTs, so an ORM or a query builder would add a dependency and a layer without
removing any code; the drivers' own error classes are what `translate_error`
must tell apart (unreachable, locked, timed out, wrong structure); and each
driver has its own way to be read-only that a wrapper would hide — SQLite's
`mode=ro` URI (a missing file is then an error, never a new empty database) and
PostgreSQL's `default_transaction_read_only`. Both are stdlib or already pinned
(`sqlite3`, psycopg 3).

Implementations raise the driver's errors (`sqlite3.Error`, `psycopg.Error`) or
`TimeoutError`; the connector translates them once, with `translate_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from psycopg import sql as pgsql
from psycopg.rows import dict_row

from .errors import (
    SourceAuthError,
    SourceError,
    SourceProtocolError,
    SourceTimeout,
    SourceUnavailable,
)

__all__ = [
    "DRIVER_ERRORS",
    "ArchiveDatabase",
    "PostgresDatabase",
    "Row",
    "SqliteDatabase",
    "open_database",
    "translate_error",
]

Row = dict[str, object]
DRIVER_ERRORS = (sqlite3.Error, psycopg.Error)


class ArchiveDatabase(Protocol):
    """Runs one SQL statement and returns its rows; never writes."""

    placeholder: str
    """The driver's parameter marker (`?` or `%s`), for building IN-lists."""

    async def query(self, sql: str, params: Sequence[object], timeout_s: float) -> list[Row]:
        """The statement's rows, or a driver error / `TimeoutError` after `timeout_s`."""
        ...

    async def close(self) -> None:
        """Release held connections; a later query may open new ones."""
        ...


def open_database(dsn: str, *, statement_timeout_s: float) -> ArchiveDatabase:
    """The implementation for `sqlite:///path` or `postgresql://...`."""
    if dsn.startswith("sqlite:///"):
        return SqliteDatabase(dsn.removeprefix("sqlite:///"))
    if dsn.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(dsn, statement_timeout_s=statement_timeout_s)
    raise ValueError("the archive DSN must start with sqlite:/// or postgresql://")


class SqliteDatabase:
    """A SQLite file opened read-only, a connection per statement in a worker thread.

    Opening a SQLite file costs microseconds, and a fresh connection per statement
    means no connection is ever shared between threads.
    """

    placeholder = "?"

    def __init__(self, path: str) -> None:
        # Percent-encoded, so a '?' or '#' in the path cannot become URI syntax.
        self._uri = f"file:{urllib.parse.quote(path)}?mode=ro"

    async def query(self, sql: str, params: Sequence[object], timeout_s: float) -> list[Row]:
        # A cancelled caller does not stop the thread; the progress handler does,
        # at the same deadline, so no statement outlives its caller by much.
        return await asyncio.to_thread(self._run, sql, tuple(params), timeout_s)

    def _run(self, sql: str, params: tuple[object, ...], timeout_s: float) -> list[Row]:
        deadline = time.monotonic() + timeout_s
        # Wait for a lock at most half the time, so a locked file fails as
        # "busy" (worth retrying) rather than running into the deadline.
        connection = sqlite3.connect(self._uri, uri=True, timeout=timeout_s / 2)
        try:
            connection.row_factory = sqlite3.Row
            # mode=ro covers the main file only; query_only also refuses writes
            # to anything a statement might ATTACH.
            connection.execute("PRAGMA query_only = ON")
            connection.set_progress_handler(lambda: time.monotonic() > deadline, 1_000)
            return [dict(row) for row in connection.execute(sql, params)]
        finally:
            connection.close()

    async def close(self) -> None:
        """Nothing is held between statements."""


class PostgresDatabase:
    """PostgreSQL through psycopg 3, with a few reused read-only connections.

    Every connection is put in `default_transaction_read_only` mode and given a
    server-side `statement_timeout` as soon as it opens; it runs in autocommit,
    so each statement is its own read-only transaction. At most
    `max_connections` are open at once; callers beyond that wait their turn
    (within their own timeout). A connection that saw any error is closed, not
    reused, so a broken or half-cancelled one never serves the next caller.
    The session setting guards against our own mistakes; the guarantee against
    writes is the read-only account the exchange database grants (UPSTREAMS.md).
    """

    placeholder = "%s"

    def __init__(self, dsn: str, *, statement_timeout_s: float, max_connections: int = 4) -> None:
        self._dsn = dsn
        self._statement_timeout_ms = max(1, math.ceil(statement_timeout_s * 1000))
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[psycopg.AsyncConnection[dict[str, Any]]] = []

    async def query(self, sql: str, params: Sequence[object], timeout_s: float) -> list[Row]:
        async with asyncio.timeout(timeout_s), self._slots:
            connection = await self._acquire()
            try:
                cursor = await connection.execute(sql, params)
                rows = await cursor.fetchall()
            except BaseException:
                with contextlib.suppress(Exception):
                    await connection.close()
                raise
            self._idle.append(connection)
            return rows

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def _acquire(self) -> psycopg.AsyncConnection[dict[str, Any]]:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        connection = await psycopg.AsyncConnection.connect(
            self._dsn, autocommit=True, row_factory=dict_row
        )
        try:
            await connection.execute("SET default_transaction_read_only = on")
            await connection.execute(
                pgsql.SQL("SET statement_timeout = {}").format(self._statement_timeout_ms)
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        return connection


# SQLite result codes that mean "the file cannot be read right now".
_SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR")


def translate_error(platform: str, error: BaseException) -> SourceError:
    """The project's error for a driver error or a timeout; the message is fixed
    text, because a driver's own message may quote SQL, a host or a value."""
    if isinstance(error, TimeoutError):
        return SourceTimeout(platform, "the exchange database did not answer in time")
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        if name == "SQLITE_INTERRUPT":
            return SourceTimeout(platform, "a statement ran past its deadline")
        if name.startswith(_SQLITE_UNAVAILABLE):
            return SourceUnavailable(platform, "the exchange database is unreachable or busy")
    if isinstance(error, psycopg.errors.QueryCanceled):
        return SourceTimeout(platform, "a statement ran past its deadline")
    if isinstance(error, psycopg.Error):
        state = error.sqlstate or ""
        if state.startswith("28") or isinstance(error, psycopg.errors.InsufficientPrivilege):
            return SourceAuthError(platform, "the exchange database refused our account")
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return SourceUnavailable(platform, "the exchange database is unreachable or busy")
    return SourceProtocolError(
        platform, "the exchange database does not have the expected structure"
    )
