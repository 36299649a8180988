"""The four stand-ins as one set: load a dataset, build the apps, describe them.

`build_standins` loads every platform's part of a dataset (refusing a malformed
one with file and line), builds the archive's exchange database, and makes the
three HTTP apps with freshly generated credentials. `gateway_config_toml`
writes the `[platforms.*]` sections a gateway needs to reach them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .archive import load_archive
from .court import CourtCredentials, create_court_app, load_court_dataset
from .credit import CreditCredentials, create_credit_app, load_credit_dataset
from .faults import FaultSettings, SimulatorState
from .procurement import (
    SERVICE_PATH,
    ProcurementCredentials,
    create_procurement_app,
    load_procurement_dataset,
)
from .servers import ServedApp

__all__ = ["StandinOptions", "Standins", "build_standins", "gateway_config_toml"]

CREDIT_PORT, PROCUREMENT_PORT, COURT_PORT = 9101, 9102, 9103


@dataclass(frozen=True)
class StandinOptions:
    """What `credgate simulators` takes."""

    dataset: Path
    host: str = "127.0.0.1"
    credit_port: int = CREDIT_PORT
    procurement_port: int = PROCUREMENT_PORT
    court_port: int = COURT_PORT
    faults: FaultSettings = field(default_factory=FaultSettings)
    archive_dsn: str = ""  # empty: the SQLite file data/archive.db under the working directory
    court_token_ttl_s: int = 3600
    court_rate_limit: int = 20


@dataclass(frozen=True)
class Standins:
    """The built stand-ins: apps to serve, their credentials and run-time state."""

    apps: list[ServedApp]
    states: dict[str, SimulatorState]
    credit: CreditCredentials
    procurement: ProcurementCredentials
    court: CourtCredentials
    archive_dsn: str
    archive_counts: dict[str, int]


def build_standins(options: StandinOptions) -> Standins:
    """Load `options.dataset` and build all four stand-ins (raises DatasetError)."""
    credit_data = load_credit_dataset(options.dataset)
    procurement_data = load_procurement_dataset(options.dataset)
    court_data = load_court_dataset(options.dataset)
    archive_dsn = options.archive_dsn or f"sqlite:///{Path('data/archive.db').resolve()}"
    archive = load_archive(options.dataset, archive_dsn)

    credit = CreditCredentials(app_key=_token("app"), app_secret=secrets.token_hex(32))
    procurement = ProcurementCredentials(username=_token("gw"), password=secrets.token_urlsafe(24))
    court = CourtCredentials(client_id=_token("client"), client_secret=secrets.token_urlsafe(32))
    states = {
        name: SimulatorState(faults=options.faults) for name in ("credit", "procurement", "court")
    }
    apps = [
        ServedApp(
            "credit",
            create_credit_app(credit_data, credit, states["credit"]),
            options.host,
            options.credit_port,
        ),
        ServedApp(
            "procurement",
            create_procurement_app(procurement_data, procurement, states["procurement"]),
            options.host,
            options.procurement_port,
        ),
        ServedApp(
            "court",
            create_court_app(
                court_data,
                court,
                states["court"],
                token_ttl_s=options.court_token_ttl_s,
                rate_limit_per_s=options.court_rate_limit,
            ),
            options.host,
            options.court_port,
        ),
    ]
    return Standins(apps, states, credit, procurement, court, archive_dsn, archive.counts)


def gateway_config_toml(standins: Standins, urls: dict[str, str]) -> str:
    """The `[platforms.*]` sections of a gateway config pointing at running stand-ins."""
    sections = {
        "credit": {
            "url": urls["credit"],
            "app_key": standins.credit.app_key,
            "app_secret": standins.credit.app_secret,
        },
        "procurement": {
            "url": urls["procurement"] + SERVICE_PATH,
            "username": standins.procurement.username,
            "password": standins.procurement.password,
        },
        "court": {
            "url": urls["court"],
            "client_id": standins.court.client_id,
            "client_secret": standins.court.client_secret,
        },
        "archive": {"dsn": standins.archive_dsn},
    }
    lines = ["# Gateway configuration for the running stand-ins; it holds their credentials."]
    for name, values in sections.items():
        lines.append(f"\n[platforms.{name}]")
        # A JSON string literal is a valid TOML basic string.
        lines.extend(
            f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()
        )
    return "\n".join(lines) + "\n"


def _token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
