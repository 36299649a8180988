"""`credgate verify-log` holds one entry at a time, however many report rows it has.

A log with one 16,000-report entry (what a request naming 16,000 subjects
would have written before requests were bounded) is verified by the real
command in a child process whose address space is capped at 256 MiB; its own
peak resident memory is read from the kernel when it ends (`wait4`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import resource
import subprocess
import sys
from pathlib import Path

from auth.access_log import Entry, ReportRow, open_access_log

from .test_access_log import KEY, SEAL, Database, make_entry

REPORTS = 16_000
LIMIT = 256 * 1024 * 1024
CREDGATE = Path(sys.executable).with_name("credgate")


def big_entry(n: int) -> Entry:
    subjects = [f"p:{n:02d}{i:06d}{'0' * 24}" for i in range(REPORTS)]
    reports = tuple(
        ReportRow(
            report_id=f"r{n:02d}-{i:06d}",
            actor="alice",
            subject=f"2101021985031200{i % 10}X",
            purpose="CADRE_SELECTION",
            as_of=dt.date(2025, 6, 30),
            verdict="FLAGGED",
            credit_record_ids=[f"CR-{i}-1", f"CR-{i}-2"],
        )
        for i in range(REPORTS)
    )
    return dataclasses.replace(
        make_entry(n, subjects=subjects, reports=reports), verdicts=["FLAGGED"] * REPORTS
    )


def verify_capped(dsn: str, tmp_path: Path) -> tuple[int, str, int]:
    """(exit status, output, peak RSS in bytes) of `credgate verify-log` under the cap."""
    config = tmp_path / "gateway.toml"
    key = tmp_path / "chain.key"
    key.write_bytes(KEY)
    config.write_text(
        f'[auth]\ndev_keys_dir = "{tmp_path / "keys"}"\n'
        f'[access_log]\ndsn = "{dsn}"\nchain_key_file = "{key}"\n',
        encoding="utf-8",
    )

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))

    child = subprocess.Popen(  # noqa: S603 - our own command
        [str(CREDGATE), "verify-log", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=cap,  # the child execs at once: nothing else runs in it before
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, output, usage.ru_maxrss * 1024


async def test_a_16000_report_entry_verifies_under_256_mib(dsn: str, tmp_path: Path) -> None:
    async with await open_access_log(dsn, SEAL) as log:
        await log.append(make_entry(1))
        await log.append(big_entry(2))
        await log.append(big_entry(3))
        await log.append(make_entry(4))
    status, output, peak = verify_capped(dsn, tmp_path)
    assert status == 0, output
    assert output.strip() == "access log intact: 1 chain, 4 entries verified"
    assert peak < LIMIT
    print(f"verify-log peak RSS: {peak / 2**20:.0f} MiB")


async def test_a_tampered_report_row_of_a_large_entry_is_still_found(
    dsn: str, tmp_path: Path
) -> None:
    async with await open_access_log(dsn, SEAL) as log:
        await log.append(big_entry(1))
        await log.append(make_entry(2))
    db = Database(dsn)
    db.drop_guards()
    db.execute("UPDATE access_log_reports SET verdict = 'CLEAR' WHERE report_id = 'r01-015999'")
    status, output, _ = verify_capped(dsn, tmp_path)
    assert status == 1
    assert "seq 1 edited: its content does not match its hash" in output
