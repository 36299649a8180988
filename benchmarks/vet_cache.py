"""`vet` of one person through the cache: warm vs cold, and two replicas vs one.

    python -m benchmarks.vet_cache [--dataset DIR] [--seconds S] [--concurrency C]
                                   [--latency-ms MS] [--redis-url URL]

The stand-ins (at `--latency-ms`, default 50) and each gateway (`credgate
serve`, one worker) run in their own processes; the load comes from this one
over keep-alive connections (`benchmarks.load`). Access control and the access
log are ON: every request carries an hr_officer's token, binds CADRE_SELECTION
and is logged before it is answered. Every request asks about the same person.

1. cold (`[cache] backend = "none"`: every request asks the platforms, identical
   requests in flight sharing their upstream calls) vs warm (`"memory"`, after
   a one-second warm-up: the first request fills levels 1 and 2, the next one
   is kept at level 3, and the rest are re-issued from it, each still with its
   own report id and access-log entry): requests/s, p50, p99 at the
   concurrency, and how many answers level 3 re-issued.
2. replicas: one gateway on Redis vs two on the same Redis, each driven at the
   concurrency; each replica has its own access-log file (production shares
   PostgreSQL; two SQLite writers would measure SQLite's file lock). Skipped
   when Redis does not answer.

Prints figures; asserts nothing. On a machine with two cores the load client,
the stand-ins and Redis compete with the replicas for them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as redis

from auth.devkeys import mint_token

from .batching import pick_persons
from .common import GatewayProcess, dataset_dir, gateway_process, process_cpu_s, run_standins
from .load import LoadResult, http_request, run_load

QUERY = (
    "query Vet($id: String!) { vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION)"
    " { reportId verdict eligibleFrom findings { ruleId effect until summary recordRef }"
    " sources { source ok asOf cacheAgeSeconds stale } generatedAt } }"
)


def configure(base: str, scratch: Path, name: str, cache: str) -> Path:
    """The benchmark's gateway config with access control on and `cache` lines."""
    text = base.replace("enforce = false", "enforce = true")
    text = text.replace('backend = "none"', cache)
    text = text.replace(str(scratch / "access.db"), str(scratch / f"access-{name}.db"))
    config = scratch / f"gateway-{name}.toml"
    config.write_text(text, encoding="utf-8")
    config.chmod(0o600)
    return config


@contextlib.asynccontextmanager
async def gateways(configs: list[Path], scratch: Path) -> AsyncIterator[list[GatewayProcess]]:
    async with contextlib.AsyncExitStack() as stack:
        running = []
        for n, config in enumerate(configs):
            folder = scratch / f"gateway-{n}"
            folder.mkdir(exist_ok=True)
            running.append(await stack.enter_async_context(gateway_process(config, folder)))
        yield running


@dataclass
class Measured:
    load: LoadResult
    cpu: dict[str, float]  # CPU seconds per second of the run, by process

    def summary(self) -> str:
        used = ", ".join(f"{name} {share:.2f}" for name, share in self.cpu.items())
        return f"{self.load.summary()}\n{'':16}CPU s/s: {used}"


async def drive(
    gateways: list[GatewayProcess],
    standins_pid: int,
    person: str,
    token: str,
    seconds: float,
    concurrency: int,
) -> Measured:
    """`concurrency` connections to each gateway at once; one result for all."""
    urls = [gateway.url for gateway in gateways]
    body = json.dumps({"query": QUERY, "variables": {"id": person}}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    requests = {url: http_request("POST", f"{url}/graphql", body, headers) for url in urls}

    async def load(duration: float) -> list[LoadResult]:
        return await asyncio.gather(
            *(
                run_load(
                    f"{url}/graphql",
                    functools.partial(requests.__getitem__, url),
                    concurrency=concurrency,
                    seconds=duration,
                )
                for url in urls
            )
        )

    await load(1.0)  # warm up: connections, the first (filling) request
    pids = {f"gateway {n + 1}": gateway.pid for n, gateway in enumerate(gateways)}
    pids["stand-ins"] = standins_pid
    cpu_before = {name: process_cpu_s(pid) or 0.0 for name, pid in pids.items()}
    client_before = time.process_time()
    results = await load(seconds)
    merged = LoadResult(seconds=max(result.seconds for result in results))
    for result in results:
        merged.requests += result.requests
        merged.not_ok += result.not_ok
        merged.latencies_ms += result.latencies_ms
    cpu = {
        name: ((process_cpu_s(pid) or 0.0) - cpu_before[name]) / merged.seconds
        for name, pid in pids.items()
    }
    cpu["load client"] = (time.process_time() - client_before) / merged.seconds
    return Measured(merged, cpu)


async def cache_counters(gateway: GatewayProcess, token: str) -> dict[str, int]:
    """The cache's counters as the gateway's `/readyz` shows them (to a token's holder)."""
    async with httpx.AsyncClient() as client:
        headers = {"Authorization": f"Bearer {token}"}
        ready = (await client.get(f"{gateway.url}/readyz", headers=headers)).json()
    counters: dict[str, int] = ready["cache"]["counters"]
    return counters


async def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        return bool(await client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def run(args: argparse.Namespace, dataset: Path, scratch: Path) -> None:
    (person,) = pick_persons(dataset, 1)
    seconds, concurrency = args.seconds, args.concurrency
    async with run_standins(dataset, scratch, latency_ms=args.latency_ms) as standins:
        base = standins.config.read_text(encoding="utf-8")
        token = mint_token(scratch / "dev-keys", "hr_officer", "bench")
        print(f"vet of one person, stand-ins at {args.latency_ms:g} ms, one worker, access")
        print(f"control and access log on, concurrency {concurrency}, {seconds:g} s each")
        figures: dict[str, Measured] = {}
        for name, cache in (("cold", 'backend = "none"'), ("warm", 'backend = "memory"')):
            config = configure(base, scratch, name, cache)
            async with gateways([config], scratch) as running:
                figures[name] = await drive(
                    running, standins.pid, person, token, seconds, concurrency
                )
                counters = await cache_counters(running[0], token)
            print(f"  {name:<13} {figures[name].summary()}")
            if "answer_hits" in counters:
                print(f"{'':16}answers re-issued from level 3: {counters['answer_hits']}")
        ratio = figures["warm"].load.per_second / max(figures["cold"].load.per_second, 1e-9)
        print(f"  warm/cold throughput: {ratio:.1f}x")

        if not await redis_answers(args.redis_url):
            print(f"replicas: skipped, Redis does not answer at {args.redis_url}")
            return
        redis_cache = f'backend = "redis"\nredis_url = "{args.redis_url}"'
        configs = [configure(base, scratch, f"replica-{n}", redis_cache) for n in range(2)]
        print(f"replicas on one Redis, warm, concurrency {concurrency} per replica")
        async with gateways(configs[:1], scratch) as running:
            one = await drive(running, standins.pid, person, token, seconds, concurrency)
        print(f"  one replica   {one.summary()}")
        async with gateways(configs, scratch) as running:
            two = await drive(running, standins.pid, person, token, seconds, concurrency)
        print(f"  two replicas  {two.summary()}")
        ratio = two.load.per_second / max(one.load.per_second, 1e-9)
        print(f"  two/one throughput: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, dataset_dir(args.dataset) as dataset:
        asyncio.run(run(args, dataset, Path(scratch)))


if __name__ == "__main__":
    main()
