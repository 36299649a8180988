"""How many requests per second each HTTP stand-in serves on this machine.

    python -m benchmarks.standins [--dataset DIR] [--seconds S] [--concurrency C]

Runs `credgate simulators` (court rate limit off) in its own process and
drives each stand-in with C concurrent clients for S seconds: a signed
10-subject batchQuery on the credit platform, a 10-code QuerySupplierStatus
on procurement, a 10-party debtor query on the court.
Prints requests per second and the share of non-200 answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.load import http_request, run_load
from connectors.credit_signing import signed_headers
from gateway.settings import load_settings
from simulators.generator import GeneratorOptions, generate


def _subjects(dataset: Path, count: int) -> tuple[list[str], list[str]]:
    persons: list[str] = []
    orgs: list[str] = []
    with (dataset / "credit_platform" / "subjects.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            bucket = persons if row["type"] == "PERSON" else orgs
            if len(bucket) < count:
                bucket.append(row["code"])
            if len(persons) == count and len(orgs) == count:
                break
    return persons, orgs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _soap(username: str, password: str, codes: list[str]) -> bytes:
    body = "".join(f"<p:CreditCode>{code}</p:CreditCode>" for code in codes)
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:p="urn:gov:procurement:credit:2019" '
        'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        f"<soap:Header><wsse:Security><wsse:UsernameToken><wsse:Username>{username}</wsse:Username>"
        f"<wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>"
        f"<soap:Body><p:QuerySupplierStatus>{body}</p:QuerySupplierStatus></soap:Body></soap:Envelope>"
    ).encode()


async def _drive(name: str, url: str, make: Callable[[], bytes], seconds: float, c: int) -> None:
    result = await run_load(url, make, concurrency=c, seconds=seconds)
    print(f"{name:<12} {result.summary()}")


async def _run(dataset: Path, scratch: Path, seconds: float, concurrency: int) -> None:
    persons, orgs = _subjects(dataset, 10)
    config = scratch / "platforms.toml"
    ports = [str(_free_port()) for _ in range(3)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "simulators", "--dataset", str(dataset),
        "--config-out", str(config), "--court-rate-limit", "0",
        "--archive-dsn", f"sqlite:///{scratch / 'archive.db'}",
        "--credit-port", ports[0], "--procurement-port", ports[1], "--court-port", ports[2],
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    while b"stand-ins ready" not in await process.stdout.readline():
        pass
    platforms = load_settings(config).platforms
    urls = {
        "credit": platforms.credit.url,
        "procurement": platforms.procurement.url.removesuffix("/ws/SupplierCreditService"),
        "court": platforms.court.url,
    }
    try:
        credit_body = json.dumps(
            {"subjects": [{"type": "PERSON", "code": c} for c in persons], "includeInactive": True}
        ).encode()
        credit_url = httpx.URL(urls["credit"] + "/api/v2/subjects:batchQuery")

        def credit() -> bytes:
            # Signed afresh each time: the platform refuses a replayed nonce.
            headers = signed_headers(
                app_key=platforms.credit.app_key,
                app_secret=platforms.credit.app_secret.get_secret_value(),
                method="POST",
                url=credit_url,
                body=credit_body,
                clock=time.time,
            )
            headers["Content-Type"] = "application/json"
            return http_request("POST", str(credit_url), credit_body, headers)

        soap = _soap(
            platforms.procurement.username,
            platforms.procurement.password.get_secret_value(),
            orgs,
        )
        soap_headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"urn:gov:procurement:credit:2019/QuerySupplierStatus"',
        }

        procurement_url = urls["procurement"] + "/ws/SupplierCreditService"
        procurement = http_request("POST", procurement_url, soap, soap_headers)

        async with httpx.AsyncClient() as client:
            token = (
                await client.post(
                    urls["court"] + "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": platforms.court.client_id,
                        "client_secret": platforms.court.client_secret.get_secret_value(),
                    },
                )
            ).json()["access_token"]
        court_body = {"parties": [{"idCode": c} for c in persons], "pageNo": 1, "pageSize": 100}
        court_url = urls["court"] + "/v1/dishonest-debtors/query"
        court = http_request(
            "POST",
            court_url,
            json.dumps(court_body).encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )

        print(f"concurrency {concurrency}, {seconds:g} s each; stand-ins in their own process")
        await _drive("credit", urls["credit"], credit, seconds, concurrency)
        await _drive("procurement", procurement_url, lambda: procurement, seconds, concurrency)
        await _drive("court", court_url, lambda: court, seconds, concurrency)

    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        dataset = args.dataset
        if dataset is None:
            dataset = Path(scratch) / "dataset"
            generate(dataset, GeneratorOptions(persons=2_000, orgs=500))
        asyncio.run(_run(dataset, Path(scratch), args.seconds, args.concurrency))


if __name__ == "__main__":
    main()
