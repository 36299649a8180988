"""Trusted documents: in production only listed documents run; credit_admin is exempt."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from auth.devkeys import ensure_dev_keys
from gateway.settings import ConfigError
from gateway.trusted import load_trusted_documents
from tests.schema import dataset as known
from tests.stack import running_stack
from tests.support import log_seal_files

LISTED = "query ($id: String!) { person(idNumber: $id, purpose: HONOURS) { name } }"
UNLISTED = "query ($id: String!) { person(idNumber: $id, purpose: HONOURS) { name birthDate } }"


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def production(tmp_path: Path, trusted: Path | None) -> dict[str, dict[str, Any]]:
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("k" * 64, encoding="ascii")
    jwks = ensure_dev_keys(tmp_path / "keys").jwks_path
    gateway: dict[str, Any] = {"mode": "production"}
    if trusted is not None:
        gateway["trusted_documents"] = str(trusted)
    return {
        "gateway": gateway,
        "auth": {"jwks_file": str(jwks), "pseudonym_key_file": str(key_file)},
        "access_log": log_seal_files(tmp_path / "seal"),
    }


def listing(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "trusted.txt"
    lines = ["# documents the HR front end sends", ""]
    lines += [hashlib.sha256(document.encode()).hexdigest().upper() for document in documents]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_only_listed_documents_run_in_production(dataset, tmp_path):
    settings = production(tmp_path, listing(tmp_path, LISTED))
    async with running_stack(dataset, tmp_path, **settings) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        listed = await stack.query(LISTED, hr, id=known.PERSON)
        counts = await stack.upstream_counts()
        refused = await stack.post(UNLISTED, hr, id=known.PERSON)
        by_get = await stack.client.get(
            "/graphql", params={"query": UNLISTED}, headers={"Authorization": f"Bearer {hr}"}
        )
        unasked = await stack.upstream_counts()
        admin = await stack.query(UNLISTED, stack.token("credit_admin", "root"), id=known.PERSON)

    assert listed["data"]["person"]["name"] == known.PERSON_NAME
    for answer in (refused, by_get):
        assert answer.status_code == 200
        body = answer.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unasked == counts  # refused before anything was parsed or asked
    assert admin["data"]["person"]["birthDate"]  # credit_admin is exempt
    with sqlite3.connect(tmp_path / "access.db") as db:
        actors = [row[0] for row in db.execute("SELECT actor FROM access_log ORDER BY seq")]
    assert actors == ["hr", "root"]  # the refusals reached no personal data


async def test_the_list_is_not_applied_in_development(dataset, tmp_path):
    trusted = listing(tmp_path, LISTED)
    async with running_stack(
        dataset, tmp_path, gateway={"trusted_documents": str(trusted)}
    ) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        answer = await stack.query(UNLISTED, hr, id=known.PERSON)
    assert answer["data"]["person"]["birthDate"]


def test_a_bad_line_stops_the_start_naming_file_and_line(tmp_path):
    path = tmp_path / "trusted.txt"
    path.write_text("# ok\n" + "a" * 64 + "\nnot-a-digest\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"trusted.txt:3 is not a SHA-256"):
        load_trusted_documents(path)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_trusted_documents(tmp_path / "missing.txt")
    assert load_trusted_documents(listing(tmp_path, LISTED)) == {
        hashlib.sha256(LISTED.encode()).hexdigest()
    }


async def test_another_spelling_of_a_kept_answer_is_still_refused(dataset, tmp_path):
    """Kept answers are shared by every spelling of a document; the list is not."""
    settings = production(tmp_path, listing(tmp_path, LISTED))
    respelt = "# same question\n" + LISTED.replace(" { ", "{").replace(" }", "}")
    async with running_stack(
        dataset, tmp_path, cache={"poll_interval_s": 3600.0}, **settings
    ) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        for _ in range(3):
            listed = await stack.query(LISTED, hr, id=known.PERSON)
        assert stack.app.state.answers.hits == 1  # kept, and re-issued once
        refused = await stack.query(respelt, hr, id=known.PERSON)
        assert stack.app.state.answers.hits == 1
    assert listed["data"]["person"]["name"] == known.PERSON_NAME
    assert "data" not in refused  # refused as a whole: no data member
    assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
