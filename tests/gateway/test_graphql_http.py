"""GraphQL over HTTP at /graphql: media types, statuses, refusals and headers, over real HTTP."""

import json
from typing import Any

import httpx
import pytest

from gateway.refusals import GRAPHQL_RESPONSE, JSON, answer_media_type
from tests.schema import dataset as known
from tests.stack import Stack, running_stack

SOURCES = "{ sources { source ok } }"
NAME = "query ($id: String!) { person(idNumber: $id, purpose: HONOURS) { name } }"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, GRAPHQL_RESPONSE),
        ("", GRAPHQL_RESPONSE),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        ("application/json, */*;q=0.1", JSON),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE),
        ("text/html", None),
        ("application/graphql-response+json;q=0", None),
        ("application/json;q=nonsense", None),
    ],
)
def test_the_answer_media_type_follows_accept_with_its_q_values(accept, media):
    assert answer_media_type(accept) == media


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def bearer(stack: Stack, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('hr_officer', 'hr')}", **headers}


async def send(
    stack: Stack,
    method: str = "POST",
    *,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs,
) -> httpx.Response:
    """A request with exactly the Accept given (None: no Accept header at all)."""
    request = stack.client.build_request(
        method, "/graphql", headers=bearer(stack, **(headers or {})), **kwargs
    )
    del request.headers["accept"]
    if accept is not None:
        request.headers["accept"] = accept
    return await stack.client.send(request)


def refusal(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is the refusal `code` with `status`: GraphQL-shaped, no data."""
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert answer.headers["x-request-id"] == body["extensions"]["requestId"]
    assert answer.headers["cache-control"] == "no-store"
    return body


async def test_graphql_response_json_by_default_and_refused_documents_are_400(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        ran = await send(stack, json={"query": SOURCES})
        refused = {
            "GRAPHQL_PARSE_FAILED": {"query": "{ sources {"},
            "GRAPHQL_VALIDATION_FAILED": {"query": "{ nope }"},
            "BAD_USER_INPUT": {
                "query": NAME,
                "variables": {"id": [1]},
            },
        }
        as_new = {code: await send(stack, json=body) for code, body in refused.items()}
        as_json = {
            code: await send(stack, accept="application/json", json=body)
            for code, body in refused.items()
        }
    assert ran.status_code == 200
    assert ran.headers["content-type"] == GRAPHQL_RESPONSE
    assert ran.json()["data"]["sources"]
    assert ran.headers["x-request-id"] == ran.json()["extensions"]["requestId"]
    assert ran.headers["cache-control"] == "no-store"
    for code, answer in as_new.items():
        refusal(answer, 400, code)
        assert answer.headers["content-type"] == GRAPHQL_RESPONSE
    for code, answer in as_json.items():  # the older media type keeps 200, still no data
        refusal(answer, 200, code)
        assert answer.headers["content-type"] == JSON


async def test_refusals_before_the_endpoint_follow_accept_too(dataset, tmp_path):
    async with running_stack(dataset, tmp_path, limits={"requests_per_minute": 1}) as stack:
        request = stack.client.build_request(
            "POST", "/graphql", json={"query": SOURCES}, headers={"accept": GRAPHQL_RESPONSE}
        )
        unauthenticated = await stack.client.send(request)
        await send(stack, accept=GRAPHQL_RESPONSE, json={"query": SOURCES})
        limited = await send(stack, accept=GRAPHQL_RESPONSE, json={"query": SOURCES})
    for answer, status, code in (
        (unauthenticated, 401, "UNAUTHENTICATED"),
        (limited, 429, "RATE_LIMITED"),
    ):
        refusal(answer, status, code)
        assert answer.headers["content-type"] == GRAPHQL_RESPONSE
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    assert int(limited.headers["retry-after"]) >= 1


async def test_methods_and_allow(dataset, tmp_path):
    mutation = 'mutation { recordUsage(reportId: "r", outcome: ADOPTED) { queued } }'
    async with running_stack(dataset, tmp_path) as stack:
        by_get = await send(stack, "GET", params={"query": mutation})
        query_by_get = await send(stack, "GET", params={"query": SOURCES})
        options = await send(stack, "OPTIONS")
        others = {
            method: await send(stack, method) for method in ("HEAD", "PUT", "DELETE", "PATCH")
        }
    refusal(by_get, 405, "METHOD_NOT_ALLOWED")
    assert by_get.headers["allow"] == "POST"
    assert query_by_get.status_code == 200
    assert query_by_get.json()["data"]["sources"]
    assert options.status_code == 204
    allowed = {m.strip() for m in options.headers["allow"].split(",")}
    assert allowed == {"GET", "POST", "OPTIONS"}
    for method, answer in others.items():
        assert answer.status_code == 405, method
        assert {m.strip() for m in answer.headers["allow"].split(",")} == allowed
        if method != "HEAD":  # a HEAD answer has no body
            refusal(answer, 405, "METHOD_NOT_ALLOWED")


async def test_operation_names(dataset, tmp_path):
    two = "query A { sources { ok } } query B { sources { source } }"
    async with running_stack(dataset, tmp_path) as stack:
        unknown = await send(stack, json={"query": two, "operationName": "C"})
        unnamed = await send(stack, json={"query": two})
        empty = await send(stack, json={"query": SOURCES, "operationName": ""})
        empty_of_two = await send(stack, json={"query": two, "operationName": ""})
        named = await send(stack, json={"query": two, "operationName": "B"})
    assert "C" in refusal(unknown, 400, "BAD_REQUEST")["errors"][0]["message"]
    assert "operationName" in refusal(unnamed, 400, "BAD_REQUEST")["errors"][0]["message"]
    refusal(empty_of_two, 400, "BAD_REQUEST")  # "" is no name at all
    assert empty.status_code == 200
    assert empty.json()["data"]["sources"]
    assert set(named.json()["data"]["sources"][0]) == {"source"}


async def test_requests_that_are_not_one_graphql_request(dataset, tmp_path):
    json_type = {"content-type": "application/json"}
    async with running_stack(dataset, tmp_path, limits={"max_body_bytes": 1024}) as stack:
        answers = {
            "not JSON": await send(stack, content=b'{"query": ', headers=json_type),
            "batch": await send(stack, json=[{"query": SOURCES}, {"query": SOURCES}]),
            "not an object": await send(stack, json="{ sources { ok } }"),
            "no query": await send(stack, json={"qeury": SOURCES}),
            "variables a list": await send(stack, json={"query": SOURCES, "variables": [1]}),
            "operationName a number": await send(
                stack, json={"query": SOURCES, "operationName": 1}
            ),
            "GET variables not JSON": await send(
                stack, "GET", params={"query": SOURCES, "variables": "{nope"}
            ),
        }
        media = {
            content_type: await send(
                stack,
                content=json.dumps({"query": SOURCES}),
                headers={"content-type": content_type},
            )
            for content_type in (
                "application/json-patch+json",
                "text/plain",
                "application/json; charset=latin-1",
                "application/x-www-form-urlencoded",
            )
        }
        charset = await send(
            stack,
            content=json.dumps({"query": SOURCES}),
            headers={"content-type": "application/json; charset=utf-8"},
        )
        declared = await send(stack, json={"query": SOURCES + " " * 2048})

        async def chunks():
            for _ in range(30):
                yield b" " * 100

        streamed = await send(stack, content=chunks(), headers=json_type)
        html_only = await send(stack, accept="text/html", json={"query": SOURCES})
    for name, answer in answers.items():
        assert answer.headers["content-type"] == GRAPHQL_RESPONSE, name
        refusal(answer, 400, "BAD_REQUEST")
    for content_type, answer in media.items():
        refusal(answer, 415, "UNSUPPORTED_MEDIA_TYPE"), content_type
    assert charset.status_code == 200
    refusal(declared, 413, "PAYLOAD_TOO_LARGE")
    assert "content-length" not in streamed.request.headers
    refusal(streamed, 413, "PAYLOAD_TOO_LARGE")
    refusal(html_only, 406, "NOT_ACCEPTABLE")


async def test_cors_is_off_unless_an_origin_is_listed(dataset, tmp_path):
    preflight = {
        "Origin": "https://hr.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with running_stack(dataset, tmp_path) as stack:
        closed = await stack.client.options("/graphql", headers=preflight)
        closed_post = await send(
            stack, json={"query": SOURCES}, headers={"Origin": "https://hr.example"}
        )
    cors = {"gateway": {"cors_origins": ["https://hr.example"]}}
    async with running_stack(dataset, tmp_path / "open", **cors) as stack:
        opened = await stack.client.options("/graphql", headers=preflight)
        opened_post = await send(
            stack, json={"query": SOURCES}, headers={"Origin": "https://hr.example"}
        )
        stranger = await stack.client.options(
            "/graphql", headers={**preflight, "Origin": "https://evil.example"}
        )
        stranger_post = await send(
            stack, json={"query": SOURCES}, headers={"Origin": "https://evil.example"}
        )
    for answer in (closed, closed_post, stranger, stranger_post):
        assert "access-control-allow-origin" not in answer.headers
    assert opened.status_code == 200
    assert opened.headers["access-control-allow-origin"] == "https://hr.example"
    assert "authorization" in opened.headers["access-control-allow-headers"].lower()
    assert opened_post.headers["access-control-allow-origin"] == "https://hr.example"
    assert "x-request-id" in opened_post.headers["access-control-expose-headers"].lower()
    assert opened_post.json()["data"]["sources"]
