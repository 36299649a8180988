"""The README's GraphQL examples run as written, on the demo dataset, as the role each names."""

import re
from pathlib import Path

from gateway.first_query import DEMO_AS_OF, DEMO_PERSON, FIRST_QUERY, FIRST_QUERY_ROLE
from tests.stack import running_stack

README = Path(__file__).resolve().parent.parent / "README.md"
ROLE_LINE = re.compile(r"#\s*as (\w+)")


def graphql_blocks() -> list[str]:
    return re.findall(r"^```graphql\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_first_example_is_what_the_demo_opens_graphiql_with():
    blocks = graphql_blocks()
    assert blocks
    assert blocks[0] == FIRST_QUERY
    role = ROLE_LINE.match(FIRST_QUERY)
    assert role is not None
    assert role.group(1) == FIRST_QUERY_ROLE
    assert DEMO_AS_OF in FIRST_QUERY
    assert DEMO_PERSON in FIRST_QUERY


def demo_token(stack, role):
    """As `credgate demo` mints them: its data subject is DEMO_PERSON."""
    if role == "data_subject":
        return stack.token(role, "reader", id_number=DEMO_PERSON)
    return stack.token(role, "reader")


async def test_every_readme_example_runs_on_the_demo_dataset(demo_dataset, tmp_path):
    blocks = graphql_blocks()
    roles = []
    for block in blocks:
        role = ROLE_LINE.match(block)
        assert role is not None, f"a README example names no role ('# as ROLE'):\n{block}"
        roles.append(role.group(1))
    async with running_stack(demo_dataset, tmp_path) as stack:
        answers = [
            await stack.query(block, demo_token(stack, role))
            for block, role in zip(blocks, roles, strict=True)
        ]
    for block, answer in zip(blocks, answers, strict=True):
        assert "errors" not in answer, (block, answer["errors"])
        assert answer["data"], block
        for field, value in answer["data"].items():
            assert value is not None, (block, field)
    # Dated as the text says: the planted records are in force on the anchor date.
    first = answers[0]["data"]
    assert any(s["inForce"] for s in first["person"]["civilServant"]["sanctions"])
    assert first["vet"]["findings"]
    # The data subject sees that the hr_officer looked it up, and with what outcome.
    history = answers[-1]["data"]["person"]["accessHistory"]
    assert {(e["purpose"], e["outcome"]) for e in history} >= {("CADRE_SELECTION", "OK")}
