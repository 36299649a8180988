"""Reading the court's items into records, believing nothing unchecked.

An item becomes an `EnforcementEntry` or a `ConsumptionRestriction` only when
every field it carries has the type UPSTREAMS.md gives it: dates are
`YYYY-MM-DD`, money is a decimal string (a JSON number is refused: it may
already have lost cents), codes come from their documented sets, and the
`idCode` passes its check digit (a resident ID number for PERSON parties, a
credit code for ORG ones; either for a restriction). Keys the document does not
name are ignored. Anything else is a `SourceProtocolError` whose message names
the field, never its value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .errors import SourceProtocolError
from .identifiers import is_valid_credit_code, is_valid_id_number
from .records import ConsumptionRestriction, EnforcementEntry, SubjectType

__all__ = ["ENTRIES", "RESTRICTIONS", "ItemKind", "parse_entry", "parse_restriction"]

T = TypeVar("T")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What Decimal would also take but the court never sends: "1E+5", " 12", "NaN".
_MONEY = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class ItemKind(Generic[T]):
    """One kind of paged item: how to read it, and what identifies it."""

    noun: str
    parse: Callable[[str, object], T]
    item_id: Callable[[T], str]
    id_code: Callable[[T], str]


class _Fields:
    """Typed reads of one item's fields; a wrong type is a `SourceProtocolError`."""

    def __init__(self, platform: str, noun: str, raw: object) -> None:
        if not isinstance(raw, dict):
            raise SourceProtocolError(platform, f"{noun} item is not a JSON object")
        self._platform = platform
        self._noun = noun
        self._raw: dict[str, Any] = raw

    def bad(self, key: str, expected: str) -> SourceProtocolError:
        return SourceProtocolError(self._platform, f"{self._noun} field {key} is not {expected}")

    def text(self, key: str) -> str | None:
        value = self._raw.get(key)
        if value is not None and not isinstance(value, str):
            raise self.bad(key, "a string")
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.bad(key, "a non-empty string")
        return value

    def choice(self, key: str, allowed: Collection[str]) -> str | None:
        value = self.text(key)
        if value is not None and value not in allowed:
            raise self.bad(key, " or ".join(sorted(allowed)))
        return value

    def required_choice(self, key: str, allowed: Collection[str]) -> str:
        value = self.choice(key, allowed)
        if value is None:
            raise self.bad(key, " or ".join(sorted(allowed)))
        return value

    def date(self, key: str) -> dt.date | None:
        value = self.text(key)
        if value is None:
            return None
        # fromisoformat alone would also take "20240101" and "2024-W01-1".
        if not _DATE.fullmatch(value):
            raise self.bad(key, "a YYYY-MM-DD date")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.bad(key, "a real date") from None

    def money(self, key: str) -> Decimal | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _MONEY.fullmatch(value):
            raise self.bad(key, "a decimal string")
        return Decimal(value)

    def small_code(self, key: str, low: int, high: int) -> int | None:
        value = self._raw.get(key)
        if value is None:
            return None
        # bool is an int to Python, not to JSON.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.bad(key, f"an integer {low}-{high}")
        return value

    def id_code(self, valid: Callable[[str], bool]) -> str:
        value = self.required_text("idCode")
        if not valid(value):
            raise SourceProtocolError(
                self._platform, f"{self._noun} idCode fails its format or check digit"
            )
        return value


def parse_entry(platform: str, raw: object) -> EnforcementEntry:
    """An ENTRY of the dishonest-debtor list (失信被执行人名单)."""
    fields = _Fields(platform, "entry", raw)
    party_type = SubjectType(fields.required_choice("partyType", ("PERSON", "ORG")))
    valid = is_valid_id_number if party_type is SubjectType.PERSON else is_valid_credit_code
    return EnforcementEntry(
        entry_id=fields.required_text("entryId"),
        case_code=fields.text("caseCode"),
        court=fields.text("court"),
        province=fields.text("province"),
        party_type=party_type,
        party_name=fields.text("partyName"),
        id_code=fields.id_code(valid),
        legal_rep_name=fields.text("legalRepName"),
        basis_doc_no=fields.text("basisDocNo"),
        basis_issuer=fields.text("basisIssuer"),
        obligation=fields.text("obligation"),
        performance=fields.choice("performance", ("NONE", "PARTIAL")),
        unperformed_amount=fields.money("unperformedAmount"),
        behaviour=fields.small_code("behaviour", 1, 6),
        filing_date=fields.date("filingDate"),
        publish_date=fields.date("publishDate"),
        listing_end=fields.date("listingEnd"),
        status=fields.required_choice("status", ("LISTED", "REMOVED")),
        removed_date=fields.date("removedDate"),
        removal_reason=fields.text("removalReason"),
    )


def parse_restriction(platform: str, raw: object) -> ConsumptionRestriction:
    """A consumption restriction order (限制消费令)."""
    fields = _Fields(platform, "restriction", raw)
    return ConsumptionRestriction(
        order_id=fields.required_text("orderId"),
        case_code=fields.text("caseCode"),
        court=fields.text("court"),
        id_code=fields.id_code(lambda code: is_valid_id_number(code) or is_valid_credit_code(code)),
        party_name=fields.text("partyName"),
        issued_date=fields.date("issuedDate"),
        status=fields.required_choice("status", ("ACTIVE", "LIFTED")),
    )


ENTRIES: ItemKind[EnforcementEntry] = ItemKind(
    "entry", parse_entry, lambda entry: entry.entry_id, lambda entry: entry.id_code
)
RESTRICTIONS: ItemKind[ConsumptionRestriction] = ItemKind(
    "restriction", parse_restriction, lambda order: order.order_id, lambda order: order.id_code
)
