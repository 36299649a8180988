"""What the HTTP connectors share below their protocols: bounded bodies, Retry-After.

An upstream answer is read in chunks and refused as soon as it passes its
limit (a declared Content-Length over the limit is refused before reading), so
a lying or hostile platform cannot make the gateway hold an unbounded body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math

import httpx

from .errors import SourceProtocolError

__all__ = ["read_bounded", "retry_after_s"]


async def read_bounded(
    platform: str, response: httpx.Response, limit: int, *, raw: bool = False
) -> bytes:
    """The body of `response`, at most `limit` bytes, else `SourceProtocolError`.

    `raw` reads the bytes as sent (no content decoding), for callers that refuse
    compressed answers themselves.
    """
    too_large = SourceProtocolError(platform, f"answer over {limit} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for part in response.aiter_raw() if raw else response.aiter_bytes():
        body += part
        if len(body) > limit:
            raise too_large
    return bytes(body)


def retry_after_s(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date at
    unix time `now`); None when absent or unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322)
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - now
    return max(seconds, 0.0) if math.isfinite(seconds) else None
