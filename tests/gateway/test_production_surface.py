"""What a production gateway shows of itself: no GraphiQL page for anyone (as the
README says), no "Did you mean ...?" hints for callers without introspection,
and no token living longer than `[auth] max_token_lifetime_s`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from auth.devkeys import ensure_dev_keys, mint_token
from tests.schema import dataset as known
from tests.stack import running_stack
from tests.support import log_seal_files

REPO = Path(__file__).resolve().parents[2]
MISSPELT = [
    query.replace("ID", known.PERSON)
    for query in (
        '{ persn(idNumber: "ID", purpose: HONOURS) { name } }',
        '{ person(idNumbr: "ID", purpose: HONOURS) { name } }',
        '{ person(idNumber: "ID", purpose: HONOUR) { name } }',
        '{ person(idNumber: "ID", purpose: HONOURS) { nme } }',
    )
]


@pytest.fixture
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def production(tmp_path: Path) -> dict[str, Any]:
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("k" * 64, encoding="ascii")
    jwks = ensure_dev_keys(tmp_path / "keys").jwks_path
    return {
        "gateway": {"mode": "production"},
        "auth": {"jwks_file": str(jwks), "pseudonym_key_file": str(key_file)},
        "access_log": log_seal_files(tmp_path / "seal"),
    }


def messages(answer: dict[str, Any]) -> list[str]:
    return [error["message"] for error in answer["errors"]]


async def test_validation_errors_hint_only_to_those_who_may_introspect(
    dataset: Path, tmp_path: Path
) -> None:
    async with running_stack(dataset, tmp_path, **production(tmp_path)) as stack:
        hr = stack.token("hr_officer", "hr")
        admin = stack.token("credit_admin", "root")
        for query in MISSPELT:
            officer = await stack.query(query, hr)
            root = await stack.query(query, admin)
            assert "data" not in officer  # refused as a whole: no data member
            assert officer["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert not any("Did you mean" in message for message in messages(officer))
            assert not re.search(r"'(person|idNumber|HONOURS|name)'", str(messages(officer)))
            assert any("Did you mean" in message for message in messages(root))
            # Otherwise the same message, cut before the hint.
            assert [m.split(" Did you mean")[0] for m in messages(root)] == messages(officer)


async def test_hints_stay_in_development(dataset: Path, tmp_path: Path) -> None:
    async with running_stack(dataset, tmp_path) as stack:
        answer = await stack.query(MISSPELT[0], stack.token("hr_officer", "hr"))
    assert "Did you mean 'person'?" in messages(answer)[0]


async def test_graphiql_is_off_in_production_for_everyone_as_the_readme_says(
    dataset: Path, tmp_path: Path
) -> None:
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert "turns GraphiQL off for everyone" in readme
    assert "GraphiQL and introspection off for everyone but credit_admin" not in readme
    async with running_stack(dataset, tmp_path, **production(tmp_path)) as stack:
        for token in (None, stack.token("credit_admin", "root"), stack.token("hr_officer", "hr")):
            headers = {"accept": "text/html"}
            if token is not None:
                headers["authorization"] = f"Bearer {token}"
            page = await stack.client.get("/graphql", headers=headers)
            assert page.status_code in {401, 404, 406}  # never the page
            assert "graphiql" not in page.text.lower()


async def test_tokens_longer_than_the_configured_lifetime_are_refused(
    dataset: Path, tmp_path: Path
) -> None:
    short = {"auth": {"max_token_lifetime_s": 3600}}
    async with running_stack(dataset, tmp_path, **short) as stack:
        working_day = await stack.post("{ sources { ok } }", stack.token())  # 8 h
        hour = mint_token(Path(stack.settings.auth.dev_keys_dir), "credit_admin", "r", ttl_s=3600)
        answered = await stack.post("{ sources { ok } }", hour)
    assert working_day.status_code == 401
    assert working_day.json()["errors"][0]["message"] == (
        "the token lives longer than this service accepts"
    )
    assert answered.status_code == 200
