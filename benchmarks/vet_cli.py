"""`credgate vet` over a CSV of persons: wall time and peak memory of the command.

    python -m benchmarks.vet_cli [--dataset DIR] [--sizes 1000,10000] [--latency-ms MS]

The stand-ins run in their own process (MS ms per HTTP request, the archive's
`cs_person` statement delayed as much), the gateway in this process with the
benchmark settings of `benchmarks.common` (access control off, no cache). For
each size N a CSV of N persons (id_number, name; the registry's persons in turn) is vetted
for CADRE_SELECTION by the command in a child process of its own, so its peak
resident memory is the command's alone; a child that only imports the command
gives the baseline. Flat peaks across sizes mean the command
streams: it holds one chunk of 1,000 rows, never the file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

from .common import REPO, dataset_dir, gateway_in_process, run_standins

PURPOSE = "CADRE_SELECTION"
AS_OF = "2025-06-30"


def write_candidates(dataset: Path, count: int, out: Path) -> None:
    """`count` persons of the credit platform's registry, as Excel would export them;
    past the registry's end it starts again (more rows than persons, same work each)."""
    persons = []
    with (dataset / "credit_platform" / "subjects.jsonl").open(encoding="utf-8") as registry:
        for line in registry:
            subject = json.loads(line)
            if subject["type"] == "PERSON":
                persons.append((subject["code"], subject["name"]))
    with out.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id_number", "name"])
        writer.writerows(itertools.islice(itertools.cycle(persons), count))


# Its peak is VmHWM, the high-water mark of its own memory since exec: Linux carries
# a parent's high-water mark into a child's ru_maxrss across fork and exec, so
# ru_maxrss here would report this benchmark process, gateway and all.
CHILD = """
import argparse, json, re, sys
from gateway.vet_cli import add_vet_parser
parser = argparse.ArgumentParser(prog="credgate")
add_vet_parser(parser.add_subparsers())
status = 0
if len(sys.argv) > 1:
    args = parser.parse_args(["vet", *sys.argv[1:]])
    status = args.command(args)
with open("/proc/self/status") as proc:
    peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", proc.read()).group(1))
print(json.dumps({"status": status, "peak_kib": peak_kib}))
"""


async def run_child(*argv: str) -> tuple[dict[str, int], str]:
    """`credgate vet ARGV` in a child process (only the imports when ARGV is empty):
    its exit status and peak RSS, and its stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, *argv,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the child failed ({process.returncode}):\n{err.decode()[-2000:]}")
    figures: dict[str, int] = json.loads(out.decode().splitlines()[-1])
    return figures, err.decode()


async def run(dataset: Path, scratch: Path, sizes: list[int], latency_ms: float) -> None:
    async with (
        run_standins(dataset, scratch, latency_ms=latency_ms) as standins,
        gateway_in_process(standins.config, archive_latency_ms=latency_ms) as gateway,
    ):
        print(standins.describe())
        print(f"stand-ins at {latency_ms:g} ms per request; {PURPOSE} as of {AS_OF}\n")
        baseline, _ = await run_child()
        print(f"{'rows':>8} {'wall s':>8} {'rows/s':>8} {'peak RSS MiB':>13}  (command only)")
        print(f"{'import':>8} {'':>8} {'':>8} {baseline['peak_kib'] / 1024:>13.1f}")
        last = (0, "")
        for size in sizes:
            source = scratch / f"candidates-{size}.csv"
            report = scratch / f"report-{size}.csv"
            write_candidates(dataset, size, source)
            started = time.perf_counter()
            figures, stderr = await run_child(
                str(source), "--purpose", PURPOSE, "--as-of", AS_OF, "--out", str(report),
                "--url", f"{gateway.url}/graphql",
            )  # fmt: skip
            took = time.perf_counter() - started
            if figures["status"] != 0:
                raise RuntimeError(f"credgate vet exited with {figures['status']}:\n{stderr}")
            with report.open(encoding="utf-8-sig") as lines:
                rows = sum(1 for _ in lines) - 1  # the header
            if rows != size:
                raise RuntimeError(f"{rows} report rows for {size} subjects")
            print(
                f"{size:>8,} {took:>8.2f} {size / took:>8,.0f} {figures['peak_kib'] / 1024:>13.1f}"
            )
            last = (size, stderr)
        size, stderr = last
        table = [line for line in stderr.splitlines() if not line.startswith("vetted ")]
        print(f"\nthe command's summary for {size:,} rows:\n" + "\n".join(table))
    print(
        "\nwall = the child process from start to exit (interpreter start and imports"
        " included); peak RSS = its VmHWM"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: one generated with --persons")
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--sizes", default="1000,10000", help="rows per run, comma-separated")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with (
        dataset_dir(args.dataset, persons=args.persons, orgs=args.persons // 4) as dataset,
        tempfile.TemporaryDirectory() as scratch,
    ):
        asyncio.run(run(dataset, Path(scratch), sizes, args.latency_ms))


if __name__ == "__main__":
    main()
