"""One HTTP exchange with the court interface, translated into `connectors.errors`.

Both the token endpoint and the query endpoints go through `exchange`, so a
transport failure means the same thing wherever it happens:

    connect error, connect timeout        SourceUnavailable    retried
    read / write / pool timeout           SourceTimeout        not retried
    connection dropped mid-answer         SourceUnavailable    retried
    an answer larger than MAX_ANSWER_BYTES,
    or any other client-side failure      SourceProtocolError  not retried

and `refusal` says what an answer other than HTTP 200 means:

    429                                   SourceRateLimited    retried after Retry-After
    5xx (503 temporarily_unavailable)     SourceUnavailable    retried
    anything else                         SourceProtocolError  not retried

401 is the caller's business: it means "new token" on a query and "wrong
credentials" at the token endpoint.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import (
    SourceError,
    SourceProtocolError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from .http_body import read_bounded, retry_after_s

__all__ = ["MAX_ANSWER_BYTES", "Answer", "exchange", "json_body", "oauth_error", "refusal"]

# A page holds at most a few hundred entries of about a kilobyte; an answer far
# above that is refused rather than held in memory.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# RFC 6749 error codes are short ASCII words; anything else is not repeated.
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
_SECONDS = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True)
class Answer:
    """What the court answered: status, headers and the whole (bounded) body."""

    status: int
    headers: httpx.Headers
    body: bytes


async def exchange(
    platform: str,
    client: httpx.AsyncClient,
    url: str,
    *,
    timeout_s: float,
    headers: Mapping[str, str],
    json_body: object = None,
    form: Mapping[str, str] | None = None,
) -> Answer:
    """POST `json_body` or `form` to `url`; the answer, or a `SourceError`."""
    request = client.build_request(
        "POST", url, headers=dict(headers), json=json_body, data=form, timeout=timeout_s
    )
    try:
        response = await client.send(request, stream=True)
        try:
            body = await read_bounded(platform, response, MAX_ANSWER_BYTES)
        finally:
            await response.aclose()
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise SourceUnavailable(platform, f"could not connect ({type(exc).__name__})") from None
    except httpx.TimeoutException:
        raise SourceTimeout(platform, f"no answer within {timeout_s:g} s") from None
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise SourceUnavailable(platform, f"connection failed ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise SourceProtocolError(platform, f"request failed ({type(exc).__name__})") from None
    return Answer(response.status_code, response.headers, body)


def json_body(platform: str, answer: Answer) -> Any:
    """The answer's JSON value; NaN, Infinity and bad UTF-8 are malformed too."""
    try:
        return json.loads(answer.body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise SourceProtocolError(platform, "the answer is not valid JSON") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def oauth_error(answer: Answer) -> str | None:
    """The RFC 6749 `error` code of an error answer, when it has a plausible one."""
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def refusal(platform: str, answer: Answer) -> SourceError:
    """The error an answer other than HTTP 200 (and other than 401) stands for."""
    code = oauth_error(answer)
    label = f"HTTP {answer.status} {code}" if code else f"HTTP {answer.status}"
    if answer.status == httpx.codes.TOO_MANY_REQUESTS:
        wait = retry_after_s(answer.headers.get("retry-after"), time.time())
        return SourceRateLimited(platform, f"rate limited ({label})", wait)
    if answer.status >= httpx.codes.INTERNAL_SERVER_ERROR:
        return SourceUnavailable(platform, f"unavailable ({label})")
    return SourceProtocolError(platform, f"request refused ({label})")
