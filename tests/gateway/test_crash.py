"""The access log survives a crash: every answer that left has its entry.

A real `credgate serve` process answers a burst of concurrent requests and is
killed with SIGKILL in the middle of it. Afterwards every request that got a
200 must have its entry (found by the request id the answer carried), and
every hash chain must verify.
"""

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import httpx

from auth.access_log import verify
from auth.devkeys import mint_token
from gateway.keys import log_verification
from gateway.settings import load_settings
from tests.schema import dataset as known
from tests.stack import platforms
from tests.test_cli import PROJECT, free_ports

QUERY = (
    'query { person(idNumber: "%s", purpose: CADRE_SELECTION) { name creditRecords { recordId } } }'
)


async def start_gateway(config: Path, port: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDGATE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "serve", "--config", str(config), "--port", str(port),
        cwd=PROJECT,
        env={**env, "PYTHONPATH": str(PROJECT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    async with asyncio.timeout(60):
        while b"Application startup complete" not in await process.stderr.readline():
            pass
    return process


async def test_every_answered_request_is_logged_after_sigkill(tmp_path):
    dataset = known.write_dataset(tmp_path / "dataset")
    access = tmp_path / "access.db"
    keys = tmp_path / "keys"
    async with platforms(dataset, tmp_path) as (_, _, platform_config):
        config = tmp_path / "gateway.toml"
        config.write_text(
            platform_config.read_text(encoding="utf-8")
            + f'\n[auth]\ndev_keys_dir = "{keys}"\n[access_log]\ndsn = "sqlite:///{access}"\n'
            + "[limits]\nrequests_per_minute = 100000\n",
            encoding="utf-8",
        )
        (port,) = free_ports(1)
        gateway = await start_gateway(config, port)
        token = mint_token(keys, "hr_officer", "burst", unit=known.UNIT)
        answered: list[str] = []
        enough = asyncio.Event()

        async def one(client: httpx.AsyncClient, subject: str) -> None:
            try:
                answer = await client.post(
                    "/graphql",
                    json={"query": QUERY % subject},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError:
                return  # killed while this request was in flight: it never got an answer
            if answer.status_code == 200:
                answered.append(answer.json()["extensions"]["requestId"])
                if len(answered) >= 40:
                    enough.set()

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            burst = [
                asyncio.create_task(one(client, known.OTHERS[n % len(known.OTHERS)]))
                for n in range(400)
            ]
            await enough.wait()
            gateway.send_signal(signal.SIGKILL)
            await asyncio.gather(*burst)
            await gateway.wait()

    assert gateway.returncode == -signal.SIGKILL
    assert len(answered) >= 40
    with sqlite3.connect(access) as db:
        logged = {row[0] for row in db.execute("SELECT request_id FROM access_log")}
    missing = set(answered) - logged
    assert not missing, f"{len(missing)} answered requests have no log entry"
    report = verify(f"sqlite:///{access}", *log_verification(load_settings(config)))
    assert report.ok, report.summary()
