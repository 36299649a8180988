"""The credit platform connector: subjects' credit records, in signed batch queries.

    CreditConnector.subjects(keys) -> SourceResult[SubjectKey, CreditSubject]
    CreditConnector.file_objection(record_id, subject_code, reason, filed_by, idempotency_key)
        -> (objection_id, status)
    CreditConnector.objection(objection_id) -> ObjectionDecision
    CreditConnector.usage_feedback(fields, idempotency_key) -> feedback_id

One `POST /api/v2/subjects:batchQuery` per 100 subjects (PERSON and ORG keys may
share a batch), always with `includeInactive: true`: the gateway judges record
visibility itself on the as-of date (DOMAIN.md), so it needs REPAIRED, REVOKED
and expired records too. Every attempt is signed afresh (`credit_signing`);
answers are checked before they are believed (`credit_parse`). An objection
(`POST /api/v2/objections`) is one signed request with the same retries: the
platform answers a repeat of the very same pending filing with that filing.
Usage feedback (`POST /api/v2/usage-feedback`) carries an `Idempotency-Key`, and
so does an objection when the caller gives one (an extra header the platform
may ignore): a repeat is answered as the first. An objection's decision is read
with `GET /api/v2/objections/{id}`.

Upstream failures are translated here, once, into `connectors.errors`:

    401 (E4010 E4011 E4012), 403          SourceAuthError      not retried
    429 E4290                             SourceRateLimited    retried after Retry-After
    503 E5030, any 5xx, connect errors    SourceUnavailable    retried
    an attempt's read/write timeout       SourceTimeout        not retried
    400 E4000                             SourceRefused        not retried
    413 E4130, any other answer that is
    not HTTP 200, an untrustworthy answer SourceProtocolError  not retried
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

import httpx

from .base import Platform, SourceResult
from .credit_parse import (
    ObjectionDecision,
    error_code,
    parse_batch_answer,
    parse_feedback_answer,
    parse_objection_answer,
    parse_objection_decision,
    success_data,
)
from .credit_signing import signed_headers
from .errors import (
    SourceAuthError,
    SourceError,
    SourceProtocolError,
    SourceRateLimited,
    SourceRefused,
    SourceTimeout,
    SourceUnavailable,
)
from .http_body import read_bounded, retry_after_s
from .records import CreditSubject, SubjectKey
from .settings import CreditSettings

__all__ = [
    "BATCH_QUERY_PATH",
    "MAX_ANSWER_BYTES",
    "OBJECTIONS_PATH",
    "USAGE_FEEDBACK_PATH",
    "CreditConnector",
    "ObjectionDecision",
]

BATCH_QUERY_PATH = "/api/v2/subjects:batchQuery"
OBJECTIONS_PATH = "/api/v2/objections"
USAGE_FEEDBACK_PATH = "/api/v2/usage-feedback"
# 100 subjects with thousands of records each stay well below this; an answer
# above it is refused rather than held in memory.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class CreditConnector:
    """Client of the provincial public credit information platform (UPSTREAMS.md §1)."""

    batch_limit = 100

    def __init__(
        self,
        settings: CreditSettings,
        client: httpx.AsyncClient,
        *,
        platform: Platform | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`client` is shared and owned by the caller; `clock` (unix seconds) stamps
        each request's X-Timestamp; `platform` carries breaker, retry policy and
        single-flight, shared by every connector instance of this platform."""
        self.settings = settings
        self.platform = platform or Platform("credit", settings, self.batch_limit)
        self._client = client
        self._clock = clock
        # Built once, so a bad configured URL fails at start, not on the first query.
        self._batch_query_url = httpx.URL(settings.url.rstrip("/") + BATCH_QUERY_PATH)
        self._objections_url = httpx.URL(settings.url.rstrip("/") + OBJECTIONS_PATH)
        self._feedback_url = httpx.URL(settings.url.rstrip("/") + USAGE_FEEDBACK_PATH)

    async def subjects(self, keys: Iterable[SubjectKey]) -> SourceResult[SubjectKey, CreditSubject]:
        """A `CreditSubject` for every key (name None and no records when unknown).

        Keys must be canonical, valid identifiers (the gateway validates them
        first): the platform refuses a whole batch holding an invalid one.
        """
        return await self.platform.batched("subjects", keys, self._fetch_subjects)

    async def file_objection(
        self,
        record_id: str,
        subject_code: str,
        reason: str,
        filed_by: str,
        idempotency_key: str | None = None,
    ) -> tuple[str, str]:
        """File an objection (异议) against one record: its id and status.

        `SourceRefused` when the platform will not take it (an unknown record, one
        not the subject's, a revoked one, one already under another objection).
        """
        extra = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        body = json.dumps(
            {
                "record_id": record_id,
                "subject_code": subject_code,
                "reason": reason,
                "filed_by": filed_by,
            }
        ).encode()

        async def attempt(timeout_s: float) -> tuple[str, str]:
            payload = await self._send("POST", self._objections_url, body, timeout_s, extra)
            return parse_objection_answer(
                self.platform.name, success_data(self.platform.name, payload)
            )

        return await self.platform.call(attempt)

    async def objection(self, objection_id: str) -> ObjectionDecision:
        """Where an objection stands; `SourceRefused` for an id the platform does not know."""
        url = self._objections_url.copy_with(
            raw_path=f"{OBJECTIONS_PATH}/{quote(objection_id, safe='')}".encode()
        )

        async def attempt(timeout_s: float) -> ObjectionDecision:
            payload = await self._send("GET", url, b"", timeout_s)
            return parse_objection_decision(
                self.platform.name, success_data(self.platform.name, payload)
            )

        return await self.platform.call(attempt)

    async def usage_feedback(self, fields: Mapping[str, object], idempotency_key: str) -> str:
        """Send one usage feedback (反馈应用情况); the platform's feedback id.

        A repeat with the same key is answered as the first, so retries are safe.
        """
        body = json.dumps(fields, ensure_ascii=False).encode()
        headers = {"Idempotency-Key": idempotency_key}

        async def attempt(timeout_s: float) -> str:
            payload = await self._send("POST", self._feedback_url, body, timeout_s, headers)
            return parse_feedback_answer(
                self.platform.name, success_data(self.platform.name, payload)
            )

        return await self.platform.call(attempt)

    async def _fetch_subjects(
        self, chunk: Sequence[SubjectKey], timeout_s: float
    ) -> tuple[Mapping[SubjectKey, CreditSubject], dt.datetime]:
        subjects = [{"type": key.type.value, "code": key.code} for key in chunk]
        body = json.dumps({"subjects": subjects, "includeInactive": True}).encode()
        payload = await self._send("POST", self._batch_query_url, body, timeout_s)
        data = success_data(self.platform.name, payload)
        return parse_batch_answer(self.platform.name, chunk, data)

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        body: bytes,
        timeout_s: float,
        extra_headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """One signed attempt; the body of an HTTP 200 answer, else a SourceError."""
        name = self.platform.name
        headers = {
            **(extra_headers or {}),
            **({"Content-Type": "application/json"} if body else {}),
            **signed_headers(
                app_key=self.settings.app_key,
                app_secret=self.settings.app_secret.get_secret_value(),
                method=method,
                url=url,
                body=body,
                clock=self._clock,
            ),
        }
        try:
            # httpx bounds each read; the attempt as a whole is bounded here.
            async with asyncio.timeout(timeout_s):
                request = self._client.stream(
                    method, url, content=body, headers=headers, timeout=timeout_s
                )
                async with request as response:
                    payload = await read_bounded(name, response, MAX_ANSWER_BYTES)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SourceUnavailable(name, f"could not connect ({type(exc).__name__})") from None
        except (TimeoutError, httpx.TimeoutException):
            raise SourceTimeout(name, f"no answer within {timeout_s:g} s") from None
        except httpx.TransportError as exc:
            raise SourceUnavailable(name, f"connection failed ({type(exc).__name__})") from None
        if response.status_code != httpx.codes.OK:
            raise self._refusal(response, payload)
        return payload

    def _refusal(self, response: httpx.Response, payload: bytes) -> SourceError:
        """The error for an answer other than HTTP 200, by status first, then code."""
        name, status = self.platform.name, response.status_code
        label = error_code(payload) or f"HTTP {status}"
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            return SourceAuthError(name, f"credentials refused ({label})")
        if status == httpx.codes.TOO_MANY_REQUESTS:
            wait = retry_after_s(response.headers.get("retry-after"), self._clock())
            return SourceRateLimited(name, f"rate limited ({label})", wait)
        if status >= httpx.codes.INTERNAL_SERVER_ERROR:
            return SourceUnavailable(name, f"unavailable ({label})")
        if status == httpx.codes.BAD_REQUEST and label == "E4000":
            return SourceRefused(name, f"request refused ({label})")
        return SourceProtocolError(name, f"request refused ({label})")
