"""Overload: a burst far beyond what one worker carries, from one caller and from many.

    python -m benchmarks.overload [--dataset DIR] [--latency-ms 300] [--court-rate-limit 20]

One gateway worker (`credgate serve`, its own process) over the stand-ins
(their own process) at `--latency-ms` per HTTP request, access control ON
(one hr_officer token for the attacker, another for a bystander), cache `none`
(every vet is cold), the per-caller limit at its default. Scenarios, each after
the breakers have had time to close again:

1. 40 concurrent cold vets from one principal;
2. 200 concurrent cold vets from one principal, and the same 200 spread over
   20 principals;
3. a bystander's single vet asked while scenario 1's burst is in flight, and
   again right after it (is a platform's breaker open for everyone?).

For each it prints the answers by kind (verdicts, INCOMPLETE, how many carried
SOURCE_UNAVAILABLE, HTTP 503 OVERLOADED, other) and latencies of admitted and
of shed requests. The stand-ins and the load client share the machine with the
gateway: figures are comparable within one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from auth.devkeys import mint_token

from .common import (
    dataset_dir,
    gateway_process,
    percentile,
    person_coverage,
    process_cpu_s,
    run_standins,
)

VET = """query ($id: String!) {
  vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    verdict sources { source ok error }
  }
}"""


@dataclass
class Tally:
    """The answers of one scenario, by kind, with their latencies in seconds."""

    kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    admitted: list[float] = field(default_factory=list)
    shed: list[float] = field(default_factory=list)
    failed_sources: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, answer: httpx.Response | None, seconds: float) -> None:
        if answer is None:
            self.kinds["no answer (transport error)"] += 1
            return
        if answer.status_code == 503:
            self.kinds["503 " + _code(answer)] += 1
            self.shed.append(seconds)
            return
        self.admitted.append(seconds)
        if answer.status_code != 200:
            self.kinds[f"HTTP {answer.status_code} {_code(answer)}"] += 1
            return
        body = answer.json()
        report = (body.get("data") or {}).get("vet")
        if report is None:
            self.kinds["no report: " + _code(answer)] += 1
            return
        self.kinds[report["verdict"]] += 1
        for source in report["sources"]:
            if not source["ok"]:
                self.failed_sources[f"{source['source']}: {source['error']}"] += 1

    def show(self, label: str) -> None:
        print(f"{label}")
        for kind, count in sorted(self.kinds.items()):
            print(f"    {kind:<40} {count:>5}")
        for what, count in self.failed_sources.most_common(6):
            print(f"    failed source  {what[:60]:<60} {count:>5}")
        for name, values in (("admitted", self.admitted), ("shed", self.shed)):
            if values:
                ms = [v * 1000 for v in values]
                print(
                    f"    {name:<9} n={len(ms):<4} p50 {percentile(ms, 50):7.0f}"
                    f"  p99 {percentile(ms, 99):7.0f}  max {max(ms):7.0f} ms"
                )


def _code(answer: httpx.Response) -> str:
    try:
        errors = answer.json().get("errors") or [{}]
    except ValueError:
        return "(not JSON)"
    return str((errors[0].get("extensions") or {}).get("code", ""))


async def _vet(client: httpx.AsyncClient, url: str, token: str, person: str, tally: Tally) -> None:
    started = time.perf_counter()
    try:
        answer: httpx.Response | None = await client.post(
            f"{url}/graphql",
            json={"query": VET, "variables": {"id": person}},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError:
        answer = None
    tally.add(answer, time.perf_counter() - started)


async def burst(url: str, tokens: list[str], persons: list[str], label: str) -> Tally:
    """Every person vetted at once, round-robin over `tokens`; prints the tally."""
    tally = Tally()
    limits = httpx.Limits(max_connections=len(persons) + 1)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await asyncio.gather(
            *(
                _vet(client, url, tokens[n % len(tokens)], person, tally)
                for n, person in enumerate(persons)
            )
        )
    tally.show(label)
    return tally


async def run(args: argparse.Namespace) -> None:
    with (
        dataset_dir(args.dataset) as dataset,
        tempfile.TemporaryDirectory(prefix="credgate-overload-") as folder,
    ):
        scratch = Path(folder)
        coverage = person_coverage(dataset)
        servants = [p for p, where in coverage.items() if "archive" in where]
        random.Random(7).shuffle(servants)
        async with run_standins(
            dataset, scratch, latency_ms=args.latency_ms, court_rate_limit=args.court_rate_limit
        ) as standins:
            config = scratch / "overload.toml"
            config.write_text(
                standins.config.read_text(encoding="utf-8")
                .replace("enforce = false", "enforce = true")
                .replace("requests_per_minute = 1000000000", "requests_per_minute = 600")
                # Admission control at its defaults: this benchmark is about it.
                .replace("max_in_flight = 1000\n", "")
                .replace("max_in_flight_per_principal = 1000\n", ""),
                encoding="utf-8",
            )
            keys = scratch / "dev-keys"
            async with gateway_process(config, scratch) as gateway:
                attacker = mint_token(keys, "hr_officer", "attacker")
                others = [mint_token(keys, "hr_officer", f"hr-{n}") for n in range(20)]
                bystander = mint_token(keys, "hr_officer", "bystander")
                fresh = iter(servants)

                def take(n: int) -> list[str]:
                    return [next(fresh) for _ in range(n)]

                print(
                    f"one worker, platforms at {args.latency_ms:g} ms,"
                    f" court rate limit {args.court_rate_limit or 'off'}, cache none"
                )
                cpu = process_cpu_s(gateway.pid)
                seen = Tally()
                attack = asyncio.create_task(
                    burst(gateway.url, [attacker], take(40), "40 concurrent vets, one principal")
                )
                await asyncio.sleep(0.3)
                async with httpx.AsyncClient(timeout=60) as client:
                    await _vet(client, gateway.url, bystander, next(fresh), seen)
                    await attack
                    await _vet(client, gateway.url, bystander, next(fresh), seen)
                seen.show("bystander: one vet during the burst, one right after")
                await asyncio.sleep(args.pause_s)
                await burst(
                    gateway.url, [attacker], take(200), "200 concurrent vets, one principal"
                )
                await asyncio.sleep(args.pause_s)
                await burst(
                    gateway.url, others, take(200), "200 concurrent vets over 20 principals"
                )
                used = process_cpu_s(gateway.pid)
                if cpu is not None and used is not None:
                    print(f"gateway CPU over the run: {used - cpu:.1f} s")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="a generated dataset (default: a small one)")
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--court-rate-limit", type=int, default=20, help="0 = off")
    parser.add_argument("--pause-s", type=float, default=12.0, help="between scenarios")
    return parser.parse_args()


def main() -> None:
    asyncio.run(run(_arguments()))


if __name__ == "__main__":
    main()
