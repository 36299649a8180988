"""The auditors' queries over a whole dataset: wall time and upstream requests of each.

    python -m benchmarks.audit [--dataset DIR] [--persons N --orgs M] [--latency-ms MS] [--runs R]

The stand-ins run in their own process (MS ms per HTTP request; the archive's
`cs_person` statements delayed as much), the gateway in this process with the
benchmark settings of `benchmarks.common` (no cache: every query asks the
platforms) but with access control ON, asked by an auditor — so the answers
are masked (pseudonyms) and logged as in production. Without `--dataset`, a
dataset of the default size (20,000 persons, 5,000 organisations) is generated
first. Each query runs R times; for each run: wall time, items found, and the
requests each platform received (the archive's: SQL statements). Target: every
query under 30 s at 20 ms platform latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from auth.devkeys import mint_token
from gateway.settings import load_settings

from .common import dataset_dir, gateway_in_process, graphql, run_standins

TARGET_S = 30.0


def queries(as_of: dt.date) -> dict[str, tuple[str, dict[str, str]]]:
    """Label -> (query, variables): each audit query over the whole dataset."""
    year_ago, six_years = as_of - dt.timedelta(days=365), as_of - dt.timedelta(days=6 * 365)
    ref = "{ kind idNumber creditCode name }"
    finding = "{ ruleId effect until disputed restricted summary recordRef }"
    return {
        "conflictsOfInterest": (
            f"{{ audit {{ conflictsOfInterest {{ civilServant {ref} unit {ref} supplier {ref}"
            " role awardsFromOwnUnit { contractNo awardDate amount } } } }",
            {},
        ),
        "promotionsDuringBars (1 year)": (
            "query ($f: Date!, $t: Date!) { audit { promotionsDuringBars(from: $f, to: $t) {"
            f" civilServant {ref} change {{ position startDate }} bars {finding} }} }} }}",
            {"f": year_ago.isoformat(), "t": as_of.isoformat()},
        ),
        "promotionsDuringBars (all history)": (
            "query ($f: Date!, $t: Date!) { audit { promotionsDuringBars(from: $f, to: $t) {"
            f" civilServant {ref} change {{ position startDate }} bars {finding} }} }} }}",
            {"f": "1970-01-01", "t": as_of.isoformat()},
        ),
        "governmentDebtors": (
            f"{{ audit {{ governmentDebtors {{ unit {ref} enforcement {{ entryId caseCode }}"
            " openIssues { contractNo type amount } } } }",
            {},
        ),
        "awardsToIneligibleSuppliers (6 years)": (
            "query ($f: Date!, $t: Date!) { audit {"
            " awardsToIneligibleSuppliers(from: $f, to: $t) {"
            f" award {{ contractNo awardDate supplier {ref} }} purchaser {ref}"
            f" findings {finding} }} }} }}",
            {"f": six_years.isoformat(), "t": as_of.isoformat()},
        ),
        "accessLog": (
            f"{{ audit {{ accessLog {{ at actor role purpose subjects {ref} outcome }} }} }}",
            {},
        ),
    }


@contextlib.contextmanager
def access_control_on() -> Iterator[None]:
    """The benchmark settings switch access control off; these figures are an auditor's."""
    os.environ["CREDGATE_AUTH__ENFORCE"] = "true"
    try:
        yield
    finally:
        del os.environ["CREDGATE_AUTH__ENFORCE"]


async def run(dataset: Path, scratch: Path, latency_ms: float, runs: int) -> None:
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(manifest["as_of"])
    persons = manifest["counts"]["credit_platform/subjects.jsonl"]
    servants = manifest["counts"]["archive/cs_person.jsonl"]
    print(
        f"dataset: {persons:,} registry subjects, {servants:,} civil servants, as of {as_of};"
        f" stand-ins at {latency_ms:g} ms per request, access control on (an auditor)"
    )
    async with run_standins(dataset, scratch, latency_ms=latency_ms) as standins:
        print(standins.describe().replace("auth.enforce=false", "auth.enforce=true"))
        with access_control_on():
            keys = Path(load_settings(standins.config).auth.dev_keys_dir)
            gateway_cm = gateway_in_process(standins.config, archive_latency_ms=latency_ms)
            async with gateway_cm as gateway:
                token = mint_token(keys, "auditor", "benchmark-auditor")
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(headers=headers, timeout=600) as client:
                    # One small query first: the court's token and the connection pools.
                    await graphql(client, gateway.url, "{ audit { accessLog { at } } }")
                    for label, (query, variables) in queries(as_of).items():
                        for run_no in range(1, runs + 1):
                            await standins.reset_stats()
                            statements = gateway.archive_statements
                            started = time.perf_counter()
                            answer = await graphql(client, gateway.url, query, variables)
                            took = time.perf_counter() - started
                            stats = await standins.stats()
                            requests = {name: sum(c.values()) for name, c in stats.items()}
                            requests["archive"] = gateway.archive_statements - statements
                            (found,) = answer["data"]["audit"].values()
                            verdict = "ok" if took < TARGET_S else "OVER THE TARGET"
                            upstream = ", ".join(f"{n} {c}" for n, c in requests.items())
                            print(
                                f"{label:<38} run {run_no}: {took:7.2f} s ({verdict}),"
                                f" {len(found):>5} found; requests: {upstream}"
                            )
    print(f"\ntarget: each query under {TARGET_S:g} s at 20 ms platform latency")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="default: one of the default size")
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--orgs", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with (
        dataset_dir(args.dataset, persons=args.persons, orgs=args.orgs) as dataset,
        tempfile.TemporaryDirectory() as scratch,
    ):
        asyncio.run(run(dataset, Path(scratch), args.latency_ms, args.runs))


if __name__ == "__main__":
    main()
