"""`credgate` as a user runs it: real processes, real ports, Ctrl-C."""

import asyncio
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from connectors.probe import probe_all
from gateway.settings import load_settings

PROJECT = Path(__file__).resolve().parent.parent


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


async def start(*args, cwd=PROJECT):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDGATE_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli",
        *args,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(PROJECT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(process, marker, limit_s=120):
    seen = []
    async with asyncio.timeout(limit_s):
        while line := await process.stdout.readline():
            seen.append(line.decode())
            if marker in seen[-1]:
                return "".join(seen)
    stderr = (await process.stderr.read()).decode()
    pytest.fail(f"process ended before {marker!r}:\n{''.join(seen)}\n{stderr}")


async def interrupt(process):
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        return await process.wait()


def port_args(ports):
    credit, procurement, court = ports
    return [
        "--credit-port",
        str(credit),
        "--procurement-port",
        str(procurement),
        "--court-port",
        str(court),
    ]


async def test_simulators_serve_write_a_working_config_and_stop_on_ctrl_c(small_dataset, tmp_path):
    config = tmp_path / "platforms.toml"
    ports = free_ports(3)
    archive = f"sqlite:///{tmp_path / 'archive.db'}"
    process = await start(
        "simulators",
        "--dataset",
        str(small_dataset),
        "--config-out",
        str(config),
        "--archive-dsn",
        archive,
        "--latency-ms",
        "1:1",
        *port_args(ports),
    )
    try:
        output = await read_until(process, "stand-ins ready")
        assert f"http://127.0.0.1:{ports[0]}" in output
        assert config.stat().st_mode & 0o077 == 0  # holds credentials: owner only
        settings = load_settings(config)
        async with httpx.AsyncClient() as client:
            probes = await probe_all(settings.platforms, client)
            assert {p.platform: p.ok for p in probes} == dict.fromkeys(
                ("credit", "procurement", "court", "archive"), True
            ), probes
            stats = (await client.get(f"http://127.0.0.1:{ports[2]}/_sim/stats")).json()
            assert stats["requests"] == {"POST /oauth/token": 1}
    finally:
        code = await interrupt(process)
    assert code == 0
    assert "stand-ins stopped: credit, procurement, court" in (await process.stdout.read()).decode()


async def test_a_malformed_dataset_is_refused_with_file_and_line(tmp_path):
    bad = tmp_path / "bad"
    (bad / "court").mkdir(parents=True)
    (bad / "court" / "entries.jsonl").write_text("{not json\n", encoding="utf-8")
    process = await start("simulators", "--dataset", str(bad), *port_args(free_ports(3)))
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "entries.jsonl:1" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_a_missing_dataset_directory_is_a_one_line_error(tmp_path):
    process = await start("simulators", "--dataset", str(tmp_path / "nowhere"))
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert stderr.decode().strip().startswith("credgate: dataset directory")


async def test_generate_writes_a_dataset(tmp_path):
    process = await start(
        "generate", "--out", str(tmp_path / "d"), "--persons", "1500", "--orgs", "400"
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert (tmp_path / "d" / "manifest.json").exists()
    assert (tmp_path / "d" / "golden.jsonl").exists()
    assert "dataset written" in stdout.decode()


async def test_demo_starts_everything_and_stops_cleanly(small_dataset, tmp_path):
    # A dataset already in place: the demo uses it instead of generating one.
    shutil.copytree(small_dataset, tmp_path / "data" / "dataset")
    gateway_port, *standin_ports = free_ports(4)
    process = await start(
        "demo", "--port", str(gateway_port), *port_args(standin_ports), cwd=tmp_path
    )
    try:
        banner = await read_until(process, "Ctrl-C stops everything")
        assert f"http://127.0.0.1:{gateway_port}/graphql" in banner
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            refused = await client.post("/graphql", json={"query": "{ sources { source ok } }"})
            assert refused.status_code == 401
            admin = next(
                line.split()[1]
                for line in banner.splitlines()
                if line.strip().startswith("credit_admin")
            )
            answer = await client.post(
                "/graphql",
                json={"query": "{ sources { source ok } }"},
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert all(source["ok"] for source in answer.json()["data"]["sources"])
            # GraphiQL opens with the README's first query and the hr_officer's token.
            page = await client.get("/graphql", headers={"accept": "text/html"})
            hr = next(
                line.split()[1]
                for line in banner.splitlines()
                if line.strip().startswith("hr_officer")
            )
            assert f"Bearer {hr}" in page.text
            assert "211322199906275760" in page.text
    finally:
        code = await interrupt(process)
    assert code == 0
    said = (await process.stdout.read()).decode()
    assert "credgate demo stopped: credit (http://127.0.0.1:" in said
    assert f"gateway (http://127.0.0.1:{gateway_port})" in said
    assert (tmp_path / "data" / "archive.db").exists()


async def test_token_signs_in_development_and_refuses_in_production(tmp_path):
    keys = tmp_path / "keys"
    development = tmp_path / "dev.toml"
    development.write_text(f'[auth]\ndev_keys_dir = "{keys}"\n', encoding="utf-8")
    process = await start("token", "--config", str(development), "--role", "auditor", "--sub", "a")
    stdout, _ = await process.communicate()
    assert process.returncode == 0
    assert stdout.decode().count(".") == 2  # a JWT: header.payload.signature
    production = tmp_path / "prod.toml"
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("k" * 64, encoding="ascii")
    production.write_text(
        '[gateway]\nmode = "production"\n'
        f'[auth]\njwks_file = "{keys}/jwks.json"\npseudonym_key_file = "{key_file}"\n'
        '[access_log]\nchain_key_file = "c.key"\ncheckpoint_key_file = "k.pem"\n'
        'checkpoint_file = "checkpoints.jsonl"\n',
        encoding="utf-8",
    )
    process = await start("token", "--config", str(production), "--role", "auditor", "--sub", "a")
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "refused in production" in stderr.decode()
