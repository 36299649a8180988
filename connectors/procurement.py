"""The procurement system's connector (SOAP 1.1; UPSTREAMS.md §2).

Four keyed operations over `Platform.batched`, each chunk ONE SOAP request of at
most 50 codes (QueryAwards: one purchaser per request, following NextPage to
the end):

    suppliers(credit_codes)        QuerySupplierStatus             -> SupplierStatus
    representatives(id_numbers)    QuerySuppliersByRepresentative  -> Representative
    purchasers(credit_codes)       QueryPurchaserPerformance       -> PurchaserPerformance
    awards(queries)                QueryAwards                     -> tuple[Award, ...]

The wire (envelopes, faults, safe bounded parsing) is `connectors.soap`; reading
answers into records is `connectors.procurement_answers`. Here the answers are
checked to name exactly the subjects asked for, in order (`check_answer`).

The service's answers carry no timestamp of their own, so a call's `as_of` is
the moment its answer arrived.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from xml.etree.ElementTree import Element

import httpx

from . import procurement_answers as answers
from .base import Platform, SourceResult, check_answer, now_shanghai
from .errors import SourceProtocolError
from .identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number
from .records import Award, PurchaserPerformance, Representative, SupplierStatus
from .settings import ProcurementSettings
from .soap import SoapEndpoint, call

__all__ = ["AwardQuery", "ProcurementConnector"]

T = TypeVar("T")
PLATFORM = answers.PLATFORM


@dataclass(frozen=True)
class AwardQuery:
    """The awards one purchaser made between two dates, both inclusive."""

    purchaser_code: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if normalise_credit_code(self.purchaser_code, "purchaserCode") != self.purchaser_code:
            raise InvalidIdentifier("purchaserCode", "must be in canonical (upper-case) form")
        if self.start > self.end:
            raise ValueError("an award query's start is after its end")


class ProcurementConnector:
    """Supplier status, representatives, purchaser performance and awards, batched.

    Keys must be valid canonical identifiers (the gateway validates input before
    any upstream call); an invalid one raises `InvalidIdentifier` at once rather
    than sinking the 49 valid codes sharing its request.
    """

    batch_limit = 50

    def __init__(
        self,
        settings: ProcurementSettings,
        client: httpx.AsyncClient,
        *,
        platform: Platform | None = None,
    ) -> None:
        self.platform = platform or Platform(PLATFORM, settings, self.batch_limit)
        self._client = client
        self._endpoint = SoapEndpoint(
            platform=PLATFORM,
            url=settings.url,
            namespace=answers.NAMESPACE,
            username=settings.username,
            password=settings.password,
        )

    async def suppliers(self, credit_codes: Iterable[str]) -> SourceResult[str, SupplierStatus]:
        """Registration, legal representative, debarments and violations per supplier."""
        codes = _valid(credit_codes, normalise_credit_code, "creditCode")

        async def fetch(
            chunk: Sequence[str], timeout_s: float
        ) -> tuple[dict[str, SupplierStatus], dt.datetime]:
            response = await self._call("QuerySupplierStatus", "CreditCode", chunk, timeout_s)
            found = answers.suppliers(response)
            return _by_key(chunk, found, [s.credit_code for s in found]), now_shanghai()

        return await self.platform.batched("QuerySupplierStatus", codes, fetch)

    async def representatives(self, id_numbers: Iterable[str]) -> SourceResult[str, Representative]:
        """The suppliers each person represents (legal representative) or holds shares in."""
        numbers = _valid(id_numbers, normalise_id_number, "idNumber")

        async def fetch(
            chunk: Sequence[str], timeout_s: float
        ) -> tuple[dict[str, Representative], dt.datetime]:
            operation = "QuerySuppliersByRepresentative"
            response = await self._call(operation, "IdNumber", chunk, timeout_s)
            found = answers.representatives(response)
            return _by_key(chunk, found, [r.id_number for r in found]), now_shanghai()

        return await self.platform.batched("QuerySuppliersByRepresentative", numbers, fetch)

    async def purchasers(
        self, credit_codes: Iterable[str]
    ) -> SourceResult[str, PurchaserPerformance]:
        """Each government unit's record as a buyer: late payment, delayed acceptance, breach."""
        codes = _valid(credit_codes, normalise_credit_code, "creditCode")

        async def fetch(
            chunk: Sequence[str], timeout_s: float
        ) -> tuple[dict[str, PurchaserPerformance], dt.datetime]:
            operation = "QueryPurchaserPerformance"
            response = await self._call(operation, "CreditCode", chunk, timeout_s)
            found = answers.purchasers(response)
            return _by_key(chunk, found, [p.credit_code for p in found]), now_shanghai()

        return await self.platform.batched("QueryPurchaserPerformance", codes, fetch)

    async def awards(
        self, queries: Iterable[AwardQuery]
    ) -> SourceResult[AwardQuery, tuple[Award, ...]]:
        """Every award of each query, all pages; the queries are asked concurrently."""
        # QueryAwards takes one purchaser, so each query is a batch of its own.
        return await self.platform.batched("QueryAwards", queries, self._all_awards, batch_limit=1)

    async def _all_awards(
        self, chunk: Sequence[AwardQuery], timeout_s: float
    ) -> tuple[dict[AwardQuery, tuple[Award, ...]], dt.datetime]:
        (query,) = chunk
        awards: list[Award] = []
        page = 1
        while True:
            arguments = [
                ("PurchaserCode", query.purchaser_code),
                ("From", query.start.isoformat()),
                ("To", query.end.isoformat()),
                ("Page", str(page)),
            ]
            response = await call(self._client, self._endpoint, "QueryAwards", arguments, timeout_s)
            listed, next_page = answers.awards_page(
                response, query.purchaser_code, query.start, query.end
            )
            awards += listed
            if next_page is None:
                return {query: tuple(awards)}, now_shanghai()
            # Anything but the following page, or an empty page claiming more,
            # would skip or repeat awards, or never end.
            if next_page != page + 1 or not listed:
                raise SourceProtocolError(PLATFORM, "NextPage does not follow the page answered")
            page = next_page

    async def _call(
        self, operation: str, argument: str, codes: Sequence[str], timeout_s: float
    ) -> Element:
        arguments = [(argument, code) for code in codes]
        return await call(self._client, self._endpoint, operation, arguments, timeout_s)


def _valid(keys: Iterable[str], normalise: Callable[[str, str], str], field: str) -> list[str]:
    """`keys` as a list, each required to be a valid identifier in canonical form."""
    listed = list(keys)
    for key in listed:
        if normalise(key, field) != key:
            raise InvalidIdentifier(field, "must be in canonical (upper-case) form")
    return listed


def _by_key(asked: Sequence[str], records: list[T], answered: list[str]) -> dict[str, T]:
    """The records by the key each names, once the answer is checked against the request."""
    check_answer(PLATFORM, asked, answered)
    return dict(zip(answered, records, strict=True))
