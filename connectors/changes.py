"""The platforms' change feeds, read page by page into the cache tags they touch.

    CreditChanges       GET /api/v2/changes?since=&limit=   signed (`credit_signing`)
    CourtChanges        GET /v1/changes?cursor=&limit=      Bearer token (`court_oauth`)
    ProcurementChanges  SOAP GetChanges(Since)              WS-Security (`soap`)
    ArchiveChanges      SELECT … FROM cs_change_log         the exchange database

`read(cursor)` returns one `ChangePage`: the tags to evict, the cursor to ask
with next, and how many changes the page held. No cursor reads from the start;
cursors are opaque; only an EMPTY page means up to date (UPSTREAMS.md, "Change
feeds"). Failures are the connectors' `SourceError`s, translated once, here.

What a change evicts (`cache_rules.Tag`): the changed subject's entries on
that platform. A procurement change also evicts every cached representatives
answer (a supplier's new legal representative or shareholder is not named by
the change); an archive change names a person only by the archive's own
person_id, which is mapped to the ID number with one more statement, and a
`cs_person` change also evicts every cached unit membership.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from . import procurement_answers as answers
from .archive_db import DRIVER_ERRORS, ArchiveDatabase, Row, translate_error
from .cache_rules import Tag
from .court import CourtConnector
from .court_http import Answer, json_body, refusal
from .credit_parse import success_data
from .credit_signing import signed_headers
from .errors import (
    SourceAuthError,
    SourceProtocolError,
    SourceTimeout,
    SourceUnavailable,
)
from .settings import CreditSettings, ProcurementSettings
from .soap import SoapEndpoint, call

__all__ = [
    "ArchiveChanges",
    "ChangeFeed",
    "ChangePage",
    "CourtChanges",
    "CreditChanges",
    "ProcurementChanges",
]

MAX_PAGE_BYTES = 4 * 1024 * 1024  # a page of 1,000 changes is about 150 KB
_ARCHIVE_IN_LIST = 500


@dataclass(frozen=True)
class ChangePage:
    tags: frozenset[Tag]
    cursor: str | None  # to ask with next (unchanged for an empty page)
    size: int


class ChangeFeed(Protocol):
    platform: str

    async def read(self, cursor: str | None) -> ChangePage: ...


class CreditChanges:
    """The credit platform's record changes (UPSTREAMS.md §1)."""

    platform = "credit"

    def __init__(
        self,
        settings: CreditSettings,
        client: httpx.AsyncClient,
        *,
        limit: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._client = client
        self._url = settings.url.rstrip("/") + "/api/v2/changes"
        self._limit = limit
        self._clock = clock

    async def read(self, cursor: str | None) -> ChangePage:
        params = {"limit": str(self._limit), **({"since": cursor} if cursor else {})}
        url = httpx.URL(self._url, params=params)
        headers = signed_headers(
            app_key=self._settings.app_key,
            app_secret=self._settings.app_secret.get_secret_value(),
            method="GET",
            url=url,
            body=b"",
            clock=self._clock,
        )
        answer = await _get(self.platform, self._client, url, headers, self._settings.timeout_s)
        if answer.status in (401, 403):
            raise SourceAuthError(self.platform, f"credentials refused (HTTP {answer.status})")
        if answer.status != 200:
            raise refusal(self.platform, answer)
        data = _object(self.platform, success_data(self.platform, answer.body))
        changes = _list(self.platform, data.get("changes"))
        codes = [
            _text(self.platform, _object(self.platform, c).get("subject_code")) for c in changes
        ]
        tags = frozenset(Tag.subject(self.platform, code) for code in codes)
        return ChangePage(tags, _text(self.platform, data.get("next")), len(changes))


class CourtChanges:
    """The court's dishonest-debtor list changes (UPSTREAMS.md §3), with the
    connector's own client credentials and token."""

    platform = "court"

    def __init__(self, connector: CourtConnector, client: httpx.AsyncClient, *, limit: int = 1000):
        self._connector = connector
        self._client = client
        self._url = connector.settings.url.rstrip("/") + "/v1/changes"
        self._limit = limit

    async def read(self, cursor: str | None) -> ChangePage:
        params = {"limit": str(self._limit), **({"cursor": cursor} if cursor else {})}
        url = httpx.URL(self._url, params=params)
        tokens, timeout_s = self._connector.tokens, self._connector.settings.timeout_s
        token = await tokens.bearer(timeout_s)
        answer = await _get(self.platform, self._client, url, _bearer(token), timeout_s)
        if answer.status == 401:
            token = await tokens.renew(token, timeout_s)
            answer = await _get(self.platform, self._client, url, _bearer(token), timeout_s)
            if answer.status == 401:
                raise SourceAuthError(self.platform, "a freshly issued token was refused")
        if answer.status != 200:
            raise refusal(self.platform, answer)
        body = _object(self.platform, json_body(self.platform, answer))
        items = _list(self.platform, body.get("items"))
        codes = [_text(self.platform, _object(self.platform, i).get("idCode")) for i in items]
        tags = frozenset(Tag.subject(self.platform, code) for code in codes)
        return ChangePage(tags, _text(self.platform, body.get("cursor")), len(items))


class ProcurementChanges:
    """The procurement system's supplier changes (UPSTREAMS.md §2, GetChanges)."""

    platform = answers.PLATFORM

    def __init__(self, settings: ProcurementSettings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client
        self._endpoint = SoapEndpoint(
            platform=self.platform,
            url=settings.url,
            namespace=answers.NAMESPACE,
            username=settings.username,
            password=settings.password,
        )

    async def read(self, cursor: str | None) -> ChangePage:
        arguments = [("Since", cursor)] if cursor else []
        response = await call(
            self._client, self._endpoint, "GetChanges", arguments, self._settings.timeout_s
        )
        ns = f"{{{answers.NAMESPACE}}}"
        changes = response.findall(f"{ns}Change")
        codes = [_text(self.platform, change.findtext(f"{ns}CreditCode")) for change in changes]
        tags = {Tag.subject(self.platform, code) for code in codes}
        if codes:
            tags.add(Tag.operation(self.platform, "representatives"))
        next_cursor = _text(self.platform, response.findtext(f"{ns}Next"))
        return ChangePage(frozenset(tags), next_cursor, len(changes))


class ArchiveChanges:
    """The archive's `cs_change_log` (UPSTREAMS.md §4); the cursor is the last `seq` read."""

    platform = "archive"

    def __init__(
        self, database: ArchiveDatabase, *, timeout_s: float = 2.0, limit: int = 1000
    ) -> None:
        self._database = database
        self._timeout_s = timeout_s
        self._limit = limit
        self.statements = 0

    async def read(self, cursor: str | None) -> ChangePage:
        if cursor is not None and not (cursor.isascii() and cursor.isdigit()):
            raise SourceProtocolError(self.platform, "the change cursor is not a sequence number")
        mark = self._database.placeholder
        try:
            async with asyncio.timeout(self._timeout_s):
                rows = await self._query(
                    "SELECT seq, table_name, person_id FROM cs_change_log"  # noqa: S608
                    f" WHERE seq > {mark} ORDER BY seq LIMIT {int(self._limit)}",
                    [int(cursor or 0)],
                )
                person_ids = sorted({_text(self.platform, row["person_id"]) for row in rows})
                id_numbers = await self._id_numbers(person_ids)
        except (TimeoutError, *DRIVER_ERRORS) as error:
            raise translate_error(self.platform, error) from None
        tags = {Tag.archive_person(person_id) for person_id in person_ids}
        tags |= {Tag.subject(self.platform, number) for number in id_numbers}
        if any(row["table_name"] == "cs_person" for row in rows):
            tags.add(Tag.operation(self.platform, "unit_members"))
        last = max((int(str(row["seq"])) for row in rows), default=None)
        return ChangePage(frozenset(tags), cursor if last is None else str(last), len(rows))

    async def _id_numbers(self, person_ids: Sequence[str]) -> list[str]:
        """The ID numbers of the persons still in `cs_person` (a deleted one has none;
        its file is evicted by its person_id tag)."""
        found: list[str] = []
        for start in range(0, len(person_ids), _ARCHIVE_IN_LIST):
            chunk = person_ids[start : start + _ARCHIVE_IN_LIST]
            marks = ", ".join([self._database.placeholder] * len(chunk))
            rows = await self._query(
                f"SELECT id_number FROM cs_person WHERE person_id IN ({marks})",  # noqa: S608
                chunk,
            )
            found += [_text(self.platform, row["id_number"]) for row in rows]
        return found

    async def _query(self, sql: str, params: Sequence[object]) -> list[Row]:
        self.statements += 1
        return await self._database.query(sql, params, self._timeout_s)


async def _get(
    platform: str,
    client: httpx.AsyncClient,
    url: httpx.URL,
    headers: Mapping[str, str],
    timeout_s: float,
) -> Answer:
    """One GET, its body read up to MAX_PAGE_BYTES; transport failures translated."""
    too_large = SourceProtocolError(platform, f"a change page over {MAX_PAGE_BYTES} bytes")
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream(
                "GET", url, headers=dict(headers), timeout=timeout_s
            ) as response:
                body = bytearray()
                async for part in response.aiter_bytes():
                    body += part
                    if len(body) > MAX_PAGE_BYTES:
                        raise too_large
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise SourceUnavailable(platform, f"could not connect ({type(exc).__name__})") from None
    except (TimeoutError, httpx.TimeoutException):
        raise SourceTimeout(platform, f"no answer within {timeout_s:g} s") from None
    except httpx.TransportError as exc:
        raise SourceUnavailable(platform, f"connection failed ({type(exc).__name__})") from None
    return Answer(response.status_code, response.headers, bytes(body))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _object(platform: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceProtocolError(platform, "a change page is not a JSON object")
    return value


def _list(platform: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise SourceProtocolError(platform, "a change page holds no list of changes")
    return value


def _text(platform: str, value: object) -> str:
    """An identifier or cursor: non-empty text of a sane length."""
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        raise SourceProtocolError(platform, "a change names no subject or cursor")
    return value
