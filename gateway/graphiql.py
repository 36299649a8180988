"""GraphiQL, served by the gateway itself (development mode only).

A browser that opens `/graphql` (a GET that accepts `text/html`, with or without
`?query=`) gets the GraphiQL page; every other request goes on to the token
check and the GraphQL endpoint. The page and its scripts come from this
process — the vendored builds in `gateway/static/graphiql/` (see VENDORED.md
there) under `/graphiql/<digest>/<file>` — and its Content-Security-Policy lets
the browser fetch nothing from anywhere else, so it works on a machine without
internet access and tells no third party that it was opened.

The page may be prefilled: `credgate demo` gives it one role's demo token as the
`Authorization` header and the README's first query. GraphiQL keeps its state
in the page's memory, never in localStorage (`boot.js`), and writes the query
into the address, so a reload shows the query being edited.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["GraphiQLPage", "with_graphiql"]

ASSETS = Path(__file__).parent / "static" / "graphiql"
_MEDIA_TYPES = {
    "graphiql.min.js": "text/javascript",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "boot.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "LICENSE.graphiql": "text/plain",
    "LICENSE.react": "text/plain",
    "LICENSE.react-dom": "text/plain",
}
# In loading order: GraphiQL's build expects React and ReactDOM as globals.
_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "boot.js")
# Nothing but this origin; CodeMirror sets inline styles, the fonts are data: URLs.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_EMPTY_QUERY = (
    "# Set the header  Authorization: Bearer TOKEN  (Headers, below), then ask:\n"
    "{ sources { source ok error } }\n"
)


@dataclass(frozen=True)
class GraphiQLPage:
    """What the page opens with: a query and, in the demo, an Authorization header."""

    query: str = _EMPTY_QUERY
    token: str | None = None

    def settings(self, endpoint: str) -> dict[str, str | None]:
        headers = None
        if self.token:
            headers = json.dumps({"Authorization": f"Bearer {self.token}"}, indent=2)
        return {"url": endpoint, "query": self.query, "headers": headers}


def _assets_digest() -> str:
    """Part of the assets' path: a new build gets a new path, so caching them is safe."""
    digest = hashlib.sha256()
    for name in sorted(_MEDIA_TYPES):
        digest.update((ASSETS / name).read_bytes())
    return digest.hexdigest()[:12]


def _render(page: GraphiQLPage, endpoint: str, base: str) -> str:
    # JSON inside <script>: "<" escaped so no value can close the element.
    settings = json.dumps(page.settings(endpoint)).replace("<", "\\u003c")
    scripts = "\n".join(f'<script src="{html.escape(base)}/{name}"></script>' for name in _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>credgate · GraphiQL</title>
<link rel="stylesheet" href="{html.escape(base)}/graphiql.min.css">
</head>
<body style="margin: 0">
<div id="graphiql" style="height: 100vh">Loading…</div>
<script id="graphiql-settings" type="application/json">{settings}</script>
{scripts}
</body>
</html>
"""


def _wants_page(scope: Scope) -> bool:
    """A browser opening the address: GET (or HEAD) that accepts HTML."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    return "text/html" in Headers(scope=scope).get("accept", "")


class _PageInFront:
    """The page for a browser opening the address; the endpoint for everything else.

    A class, not a function: Starlette's routes call a plain function as a
    request handler, an object as an ASGI app.
    """

    def __init__(self, app: ASGIApp, page: Response) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _wants_page(scope):
            await self.page(scope, receive, send)
            return
        await self.app(scope, receive, send)


def with_graphiql(
    app: ASGIApp, page: GraphiQLPage, endpoint: str = "/graphql"
) -> tuple[ASGIApp, list[Route]]:
    """`app` (the GraphQL endpoint) with the page in front of it for browsers, and
    the routes of the page's scripts and stylesheet (and their licences)."""
    digest = _assets_digest()
    body = _render(page, endpoint, f"/graphiql/{digest}")
    page_answer = HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": _POLICY,
            "Cache-Control": "no-store",  # it may carry a demo token
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if request.path_params["digest"] != digest or name not in _MEDIA_TYPES:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(
            ASSETS / name,
            media_type=_MEDIA_TYPES[name],
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return _PageInFront(app, page_answer), [
        Route("/graphiql/{digest}/{name}", asset, methods=["GET"])
    ]
