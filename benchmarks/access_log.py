"""How many access-log entries per second become durable, with and without group commit.

    python -m benchmarks.access_log [--seconds S] [--concurrency C] [--postgres DSN]

For each store — a SQLite file in a temporary directory and, when reachable, a
scratch database on the PostgreSQL server at `--postgres` (default: the test
server, `CREDGATE_TEST_POSTGRES` or postgres@127.0.0.1) — C tasks append
entries without pause for S seconds, as C concurrent requests would: once with
group commit (up to 512 entries per transaction) and once with one commit per
entry (`max_batch=1`). Prints entries per second, transactions, and the mean
group size. Every figure counts only appends that returned, i.e. committed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from auth.access_log import DEFAULT_MAX_BATCH, Entry, Seal, open_access_log

_DEFAULT_POSTGRES = os.environ.get(
    "CREDGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _entry(n: int) -> Entry:
    return Entry(
        time=dt.datetime.now(dt.UTC),
        actor=f"officer-{n % 50}",
        role="hr_officer",
        unit="11110000000000000X",
        purpose="CADRE_SELECTION",
        subjects=[f"person:{secrets.token_hex(16)}"],
        fields=["person.name", "person.idNumber", "person.sanctions", "vet.verdict"],
        verdicts=["CLEAR"],
        policy_version="policy-1",
        rule_set_version="rules-1",
        request_id=f"bench-{n}",
        outcome="OK",
    )


async def _measure(dsn: str, max_batch: int, seconds: float, concurrency: int) -> str:
    seal = Seal(chain_key=b"benchmark chain key, not a secret")
    async with await open_access_log(dsn, seal, max_batch=max_batch) as log:
        numbers = itertools.count()
        done = 0
        stop_at = time.perf_counter() + seconds

        async def request() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                await log.append(_entry(next(numbers)))
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(request() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        commits = log.commits
    return (
        f"{done / elapsed:>10,.0f} entries/s  {commits:>7,} commits  "
        f"{done / max(commits, 1):>6.1f} entries/commit"
    )


@contextlib.contextmanager
def _scratch_postgres(admin_dsn: str) -> Iterator[str | None]:
    """A fresh database on the server, dropped afterwards; None when unreachable."""
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL: not measured, unreachable at {admin_dsn} ({exc})".strip())
        yield None
        return
    name = f"credgate_bench_{secrets.token_hex(4)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield admin_dsn.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


async def _compare(label: str, dsn: str, seconds: float, concurrency: int) -> None:
    grouped = await _measure(dsn, DEFAULT_MAX_BATCH, seconds, concurrency)
    print(f"{label:<11} group commit    {grouped}", flush=True)
    single = await _measure(dsn, 1, seconds, concurrency)
    print(f"{label:<11} commit per entry{single}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--postgres", default=_DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(f"{args.concurrency} concurrent appenders, {args.seconds:g} s per measurement")
    with tempfile.TemporaryDirectory() as scratch:
        dsn = f"sqlite:///{Path(scratch) / 'access.db'}"
        asyncio.run(_compare("SQLite", dsn, args.seconds, args.concurrency))
    with _scratch_postgres(args.postgres) as postgres:
        if postgres is not None:
            asyncio.run(_compare("PostgreSQL", postgres, args.seconds, args.concurrency))


if __name__ == "__main__":
    main()
