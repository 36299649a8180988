"""Appends access-log entries until killed, for the crash test.

    python -m tests.auth.access_log_crash_writer DSN CHAIN_KEY

Sixteen concurrent tasks append without pause (so groups form); each prints its
entry's request id on its own line only AFTER `append` returned, i.e. once the
entry is committed. Whatever this printed must be in the log after a SIGKILL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sys

from auth.access_log import Entry, Seal, open_access_log

_WRITERS = 16


async def _main(dsn: str, chain_key: bytes) -> None:
    log = await open_access_log(dsn, Seal(chain_key=chain_key))
    numbers = itertools.count()

    async def writer() -> None:
        while True:
            request_id = f"crash-{next(numbers)}"
            await log.append(
                Entry(
                    time=dt.datetime.now(dt.UTC),
                    actor="crash-test",
                    role="auditor",
                    unit="UNIT",
                    purpose="AUDIT",
                    subjects=[f"subject-{request_id}"],
                    fields=["person.name"],
                    verdicts=[],
                    policy_version="p",
                    rule_set_version="r",
                    request_id=request_id,
                    outcome="OK",
                )
            )
            print(request_id, flush=True)

    await asyncio.gather(*(writer() for _ in range(_WRITERS)))


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2].encode()))
