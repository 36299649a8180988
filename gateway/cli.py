"""`credgate`: the one command-line entry point.

Each sub-command maps its flags onto the settings or options object of the part
it runs and calls it; no behaviour lives here. Errors a user can fix (a bad
configuration, a malformed dataset, a taken port) end the command with a
one-line message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from auth.access_log_entry import AccessLogError

from .first_query import DEMO_AS_OF, DEMO_PERSON, FIRST_QUERY, FIRST_QUERY_ROLE
from .rules_cli import add_rules_parser
from .settings import ConfigError, load_settings
from .vet_cli import add_vet_parser

__all__ = ["main"]

DEMO_DATA = Path("data")
DEMO_ROLES = ("hr_officer", "procurement_officer", "auditor", "credit_admin", "data_subject")


class UsageError(Exception):
    """Something the user can fix; printed as one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except (UsageError, ConfigError, AccessLogError, OSError, ValueError) as exc:
        print(f"credgate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="credgate", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="dataset, stand-ins and gateway on loopback")
    demo.add_argument("--port", type=int, default=8000, help="gateway port (default 8000)")
    demo.add_argument(
        "--graphiql-role", choices=DEMO_ROLES, default=FIRST_QUERY_ROLE, metavar="ROLE",
        help=f"whose demo token GraphiQL opens with (default {FIRST_QUERY_ROLE}; "
        f"one of {', '.join(DEMO_ROLES)})",
    )  # fmt: skip
    _standin_ports(demo)
    demo.set_defaults(command=_demo)

    serve = commands.add_parser("serve", help="the gateway alone, against configured platforms")
    serve.add_argument("--config", type=Path, help="TOML file (else CREDGATE_CONFIG)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(command=_serve)

    sims = commands.add_parser("simulators", help="the four platform stand-ins")
    sims.add_argument("--dataset", type=Path, required=True)
    sims.add_argument("--latency-ms", default="0", metavar="MS[:JITTER]")
    sims.add_argument("--error-rate", type=float, default=0.0, metavar="P")
    sims.add_argument("--config-out", type=Path, metavar="FILE")
    sims.add_argument("--archive-dsn", default="", metavar="DSN")
    sims.add_argument("--court-token-ttl-s", type=int, default=3600, metavar="N")
    sims.add_argument("--court-rate-limit", type=int, default=20, metavar="N")
    sims.add_argument("--host", default="127.0.0.1")
    _standin_ports(sims)
    sims.set_defaults(command=_simulators)

    gen = commands.add_parser("generate", help="the synthetic dataset")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--persons", type=int, default=20_000)
    gen.add_argument("--orgs", type=int, default=5_000)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 6, 30))
    gen.set_defaults(command=_generate)

    token = commands.add_parser("token", help="a development token (development mode only)")
    token.add_argument("--config", type=Path, help="TOML file (else CREDGATE_CONFIG)")
    token.add_argument("--role", required=True)
    token.add_argument("--sub", required=True)
    token.add_argument("--unit")
    token.add_argument("--id-number")
    token.add_argument("--name")
    token.set_defaults(command=_token)

    add_vet_parser(commands)
    add_rules_parser(commands)

    verify = commands.add_parser("verify-log", help="check the access log's hash chains")
    verify.add_argument("--config", type=Path, help="TOML file (else CREDGATE_CONFIG)")
    verify.set_defaults(command=_verify_log)

    export = commands.add_parser("export-schema", help="write schema/schema.graphql")
    export.set_defaults(command=_export_schema)
    errors = commands.add_parser("export-errors", help="write docs/errors.md")
    errors.set_defaults(command=_export_errors)
    return parser


def _standin_ports(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--credit-port", type=int, default=9101, metavar="N")
    parser.add_argument("--procurement-port", type=int, default=9102, metavar="N")
    parser.add_argument("--court-port", type=int, default=9103, metavar="N")


def _generate(args: argparse.Namespace) -> int:
    from simulators.generator import GeneratorOptions, generate

    options = GeneratorOptions(
        persons=args.persons, orgs=args.orgs, seed=args.seed, as_of=args.as_of
    )
    started = time.perf_counter()
    counts = generate(args.out, options, progress=lambda step: print(f"  {step}", flush=True))
    took = time.perf_counter() - started
    print(f"dataset written to {args.out} in {took:.1f} s")
    for name, count in sorted(counts.items()):
        print(f"  {name:<40} {count:>10,}")
    return 0


def _simulators(args: argparse.Namespace) -> int:
    from simulators.faults import FaultSettings, parse_latency
    from simulators.servers import serve_all
    from simulators.standins import StandinOptions, build_standins, gateway_config_toml

    latency, jitter = parse_latency(args.latency_ms)
    options = StandinOptions(
        dataset=_existing_dataset(args.dataset),
        host=args.host,
        credit_port=args.credit_port,
        procurement_port=args.procurement_port,
        court_port=args.court_port,
        faults=FaultSettings(latency_ms=latency, jitter_ms=jitter, error_rate=args.error_rate),
        archive_dsn=args.archive_dsn,
        court_token_ttl_s=args.court_token_ttl_s,
        court_rate_limit=args.court_rate_limit,
    )
    standins = build_standins(options)

    def ready(urls: dict[str, str]) -> None:
        for name, url in urls.items():
            print(f"{name:<12} {url}")
        print(f"{'archive':<12} {standins.archive_dsn}")
        if args.config_out:
            _write_private(args.config_out, gateway_config_toml(standins, urls))
            print(f"gateway configuration written to {args.config_out}")
        print("stand-ins ready; Ctrl-C stops them", flush=True)

    asyncio.run(serve_all(standins.apps, ready))
    print("stand-ins stopped: " + ", ".join(app.name for app in standins.apps), flush=True)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from simulators.generator import GeneratorOptions, generate
    from simulators.servers import ServedApp, serve_all
    from simulators.standins import StandinOptions, build_standins, gateway_config_toml

    from .app import create_app
    from .graphiql import GraphiQLPage

    dataset = DEMO_DATA / "dataset"
    if not (dataset / "manifest.json").exists():
        print(f"generating the demo dataset in {dataset} (once) ...", flush=True)
        generate(dataset, GeneratorOptions())
    ports = {
        "credit": args.credit_port,
        "procurement": args.procurement_port,
        "court": args.court_port,
    }
    standins = build_standins(
        StandinOptions(
            dataset=dataset,
            credit_port=ports["credit"],
            procurement_port=ports["procurement"],
            court_port=ports["court"],
        )
    )
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    config_file = DEMO_DATA / "demo-gateway.toml"
    _write_private(config_file, gateway_config_toml(standins, urls))
    settings = load_settings(config_file, gateway={"port": args.port, "mode": "development"})
    tokens = _demo_tokens(Path(settings.auth.dev_keys_dir), DEMO_PERSON, _demo_unit(dataset))
    page = GraphiQLPage(query=FIRST_QUERY, token=tokens[args.graphiql_role])
    gateway = ServedApp("gateway", create_app(settings, graphiql=page), "127.0.0.1", args.port)
    served: dict[str, str] = {}

    def ready(urls: dict[str, str]) -> None:
        served.update(urls)
        banner = _demo_banner(urls, standins.archive_dsn, config_file, tokens, args.graphiql_role)
        print(banner, flush=True)

    asyncio.run(serve_all([*standins.apps, gateway], ready))
    # Ctrl-C (or any server ending) stops them all: say which, and what is kept.
    print(
        "credgate demo stopped: "
        + ", ".join(f"{name} ({url})" for name, url in served.items())
        + f"; kept: the dataset in {dataset}, the access log ({settings.access_log.dsn})",
        flush=True,
    )
    return 0


def _demo_unit(dataset: Path) -> str | None:
    """The organisation of the first planted case: the demo hr_officer's unit."""
    with (dataset / "golden.jsonl").open(encoding="utf-8") as cases:
        for line in cases:
            unit = json.loads(line)["subject"].get("creditCode")
            if unit:
                return str(unit)
    return None


def _demo_tokens(keys_dir: Path, person: str, unit: str | None) -> dict[str, str]:
    """A development token per role; the data subject is `person`."""
    from auth.devkeys import mint_token

    return {
        "hr_officer": mint_token(keys_dir, "hr_officer", "demo-hr", unit=unit),
        "procurement_officer": mint_token(keys_dir, "procurement_officer", "demo-buyer"),
        "auditor": mint_token(keys_dir, "auditor", "demo-auditor"),
        "credit_admin": mint_token(keys_dir, "credit_admin", "demo-admin"),
        "data_subject": mint_token(keys_dir, "data_subject", "demo-self", id_number=person),
    }


def _demo_banner(
    urls: dict[str, str],
    archive_dsn: str,
    config_file: Path,
    tokens: dict[str, str],
    graphiql_role: str,
) -> str:
    gateway = urls["gateway"]
    token_lines = [f"  {role:<20} {token}" for role, token in tokens.items()]
    return "\n".join(
        [
            "",
            "credgate demo is running (development mode).",
            f"  GraphiQL          {gateway}/graphql",
            f"  health            {gateway}/healthz   readiness {gateway}/readyz",
            f"  credit platform   {urls['credit']}/openapi.json",
            f"  procurement       {urls['procurement']}/ws/SupplierCreditService?wsdl",
            f"  court             {urls['court']}/openapi.json",
            f"  archive           {archive_dsn}",
            f"  gateway config    {config_file} (stand-in credentials; regenerated each start)",
            "",
            "Tokens (8 h; in GraphiQL the header  Authorization: Bearer TOKEN):",
            *token_lines,
            "",
            f"GraphiQL opens with the README's first query and the {graphiql_role} token",
            "(another role: --graphiql-role ROLE, or edit the Headers tab).",
            f'The demo data is anchored at {DEMO_AS_OF}: ask with asOf: "{DEMO_AS_OF}".',
            "More tokens:  .venv/bin/credgate token --role hr_officer --sub alice",
            "Ctrl-C stops everything.",
            "",
        ]
    )


def _serve(args: argparse.Namespace) -> int:
    if args.config:
        os.environ["CREDGATE_CONFIG"] = str(args.config)
    settings = load_settings(args.config)  # validated here, before any worker starts
    uvicorn.run(
        "gateway.cli:app_from_environment",
        factory=True,
        host=args.host or settings.gateway.host,
        port=settings.gateway.port if args.port is None else args.port,
        workers=args.workers,
        log_level="info",
        # One line per request on stdout costs more than a cached answer; who asked
        # what is in the access log, and errors are still logged.
        access_log=False,
        # Slow clients: a header deadline and a connection bound (gateway/serving.py).
        http="gateway.serving:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.limits.keep_alive_s,
    )
    return 0


def app_from_environment() -> object:
    """The ASGI app for `credgate serve` workers: settings from CREDGATE_CONFIG and env."""
    from .app import create_app

    app = create_app(load_settings())
    # What is loaded now (modules, the schema, the policy, the rule set) lives as long
    # as the process: moved out of the collector's sight, a full collection no longer
    # walks it (tens of milliseconds that every request in flight would wait).
    gc.collect()
    gc.freeze()
    return app


def _token(args: argparse.Namespace) -> int:
    from auth.devkeys import mint_token

    settings = load_settings(args.config)
    if settings.gateway.mode != "development":
        raise UsageError("credgate token only signs development tokens: refused in production mode")
    print(
        mint_token(
            Path(settings.auth.dev_keys_dir),
            args.role,
            args.sub,
            unit=args.unit,
            id_number=args.id_number,
            name=args.name,
        )
    )
    return 0


def _verify_log(args: argparse.Namespace) -> int:
    from auth.access_log import verify

    from .keys import log_verification

    settings = load_settings(args.config)
    chain_key, checkpoints, public_key = log_verification(settings)
    report = verify(settings.access_log.dsn, chain_key, checkpoints, public_key)
    print(report.summary())
    return 0 if report.ok else 1


def _export_schema(args: argparse.Namespace) -> int:
    import schema as schema_package
    from schema import build_schema

    target = Path(schema_package.__file__).parent / "schema.graphql"
    target.write_text(build_schema().as_str() + "\n", encoding="utf-8")
    print(f"schema written to {target}")
    return 0


def _export_errors(args: argparse.Namespace) -> int:
    from connectors.error_codes import ERRORS_DOC, errors_markdown

    ERRORS_DOC.write_text(errors_markdown(), encoding="utf-8")
    print(f"error codes written to {ERRORS_DOC}")
    return 0


def _existing_dataset(path: Path) -> Path:
    if not path.is_dir():
        raise UsageError(
            f"dataset directory {path} does not exist (make one with credgate generate)"
        )
    return path


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it holds credentials."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


if __name__ == "__main__":
    raise SystemExit(main())
