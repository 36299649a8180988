"""One error vocabulary: every code defined once, documented from that definition,
and each refusal coded by where it arose."""

import ast
from pathlib import Path

import pytest

from connectors.error_codes import ERRORS_DOC, Code, errors_markdown
from gateway.cli import main
from tests.schema import dataset as known
from tests.stack import running_stack

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "schema", "auth", "connectors", "simulators")


def test_the_committed_errors_document_is_generated_from_the_codes():
    assert ERRORS_DOC.read_text(encoding="utf-8") == errors_markdown(), (
        "docs/errors.md is out of date: run `credgate export-errors`"
    )


def test_export_errors_writes_the_document(capsys):
    before = ERRORS_DOC.read_text(encoding="utf-8")
    ERRORS_DOC.write_text("stale", encoding="utf-8")
    try:
        assert main(["export-errors"]) == 0
        assert ERRORS_DOC.read_text(encoding="utf-8") == errors_markdown()
    finally:
        ERRORS_DOC.write_text(before, encoding="utf-8")
    assert "error codes written" in capsys.readouterr().out


def test_every_code_is_named_as_it_is_spelled_and_documented():
    for code in Code:
        assert code.name == code.value
        assert code.meaning.endswith(".")
        assert f"| `{code.value}` |" in errors_markdown()
    assert {c for c in Code if c.status is not None} >= {
        Code.UNAUTHENTICATED,
        Code.RATE_LIMITED,
        Code.OVERLOADED,
        Code.PAYLOAD_TOO_LARGE,
        Code.UNSUPPORTED_MEDIA_TYPE,
        Code.METHOD_NOT_ALLOWED,
    }


def test_no_module_spells_a_code_itself():
    """Only connectors/error_codes.py may hold a code as a string literal."""
    names = {code.value for code in Code}
    spelled = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "connectors" / "error_codes.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in names:
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert spelled == []


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


PERSON = f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) {{ name }} }}'


def only_error(answer):
    assert "data" not in answer, answer
    (error,) = answer["errors"]
    return error


async def test_each_refusal_of_a_document_says_where_it_arose(dataset, tmp_path):
    limits = {"max_depth": 2, "max_aliases": 2, "max_tokens": 40, "max_cost": 30}
    async with running_stack(dataset, tmp_path, limits=limits) as stack:
        parse = await stack.query("{ sources { ok }")
        validation = await stack.query("{ sources { nope } }")
        coercion = await stack.query(
            "query ($id: String!) { person(idNumber: $id, purpose: HONOURS) { name } }", id=5
        )
        depth = await stack.query(
            f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) '
            "{ civilServant { unit { name } } } }"
        )
        aliases = await stack.query("{ a: __typename b: __typename c: __typename }")
        tokens = await stack.query("{ sources { ok " + "ok " * 40 + "} }")
        cost = await stack.query(
            f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) '
            "{ creditRecords { recordId category decisionNo } } }"
        )
        # a syntax error early in a document longer than the token bound is a parse error
        early = await stack.query("{ sources { ok ) " + "ok " * 60 + "} }")
    assert only_error(parse)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert only_error(early)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert only_error(validation)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert only_error(coercion)["extensions"]["code"] == "BAD_USER_INPUT"
    for answer, limit, maximum in (
        (depth, "depth", 2),
        (aliases, "aliases", 2),
        (tokens, "tokens", 40),
        (cost, "cost", 30),
    ):
        extensions = only_error(answer)["extensions"]
        assert extensions == {"code": "LIMIT_EXCEEDED", "limit": limit, "maximum": maximum}


async def test_forbidden_purpose_says_the_same_wherever_it_is_refused(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        procurement = stack.token("procurement_officer", "po")
        refused = [
            await stack.query(
                f'{{ person(idNumber: "{known.PERSON}", purpose: AUDIT) {{ name }} }}', hr
            ),
            await stack.query("{ audit { governmentDebtors { unit { name } } } }", hr),
            await stack.query(
                '{ revealIdentity(pseudonym: "P-1", caseNumber: "C-1") { kind } }', procurement
            ),
        ]
    errors = [answer["errors"][0] for answer in refused]
    assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN_PURPOSE"}
    assert {e["extensions"]["purpose"] for e in errors} == {"AUDIT"}
    assert {e["message"] for e in errors} == {"purpose AUDIT is not granted to the caller's roles"}
