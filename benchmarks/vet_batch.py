"""vetBatch: 1,000 persons for CADRE_SELECTION in one call, platforms at 20 ms.

    python -m benchmarks.vet_batch [--dataset DIR] [--persons N] [--latency-ms MS] [--runs R]

The stand-ins run in their own process (MS ms per HTTP request, the archive's
`cs_person` statement delayed as much), the gateway in this process with access
control off. Prints, per run, the wall time and the upstream requests each
platform received against the most batching allows: ceil(N / batch limit) per
operation plus the court's further pages, and the longest turn of the event
loop while the batch ran (wall and CPU time; what `/healthz` would have waited
at most). Target: under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
from pathlib import Path

from .batching import pick_persons, upper_bounds
from .common import dataset_dir, gateway_in_process, graphql, http_client, run_standins

QUERY = """
query ($s: [SubjectInput!]!) {
  vetBatch(subjects: $s, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    verdict findings { ruleId }
  }
}
"""


async def run(dataset: Path, scratch: Path, count: int, latency_ms: float, runs: int) -> None:
    persons = pick_persons(dataset, count)
    subjects = [{"idNumber": person} for person in persons]
    bounds = upper_bounds(dataset, persons)
    # vetBatch also asks the court's restrictions and procurement's representatives:
    # the same chunking as the person query the bounds were made for.
    print(f"vetBatch of {count} persons, stand-ins at {latency_ms:g} ms per request")
    async with (
        run_standins(dataset, scratch, latency_ms=latency_ms) as standins,
        gateway_in_process(standins.config, archive_latency_ms=latency_ms) as gateway,
        http_client(1) as client,
    ):
        await graphql(client, gateway.url, QUERY, variables={"s": subjects[:1]})
        for run_no in range(1, runs + 1):
            await standins.reset_stats()
            statements = gateway.archive_statements
            started = time.perf_counter()
            asked = asyncio.create_task(
                graphql(client, gateway.url, QUERY, variables={"s": subjects})
            )
            longest = await _longest_turn(asked)
            answer = asked.result()
            took = time.perf_counter() - started
            stats = await standins.stats()
            verdicts = collections.Counter(
                report["verdict"] for report in answer["data"]["vetBatch"] if report
            )
            print(f"run {run_no}: {took:.2f} s; verdicts {dict(sorted(verdicts.items()))}")
            wall_ms, cpu_ms = (seconds * 1000 for seconds in longest)
            print(f"  longest loop turn: {wall_ms:.0f} ms ({cpu_ms:.0f} ms CPU)")
            for name, counts in stats.items():
                print(f"  {name:<12} {sum(counts.values()):>4} requests (at most {bounds[name]})")
            used = gateway.archive_statements - statements
            print(f"  {'archive':<12} {used:>4} SQL statements (at most {bounds['archive']})")


async def _longest_turn(running: asyncio.Task[object]) -> tuple[float, float]:
    """The longest turn of this loop (wall, CPU of this thread) until `running` ends."""
    longest = (0.0, 0.0)
    while not running.done():
        wall, cpu = time.perf_counter(), time.thread_time()
        await asyncio.sleep(0)
        turn = (time.perf_counter() - wall, time.thread_time() - cpu)
        longest = max(longest, turn)
    return longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--persons", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, dataset_dir(args.dataset) as dataset:
        asyncio.run(run(dataset, Path(scratch), args.persons, args.latency_ms, args.runs))


if __name__ == "__main__":
    main()
