"""`credgate serve` in its own process, for tests that need a real worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.test_cli import PROJECT, free_ports


def patient(seconds: float) -> dict[str, str]:
    """Environment that gives every platform call `seconds` (whole call and attempt),
    and the outbox the lease such a credit call needs (twice its deadline)."""
    return {
        **{
            f"CREDGATE_PLATFORMS__{platform}__{key}": f"{seconds:g}"
            for platform in ("CREDIT", "PROCUREMENT", "COURT", "ARCHIVE")
            for key in ("TIMEOUT_S", "ATTEMPT_TIMEOUT_S")
        },
        "CREDGATE_OUTBOX__LEASE_S": f"{max(30.0, 2 * seconds):g}",
    }


@dataclass
class Served:
    client: httpx.AsyncClient  # on the worker's base URL
    url: str
    pid: int

    def open_files(self) -> int:
        """File descriptors the worker holds now (Linux /proc)."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def resident_kib(self) -> int:
        """The worker's resident memory now, in KiB (Linux /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")


@contextlib.asynccontextmanager
async def served(
    config: Path,
    *,
    env: Mapping[str, str] | None = None,
    open_files_limit: int | None = None,
    connections: int = 100,
) -> AsyncIterator[Served]:
    """`credgate serve --config CONFIG` on a free port, until the context ends;
    ready once uvicorn says its start is complete. `open_files_limit` lowers the
    worker's RLIMIT_NOFILE, as a small deployment's would be."""
    (port,) = free_ports(1)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CREDGATE_")}

    def limit_files() -> None:
        if open_files_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files_limit, open_files_limit))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--config", str(config),
        "--port", str(port),
        cwd=PROJECT, env={**inherited, **(env or {}), "PYTHONPATH": str(PROJECT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        preexec_fn=limit_files,
    )  # fmt: skip
    assert process.stderr is not None
    output: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while b"Application startup complete" not in (line := await process.stderr.readline()):
                output.append(line)
                assert line, b"".join(output).decode(errors="replace")
        # Keep reading, so the process never blocks on a full pipe.
        drain = asyncio.create_task(process.stderr.read())
        drain.add_done_callback(lambda task: task.cancelled() or task.exception())
        limits = httpx.Limits(max_connections=connections)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            yield Served(client, url, process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
