"""GraphiQL from the gateway itself: vendored, offline, prefilled in development."""

import contextlib
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from gateway.app import create_app
from gateway.first_query import FIRST_QUERY
from gateway.graphiql import ASSETS, GraphiQLPage
from gateway.settings import load_settings
from tests.stack import platforms, running_stack
from tests.support import serve

PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("CREDGATE_TEST_ARTEFACTS", PROJECT / "build" / "test-artefacts"))
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_vendored_builds_match_their_pins_and_keep_their_licences():
    pins = (ASSETS / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    assert len(pins) == 4
    for line in pins:
        digest, name = line.split()
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == digest, name
    for package in ("graphiql", "react", "react-dom"):
        assert "MIT License" in (ASSETS / f"LICENSE.{package}").read_text(encoding="utf-8")


async def test_a_browser_gets_the_page_and_its_assets_from_the_gateway(small_dataset, tmp_path):
    async with running_stack(small_dataset, tmp_path) as stack:
        page = await stack.client.get("/graphql", headers={"accept": BROWSER})
        # An edited page's address (GraphiQL writes the query into it) reloads as the page.
        reload = await stack.client.get(
            "/graphql?query=" + quote("{ sources { source } }"), headers={"accept": BROWSER}
        )
        # Anything else that is not a browser still needs a token.
        api = await stack.client.get("/graphql?query=" + quote("{ sources { source } }"))
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assets = {src: await stack.client.get(src) for src in sources}
        missing = await stack.client.get(sources[0].rsplit("/", 1)[0] + "/../app.py")
        stale = await stack.client.get("/graphiql/000000000000/graphiql.min.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert reload.status_code == 200
    assert reload.text == page.text
    assert api.status_code == 401
    assert len(sources) == 5
    for src, answer in assets.items():
        assert src.startswith("/graphiql/"), src  # same origin, never a CDN
        assert answer.status_code == 200, src
        assert "immutable" in answer.headers["cache-control"]
    assert missing.status_code == 404
    assert stale.status_code == 404
    # Without `credgate demo`, no token is in the page.
    assert "Bearer" not in page.text.replace("Authorization: Bearer TOKEN", "")


def test_the_page_settings_cannot_close_their_script_element():
    page = GraphiQLPage(query="</script><script>alert(1)</script>", token="t")
    settings = json.dumps(page.settings("/graphql")).replace("<", "\\u003c")
    assert "</script>" not in settings
    assert json.loads(settings)["headers"] == json.dumps({"Authorization": "Bearer t"}, indent=2)


@contextlib.asynccontextmanager
async def prefilled_gateway(dataset, tmp_path, token_for):
    """The demo's gateway: GraphiQL opens with the first query and a role's token."""
    async with platforms(dataset, tmp_path) as (_, _, config):
        settings = load_settings(
            config,
            auth={"dev_keys_dir": str(tmp_path / "keys")},
            access_log={"dsn": f"sqlite:///{tmp_path / 'access.db'}"},
        )
        token = token_for(settings)
        app = create_app(settings, graphiql=GraphiQLPage(query=FIRST_QUERY, token=token))
        async with app.router.lifespan_context(app), serve(app) as url:
            yield url, token


def chromium_or_skip():
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return found


@pytest.fixture
def artefacts():
    """Where the screenshot goes (kept after the run; build/ is not committed)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


async def test_graphiql_runs_the_first_query_in_chromium_without_the_network(
    demo_dataset, tmp_path, artefacts
):
    from playwright.async_api import async_playwright

    from auth.devkeys import mint_token

    executable = chromium_or_skip()

    def hr_token(settings):
        return mint_token(Path(settings.auth.dev_keys_dir), "hr_officer", "demo-hr")

    left_the_machine: list[str] = []

    async def loopback_only(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            left_the_machine.append(route.request.url)
            await route.abort("internetdisconnected")

    async with (
        prefilled_gateway(demo_dataset, tmp_path, hr_token) as (url, token),
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=executable)
        try:
            context = await browser.new_context(viewport={"width": 1600, "height": 1400})
            context.set_default_timeout(90_000)  # a busy machine: loading 1 MB of scripts
            await context.route("**/*", loopback_only)
            page = await context.new_page()
            await page.goto(f"{url}/graphql")
            editor = page.locator(".graphiql-query-editor")
            await editor.get_by_text("211322199906275760").first.wait_for()
            headers = await page.locator(".graphiql-editor-tool").inner_text()
            assert token[:40] in headers.replace("\n", "")
            # GraphiQL also asks for the schema (introspection) once loaded: wait for
            # the answer to the first query itself, whichever comes first.
            async with page.expect_response(
                lambda response: (
                    response.url == f"{url}/graphql"
                    and "211322199906275760" in (response.request.post_data or "")
                )
            ) as answered:
                await page.locator(".graphiql-execute-button").click()
            answer = await (await answered.value).json()
            result = page.locator(".result-window")
            await result.get_by_text('"verdict"').wait_for()
            await page.screenshot(path=artefacts / "graphiql.png")
            print(f"screenshot: {artefacts / 'graphiql.png'}")
            shown = await result.inner_text()
            stored = await page.evaluate("JSON.stringify(Object.entries(localStorage))")

            # Edit the query, reload: the edit is still there (the address carries it).
            await editor.locator(".CodeMirror").click()
            await page.keyboard.press("Control+End")
            await page.keyboard.type("\n# edited before the reload")
            await page.wait_for_url(lambda address: "edited" in address and "?query=" in address)
            await page.reload()
            await editor.get_by_text("# edited before the reload").wait_for()
        finally:
            await browser.close()
    assert "errors" not in answer, answer["errors"]
    person, report = answer["data"]["person"], answer["data"]["vet"]
    assert person is not None
    assert report is not None
    assert report["reportId"] in shown
    assert f'"verdict": "{report["verdict"]}"' in shown
    assert left_the_machine == []
    assert token not in stored
