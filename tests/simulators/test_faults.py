import random

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from simulators.faults import FaultSettings, SimulatorControls, SimulatorState, parse_latency
from tests.support import serve


def make_app(state):
    inner = Starlette(
        routes=[
            Route("/thing", lambda request: PlainTextResponse("thing")),
            Route("/_sim/own", lambda request: PlainTextResponse("own admin"), methods=["POST"]),
        ]
    )
    unavailable = lambda: JSONResponse({"error": "down"}, status_code=503)  # noqa: E731
    return SimulatorControls(inner, state, unavailable, rng=random.Random(1))


async def test_requests_are_counted_per_endpoint_and_reset():
    state = SimulatorState()
    async with serve(make_app(state)) as url, httpx.AsyncClient(base_url=url) as client:
        for _ in range(3):
            assert (await client.get("/thing")).text == "thing"
        await client.post("/thing")
        stats = (await client.get("/_sim/stats")).json()
        assert stats == {"requests": {"GET /thing": 3, "POST /thing": 1}, "total": 4}
        assert (await client.post("/_sim/reset-stats")).json()["total"] == 0
        assert (await client.get("/_sim/stats")).json() == {"requests": {}, "total": 0}


async def test_down_and_up():
    state = SimulatorState()
    async with serve(make_app(state)) as url, httpx.AsyncClient(base_url=url) as client:
        await client.post("/_sim/down")
        answer = await client.get("/thing")
        assert (answer.status_code, answer.json()) == (503, {"error": "down"})
        await client.post("/_sim/up")
        assert (await client.get("/thing")).status_code == 200
        assert (await client.get("/_sim/stats")).json()["total"] == 2


async def test_error_rate_one_fails_every_request_and_zero_none():
    state = SimulatorState(faults=FaultSettings(error_rate=1.0))
    async with serve(make_app(state)) as url, httpx.AsyncClient(base_url=url) as client:
        assert {(await client.get("/thing")).status_code for _ in range(5)} == {503}
        state.faults = FaultSettings(error_rate=0.0)
        assert {(await client.get("/thing")).status_code for _ in range(5)} == {200}


async def test_a_stand_ins_own_admin_endpoints_pass_through_uncounted():
    state = SimulatorState(faults=FaultSettings(error_rate=1.0))
    async with serve(make_app(state)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.post("/_sim/own")).text == "own admin"
        assert (await client.get("/_sim/stats")).json()["total"] == 0


def test_latency_parsing_and_validation():
    assert parse_latency("50") == (50.0, 0.0)
    assert parse_latency("50:10") == (50.0, 10.0)
    with pytest.raises(ValueError, match="MEAN:JITTER"):
        parse_latency("fast")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultSettings(error_rate=1.5)
    with pytest.raises(ValueError, match="negative"):
        FaultSettings(latency_ms=-1)


async def test_a_burst_of_failures_then_normal_answers():
    state = SimulatorState()
    async with serve(make_app(state)) as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.post("/_sim/fail-next?count=2")).json() == {"fail_next": 2}
        statuses = [(await client.get("/thing")).status_code for _ in range(4)]
        assert statuses == [503, 503, 200, 200]
