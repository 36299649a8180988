"""Fan-out: end-to-end latency of one `person` query that asks all four platforms.

    python -m benchmarks.fanout [--dataset DIR] [--latency-ms MS] [--requests N]

The stand-ins run in their own process with MS ms on every HTTP request (the
archive's `cs_person` statement is delayed as much, in the gateway); the
gateway runs in this process. N sequential CADRE_SELECTION queries for one
person the four platforms all hold something about, after a short warm-up
(the court's token, the connection pools). DataLoaders live for one request,
so every request asks every platform again.

Prints p50 / p95 / p99: platforms asked one after another would put the p50
above 4 x MS; asked together it stays near one MS plus the gateway's own time.
For reference, the same figures for a query that asks the credit platform only.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from .common import (
    PERSON_FIELDS,
    dataset_dir,
    gateway_in_process,
    graphql,
    http_client,
    person_coverage,
    print_latencies,
    run_standins,
    sequential,
)

ALL_FOUR = (
    "query Fanout($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION)"
    " { ...PersonRecords } }" + PERSON_FIELDS
)
CREDIT_ONLY = (
    "query CreditOnly($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION)"
    " { idNumber creditRecords(includeInactive: true) { recordId } } }"
)
WARM_UP = 10


def pick_person(dataset: Path) -> tuple[str, set[str]]:
    """A person as many platforms as possible hold records about, a civil servant
    if one ties (the archive then reads all its tables). Every platform is asked
    about any person all the same: CADRE_SELECTION consults all four."""
    coverage = person_coverage(dataset)
    best = max(coverage, key=lambda key: (len(coverage[key]), "archive" in coverage[key]))
    return best, coverage[best]


async def run(dataset: Path, scratch: Path, latency_ms: float, requests: int) -> None:
    person, holders = pick_person(dataset)
    print(
        f"person {person[:6]}********{person[-4:]} (records on {', '.join(sorted(holders))};"
        " all four platforms are asked)"
    )
    print(f"stand-ins at {latency_ms:g} ms each; {requests} sequential requests per figure")
    async with (
        run_standins(dataset, scratch, latency_ms=latency_ms) as standins,
        gateway_in_process(standins.config, archive_latency_ms=latency_ms) as gateway,
        http_client(1) as client,
    ):
        print(standins.describe())

        async def all_four(_: int) -> None:
            await graphql(client, gateway.url, ALL_FOUR, {"id": person})

        async def credit_only(_: int) -> None:
            await graphql(client, gateway.url, CREDIT_ONLY, {"id": person})

        # One query first, so a broken set-up fails loudly rather than N times.
        first = await graphql(client, gateway.url, ALL_FOUR, {"id": person})
        answered = sorted(s["source"] for s in first["data"]["person"]["sources"] if s["ok"])
        print(f"sources answering: {', '.join(answered)}")
        await sequential(WARM_UP, all_four)

        await standins.reset_stats()
        statements_before = gateway.archive_statements
        result = await sequential(requests, all_four)
        print_latencies("all four platforms", result)
        per_query = {
            name: sum(counts.values()) / requests
            for name, counts in (await standins.stats()).items()
        }
        per_query["archive"] = (gateway.archive_statements - statements_before) / requests
        print(
            "  upstream requests per query: "
            + ", ".join(f"{name} {count:g}" for name, count in per_query.items())
            + " (archive: SQL statements, the first one delayed)"
        )

        await sequential(WARM_UP, credit_only)
        print_latencies("credit platform only (floor)", await sequential(requests, credit_only))
    print(
        f"target: p50 below 80 ms; one platform after another would take at least"
        f" {4 * latency_ms:g} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: a small generated one")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with dataset_dir(args.dataset) as dataset, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(run(dataset, Path(scratch), args.latency_ms, args.requests))


if __name__ == "__main__":
    main()
