"""`/readyz`: the process's own readiness, platforms from the last probes, detail by token."""

import asyncio
import datetime as dt

import httpx
import pytest

from connectors.probe import Probe
from gateway.readiness import PlatformProbes
from tests.schema import dataset as known
from tests.stack import running_stack

PERSON_WITH_ENFORCEMENT = (
    f'{{ person(idNumber: "{known.PERSON}", purpose: HONOURS) '
    + "{ name enforcement { caseCode } } }"
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_probes_are_kept_for_their_time_and_shared_while_running():
    clock = Clock()
    started = asyncio.Event()
    release = asyncio.Event()
    rounds = 0

    async def probe() -> list[Probe]:
        nonlocal rounds
        rounds += 1
        started.set()
        await release.wait()
        return [Probe("court", True, dt.datetime.now(dt.UTC))]

    probes = PlatformProbes(probe, ttl_s=5, clock=clock)
    waiting = [asyncio.create_task(probes.latest()) for _ in range(50)]
    await started.wait()
    release.set()
    answers = await asyncio.gather(*waiting)
    assert rounds == 1
    assert all(answer == answers[0] for answer in answers)
    clock.now = 4.9
    await probes.latest()
    assert rounds == 1
    clock.now = 5.0
    await probes.latest()
    assert rounds == 2


async def test_a_hundred_anonymous_calls_cost_the_court_one_token_grant(dataset, tmp_path):
    # No cache: no change-feed poller asks the platforms meanwhile.
    async with running_stack(dataset, tmp_path, cache={"backend": "none"}) as stack:
        answers = await asyncio.gather(*(stack.client.get("/readyz") for _ in range(100)))
        async with httpx.AsyncClient() as admin:
            court = (await admin.get(f"{stack.urls['court']}/_sim/stats")).json()
        counts = await stack.upstream_counts()
    assert {answer.status_code for answer in answers} == {200}
    assert court["requests"] == {"POST /oauth/token": 1}  # one probe round for all
    assert counts["credit"] == counts["procurement"] == 1
    for answer in answers:
        assert answer.json() == {"ready": True, "platformsUp": 4, "platformsTotal": 4}


async def test_detail_needs_a_token(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        anonymous = (await stack.client.get("/readyz")).json()
        bad = (await stack.client.get("/readyz", headers={"Authorization": "Bearer x"})).json()
        token = stack.token("hr_officer", "hr")
        detail = (
            await stack.client.get("/readyz", headers={"Authorization": f"Bearer {token}"})
        ).json()
    assert anonymous == bad == {"ready": True, "platformsUp": 4, "platformsTotal": 4}
    assert detail["ready"] is True
    assert detail["problem"] is None
    assert set(detail["platforms"]) == {"credit", "procurement", "court", "archive"}
    assert all(p["ok"] and p["error"] is None for p in detail["platforms"].values())
    assert detail["cache"]["status"] == "ok"


async def test_a_platform_down_leaves_the_gateway_ready(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        await admin.post(f"{stack.urls['court']}/_sim/down")
        token = stack.token("hr_officer", "hr")
        ready = await stack.client.get("/readyz", headers={"Authorization": f"Bearer {token}"})
        # and the gateway does answer, the court's part null
        answer = await stack.query(PERSON_WITH_ENFORCEMENT)
    assert ready.status_code == 200
    body = ready.json()
    assert (body["ready"], body["platformsUp"]) == (True, 3)
    assert body["platforms"]["court"]["ok"] is False
    assert "503" in body["platforms"]["court"]["error"]
    assert answer["data"]["person"]["name"] == known.PERSON_NAME
    assert answer["data"]["person"]["enforcement"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["SOURCE_UNAVAILABLE"]


async def test_without_its_access_log_the_process_is_not_ready(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        await stack.app.state.services.access_log.close()
        token = stack.token("hr_officer", "hr")
        anonymous = await stack.client.get("/readyz")
        detail = await stack.client.get("/readyz", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == detail.status_code == 503
    assert anonymous.json()["ready"] is False
    assert "closed" in detail.json()["problem"]
