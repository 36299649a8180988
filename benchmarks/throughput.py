"""Throughput: requests per second of one gateway worker for a ~100-value `person` query.

    python -m benchmarks.throughput [--dataset DIR] [--seconds S] [--concurrency C]
                                    [--profile-seconds P] [--profile-out FILE]

Three processes on loopback: the stand-ins (`credgate simulators`, 0 ms, court
rate limit off), ONE gateway worker (`credgate serve --config F`: the
stand-ins' sections plus the benchmark settings of `common.py`) and this one,
which drives C concurrent clients.

The query is `person { ...PersonRecords }` (CADRE_SELECTION, all four
platforms). Persons whose answer has about 100 leaf values are picked from the
dataset; the clients take them in turn, so identical upstream calls in flight
are rarely shared. A second figure asks about one person only, so concurrent
requests share their upstream calls: the gap between the two figures is what
the upstream calls cost.

Prints requests per second, latency percentiles and the CPU each process used
(on a machine with few cores the three compete). With py-spy installed (not a
project dependency: `pip install py-spy` in the venv) the gateway is then
sampled for P seconds under the same load and the profile is summarised:
CPU by package, by stage of a request, and the hottest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from .common import (
    PERSON_FIELDS,
    REPO,
    GatewayProcess,
    LoadResult,
    closed_loop,
    count_leaves,
    dataset_dir,
    gateway_process,
    graphql,
    http_client,
    person_coverage,
    print_latencies,
    process_cpu_s,
    run_standins,
)

QUERY = (
    "query Person($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION)"
    " { ...PersonRecords } }" + PERSON_FIELDS
)
TARGET_VALUES = 100
CANDIDATES = 600  # persons sized up (in one aliased query) to find ~100-value ones
WANTED = 32  # persons the clients take in turn
WARM_UP_S = 2.0
RATE = 200  # py-spy samples per second


# -- picking the persons --------------------------------------------------------


async def pick_persons(client: httpx.AsyncClient, url: str, dataset: Path) -> list[tuple[str, int]]:
    """Up to WANTED (ID number, leaf values) pairs closest to TARGET_VALUES values."""
    coverage = person_coverage(dataset)
    # Civil servants first: their archive file is where most values come from.
    ranked = sorted(coverage, key=lambda key: ("archive" in coverage[key], len(coverage[key])))
    candidates = list(reversed(ranked))[:CANDIDATES]
    aliases = "\n".join(
        f'  p{i}: person(idNumber: "{key}", purpose: CADRE_SELECTION) {{ ...PersonRecords }}'
        for i, key in enumerate(candidates)
    )
    answer = await graphql(client, url, f"query Size {{\n{aliases}\n}}\n{PERSON_FIELDS}")
    sized = [
        (key, count_leaves({"person": answer["data"][f"p{i}"]})) for i, key in enumerate(candidates)
    ]
    sized.sort(key=lambda pair: abs(pair[1] - TARGET_VALUES))
    return sized[:WANTED]


# -- measuring --------------------------------------------------------------------


@dataclass
class CpuShares:
    """CPU used while the load ran, as a share of one core."""

    gateway: float | None
    standins: float | None
    load: float
    requests_per_s: float  # all answered, failed ones included

    def line(self) -> str:
        def share(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0%}"

        per_request = ""
        if self.gateway is not None and self.requests_per_s:
            per_request = (
                f"; gateway CPU {self.gateway / self.requests_per_s * 1000:.1f} ms/request"
            )
        return (
            f"  CPU (of one core): gateway {share(self.gateway)},"
            f" stand-ins {share(self.standins)}, load generator {share(self.load)}"
            f" ({os.cpu_count()} cores){per_request}"
        )


async def measure(
    concurrency: int,
    seconds: float,
    call: Callable[[int], Awaitable[object]],
    pids: tuple[int, int],
) -> tuple[LoadResult, CpuShares]:
    before = [process_cpu_s(pid) for pid in pids]
    own_before = time.process_time()
    result = await closed_loop(concurrency, seconds, call)
    own = (time.process_time() - own_before) / result.seconds
    after = [process_cpu_s(pid) for pid in pids]
    shares = [
        None if start is None or end is None else (end - start) / result.seconds
        for start, end in zip(before, after, strict=True)
    ]
    return result, CpuShares(shares[0], shares[1], own, result.all_per_second)


# -- profiling --------------------------------------------------------------------


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def profile(
    gateway: GatewayProcess,
    seconds: float,
    concurrency: int,
    call: Callable[[int], Awaitable[object]],
    out: Path,
) -> Path | None:
    """Sample the gateway with py-spy (raw collapsed stacks) while it is under load."""
    tool = py_spy()
    if tool is None:
        print("py-spy is not installed: `pip install py-spy` into the venv to profile")
        return None
    load = asyncio.create_task(closed_loop(concurrency, seconds + 2.0, call))
    await asyncio.sleep(0.5)
    spy = await asyncio.create_subprocess_exec(
        tool, "record", "--pid", str(gateway.pid), "--duration", f"{seconds:g}",
        "--rate", str(RATE), "--gil", "--full-filenames", "--function",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await spy.communicate()
    result = await load
    print_latencies(f"under py-spy ({seconds:g} s)", result)
    if spy.returncode != 0:
        print(f"py-spy failed ({spy.returncode}): {output.decode(errors='replace')[-500:]}")
        return None
    return out


_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")

# Stages of a gateway request, recognised by a frame anywhere in the stack;
# the first that matches, from the top of this list, claims the sample.
_OURS = str(REPO)
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("imports at run time (importlib)", ("<frozen importlib",)),
    ("archive SQLite (worker threads)", ("concurrent/futures/thread.py",)),
    ("GraphQL validation", ("/graphql/validation/",)),
    ("logging (errors, tracebacks)", ("/logging/",)),
    ("access log", (f"{_OURS}/auth/access_log", f"{_OURS}/gateway/recording")),
    ("upstream: httpx/httpcore client", ("/httpx/", "/httpcore/")),
    ("upstream: connectors (sign, build, parse)", (f"{_OURS}/connectors/",)),
    ("resolvers, masking (schema/, auth/)", (f"{_OURS}/schema/", f"{_OURS}/auth/")),
    ("GraphQL parse/execute (graphql-core, strawberry)", ("/graphql/", "/strawberry/")),
    ("HTTP server (uvicorn, h11, starlette)", ("/uvicorn/", "/h11/", "/starlette/")),
    ("asyncio event loop", ("/asyncio/", "/selectors.py")),
)


def _frame(text: str) -> tuple[str, str]:
    match = _FRAME.match(text)
    return (match["function"], match["file"]) if match else (text, "")


def _package(path: str) -> str:
    """site-packages/NAME/..., the project's top folder, or the stdlib module."""
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if path.startswith("<frozen "):
        return "stdlib " + path.removeprefix("<frozen ").split(".")[0].rstrip(">")
    if len(parts) > 1 and parts[-2].startswith("python3"):
        return f"stdlib {Path(path).stem}"
    for top in ("gateway", "connectors", "schema", "auth", "simulators"):
        if top in parts:
            return f"{top} (ours)"
    stdlib = next((i for i, part in enumerate(parts) if part.startswith("python3")), None)
    return f"stdlib {parts[stdlib + 1]}" if stdlib is not None else path or "?"


def summarise(raw: Path, seconds: float, top: int = 20) -> None:
    """Print where the sampled gateway's CPU went."""
    by_package: collections.Counter[str] = collections.Counter()
    by_stage: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    total_time: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_frame(text) for text in stack.split(";") if text and "(" in text]
        if not frames:
            continue
        function, file = frames[-1]
        by_package[_package(file)] += count
        self_time[f"{function} ({_short(file)})"] += count
        for name in {f"{function} ({_short(file)})" for function, file in frames}:
            total_time[name] += count
        files = [file for _, file in frames]
        stage = next(
            (
                label
                for label, markers in STAGES
                if any(marker in file for file in files for marker in markers)
            ),
            "other",
        )
        by_stage[stage] += count
    if not samples:
        print("the profile holds no samples")
        return
    print(
        f"\nprofile: {samples} samples holding the GIL, {RATE} Hz over {seconds:g} s"
        f" (the GIL held ~{samples / (RATE * seconds):.0%} of the time)"
    )
    _ranked("CPU by package (the frame running)", by_package, samples, 12)
    _ranked("CPU by stage (a frame anywhere in the stack; first match)", by_stage, samples, 12)
    _ranked("hottest functions, self", self_time, samples, top)
    _ranked("hottest functions, inclusive", total_time, samples, top)


def _short(path: str) -> str:
    parts = Path(path).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return "/".join(parts[-2:])


def _ranked(title: str, counter: collections.Counter[str], samples: int, top: int) -> None:
    print(f"\n{title}:")
    for name, count in counter.most_common(top):
        print(f"  {count / samples:6.1%}  {name}")


# -- the run ----------------------------------------------------------------------


async def run(args: argparse.Namespace, dataset: Path, scratch: Path) -> None:
    async with (
        run_standins(dataset, scratch) as standins,
        gateway_process(standins.config, scratch) as gateway,
        http_client(args.concurrency) as client,
    ):
        print(standins.describe())
        persons = await pick_persons(client, gateway.url, dataset)
        values = [count for _, count in persons]
        print(
            f"query: person {{ ...PersonRecords }}, {len(persons)} persons taken in turn,"
            f" {min(values)}-{max(values)} values each (mean {sum(values) / len(values):.0f})"
        )
        print(
            f"one gateway worker (pid {gateway.pid}), stand-ins at 0 ms,"
            f" concurrency {args.concurrency}, {args.seconds:g} s per figure"
        )
        pids = (gateway.pid, standins.pid)

        async def mixed(i: int) -> None:
            await graphql(client, gateway.url, QUERY, {"id": persons[i % len(persons)][0]})

        hot_person = persons[0][0]

        async def hot(_: int) -> None:
            await graphql(client, gateway.url, QUERY, {"id": hot_person})

        await closed_loop(args.concurrency, WARM_UP_S, mixed)
        for label, call, seconds in (
            ("persons in turn", mixed, args.seconds),
            (f"one person ({persons[0][1]} values)", hot, args.seconds / 2),
        ):
            result, cpu = await measure(args.concurrency, seconds, call, pids)
            print(
                f"\n{label}: {result.per_second:.0f} requests/s answered in full"
                f" ({result.all_per_second:.0f}/s in all, {result.failures} failed)"
            )
            print_latencies("  latency", result)
            print(cpu.line())
        if args.profile_seconds > 0:
            out = args.profile_out or scratch / "profile.txt"
            print()
            if await profile(gateway, args.profile_seconds, args.concurrency, mixed, out):
                summarise(out, args.profile_seconds)
                if args.profile_out:
                    print(f"\nraw profile (collapsed stacks) kept in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: a small generated one")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile-seconds", type=float, default=10.0, help="0: no profile")
    parser.add_argument("--profile-out", type=Path, help="keep the raw py-spy output here")
    args = parser.parse_args()
    with dataset_dir(args.dataset) as dataset, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(run(args, dataset, Path(scratch)))


if __name__ == "__main__":
    main()
