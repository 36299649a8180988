"""What the gateway benchmarks share: a dataset, the stand-ins, a gateway, load, figures.

    dataset_dir(given)                    -> the dataset to use (a small one generated if none)
    person_coverage(dataset)              -> which platforms hold something about each person
    run_standins(dataset, scratch, ...)   -> `credgate simulators` in its own process
    gateway_in_process(config, ...)       -> the gateway app served by uvicorn in this process
    gateway_process(config, scratch)      -> `credgate serve` (one worker) in its own process
    sequential(n, call) / closed_loop(concurrency, seconds, call)   -> latencies
    print_latencies(label, latencies)     -> count, p50, p95, p99, max in ms

Everything listens on 127.0.0.1 only. Child processes are stopped with SIGINT
(then killed if they linger) when their context ends, however it ends. The
court stand-in's rate limit is always off: a benchmark measures the gateway,
not the court's 20 requests a second.

The gateway gets the stand-ins' configuration plus `benchmark_settings`: access
control off (`[auth] enforce = false`), no cache (cold: every request asks the
platforms), no per-caller rate limit, abuse limits raised above the batching
benchmark's 500-person query, and its files (access log, development keys) in
the benchmark's scratch folder, never in the checkout. A key the gateway's
settings do not have (yet) is left out; the keys applied are printed.

The archive has no HTTP, so no stand-in can slow it down: `DelayedArchive` wraps
the connector's database and delays its `cs_person` statement only. A chunk is
read with up to seven statements one after another; delaying each would model
seven round trips, while the platform latency stands for one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from connectors.archive_db import ArchiveDatabase, Row
from connectors.identifiers import is_valid_id_number
from gateway.app import create_app
from gateway.settings import Settings, load_settings
from simulators.generator import GeneratorOptions, generate
from simulators.procurement import SERVICE_PATH
from simulators.servers import bind

__all__ = [
    "HOST",
    "PERSON_FIELDS",
    "REPO",
    "DelayedArchive",
    "GatewayProcess",
    "GraphQLFailure",
    "InProcessGateway",
    "LoadResult",
    "RunningStandins",
    "benchmark_settings",
    "closed_loop",
    "count_leaves",
    "court_items",
    "dataset_dir",
    "gateway_in_process",
    "gateway_process",
    "graphql",
    "http_client",
    "percentile",
    "person_coverage",
    "print_latencies",
    "process_cpu_s",
    "process_tree_cpu_s",
    "run_standins",
    "sequential",
]

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

# Every field of a Person, records included whether in force or not.
PERSON_FIELDS = """
fragment PersonRecords on Person {
  idNumber name gender birthDate
  civilServant {
    unit { kind creditCode name } position rankLevel status
    positionHistory { position rankLevel unit { creditCode } startDate endDate }
    assessments { year grade }
    sanctions {
      sanctionId kind decisionNo authority decisionDate periodMonths reason
      revokedDate disclosure inForce
    }
    investigations { caseId authority openedDate closedDate }
    mattersReportChecks { year checkDate result }
    honours { year title level }
  }
  creditRecords(includeInactive: true) {
    recordId category decisionNo violationType penaltyTypes fineAmount decisionDate
    authorityName severity publicityEnd status disputed inForce
  }
  enforcement(includeInactive: true) {
    entryId caseCode court obligation performance unperformedAmount filingDate
    publishDate status inForce
  }
  consumptionRestrictions { orderId caseCode court issuedDate status }
  businessRoles { supplier { creditCode name } role registrationStatus }
  sources { source ok asOf error }
}
"""


# -- the dataset ------------------------------------------------------------------


@contextlib.contextmanager
def dataset_dir(given: Path | None, *, persons: int = 2_000, orgs: int = 500) -> Iterator[Path]:
    """`given`, or a small dataset generated into a temporary directory (under a second)."""
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="credgate-bench-") as folder:
        dataset = Path(folder) / "dataset"
        generate(dataset, GeneratorOptions(persons=persons, orgs=orgs))
        yield dataset


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def person_coverage(dataset: Path) -> dict[str, set[str]]:
    """ID number -> the platforms holding a record about that person (registry
    entries without records do not count), in the registry's order."""
    coverage: dict[str, set[str]] = {}
    for row in _jsonl(dataset / "credit_platform" / "subjects.jsonl"):
        if row["type"] == "PERSON":
            coverage[row["code"]] = set()

    def mark(id_number: object, platform: str) -> None:
        # Organisations appear in the same columns (court parties, shareholders).
        if isinstance(id_number, str) and is_valid_id_number(id_number):
            coverage.setdefault(id_number, set()).add(platform)

    for row in _jsonl(dataset / "credit_platform" / "records.jsonl"):
        if row["subject_type"] == "PERSON":
            mark(row["subject_code"], "credit")
    for row in _jsonl(dataset / "procurement" / "suppliers.jsonl"):
        mark((row.get("legal_representative") or {}).get("id_number"), "procurement")
        for holder in row.get("shareholders") or []:
            mark(holder.get("id_number"), "procurement")
    for name in ("entries.jsonl", "restrictions.jsonl"):
        for row in _jsonl(dataset / "court" / name):
            if row.get("partyType", "PERSON") == "PERSON":
                mark(row["idCode"], "court")
    for row in _jsonl(dataset / "archive" / "cs_person.jsonl"):
        mark(row["id_number"], "archive")
    return coverage


def court_items(dataset: Path) -> dict[str, dict[str, int]]:
    """Per court operation ("entries", "restrictions"): items held per idCode."""
    counts: dict[str, dict[str, int]] = {}
    for name in ("entries", "restrictions"):
        per_party: dict[str, int] = {}
        for row in _jsonl(dataset / "court" / f"{name}.jsonl"):
            per_party[row["idCode"]] = per_party.get(row["idCode"], 0) + 1
        counts[name] = per_party
    return counts


# -- the stand-ins ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningStandins:
    """`credgate simulators` running in a child process."""

    process: asyncio.subprocess.Process
    config: Path  # a gateway configuration for them: their sections + benchmark settings
    urls: dict[str, str]  # base URLs of the three HTTP stand-ins, by platform
    settings: list[str]  # the benchmark settings in `config`, as "section.key = value"

    @property
    def pid(self) -> int:
        return self.process.pid

    def describe(self) -> str:
        """One line naming the benchmark settings the gateway runs with."""
        # File locations (all in the scratch folder) are left out.
        shown = [
            line for line in self.settings if not line.split(" = ")[0].endswith(("_dir", "dsn"))
        ]
        return "gateway settings: " + ", ".join(line.replace(" = ", "=") for line in shown)

    async def reset_stats(self) -> None:
        async with httpx.AsyncClient() as admin:
            for url in self.urls.values():
                (await admin.post(f"{url}/_sim/reset-stats")).raise_for_status()

    async def stats(self) -> dict[str, dict[str, int]]:
        """Requests each HTTP stand-in counted since the last reset, by "METHOD /path"."""
        counts: dict[str, dict[str, int]] = {}
        async with httpx.AsyncClient() as admin:
            for name, url in self.urls.items():
                answer = await admin.get(f"{url}/_sim/stats")
                answer.raise_for_status()
                counts[name] = dict(answer.json()["requests"])
        return counts


@contextlib.asynccontextmanager
async def run_standins(
    dataset: Path, scratch: Path, *, latency_ms: float = 0.0, court_rate_limit: int = 0
) -> AsyncIterator[RunningStandins]:
    """The stand-ins on free loopback ports, `latency_ms` on every HTTP request,
    the court's rate limit off (unless `court_rate_limit` requests a second) and
    the archive database in `scratch`."""
    config = scratch / "platforms.toml"
    log = scratch / "standins.log"
    ports = [str(_free_port()) for _ in range(3)]
    command = [
        sys.executable, "-m", "gateway.cli", "simulators", "--dataset", str(dataset),
        "--config-out", str(config), "--latency-ms", f"{latency_ms:g}",
        "--court-rate-limit", str(court_rate_limit),
        "--archive-dsn", f"sqlite:///{scratch / 'archive.db'}",
        "--host", HOST, "--credit-port", ports[0], "--procurement-port", ports[1],
        "--court-port", ports[2],
    ]  # fmt: skip
    async with _child(command, log, cwd=REPO) as process:
        await _wait_for(lambda: "stand-ins ready" in _read(log), process, log, "the stand-ins")
        gateway_config = scratch / "gateway.toml"
        applied = _write_gateway_config(config, gateway_config, scratch)
        platforms = load_settings(gateway_config).platforms
        urls = {
            "credit": platforms.credit.url,
            "procurement": platforms.procurement.url.removesuffix(SERVICE_PATH),
            "court": platforms.court.url,
        }
        yield RunningStandins(process, gateway_config, urls, applied)


def benchmark_settings(scratch: Path) -> dict[str, dict[str, object]]:
    """What every benchmark gateway runs with, on top of the stand-ins' platforms."""
    return {
        "auth": {"enforce": False, "dev_keys_dir": str(scratch / "dev-keys")},
        "cache": {"backend": "none"},
        # The abuse limits would refuse the batching benchmark's 500-person query.
        "limits": {
            "requests_per_minute": 1_000_000_000,
            "max_aliases": 100_000,
            "max_tokens": 10_000_000,
            "max_cost": 1_000_000_000,
            # One load client is one caller: admission control must not shed it.
            "max_in_flight": 1_000,
            "max_in_flight_per_principal": 1_000,
        },
        "access_log": {"dsn": f"sqlite:///{scratch / 'access.db'}"},
    }


def _write_gateway_config(platforms: Path, out: Path, scratch: Path) -> list[str]:
    """`platforms` (the stand-ins' sections) plus the benchmark settings the
    gateway knows; returns those applied as "section.key = value"."""
    lines = [platforms.read_text(encoding="utf-8")]
    applied: list[str] = []
    for section, values in benchmark_settings(scratch).items():
        field = Settings.model_fields.get(section)
        known = getattr(field.annotation, "model_fields", {}) if field else {}
        kept = {key: value for key, value in values.items() if key in known}
        if kept:
            lines.append(f"\n[{section}]")
            # A JSON literal is a valid TOML value for strings, numbers and booleans.
            lines.extend(f"{key} = {json.dumps(value)}" for key, value in kept.items())
            applied.extend(f"{section}.{key} = {json.dumps(value)}" for key, value in kept.items())
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.chmod(0o600)  # it holds the stand-ins' credentials
    return applied


# -- the gateway ------------------------------------------------------------------


class DelayedArchive:
    """An `ArchiveDatabase` whose `cs_person` statements take `latency_ms` longer:
    the archive's stand-in for a platform that takes that long to answer."""

    def __init__(self, inner: ArchiveDatabase, latency_ms: float) -> None:
        self.inner = inner
        self.placeholder = inner.placeholder
        self.latency_s = latency_ms / 1000

    async def query(self, sql: str, params: Sequence[object], timeout_s: float) -> list[Row]:
        if self.latency_s and "FROM cs_person" in sql:
            await asyncio.sleep(min(self.latency_s, timeout_s))
            timeout_s = max(timeout_s - self.latency_s, 0.001)
        return await self.inner.query(sql, params, timeout_s)

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class InProcessGateway:
    app: Starlette
    url: str  # base URL; the endpoint is url + "/graphql"

    @property
    def archive_statements(self) -> int:
        """SQL statements the archive connector has sent: the archive's "requests"."""
        statements: int = self.app.state.connectors.archive.statements
        return statements


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT to the benchmark, so Ctrl-C cleans up."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def gateway_in_process(
    config: Path, *, archive_latency_ms: float = 0.0
) -> AsyncIterator[InProcessGateway]:
    """The gateway for `config` served by uvicorn in this process (one event loop
    with the load it is given), its archive slowed by `archive_latency_ms`."""
    app = create_app(load_settings(config))
    archive = app.state.connectors.archive
    archive.database = DelayedArchive(archive.database, archive_latency_ms)
    sock = bind(HOST, 0)
    server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))
    async with app.router.lifespan_context(app):
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            host, port = sock.getsockname()[:2]
            yield InProcessGateway(app, f"http://{host}:{port}")
        finally:
            server.should_exit = True
            await task
            sock.close()


@dataclass
class GatewayProcess:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.asynccontextmanager
async def gateway_process(
    config: Path, scratch: Path, *, workers: int = 1
) -> AsyncIterator[GatewayProcess]:
    """`credgate serve --config CONFIG` (`workers` uvicorn workers) in its own process,
    ready once `/healthz` answers; its output goes to `scratch/gateway.log`."""
    port = _free_port()
    log = scratch / "gateway.log"
    command = [
        sys.executable, "-m", "gateway.cli", "serve", "--config", str(config),
        "--host", HOST, "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    url = f"http://{HOST}:{port}"
    async with _child(command, log, cwd=REPO) as process, httpx.AsyncClient() as probe:

        async def healthy() -> bool:
            with contextlib.suppress(httpx.TransportError):
                return (await probe.get(f"{url}/healthz")).status_code == 200
            return False

        await _wait_for_async(healthy, process, log, "the gateway")
        yield GatewayProcess(process, url, log)


# -- child processes --------------------------------------------------------------


@contextlib.asynccontextmanager
async def _child(
    command: list[str], log: Path, *, cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run `command` with its output in `log`; SIGINT it (then kill) on the way out."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREDGATE_")}
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=output, stderr=asyncio.subprocess.STDOUT, cwd=cwd, env=env
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


def _read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


async def _wait_for(
    ready: Callable[[], bool], process: asyncio.subprocess.Process, log: Path, what: str
) -> None:
    async def check() -> bool:
        return ready()

    await _wait_for_async(check, process, log, what)


async def _wait_for_async(
    ready: Callable[[], Awaitable[bool]],
    process: asyncio.subprocess.Process,
    log: Path,
    what: str,
) -> None:
    give_up = time.monotonic() + START_TIMEOUT_S
    while not await ready():
        if process.returncode is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_read(log)[-2000:]}")
        if time.monotonic() > give_up:
            raise RuntimeError(f"{what} did not start in {START_TIMEOUT_S:g} s:\n{_read(log)}")
        await asyncio.sleep(0.05)


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds of `pid` and every process below it (uvicorn's workers), now."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += process_cpu_s(current) or 0.0
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return total


# -- GraphQL requests and load ----------------------------------------------------


class GraphQLFailure(Exception):
    """An answer that is not HTTP 200 with data."""


async def graphql(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    partial: bool = False,
) -> dict[str, Any]:
    """POST one operation to `url`/graphql and return the whole answer.

    Raises `GraphQLFailure` unless the answer is HTTP 200 with data and, when
    `partial` is false, without errors (a source that failed is a failed request).
    """
    answer = await client.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}
    )
    if answer.status_code != 200:
        raise GraphQLFailure(f"HTTP {answer.status_code}: {answer.text[:300]}")
    body: dict[str, Any] = answer.json()
    if body.get("data") is None or (body.get("errors") and not partial):
        raise GraphQLFailure(f"errors: {json.dumps(body.get('errors'))[:300]}")
    return body


def count_leaves(value: object) -> int:
    """Scalar values (null included) in a JSON value: what a client reads out."""
    if isinstance(value, dict):
        return sum(count_leaves(item) for item in value.values())
    if isinstance(value, list):
        return sum(count_leaves(item) for item in value)
    return 1


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    failures: int = 0
    first_failure: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.failures

    @property
    def per_second(self) -> float:
        """Requests answered in full (HTTP 200, data, no errors) per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def all_per_second(self) -> float:
        """Requests answered at all, failed ones included, per second."""
        return self.requests / self.seconds if self.seconds else 0.0


async def sequential(count: int, call: Callable[[int], Awaitable[object]]) -> LoadResult:
    """`call(i)` for i in 0..count-1, one after another, each timed."""
    result = LoadResult(0.0)
    started = time.perf_counter()
    for i in range(count):
        await _timed(call, i, result)
    result.seconds = time.perf_counter() - started
    return result


async def closed_loop(
    concurrency: int, seconds: float, call: Callable[[int], Awaitable[object]]
) -> LoadResult:
    """`concurrency` workers each calling `call(i)` back to back for `seconds`;
    i counts calls across workers, so a call can pick its subject by it."""
    result = LoadResult(0.0)
    issued = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal issued
        while time.perf_counter() < stop_at:
            issued += 1
            await _timed(call, issued - 1, result)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def _timed(call: Callable[[int], Awaitable[object]], index: int, result: LoadResult) -> None:
    started = time.perf_counter()
    try:
        await call(index)
    except (GraphQLFailure, httpx.HTTPError) as failure:
        result.failures += 1
        result.first_failure = result.first_failure or f"{type(failure).__name__}: {failure}"
        return
    result.latencies.append(time.perf_counter() - started)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def print_latencies(label: str, result: LoadResult) -> None:
    """One line: requests, failures, then p50 / p95 / p99 / max in milliseconds."""
    ms = [value * 1000 for value in result.latencies]
    figures = "  ".join(
        f"{name} {percentile(ms, q):7.1f}" for name, q in (("p50", 50), ("p95", 95), ("p99", 99))
    )
    worst = max(ms) if ms else math.nan
    print(
        f"{label:<34} n={result.requests:<5} failed={result.failures:<3}"
        f" {figures}  max {worst:7.1f} ms"
    )
    if result.first_failure:
        print(f"  first failure: {result.first_failure[:240]}")


def http_client(concurrency: int) -> httpx.AsyncClient:
    """A client with a keep-alive connection per concurrent worker."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=30)
