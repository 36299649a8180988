"""Wall time and peak memory of one synthetic dataset generation run.

    python -m benchmarks.generate [--persons N] [--orgs M] [--seed S] [--out DIR]

The generator runs in a child process (this module again, with --child), so the
peak resident set size reported is the generator's own: getrusage of the
waited-for children, not of this parent. Without --out the dataset goes to a
temporary directory that is removed afterwards. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simulators.generator import GeneratorOptions, generate


def _child(args: argparse.Namespace) -> None:
    options = GeneratorOptions(
        persons=args.persons, orgs=args.orgs, seed=args.seed, as_of=args.as_of
    )
    counts = generate(Path(args.out), options, lambda line: print(line, file=sys.stderr))
    print(json.dumps(counts))


def _measure(args: argparse.Namespace, out: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks.generate",
        "--child",
        f"--persons={args.persons}",
        f"--orgs={args.orgs}",
        f"--seed={args.seed}",
        f"--as-of={args.as_of.isoformat()}",
        f"--out={out}",
    ]
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mib = peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
    counts: dict[str, int] = json.loads(finished.stdout)
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"persons {args.persons:,}  orgs {args.orgs:,}  seed {args.seed}  as of {args.as_of}")
    print(f"wall time        {wall:8.1f} s")
    print(f"peak memory      {peak_mib:8.1f} MiB (max RSS of the generator process)")
    print(f"rows written     {sum(counts.values()):>10,}")
    print(f"dataset size     {size / 2**20:8.1f} MiB")
    for name, rows in counts.items():
        print(f"  {name:40s} {rows:>10,}")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the benchmark (or, with --child, the generator)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = GeneratorOptions()
    parser.add_argument("--persons", type=int, default=defaults.persons)
    parser.add_argument("--orgs", type=int, default=defaults.orgs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=defaults.as_of)
    parser.add_argument("--out", help="keep the dataset here (default: a temporary directory)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
    elif args.out:
        _measure(args, Path(args.out))
    else:
        with tempfile.TemporaryDirectory(prefix="credgate-dataset-") as folder:
            _measure(args, Path(folder))


if __name__ == "__main__":
    main()
