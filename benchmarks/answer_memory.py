"""Memory of the kept answers (cache level 3) at their cap: `vet` answers of distinct persons.

    python -m benchmarks.answer_memory [--dataset DIR] [--answers N]

The gateway runs in this process over the stand-ins (their own process, 0 ms),
with access control and the access log on and the memory backend holding at
most N kept answers (`[cache] max_answers`, default 5,000, the setting's
default). Each of N persons is vetted twice, the benchmark `vet` query of
`benchmarks.vet_cache` as an hr_officer: the first ask fills levels 1 and 2
(the platforms were asked, so nothing is kept), the second rests on the cache
alone and is kept. What is measured (tracemalloc, after a garbage collection)
is what the second round left behind: the kept answers, their keys, the LRU
order and the tag index. Without --dataset, a dataset with enough persons is
generated into a temporary directory. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from auth.devkeys import mint_token

from .batching import pick_persons
from .common import dataset_dir, gateway_in_process, graphql, run_standins
from .vet_cache import QUERY, configure

MIB = 1024 * 1024


async def each(persons: list[str], ask: Callable[[str], Awaitable[object]]) -> None:
    """Ask about every person, 16 at a time."""
    gate = asyncio.Semaphore(16)

    async def one(person: str) -> None:
        async with gate:
            await ask(person)

    await asyncio.gather(*(one(person) for person in persons))


async def run(count: int, dataset: Path, scratch: Path) -> None:
    persons = pick_persons(dataset, count)
    async with run_standins(dataset, scratch) as standins:
        base = standins.config.read_text(encoding="utf-8")
        cache = f'backend = "memory"\nmax_answers = {count}'
        config = configure(base, scratch, "answers", cache)
        token = mint_token(scratch / "dev-keys", "hr_officer", "bench")
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            gateway_in_process(config) as gateway,
            httpx.AsyncClient(headers=headers, timeout=60) as client,
        ):

            async def ask(person: str) -> object:
                return await graphql(client, gateway.url, QUERY, {"id": person})

            await each(persons, ask)  # levels 1 and 2
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            await each(persons, ask)  # each answer kept
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            answers = gateway.app.state.answers
            counters = answers.counters() if answers is not None else {}
    held = counters.get("answers", 0)
    grown = after - before
    print(f"kept answers (level 3), vet of one person each, cap {count}")
    print(f"  held {held} (kept {counters.get('answers_kept', 0)})")
    print(f"  memory {grown / MIB:.1f} MiB, {grown / max(held, 1):,.0f} B per answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--answers", type=int, default=5_000)
    args = parser.parse_args()
    persons = max(2_000, args.answers)
    with (
        tempfile.TemporaryDirectory() as scratch,
        dataset_dir(args.dataset, persons=persons, orgs=persons // 4) as dataset,
    ):
        asyncio.run(run(args.answers, dataset, Path(scratch)))


if __name__ == "__main__":
    main()
