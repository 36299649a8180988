"""A request's body read in front of an ASGI app that will read it again, and what it asks."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope

__all__ = ["graphql_request", "read_body"]


async def read_body(scope: Scope, receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (within the app's body limit), and a `receive` that hands it
    to the next app once more."""
    body = await Request(scope, receive).body()
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def graphql_request(body: bytes) -> dict[str, Any] | None:
    """The JSON object a POSTed GraphQL request is, or None (not JSON, or a batch)."""
    try:
        asked = json.loads(body)
    except ValueError:
        return None
    return asked if isinstance(asked, dict) else None
