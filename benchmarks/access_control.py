"""The cost of access control: the same `person` query with it on and off.

    python -m benchmarks.access_control [--dataset DIR] [--seconds S] [--concurrency C]

The stand-ins (0 ms) and ONE gateway worker (`credgate serve`) run in their own
processes; the load comes from this one over keep-alive connections. "Off" is
development mode with `[auth] enforce = false`: no token, no purpose binding,
no masking. "On" verifies an hr_officer's bearer token on every request, binds
the purpose and masks every field by the policy. The access log is written in
both. All clients ask about one person, so their upstream calls are shared and
the gateway's own work is what is measured. Prints requests per second and
latency for each, and the on/off ratio (aim: at least 0.8).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from auth.devkeys import mint_token

from .batching import pick_persons
from .common import PERSON_FIELDS, dataset_dir, gateway_process, run_standins
from .load import LoadResult, http_request, run_load

QUERY = (
    "query Person($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION)"
    " { ...PersonRecords } }" + PERSON_FIELDS
)


async def drive(url: str, person: str, token: str | None, seconds: float, c: int) -> LoadResult:
    body = json.dumps({"query": QUERY, "variables": {"id": person}}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = http_request("POST", f"{url}/graphql", body, headers)
    await run_load(f"{url}/graphql", lambda: request, concurrency=c, seconds=1.0)  # warm up
    return await run_load(f"{url}/graphql", lambda: request, concurrency=c, seconds=seconds)


async def run(dataset: Path, scratch: Path, seconds: float, concurrency: int) -> None:
    (person,) = pick_persons(dataset, 1)
    results: dict[str, LoadResult] = {}
    async with run_standins(dataset, scratch) as standins:
        base = standins.config.read_text(encoding="utf-8")
        keys = scratch / "dev-keys"
        for mode in ("off", "on"):
            config = scratch / f"gateway-{mode}.toml"
            enforce = "true" if mode == "on" else "false"
            config.write_text(base.replace("enforce = false", f"enforce = {enforce}"), "utf-8")
            token = mint_token(keys, "hr_officer", "bench") if mode == "on" else None
            async with gateway_process(config, scratch) as gateway:
                results[mode] = await drive(gateway.url, person, token, seconds, concurrency)
            print(f"access control {mode:<3} {results[mode].summary()}")
    ratio = results["on"].per_second / results["off"].per_second
    print(f"on/off throughput ratio: {ratio:.2f} (one worker, concurrency {concurrency})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, dataset_dir(args.dataset) as dataset:
        asyncio.run(run(dataset, Path(scratch), args.seconds, args.concurrency))


if __name__ == "__main__":
    main()
