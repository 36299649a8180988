"""Batching: one query naming 500 persons, with their records from all four platforms.

    python -m benchmarks.batching [--dataset DIR] [--persons N] [--latency-ms MS] [--runs R]

The stand-ins run in their own process (MS ms per HTTP request; the archive's
`cs_person` statement delayed as much), the gateway in this process. One
operation with N aliased `person` fields (CADRE_SELECTION, every field of
`PersonRecords`) is sent R times. For each run: the upstream requests each
platform received (`/_sim/stats`; the archive's SQL statements), against the
most batching allows: ceil(N / batch limit) calls per operation plus the
court's further pages (counted from the dataset), and the total time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from pathlib import Path

from .common import (
    PERSON_FIELDS,
    count_leaves,
    court_items,
    dataset_dir,
    gateway_in_process,
    graphql,
    http_client,
    person_coverage,
    run_standins,
)

BATCH_LIMITS = {"credit": 100, "procurement": 50, "court": 200, "archive": 500}
COURT_PAGE_SIZE = 100  # what the connector asks for; the stand-in grants it
ARCHIVE_STATEMENTS_PER_CHUNK = 7  # cs_person, then its six child tables


def pick_persons(dataset: Path, count: int) -> list[str]:
    """`count` persons, those most platforms hold records about first, then
    those with most court items (so a court chunk runs to several pages)."""
    coverage = person_coverage(dataset)
    items = court_items(dataset)

    def weight(key: str) -> tuple[int, int]:
        return len(coverage[key]), sum(per_party.get(key, 0) for per_party in items.values())

    ranked = sorted(coverage, key=weight, reverse=True)
    if len(ranked) < count:
        raise SystemExit(f"the dataset has {len(ranked)} persons, fewer than {count}")
    return ranked[:count]


def batch_query(persons: list[str]) -> str:
    fields = "\n".join(
        f'  p{i}: person(idNumber: "{id_number}", purpose: CADRE_SELECTION) {{ ...PersonRecords }}'
        for i, id_number in enumerate(persons)
    )
    return f"query Batch {{\n{fields}\n}}\n{PERSON_FIELDS}"


def upper_bounds(dataset: Path, persons: list[str]) -> dict[str, int]:
    """The most requests each platform may see for one query about `persons`.

    The court answers a chunk in pages of 100 items; the chunks are taken in the
    order the persons are named, which is the order the DataLoader sees them.
    """
    chunks = {name: math.ceil(len(persons) / limit) for name, limit in BATCH_LIMITS.items()}
    court_pages = 0
    limit = BATCH_LIMITS["court"]
    for per_party in court_items(dataset).values():  # entries, then restrictions
        for start in range(0, len(persons), limit):
            items = sum(per_party.get(key, 0) for key in persons[start : start + limit])
            court_pages += max(1, math.ceil(items / COURT_PAGE_SIZE))
    return {
        "credit": chunks["credit"],  # subjects:batchQuery, unpaged
        "procurement": chunks["procurement"],  # QueryRepresentatives
        "court": court_pages,  # two operations, each ceil(N / 200) + further pages
        "archive": chunks["archive"] * ARCHIVE_STATEMENTS_PER_CHUNK,
    }


async def run(dataset: Path, scratch: Path, count: int, latency_ms: float, runs: int) -> None:
    persons = pick_persons(dataset, count)
    query = batch_query(persons)
    bounds = upper_bounds(dataset, persons)
    print(
        f"{count} persons in one query ({len(query) / 1024:.0f} KiB),"
        f" stand-ins at {latency_ms:g} ms per request"
    )
    async with (
        run_standins(dataset, scratch, latency_ms=latency_ms) as standins,
        gateway_in_process(standins.config, archive_latency_ms=latency_ms) as gateway,
        http_client(1) as client,
    ):
        print(standins.describe())
        # One small query first: the court's token and the connection pools.
        await graphql(client, gateway.url, batch_query(persons[:1]))
        tables: list[str] = []
        for run_no in range(1, runs + 1):
            await standins.reset_stats()
            statements_before = gateway.archive_statements
            started = time.perf_counter()
            answer = await graphql(client, gateway.url, query, partial=True)
            took = time.perf_counter() - started
            stats = await standins.stats()
            stats["archive"] = {"SQL statements": gateway.archive_statements - statements_before}
            found = sum(1 for value in answer["data"].values() if value is not None)
            size = len(json.dumps(answer, ensure_ascii=False).encode())
            print(
                f"run {run_no}: {took * 1000:6.0f} ms total;"
                f" {found} persons answered, {len(answer.get('errors') or [])} errors,"
                f" {count_leaves(answer['data']):,} values, {size / 1024:.0f} KiB"
            )
            table = _table(stats, bounds)
            if table not in tables:
                tables.append(table)
                print(table)
            else:
                print("  upstream requests: as in an earlier run")
    print(
        "\nat most = ceil(N / batch limit) per operation (credit 100, procurement 50,"
        " court 200, archive 500 x 7 statements) plus the court's further pages"
    )


def _table(stats: dict[str, dict[str, int]], bounds: dict[str, int]) -> str:
    lines = [f"  {'platform':<12} {'requests':>8} {'at most':>8}  by endpoint"]
    for name, counts in stats.items():
        total = sum(counts.values())
        flag = "" if total <= bounds[name] else "  OVER THE BOUND"
        detail = ", ".join(f"{path} {n}" for path, n in sorted(counts.items()))
        lines.append(f"  {name:<12} {total:>8} {bounds[name]:>8}  {detail}{flag}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: a small generated one")
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with dataset_dir(args.dataset) as dataset, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(run(dataset, Path(scratch), args.persons, args.latency_ms, args.runs))


if __name__ == "__main__":
    main()
