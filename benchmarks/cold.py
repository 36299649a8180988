"""The cold path: distinct subjects, each asked once, so no cache can answer.

    python -m benchmarks.cold [--dataset DIR] [--persons N] [--latency-ms MS]
                              [--concurrency C] [--workers W] [--cache none,memory]
                              [--profile-seconds S] [--profile-out DIR]

A cache only helps when a subject is asked again; vetting is mostly about new
candidates. Here N different persons (default 500) are asked once each with
(a) the joined `person` query (every field of the four platforms' records) and
(b) `vet`, both as an hr_officer for CADRE_SELECTION, the two queries about
different persons (a `vet` after a `person` about the same subject would find
its records cached). That runs once with `[cache] backend = "none"` and once
with the shipped default cache (`memory`): still cold, since nothing repeats,
so the second run shows what filling the cache costs.

The stand-ins answer after `--latency-ms` (default 50; the court's rate limit
off), the gateway (`credgate serve`, `--workers`, default 1) runs in its own
process with access control and the durable access log ON and the per-caller
rate limit lifted; the load comes from this process over keep-alive
connections (`benchmarks.load`, C = 32). Before each run 32 other persons
warm the gateway (connections, the court's token, first-call imports).

Printed per run: requests/s, p50/p99, answers with errors, the gateway's CPU
milliseconds per request (its process tree's own CPU time over the run, read
from /proc, so the load client's CPU does not count), and the upstream
requests: per HTTP stand-in from its `/_sim/stats`, and the archive's SQL
statements from each worker's `/readyz`.

`--profile-seconds S` (py-spy beside the interpreter; not a dependency) then
samples the cache-none gateway for S seconds under each query again (no cache:
a repeat is as cold as the first ask) and prints where its CPU went.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from auth.devkeys import mint_token

from .common import (
    PERSON_FIELDS,
    GatewayProcess,
    RunningStandins,
    dataset_dir,
    gateway_process,
    person_coverage,
    process_tree_cpu_s,
    run_standins,
)
from .load import LoadResult, http_request, run_load
from .throughput import RATE, py_spy, summarise

# An hr_officer is not granted records no longer in force (`includeInactive`).
PERSON = (
    "query Person($id: String!) {"
    " person(idNumber: $id, purpose: CADRE_SELECTION) { ...PersonRecords } }\n"
    + PERSON_FIELDS.replace("(includeInactive: true)", "")
)
VET = (
    "query Vet($id: String!) { vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION)"
    " { reportId verdict eligibleFrom findings { ruleId effect until summary recordRef }"
    " sources { source ok asOf cacheAgeSeconds stale } generatedAt } }"
)
QUERIES = {"person": PERSON, "vet": VET}
WARM_UP = 32  # persons asked before each run, never again


@dataclass(frozen=True)
class Subjects:
    """Disjoint sets of persons: one per query, plus the warm-up's."""

    by_query: dict[str, list[str]]
    warm_up: list[str]


def pick_subjects(dataset: Path, count: int) -> Subjects:
    """`count` persons per query, dealt alternately from a shuffled registry so
    both queries see the same mix of platforms holding records."""
    persons = sorted(person_coverage(dataset))
    random.Random(10).shuffle(persons)
    wanted = count * len(QUERIES) + WARM_UP
    if len(persons) < wanted:
        raise SystemExit(f"the dataset has {len(persons)} persons; {wanted} are needed")
    names = list(QUERIES)
    return Subjects(
        {name: persons[n : count * len(names) : len(names)] for n, name in enumerate(names)},
        persons[-WARM_UP:],
    )


def requests_for(url: str, query: str, persons: list[str], token: str) -> Iterator[bytes]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    for person in persons:
        body = json.dumps({"query": query, "variables": {"id": person}}).encode()
        yield http_request("POST", f"{url}/graphql", body, headers)


async def send(
    gateway: GatewayProcess, requests: Iterator[bytes], concurrency: int, seconds: float = 3600
) -> LoadResult:
    """Each of `requests` once (or until `seconds` pass), `concurrency` at a time."""
    return await run_load(
        f"{gateway.url}/graphql",
        functools.partial(next, requests, None),
        concurrency=concurrency,
        seconds=seconds,
    )


async def workers_upstream(
    gateway: GatewayProcess, workers: int, token: str
) -> dict[int, dict[str, int]]:
    """Each worker's upstream counters (`/readyz`, shown to a token's holder), asked on
    fresh connections until every worker has answered (the kernel hands connections
    to them in turn)."""
    seen: dict[int, dict[str, int]] = {}
    for _ in range(50 * workers):
        async with httpx.AsyncClient() as client:
            headers = {"Authorization": f"Bearer {token}"}
            ready = await client.get(f"{gateway.url}/readyz", headers=headers)
            upstream = ready.json()["upstream"]
        seen[upstream["process"]] = {"archive": upstream["archive_statements"]}
        if len(seen) == workers:
            break
    return seen


def archive_statements(before: dict[int, dict[str, int]], after: dict[int, dict[str, int]]) -> str:
    if set(before) != set(after) or not after:
        return "archive statements: not every worker answered"
    return f"archive {sum(after[p]['archive'] - before[p]['archive'] for p in after)} statements"


@dataclass
class Run:
    label: str
    load: LoadResult
    cpu_s: float
    upstream: str

    def line(self) -> str:
        ms = self.cpu_s * 1000 / max(self.load.requests, 1)
        return (
            f"  {self.label:<14}{self.load.summary()}\n"
            f"  {'':<14}gateway CPU {ms:.2f} ms/request"
            f" ({self.cpu_s / self.load.seconds:.2f} cores); upstream: {self.upstream}"
        ) + (
            f"\n  {'':<14}first error: {self.load.first_error[-400:]!r}"
            if self.load.first_error
            else ""
        )


async def measure(
    label: str,
    gateway: GatewayProcess,
    standins: RunningStandins,
    requests: Iterator[bytes],
    args: argparse.Namespace,
    token: str,
) -> Run:
    await standins.reset_stats()
    statements = await workers_upstream(gateway, args.workers, token)
    cpu = process_tree_cpu_s(gateway.pid)
    load = await send(gateway, requests, args.concurrency)
    cpu = process_tree_cpu_s(gateway.pid) - cpu
    counts = await standins.stats()
    http = ", ".join(
        f"{name} {sum(n for call, n in calls.items() if '/_sim/' not in call)}"
        for name, calls in counts.items()
    )
    archive = archive_statements(statements, await workers_upstream(gateway, args.workers, token))
    return Run(label, load, cpu, f"{http}, {archive}")


async def profile(
    gateway: GatewayProcess,
    requests: Iterator[bytes],
    args: argparse.Namespace,
    out: Path,
) -> None:
    tool = py_spy()
    if tool is None:
        print("py-spy is not installed: `pip install py-spy` into the venv to profile")
        return
    load = asyncio.create_task(
        send(gateway, requests, args.concurrency, seconds=args.profile_seconds + 1.5)
    )
    await asyncio.sleep(0.5)
    spy = await asyncio.create_subprocess_exec(
        tool, "record", "--pid", str(gateway.pid), "--duration", f"{args.profile_seconds:g}",
        "--rate", str(RATE), "--gil", "--full-filenames", "--function",
        "--format", "raw", "--output", str(out), "--subprocesses",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await spy.communicate()
    result = await load
    print(f"  under py-spy: {result.summary()}")
    if spy.returncode != 0:
        print(f"py-spy failed ({spy.returncode}): {output.decode(errors='replace')[-500:]}")
        return
    summarise(out, args.profile_seconds)


def configure(standins: RunningStandins, scratch: Path, cache: str) -> Path:
    """The stand-ins' gateway config with access control on and `cache` as backend."""
    text = standins.config.read_text(encoding="utf-8")
    text = text.replace("enforce = false", "enforce = true")
    cursors = scratch / f"cursors-{cache}"
    text = text.replace('backend = "none"', f'backend = "{cache}"\ncursor_dir = "{cursors}"')
    text = text.replace(str(scratch / "access.db"), str(scratch / f"access-{cache}.db"))
    config = scratch / f"gateway-{cache}.toml"
    config.write_text(text, encoding="utf-8")
    config.chmod(0o600)
    return config


def repeat(url: str, query: str, persons: list[str], token: str) -> Iterator[bytes]:
    """The persons' requests over and over (no cache: each one still cold)."""
    while True:
        yield from requests_for(url, query, persons, token)


async def run(args: argparse.Namespace, dataset: Path, scratch: Path) -> None:
    subjects = pick_subjects(dataset, args.persons)
    async with run_standins(dataset, scratch, latency_ms=args.latency_ms) as standins:
        token = mint_token(scratch / "dev-keys", "hr_officer", "bench")
        print(
            f"cold: {args.persons} distinct persons per query, each asked once; stand-ins at"
            f" {args.latency_ms:g} ms (court rate limit off), {args.workers} worker(s),"
            f" concurrency {args.concurrency}; hr_officer, CADRE_SELECTION, access control"
            " and access log on, per-caller rate limit lifted"
        )
        for cache in args.cache.split(","):
            folder = scratch / f"gateway-{cache}"
            folder.mkdir()
            config = configure(standins, scratch, cache)
            async with gateway_process(config, folder, workers=args.workers) as gateway:
                print(f"cache {cache}:")
                warm = requests_for(gateway.url, PERSON, subjects.warm_up, token)
                await send(gateway, warm, args.concurrency)
                for name, query in QUERIES.items():
                    requests = requests_for(gateway.url, query, subjects.by_query[name], token)
                    figures = await measure(name, gateway, standins, requests, args, token)
                    print(figures.line())
                if cache == "none" and args.profile_seconds > 0:
                    for name, query in QUERIES.items():
                        print(f"\nprofile of cache none, {name}:")
                        again = repeat(gateway.url, query, subjects.by_query[name], token)
                        out = args.profile_out or scratch
                        await profile(gateway, again, args, out / f"profile-{name}.txt")
                        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: a generated one (2,000 persons)")
    parser.add_argument("--persons", type=int, default=500, help="distinct persons per query")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", default="none,memory", help="backends to run, in order")
    parser.add_argument("--profile-seconds", type=float, default=0.0, help="0: no profile")
    parser.add_argument("--profile-out", type=Path, help="keep the raw py-spy output here")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, dataset_dir(args.dataset) as dataset:
        asyncio.run(run(args, dataset, Path(scratch)))
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
