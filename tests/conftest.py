"""Fixtures shared by the whole suite: services that tests need on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

POSTGRES_ADMIN_DSN = os.environ.get(
    "CREDGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN of a fresh, empty PostgreSQL database, dropped afterwards.

    Skips (with the reason printed in the summary) when no server answers;
    CI runs PostgreSQL on 127.0.0.1, so there this never skips.
    """
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_DSN}: {exc}")
    name = f"credgate_test_{secrets.token_hex(4)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset small enough to build in a moment, shared by the session."""
    from simulators.generator import GeneratorOptions, generate

    out = tmp_path_factory.mktemp("dataset")
    generate(out, GeneratorOptions(persons=1_500, orgs=400, seed=7))
    return out


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dataset `make demo` serves (the generator's defaults, a few seconds):
    the README's examples and the demo's GraphiQL are checked against it."""
    from simulators.generator import GeneratorOptions, generate

    out = tmp_path_factory.mktemp("demo-dataset")
    generate(out, GeneratorOptions())
    return out
