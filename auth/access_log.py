"""The tamper-evident access log: durable before the answer leaves, committed in groups.

    log = await open_access_log("sqlite:///data/access.db", seal)   # or "postgresql://..."
    await log.append(entry)        # returns once the entry is committed
    await log.search(subject=key, actor=None, start=None, end=None, limit=50)
    await log.report(report_id)    # a report row, for recordUsage
    await log.close()              # commits what is queued, then lets go
    verify(dsn, key, checkpoints, public_key) -> VerifyReport   # .ok, .broken, .summary()

Group commit. `append` queues its entry and waits. One writer task takes
everything queued (at most `max_batch`), links it onto this process's chain,
writes it in ONE transaction and commits once; only then does it wake the
waiters. While it commits, new appends queue up for the next group, so a burst
of N concurrent requests costs a few disk syncs rather than N, and no request
returns before its entry is durable. Nothing waits for a timer: a lone request
is committed at once.

Failure. If a group's transaction fails, every waiter of that group gets
`AccessLogWriteError` (the gateway answers those requests with no data). The
writer then re-reads its chain's head record before the next group, so the
chain stays gapless whatever became of the failed commit — including the rare
case where a COMMIT whose acknowledgement was lost did reach the disk: those
entries stay in the log, although their requests were refused.

Checkpoints. With a `Seal` that names a checkpoint store, the writer appends
its chain's signed head there after a commit once `interval_s` has passed
since the last one, and when it closes (`access_log_seal`). A checkpoint that
cannot be written is logged; the answers do not wait for it.

Values and errors: `access_log_entry`; hashing and verification: `access_log_chain`;
keys and checkpoints: `access_log_seal`; storage: `access_log_store`, with
`access_log_sqlite` and `access_log_postgres`.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import secrets
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .access_log_chain import (
    GENESIS,
    BreakKind,
    BrokenLink,
    ChainedEntry,
    ChainHead,
    VerifyReport,
    chain_entries,
    verify_chains,
)
from .access_log_entry import (
    AccessLogClosed,
    AccessLogError,
    AccessLogUnreadable,
    AccessLogWriteError,
    Entry,
    ReportRow,
)
from .access_log_postgres import PostgresStore, read_postgres_log
from .access_log_seal import BadCheckpoint, Checkpoint, CheckpointFile
from .access_log_sqlite import SqliteStore, read_sqlite_log
from .access_log_store import LogQuery, LogSnapshot, LogStore, china_time

__all__ = [
    "DEFAULT_MAX_BATCH",
    "AccessLog",
    "AccessLogClosed",
    "AccessLogError",
    "AccessLogUnreadable",
    "AccessLogWriteError",
    "BreakKind",
    "BrokenLink",
    "ChainHead",
    "Entry",
    "LogStore",
    "ReportRow",
    "Seal",
    "VerifyReport",
    "open_access_log",
    "open_store",
    "verify",
]

DEFAULT_MAX_BATCH = 512
"""Entries per transaction at most: bounds one commit's size and latency."""

logger = logging.getLogger(__name__)

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")
_DRIVER_ERRORS = (sqlite3.Error, psycopg.Error, OSError)


def _sqlite_path(dsn: str) -> Path:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` -> the file."""
    if dsn == _SQLITE_PREFIX:
        raise ValueError("a SQLite DSN looks like sqlite:///path/to/access.db")
    return Path(dsn.removeprefix(_SQLITE_PREFIX))


async def open_store(dsn: str) -> LogStore:
    """The storage at `dsn` (`sqlite:///path` or `postgresql://...`), tables created."""
    if dsn.startswith(_SQLITE_PREFIX):
        return await SqliteStore.open(_sqlite_path(dsn))
    if dsn.startswith(_POSTGRES_PREFIXES):
        return await PostgresStore.open(dsn)
    raise ValueError("the access-log DSN must start with sqlite:/// or postgresql://")


@dataclass(frozen=True)
class Seal:
    """What a writer signs its chain with: the chain key, and where and how often
    its signed checkpoints go (none: `checkpoints` None)."""

    chain_key: bytes
    checkpoints: CheckpointFile | None = None
    signing_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    interval_s: float = 60.0


async def open_access_log(dsn: str, seal: Seal, *, max_batch: int = DEFAULT_MAX_BATCH) -> AccessLog:
    """A writer (with a new chain) on the access log at `dsn`."""
    return AccessLog(await open_store(dsn), seal, max_batch=max_batch)


def verify(
    dsn: str,
    chain_key: bytes,
    checkpoints: CheckpointFile | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> VerifyReport:
    """Walk every chain of the log at `dsn`; the report names the first broken link.

    With `checkpoints` (and the `public_key` they are signed with) every chain
    must still reach its last checkpoint. Raises `AccessLogUnreadable` when
    there is no log to read. Blocking: meant for `credgate verify-log`, not for
    the event loop of a serving gateway.
    """
    latest: dict[str, Checkpoint] = {}
    if checkpoints is not None:
        if public_key is None:
            raise ValueError("checkpoints are verified with their public key")
        for checkpoint in checkpoints.read():
            if isinstance(checkpoint, BadCheckpoint) or not checkpoint.signed_by(public_key):
                return _forged(checkpoints, checkpoint)
            held = latest.get(checkpoint.chain_id)
            if held is None or checkpoint.seq >= held.seq:
                latest[checkpoint.chain_id] = checkpoint
    snapshot: AbstractContextManager[LogSnapshot]
    if dsn.startswith(_SQLITE_PREFIX):
        snapshot = read_sqlite_log(_sqlite_path(dsn))
    elif dsn.startswith(_POSTGRES_PREFIXES):
        snapshot = read_postgres_log(dsn)
    else:
        raise ValueError("the access-log DSN must start with sqlite:/// or postgresql://")
    with snapshot as log:
        return verify_chains(log.rows, log.heads, chain_key, latest)


def _forged(store: CheckpointFile, line: Checkpoint | BadCheckpoint) -> VerifyReport:
    if isinstance(line, BadCheckpoint):
        detail = f"line {line.number} of {store.path}: {line.reason}"
        return VerifyReport(0, 0, BrokenLink("-", 0, BreakKind.FORGED, detail))
    detail = f"a checkpoint in {store.path} is not signed by the checkpoint key"
    return VerifyReport(0, 0, BrokenLink(line.chain_id, line.seq, BreakKind.FORGED, detail))


@dataclass(frozen=True)
class _Waiter:
    entry: Entry
    committed: asyncio.Future[None]


class AccessLog:
    """This process's writer: one hash chain, entries committed in groups."""

    def __init__(self, store: LogStore, seal: Seal, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if (seal.checkpoints is None) != (seal.signing_key is None):
            raise ValueError("checkpoints are written with a signing key")
        self._store = store
        self._seal = seal
        self._checkpointed_at: float | None = None
        self._unsigned: ChainedEntry | None = None  # the head since the last checkpoint
        self._max_batch = max_batch
        self.chain_id = secrets.token_hex(16)
        """This writer's chain; random, so concurrent processes never share one."""
        self._next_seq = 1
        self._last_hash = GENESIS
        self._resume_from_head = False
        self._queue: collections.deque[_Waiter] = collections.deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._commits = 0
        self._failed_commits = 0

    @property
    def commits(self) -> int:
        """Transactions committed so far (each holds one group of entries)."""
        return self._commits

    @property
    def failed_commits(self) -> int:
        """Groups whose transaction failed (their waiters got AccessLogWriteError)."""
        return self._failed_commits

    async def check(self) -> None:
        """Raise `AccessLogError` unless entries can be written now: the log is open
        and its store answers (this writer's chain head is read)."""
        if self._closed:
            raise AccessLogClosed("the access log is closed")
        try:
            await self._store.head(self.chain_id)
        except (sqlite3.Error, psycopg.Error, OSError) as exc:
            raise AccessLogUnreadable(
                f"the access-log store does not answer ({type(exc).__name__})"
            ) from exc

    async def append(self, entry: Entry) -> None:
        """Return once `entry` is committed; raise `AccessLogWriteError` if it was not.

        A caller cancelled while waiting does not withdraw its entry: it is
        committed with its group all the same.
        """
        if self._closed:
            raise AccessLogClosed("the access log is closed")
        waiter = _Waiter(entry, asyncio.get_running_loop().create_future())
        self._queue.append(waiter)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups(), name="access-log-writer")
        self._wake.set()
        await waiter.committed

    async def _write_groups(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                size = min(len(self._queue), self._max_batch)
                await self._commit([self._queue.popleft() for _ in range(size)])
            if self._closed:
                return

    async def _commit(self, group: list[_Waiter]) -> None:
        try:
            if self._resume_from_head:
                head = await self._store.head(self.chain_id)
                self._next_seq, self._last_hash = (
                    (head.seq + 1, head.hash) if head else (1, GENESIS)
                )
            rows = chain_entries(
                self._seal.chain_key,
                self.chain_id,
                self._next_seq,
                self._last_hash,
                [w.entry for w in group],
            )
            await self._store.write(rows)
        except BaseException as exc:
            # Whether or not the failed transaction reached the disk, the head
            # record says where the chain really ends: read it before going on.
            self._resume_from_head = True
            self._failed_commits += 1
            for waiter in group:
                if not waiter.committed.done():
                    error = AccessLogWriteError(
                        f"the access-log entry was not committed ({type(exc).__name__})"
                    )
                    error.__cause__ = exc
                    waiter.committed.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return
        self._resume_from_head = False
        self._next_seq, self._last_hash = rows[-1].seq + 1, rows[-1].hash
        self._commits += 1
        for waiter in group:
            if not waiter.committed.done():
                waiter.committed.set_result(None)
        self._unsigned = rows[-1]
        due = self._checkpointed_at is None or (
            time.monotonic() - self._checkpointed_at >= self._seal.interval_s
        )
        if due:
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Append the chain's signed head to the checkpoint store, if there is news."""
        seal, head = self._seal, self._unsigned
        if seal.checkpoints is None or seal.signing_key is None or head is None:
            return
        checkpoint = Checkpoint(
            head.chain_id, head.seq, head.hash, dt.datetime.now(dt.UTC).isoformat()
        ).sign(seal.signing_key)
        try:
            await asyncio.to_thread(seal.checkpoints.append, [checkpoint])
        except OSError:
            logger.exception("access-log checkpoint not written; trying again later")
            return
        self._checkpointed_at = time.monotonic()
        self._unsigned = None

    async def search(
        self,
        subject: str | None = None,
        actor: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[Entry]:
        """Committed entries (of every writer) matching all given conditions, newest first.

        `subject` matches entries whose subject keys contain it; `start` is
        inclusive, `end` exclusive, both timezone-aware. Report rows are not
        included (see `report`).
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = LogQuery(
            subject=subject,
            actor=actor,
            start=china_time(start) if start is not None else None,
            end=china_time(end) if end is not None else None,
            limit=limit,
        )
        try:
            return await self._store.search(query)
        except _DRIVER_ERRORS as exc:
            raise AccessLogUnreadable(
                f"the access log cannot be searched ({type(exc).__name__})"
            ) from exc

    async def report(self, report_id: str) -> ReportRow | None:
        """The report row stored with its entry, or None for an unknown id."""
        try:
            return await self._store.report(report_id)
        except _DRIVER_ERRORS as exc:
            raise AccessLogUnreadable(
                f"the access log cannot be read ({type(exc).__name__})"
            ) from exc

    async def close(self) -> None:
        """Commit every queued entry, then release the database."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._wake.set()
            await self._writer
        await self._checkpoint()
        await self._store.close()

    async def __aenter__(self) -> AccessLog:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
