"""The court enforcement connector: dishonest-debtor entries and consumption restrictions.

    CourtConnector.entries(id_codes)      -> SourceResult[str, tuple[EnforcementEntry, ...]]
    CourtConnector.restrictions(id_codes) -> SourceResult[str, tuple[ConsumptionRestriction, ...]]

One query per 200 parties, its pages followed until `total` items are read, in
the page size the court reports (it may cap the size asked for). Every asked
idCode gets a value, an empty tuple when the court holds nothing; REMOVED
entries and LIFTED restrictions are kept, since judging them on an as-of date
is the caller's business. Calls carry a Bearer token from `court_oauth`; a 401
gets one fresh token and one more try.

Upstream failures are translated once, here and in `court_http`:

    401 on a query, again with a fresh token  SourceAuthError      not retried
    token endpoint 401 invalid_client         SourceAuthError      not retried
    429                                       SourceRateLimited    retried after Retry-After
    503, any 5xx, connect errors              SourceUnavailable    retried
    an attempt past its time                  SourceTimeout        not retried
    any other 4xx, an untrustworthy answer    SourceProtocolError  not retried

An answer is untrustworthy when it is not JSON of the documented shape, pages
disagree with each other or with `total` (too few or too many items, a page
number or size other than asked), an item repeats an entryId / orderId, names
a party not asked about, or carries an idCode failing its check digit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

import httpx

from .base import Platform, SourceResult, now_shanghai
from .court_http import Answer, exchange, json_body, refusal
from .court_items import ENTRIES, RESTRICTIONS, ItemKind
from .court_oauth import ClientCredentialsTokens
from .errors import SourceAuthError, SourceProtocolError, SourceTimeout
from .records import ConsumptionRestriction, EnforcementEntry
from .settings import CourtSettings

__all__ = ["DEBTORS_PATH", "GRANT_PATH", "RESTRICTIONS_PATH", "CourtConnector"]

GRANT_PATH = "/oauth/token"
DEBTORS_PATH = "/v1/dishonest-debtors/query"
RESTRICTIONS_PATH = "/v1/consumption-restrictions/query"

T = TypeVar("T")


@dataclass(frozen=True)
class _Page:
    total: int
    page_no: int
    page_size: int
    items: list[Any]


class CourtConnector:
    """Client of the court enforcement information interface (UPSTREAMS.md §3)."""

    batch_limit = 200
    page_size = 100  # asked for; the court may answer with smaller pages

    def __init__(
        self,
        settings: CourtSettings,
        client: httpx.AsyncClient,
        *,
        platform: Platform | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`client` is shared and owned by the caller; `clock` (monotonic seconds)
        judges token expiry; `platform` carries breaker, retry policy and
        single-flight, shared by every connector instance of this platform."""
        self.settings = settings
        self.platform = platform or Platform("court", settings, self.batch_limit)
        self._client = client
        base = settings.url.rstrip("/")
        # Built once, so a bad configured URL fails at start, not on the first query.
        self._debtors_url = str(httpx.URL(base + DEBTORS_PATH))
        self._restrictions_url = str(httpx.URL(base + RESTRICTIONS_PATH))
        self.tokens = ClientCredentialsTokens(
            self.platform.name,
            client,
            str(httpx.URL(base + GRANT_PATH)),
            settings.client_id,
            settings.client_secret,
            clock=clock,
        )
        """The client's Bearer token, shared by both operations."""

    async def entries(
        self, id_codes: Iterable[str]
    ) -> SourceResult[str, tuple[EnforcementEntry, ...]]:
        """Every dishonest-debtor entry (LISTED and REMOVED) of each party.

        idCodes must be canonical, valid identifiers (the gateway validates them
        first): the court refuses a whole query holding an invalid one.
        """

        async def fetch(
            chunk: Sequence[str], timeout_s: float
        ) -> tuple[Mapping[str, tuple[EnforcementEntry, ...]], dt.datetime]:
            return await self._query(self._debtors_url, ENTRIES, chunk, timeout_s)

        return await self.platform.batched("entries", id_codes, fetch)

    async def restrictions(
        self, id_codes: Iterable[str]
    ) -> SourceResult[str, tuple[ConsumptionRestriction, ...]]:
        """Every consumption restriction order (ACTIVE and LIFTED) of each party."""

        async def fetch(
            chunk: Sequence[str], timeout_s: float
        ) -> tuple[Mapping[str, tuple[ConsumptionRestriction, ...]], dt.datetime]:
            return await self._query(self._restrictions_url, RESTRICTIONS, chunk, timeout_s)

        return await self.platform.batched("restrictions", id_codes, fetch)

    async def _query(
        self, url: str, kind: ItemKind[T], chunk: Sequence[str], timeout_s: float
    ) -> tuple[dict[str, tuple[T, ...]], dt.datetime]:
        """One attempt: every page of one chunk, all within `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                return await self._pages(url, kind, chunk, timeout_s)
        except TimeoutError:
            raise SourceTimeout(self.platform.name, f"no answer within {timeout_s:g} s") from None

    async def _pages(
        self, url: str, kind: ItemKind[T], chunk: Sequence[str], timeout_s: float
    ) -> tuple[dict[str, tuple[T, ...]], dt.datetime]:
        name = self.platform.name
        found: dict[str, list[T]] = {code: [] for code in chunk}
        seen: set[str] = set()
        # The court states no as-of time: the moment we asked stands for it.
        as_of = now_shanghai()
        first = await self._page(url, chunk, 1, timeout_s)
        page, read = first, 0
        while True:
            expected = min(first.page_size, first.total - read)
            if (page.total, page.page_size) != (first.total, first.page_size):
                raise SourceProtocolError(name, "total or page size changed between pages")
            if len(page.items) != expected:
                raise SourceProtocolError(
                    name, f"page {page.page_no} held {len(page.items)} items, expected {expected}"
                )
            for raw in page.items:
                item = kind.parse(name, raw)
                if kind.id_code(item) not in found:
                    raise SourceProtocolError(name, f"{kind.noun} of a party not asked about")
                if kind.item_id(item) in seen:
                    raise SourceProtocolError(name, f"{kind.noun} id repeated")
                seen.add(kind.item_id(item))
                found[kind.id_code(item)].append(item)
            read += expected
            if read == first.total:
                return {code: tuple(items) for code, items in found.items()}, as_of
            page = await self._page(url, chunk, page.page_no + 1, timeout_s)

    async def _page(self, url: str, chunk: Sequence[str], page_no: int, timeout_s: float) -> _Page:
        body = {
            "parties": [{"idCode": code} for code in chunk],
            "pageNo": page_no,
            "pageSize": self.page_size,
        }
        answer = await self._authorised_post(url, body, timeout_s)
        if answer.status != httpx.codes.OK:
            raise refusal(self.platform.name, answer)
        page = self._read_page(json_body(self.platform.name, answer))
        if page.page_no != page_no:
            raise SourceProtocolError(self.platform.name, "answered another page than asked")
        return page

    async def _authorised_post(self, url: str, body: object, timeout_s: float) -> Answer:
        token = await self.tokens.bearer(timeout_s)
        answer = await self._post(url, body, token, timeout_s)
        if answer.status != httpx.codes.UNAUTHORIZED:
            return answer
        # Expired or revoked before we thought: one fresh token, one more try.
        token = await self.tokens.renew(token, timeout_s)
        answer = await self._post(url, body, token, timeout_s)
        if answer.status == httpx.codes.UNAUTHORIZED:
            raise SourceAuthError(self.platform.name, "a freshly issued token was refused")
        return answer

    async def _post(self, url: str, body: object, token: str, timeout_s: float) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return await exchange(
            self.platform.name,
            self._client,
            url,
            timeout_s=timeout_s,
            headers=headers,
            json_body=body,
        )

    def _read_page(self, body: object) -> _Page:
        name = self.platform.name
        if not isinstance(body, dict):
            raise SourceProtocolError(name, "the answer is not a JSON object")
        total, page_no, page_size, items = (
            body.get(key) for key in ("total", "pageNo", "pageSize", "items")
        )
        if not _whole(total, 0) or not _whole(page_no, 1) or not isinstance(items, list):
            raise SourceProtocolError(name, "the answer lacks total, pageNo or items")
        # The court may cap the size we asked for, never exceed it.
        if not _whole(page_size, 1) or page_size > self.page_size:
            raise SourceProtocolError(name, "the answer has no page size within the one asked")
        return _Page(total, page_no, page_size, items)


def _whole(value: object, minimum: int) -> TypeGuard[int]:
    # bool is an int to Python, not to JSON.
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
