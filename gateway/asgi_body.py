"""Reading a request's body in front of an ASGI app that will read it again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive, Scope

__all__ = ["read_body"]


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
