"""The gateway's health endpoints against the real stand-ins over loopback."""

import os
from pathlib import Path

import httpx
import pytest

from auth.devkeys import mint_token
from gateway.settings import load_settings
from tests.schema import dataset as known
from tests.stack import gateway, platforms, running_stack

SOURCES = "{ sources { source ok error } }"
EVERY_PLATFORM = """query ($id: String!) { person(idNumber: $id, purpose: CADRE_SELECTION) {
  civilServant { position } creditRecords { recordId } enforcement { entryId }
  businessRoles { role } } }"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch):
    monkeypatch.delenv("CREDGATE_CONFIG", raising=False)


async def test_all_platforms_ready_and_reported_in_graphql(small_dataset, tmp_path):
    async with running_stack(small_dataset, tmp_path) as stack:
        assert (await stack.client.get("/healthz")).json() == {"status": "ok"}
        ready = await stack.client.get("/readyz", headers=bearer(stack.token()))
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["platforms"]) == {"credit", "procurement", "court", "archive"}
        answer = await stack.query(SOURCES)
        assert "errors" not in answer
        assert answer["data"]["sources"] == [
            {"source": name, "ok": True, "error": None}
            for name in ("CREDIT_PLATFORM", "PROCUREMENT", "COURT", "ARCHIVE")
        ]


async def test_readiness_counts_this_workers_upstream_calls(tmp_path_factory, tmp_path):
    dataset = known.write_dataset(tmp_path_factory.mktemp("known"))
    async with running_stack(dataset, tmp_path) as stack:
        detail = bearer(stack.token())  # this worker's calls are detail
        before = (await stack.client.get("/readyz", headers=detail)).json()["upstream"]
        assert before["process"] == os.getpid()  # the stack serves in this process
        answer = await stack.query(EVERY_PLATFORM, id=known.PERSON)
        assert "errors" not in answer, answer
        after = (await stack.client.get("/readyz", headers=detail)).json()["upstream"]
        assert after["archive_statements"] > before["archive_statements"]
        for platform in ("credit", "procurement", "court", "archive"):
            assert after["calls"][platform] > before["calls"][platform], platform


async def test_a_platform_that_is_down_is_named(small_dataset, tmp_path):
    async with running_stack(small_dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        await admin.post(f"{stack.urls['court']}/_sim/down")
        ready = await stack.client.get("/readyz", headers=bearer(stack.token()))
        assert ready.status_code == 200  # the gateway degrades: still ready
        found = ready.json()["platforms"]
        assert found["court"]["ok"] is False
        assert "503" in found["court"]["error"]
        assert all(found[name]["ok"] for name in ("credit", "procurement", "archive"))
        sources = (await stack.query(SOURCES))["data"]["sources"]
        court = next(s for s in sources if s["source"] == "COURT")
        assert court["ok"] is False


async def test_unreachable_platforms_and_missing_archive(small_dataset, tmp_path):
    async with platforms(small_dataset, tmp_path) as (_, _, config):
        settings = load_settings(config)
    # The stand-ins have stopped: nothing listens on their ports any more.
    (tmp_path / "archive.db").unlink()
    async with gateway(settings) as (_, client):
        token = mint_token(Path(settings.auth.dev_keys_dir), "credit_admin", "admin")
        ready = await client.get("/readyz", headers=bearer(token))
        assert ready.status_code == 200  # its own access log answers: it can serve
        assert ready.json()["platformsUp"] == 0
        found = ready.json()["platforms"]
        assert not any(p["ok"] for p in found.values())
        assert "unreachable" in found["credit"]["error"]
        assert "unable to open" in found["archive"]["error"]


async def test_graphiql_in_development_mode(small_dataset, tmp_path):
    async with running_stack(small_dataset, tmp_path) as stack:
        page = await stack.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
