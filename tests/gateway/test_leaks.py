"""Property-based leak tests: no role ever receives what it may not see, by any path.

Queries are generated from the schema (hypothesis-graphql), then aimed at the
known subjects with each role's purposes, and sprinkled with aliases, a second
aliased copy of the root field and named fragments. Each runs through the real
HTTP endpoint of a real gateway over the real stand-ins; the whole response
body (data, errors, extensions) and every log line the gateway wrote while
answering must be free of the role's forbidden values.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.devkeys import mint_token
from schema import build_schema
from tests.schema import dataset as known
from tests.stack import running_stack

SDL = build_schema().as_str()
SCHEMA = graphql.build_schema(SDL)
PARTIAL_ID = known.PERSON[:6] + "********" + known.PERSON[-4:]


class LiveStack:
    """The whole stack served from a thread, so synchronous hypothesis tests can call it."""

    def __init__(self, dataset: Path, tmp_path: Path) -> None:
        self.dataset, self.tmp_path = dataset, tmp_path
        self.ready = threading.Event()
        self.url = ""
        self.keys = tmp_path / "keys"
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with running_stack(self.dataset, self.tmp_path) as stack:
            self.url = str(stack.client.base_url)
            self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> LiveStack:
        self._thread.start()
        if not self.ready.wait(timeout=60):
            raise RuntimeError("the stack did not start")
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveStack, Captured]]:
    dataset = known.write_dataset(tmp_path_factory.mktemp("known"))
    captured = Captured()
    root = logging.getLogger()
    root.addHandler(captured)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        with LiveStack(dataset, tmp_path_factory.mktemp("stack")) as stack:
            yield stack, captured
    finally:
        root.removeHandler(captured)
        root.setLevel(previous)


SCALARS = {
    "Date": st.dates().map(lambda day: graphql.StringValueNode(value=day.isoformat())),
    "DateTime": st.datetimes().map(lambda at: graphql.StringValueNode(value=at.isoformat())),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda amount: graphql.StringValueNode(value=str(amount))
    ),
}


@st.composite
def aimed_queries(draw: st.DrawFn, root: str, key: str, purposes: list[str]) -> str:
    """A generated query on `root`, aimed at `key` for one of `purposes`, with
    aliases, a second aliased copy of the root field and maybe a named fragment."""
    text = draw(hypothesis_graphql.queries(SDL, fields=[root], custom_scalars=SCALARS))
    operation = graphql.parse(str(text)).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, graphql.FieldNode)
    key_argument = "idNumber" if root == "person" else "creditCode"
    arguments = (
        _argument(key_argument, graphql.StringValueNode(value=key)),
        _argument("purpose", graphql.EnumValueNode(value=draw(st.sampled_from(purposes)))),
        _argument("asOf", graphql.StringValueNode(value="2025-06-30")),
    )
    selections = _aliased(field.selection_set, draw)
    fragments: list[graphql.DefinitionNode] = []
    if selections is not None and draw(st.booleans()):
        type_name = "Person" if root == "person" else "Organization"
        fragments.append(
            graphql.FragmentDefinitionNode(
                name=graphql.NameNode(value="Picked"),
                type_condition=graphql.NamedTypeNode(name=graphql.NameNode(value=type_name)),
                selection_set=selections,
            )
        )
        spread = graphql.FragmentSpreadNode(name=graphql.NameNode(value="Picked"))
        selections = graphql.SelectionSetNode(selections=(spread,))
    copies = tuple(
        graphql.FieldNode(
            alias=graphql.NameNode(value=alias) if alias else None,
            name=field.name,
            arguments=arguments,
            selection_set=selections,
        )
        for alias in (None, "twin")
    )
    query = graphql.OperationDefinitionNode(
        operation=graphql.OperationType.QUERY,
        selection_set=graphql.SelectionSetNode(selections=copies),
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=(query, *fragments)))


def _argument(name: str, value: graphql.ValueNode) -> graphql.ArgumentNode:
    return graphql.ArgumentNode(name=graphql.NameNode(value=name), value=value)


def _aliased(
    selection_set: graphql.SelectionSetNode | None, draw: st.DrawFn
) -> graphql.SelectionSetNode | None:
    """The selection set with some fields renamed by an alias, at every depth."""
    if selection_set is None:
        return None
    selections: list[graphql.SelectionNode] = []
    for number, selection in enumerate(selection_set.selections):
        if isinstance(selection, graphql.FieldNode):
            alias = f"a{number}_{selection.name.value}" if draw(st.booleans()) else None
            selection = graphql.FieldNode(
                alias=graphql.NameNode(value=alias) if alias else selection.alias,
                name=selection.name,
                arguments=selection.arguments,
                selection_set=_aliased(selection.selection_set, draw),
            )
        selections.append(selection)
    return graphql.SelectionSetNode(selections=tuple(selections))


def ask(stack: LiveStack, log: Captured, token: str, query: str) -> str:
    """The raw response body, plus what the gateway logged meanwhile."""
    assert not graphql.validate(SCHEMA, graphql.parse(query)), query
    before = len(log.lines)
    response = httpx.post(
        f"{stack.url}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text + "\n".join(log.lines[before:])


def assert_none_of(forbidden: list[str], seen: str, query: str) -> None:
    leaked = [value for value in forbidden if value in seen]
    assert not leaked, f"leaked {leaked} for:\n{query}"


LEAK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ALWAYS_FORBIDDEN = [known.PERSON, "1980-05-12"]  # raw ID number, full birth date
SUBJECTS = [("person", known.PERSON), ("organization", known.SUPPLIER)]


@LEAK
@given(st.data())
def test_hr_officer_never_sees_raw_ids_or_restricted_details(live: Any, data: Any) -> None:
    stack, log = live
    token = mint_token(stack.keys, "hr_officer", "hr", unit=known.UNIT)
    root, key = data.draw(
        st.sampled_from([("person", known.PERSON), ("organization", known.SUPPLIER)])
    )
    purposes = ["CADRE_SELECTION", "HONOURS"]
    query = data.draw(aimed_queries(root, key, purposes))
    # I-1 is a RESTRICTED investigation: it may decide, never be shown.
    assert_none_of([*ALWAYS_FORBIDDEN, "I-1"], ask(stack, log, token, query), query)


@LEAK
@given(st.data())
def test_procurement_officer_never_sees_raw_ids_or_the_archive(live: Any, data: Any) -> None:
    stack, log = live
    token = mint_token(stack.keys, "procurement_officer", "buyer")
    query = data.draw(aimed_queries("organization", known.SUPPLIER, ["PROCUREMENT_ELIGIBILITY"]))
    forbidden = [*ALWAYS_FORBIDDEN, "I-1", "综合处处长", "沈纪〔2025〕3号"]
    assert_none_of(forbidden, ask(stack, log, token, query), query)


@LEAK
@given(st.data())
def test_auditor_never_sees_names_ids_or_investigations(live: Any, data: Any) -> None:
    stack, log = live
    token = mint_token(stack.keys, "auditor", "audit")
    root, key = data.draw(
        st.sampled_from([("person", known.PERSON), ("organization", known.SUPPLIER)])
    )
    query = data.draw(aimed_queries(root, key, ["AUDIT"]))
    forbidden = [*ALWAYS_FORBIDDEN, PARTIAL_ID, known.PERSON_NAME, "欧阳**", "I-1"]
    assert_none_of(forbidden, ask(stack, log, token, query), query)


@LEAK
@given(st.data())
def test_a_data_subject_never_sees_anyone_else(live: Any, data: Any) -> None:
    stack, log = live
    token = mint_token(stack.keys, "data_subject", "me", id_number=known.OTHERS[0])
    root, key = data.draw(
        st.sampled_from(
            [
                ("person", known.PERSON),
                ("person", known.OTHERS[0]),
                ("organization", known.SUPPLIER),
            ]
        )
    )
    query = data.draw(aimed_queries(root, key, ["SELF_CHECK"]))
    forbidden = [known.PERSON, PARTIAL_ID, known.PERSON_NAME, "欧阳**", "I-1", "CR-001", "E-1"]
    assert_none_of(forbidden, ask(stack, log, token, query), query)
