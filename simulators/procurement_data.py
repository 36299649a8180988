"""What the procurement stand-in serves: suppliers, purchaser issues, awards, changes.

Loaded from a dataset directory (UPSTREAMS.md, "Dataset directory"):
`procurement/suppliers.jsonl`, `procurement/purchaser_issues.jsonl` and
`procurement/awards.jsonl`, JSON keys the snake_case of the SOAP element names.
Only identifiers are required (`credit_code`; `purchaser_code`); every
identifier present must pass its check digit, dates must be `YYYY-MM-DD`,
amounts decimal strings (a JSON float is refused: money is never a float) and
codes from their lists. A bad line stops the load with a `DatasetError` naming
file and line; a supplier listed twice is refused the same way.

`ProcurementData` is the one mutable piece: `upsert_supplier` replaces a
supplier, keeps the representative index in step and appends a change, so
tests can make the platform "change" while it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from connectors.identifiers import is_valid_credit_code, is_valid_id_number
from simulators.changefeed import ChangeFeed
from simulators.dataset import Row, read_jsonl, row_date

__all__ = [
    "ISSUE_TYPES",
    "REGISTRATION_STATUSES",
    "ROLES",
    "SHANGHAI",
    "Award",
    "Debarment",
    "Link",
    "Person",
    "ProcurementData",
    "PurchaserIssue",
    "Supplier",
    "Violation",
    "load_procurement_dataset",
    "supplier_from_row",
]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
REGISTRATION_STATUSES = ("ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED")
ISSUE_TYPES = ("LATE_PAYMENT", "ACCEPTANCE_DELAY", "BREACH")
ROLES = ("LEGAL_REPRESENTATIVE", "SHAREHOLDER")

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """A legal representative or shareholder; either field may be unknown."""

    name: str | None
    id_number: str | None


@dataclass(frozen=True)
class Debarment:
    """不良行为记录: barred from government procurement between two dates."""

    record_no: str | None
    reason: str | None
    legal_basis: str | None
    authority: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    published_date: dt.date | None


@dataclass(frozen=True)
class Violation:
    """严重违法失信行为记录."""

    record_no: str | None
    circumstance: str | None
    penalty: str | None
    legal_basis: str | None
    penalty_date: dt.date | None
    authority: str | None


@dataclass(frozen=True)
class Supplier:
    """One entry of the supplier registry."""

    credit_code: str
    name: str | None
    registration_status: str
    legal_representative: Person
    debarments: tuple[Debarment, ...]
    violations: tuple[Violation, ...]
    shareholders: tuple[Person, ...]
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class PurchaserIssue:
    """A government unit's failing as a buyer (late payment, delayed acceptance, breach)."""

    purchaser_code: str
    contract_no: str | None
    type: str | None
    amount: Decimal | None
    due_date: dt.date | None
    resolved_date: dt.date | None


@dataclass(frozen=True)
class Award:
    """A contract a purchaser awarded to a supplier."""

    purchaser_code: str
    contract_no: str | None
    supplier_code: str | None
    supplier_name: str | None
    award_date: dt.date | None
    amount: Decimal | None


@dataclass(frozen=True)
class Link:
    """A person's tie to a supplier, as QuerySuppliersByRepresentative answers it."""

    supplier: Supplier
    role: str


class ProcurementData:
    """Everything the stand-in answers from, indexed for its five operations."""

    def __init__(
        self,
        suppliers: Iterable[Supplier],
        issues: Iterable[PurchaserIssue],
        awards: Iterable[Award],
        loaded_at: dt.datetime,
    ) -> None:
        self._suppliers: dict[str, Supplier] = {}
        self._people: dict[str, set[tuple[str, str]]] = {}
        self._issues: dict[str, list[PurchaserIssue]] = {}
        self._awards: dict[str, list[Award]] = {}
        for issue in issues:
            self._issues.setdefault(issue.purchaser_code, []).append(issue)
        for award in awards:
            self._awards.setdefault(award.purchaser_code, []).append(award)
        for listed in self._awards.values():
            listed.sort(key=lambda a: (a.award_date or dt.date.min, a.contract_no or ""))
        for supplier in suppliers:
            self._store(supplier)

        # Existing suppliers are the feed's initial changes, in updated_at order;
        # one without a timestamp counts as changed when the data was loaded.
        def changed_at(supplier: Supplier) -> dt.datetime:
            return supplier.updated_at or loaded_at

        self.changes = ChangeFeed(
            {"credit_code": s.credit_code, "at": changed_at(s)}
            for s in sorted(self._suppliers.values(), key=changed_at)
        )

    def supplier(self, credit_code: str) -> Supplier | None:
        """The registered supplier, or None when the code is unknown."""
        return self._suppliers.get(credit_code)

    def links(self, id_number: str) -> list[Link]:
        """Suppliers the person represents or holds shares in, by credit code then role."""
        ties = sorted(self._people.get(id_number, ()), key=lambda t: (t[0], ROLES.index(t[1])))
        return [Link(self._suppliers[code], role) for code, role in ties]

    def issues(self, purchaser_code: str) -> list[PurchaserIssue]:
        """The purchaser's issues in dataset order (empty for an unknown purchaser)."""
        return list(self._issues.get(purchaser_code, ()))

    def awards(
        self, purchaser_code: str, start: dt.date | None, end: dt.date | None
    ) -> list[Award]:
        """The purchaser's awards dated in [start, end] (None = open), by date then contract."""
        listed = self._awards.get(purchaser_code, [])
        if start is None and end is None:
            return list(listed)
        return [
            a
            for a in listed
            if a.award_date is not None
            and (start is None or start <= a.award_date)
            and (end is None or a.award_date <= end)
        ]

    def upsert_supplier(self, supplier: Supplier, at: dt.datetime) -> dict[str, Any]:
        """Insert or replace a supplier and append its change; returns the change."""
        old = self._suppliers.get(supplier.credit_code)
        if old is not None:
            for id_number, role in _ties(old):
                self._people[id_number].discard((old.credit_code, role))
        self._store(supplier)
        return self.changes.append({"credit_code": supplier.credit_code, "at": at})

    def _store(self, supplier: Supplier) -> None:
        self._suppliers[supplier.credit_code] = supplier
        for id_number, role in _ties(supplier):
            self._people.setdefault(id_number, set()).add((supplier.credit_code, role))


def _ties(supplier: Supplier) -> list[tuple[str, str]]:
    ties = [(supplier.legal_representative.id_number, "LEGAL_REPRESENTATIVE")]
    ties += [(holder.id_number, "SHAREHOLDER") for holder in supplier.shareholders]
    return [(id_number, role) for id_number, role in ties if id_number]


def load_procurement_dataset(dataset: Path) -> ProcurementData:
    """Load the procurement files of `dataset`; `DatasetError` names file:line of a bad row."""
    folder = dataset / "procurement"
    seen: set[str] = set()

    def once(row: Row) -> str | None:
        code = row.get("credit_code")
        if code in seen:
            return "credit_code is listed twice"
        seen.add(str(code))
        return None

    return ProcurementData(
        suppliers=_convert(folder / "suppliers.jsonl", ("credit_code",), supplier_from_row, once),
        issues=_convert(folder / "purchaser_issues.jsonl", ("purchaser_code",), _issue),
        awards=_convert(folder / "awards.jsonl", ("purchaser_code",), _award),
        loaded_at=dt.datetime.now(SHANGHAI).replace(microsecond=0),
    )


def _convert(
    path: Path,
    required: tuple[str, ...],
    convert: Callable[[Row], T],
    then: Callable[[Row], str | None] | None = None,
) -> list[T]:
    # The conversion runs as read_jsonl's row check, so a bad value is refused
    # with the line it came from; the converted rows are collected on the way.
    converted: list[T] = []

    def check(row: Row) -> str | None:
        try:
            converted.append(convert(row))
        except ValueError as exc:
            return str(exc)
        return then(row) if then is not None else None

    for _ in read_jsonl(path, required, check):
        pass
    return converted


def supplier_from_row(row: Row) -> Supplier:
    """A supplier from one suppliers.jsonl object; ValueError says what is wrong."""
    code = _credit_code(row, "credit_code")
    if code is None:
        raise ValueError("missing required key(s) credit_code")
    return Supplier(
        credit_code=code,
        name=_text(row, "name"),
        registration_status=_choice(row, "registration_status", REGISTRATION_STATUSES) or "ACTIVE",
        legal_representative=_person(_object(row, "legal_representative") or {}),
        debarments=tuple(_debarment(item) for item in _objects(row, "debarments")),
        violations=tuple(_violation(item) for item in _objects(row, "violations")),
        shareholders=tuple(_person(item) for item in _objects(row, "shareholders")),
        updated_at=_timestamp(row, "updated_at"),
    )


def _person(row: Row) -> Person:
    number = _text(row, "id_number")
    if number is not None and not is_valid_id_number(number):
        raise ValueError("id_number fails its format or check digit")
    return Person(name=_text(row, "name"), id_number=number)


def _debarment(row: Row) -> Debarment:
    return Debarment(
        record_no=_text(row, "record_no"),
        reason=_text(row, "reason"),
        legal_basis=_text(row, "legal_basis"),
        authority=_text(row, "authority"),
        start_date=_date(row, "start_date"),
        end_date=_date(row, "end_date"),
        published_date=_date(row, "published_date"),
    )


def _violation(row: Row) -> Violation:
    return Violation(
        record_no=_text(row, "record_no"),
        circumstance=_text(row, "circumstance"),
        penalty=_text(row, "penalty"),
        legal_basis=_text(row, "legal_basis"),
        penalty_date=_date(row, "penalty_date"),
        authority=_text(row, "authority"),
    )


def _issue(row: Row) -> PurchaserIssue:
    return PurchaserIssue(
        purchaser_code=_required_code(row, "purchaser_code"),
        contract_no=_text(row, "contract_no"),
        type=_choice(row, "type", ISSUE_TYPES),
        amount=_money(row, "amount"),
        due_date=_date(row, "due_date"),
        resolved_date=_date(row, "resolved_date"),
    )


def _award(row: Row) -> Award:
    return Award(
        purchaser_code=_required_code(row, "purchaser_code"),
        contract_no=_text(row, "contract_no"),
        supplier_code=_credit_code(row, "supplier_code"),
        supplier_name=_text(row, "supplier_name"),
        award_date=_date(row, "award_date"),
        amount=_money(row, "amount"),
    )


def _text(row: Row, key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be a string")
    return str(value)


def _credit_code(row: Row, key: str) -> str | None:
    code = _text(row, key)
    if code is not None and not is_valid_credit_code(code):
        raise ValueError(f"{key} fails its format or check digit")
    return code


def _required_code(row: Row, key: str) -> str:
    code = _credit_code(row, key)
    if code is None:
        raise ValueError(f"missing required key(s) {key}")
    return code


def _choice(row: Row, key: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(row, key)
    if value is not None and value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}")
    return value


def _date(row: Row, key: str) -> dt.date | None:
    try:
        return row_date(row, key)
    except ValueError:
        raise ValueError(f"{key} is not a YYYY-MM-DD date") from None


def _timestamp(row: Row, key: str) -> dt.datetime | None:
    value = _text(row, key)
    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} is not an ISO 8601 timestamp") from None
    # The platform keeps Beijing time; a timestamp without an offset is read as such.
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=SHANGHAI)


def _money(row: Row, key: str) -> Decimal | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be a decimal string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{key} must be a decimal string") from None
    if not amount.is_finite():
        raise ValueError(f"{key} must be a decimal string")
    return amount


def _object(row: Row, key: str) -> Row | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object")
    return value


def _objects(row: Row, key: str) -> list[Row]:
    value = row.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{key} must be a list of objects")
    return value
