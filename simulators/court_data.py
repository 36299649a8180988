"""What the court stand-in serves: judgment-debtor entries, restrictions, change feed.

`CourtData` holds the mutable state of the court stand-in. Entries are kept in
dataset order per party, so query answers page in a stable order; an entry
replaced through the admin endpoint keeps its place. Consumption restrictions
have no change feed (UPSTREAMS.md, Clarifications).

Initial changes: every entry of the dataset appears once, ordered by the
instant it took its current status — `updated_at` when the row carries one,
else `removedDate` for a REMOVED entry and `publishDate` (then `filingDate`)
otherwise, at midnight Beijing time. Its `op` is its current status: LISTED, or
REMOVED for an entry already removed, so a client starting from scratch learns
of every party the list has ever held. Entries with no date at all come last.

A bad row is refused with the reason from `entry_problem` / `restriction_problem`,
the same checks that guard the admin endpoint.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from connectors.identifiers import (
    InvalidIdentifier,
    normalise_credit_code,
    normalise_id_number,
)
from simulators.changefeed import ChangeFeed
from simulators.dataset import Row, read_jsonl

__all__ = [
    "BEIJING",
    "ENTRY_KEYS",
    "RESTRICTION_KEYS",
    "CourtData",
    "InvalidEntry",
    "entry_problem",
    "load_court_dataset",
    "normalise_party_code",
    "restriction_problem",
]

BEIJING = dt.timezone(dt.timedelta(hours=8))

ENTRY_KEYS = (
    "entryId",
    "caseCode",
    "court",
    "province",
    "partyType",
    "partyName",
    "idCode",
    "legalRepName",
    "basisDocNo",
    "basisIssuer",
    "obligation",
    "performance",
    "unperformedAmount",
    "behaviour",
    "filingDate",
    "publishDate",
    "listingEnd",
    "status",
    "removedDate",
    "removalReason",
)
RESTRICTION_KEYS = (
    "orderId",
    "caseCode",
    "court",
    "idCode",
    "partyName",
    "issuedDate",
    "status",
)

_ENTRY_TEXT = (
    "entryId",
    "caseCode",
    "court",
    "province",
    "partyName",
    "legalRepName",
    "basisDocNo",
    "basisIssuer",
    "obligation",
    "removalReason",
)
_ENTRY_DATES = ("filingDate", "publishDate", "listingEnd", "removedDate")
_RESTRICTION_TEXT = ("orderId", "caseCode", "court", "partyName")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class InvalidEntry(ValueError):
    """An entry sent to the admin endpoint was refused; the message says why."""


def normalise_party_code(value: object, party_type: str | None = None) -> str:
    """The canonical ID number (PERSON) or credit code (ORG) in `value`.

    Without a party type either identifier is accepted. Raises `InvalidIdentifier`.
    """
    if not isinstance(value, str):
        raise InvalidIdentifier("idCode", "must be a string")
    if party_type == "PERSON":
        return normalise_id_number(value, "idCode")
    if party_type == "ORG":
        return normalise_credit_code(value, "idCode")
    try:
        return normalise_id_number(value, "idCode")
    except InvalidIdentifier:
        pass
    try:
        return normalise_credit_code(value, "idCode")
    except InvalidIdentifier:
        raise InvalidIdentifier(
            "idCode", "neither a valid resident ID number nor a valid credit code"
        ) from None


def entry_problem(row: Row) -> str | None:
    """Why `row` is no valid ENTRY, or None when it is one."""
    for key in ("entryId", "idCode", "partyType"):
        if row.get(key) in (None, ""):
            return f"missing required key {key}"
    if row["partyType"] not in ("PERSON", "ORG"):
        return "partyType must be PERSON or ORG"
    try:
        normalise_party_code(row["idCode"], row["partyType"])
    except InvalidIdentifier as exc:
        return str(exc)
    if row.get("status") not in (None, "LISTED", "REMOVED"):
        return "status must be LISTED or REMOVED"
    if row.get("performance") not in (None, "NONE", "PARTIAL"):
        return "performance must be NONE or PARTIAL"
    behaviour = row.get("behaviour")
    if behaviour is not None and (
        isinstance(behaviour, bool) or not isinstance(behaviour, int) or not 1 <= behaviour <= 6
    ):
        return "behaviour must be an integer code 1-6"
    amount = row.get("unperformedAmount")
    if amount is not None and not _is_decimal_string(amount):
        return "unperformedAmount must be a decimal string or null"
    return (
        _text_problem(row, _ENTRY_TEXT) or _date_problem(row, _ENTRY_DATES) or _stamp_problem(row)
    )


def restriction_problem(row: Row) -> str | None:
    """Why `row` is no valid consumption restriction, or None when it is one."""
    for key in ("orderId", "idCode"):
        if row.get(key) in (None, ""):
            return f"missing required key {key}"
    try:
        normalise_party_code(row["idCode"])
    except InvalidIdentifier as exc:
        return str(exc)
    if row.get("status") not in (None, "ACTIVE", "LIFTED"):
        return "status must be ACTIVE or LIFTED"
    return _text_problem(row, _RESTRICTION_TEXT) or _date_problem(row, ("issuedDate",))


def _is_decimal_string(value: object) -> bool:
    # Money is a decimal string, never a float: a JSON number is refused, and so is
    # anything Decimal would take but a client need not ("1E+5", " 12 ", "NaN").
    return isinstance(value, str) and _DECIMAL.fullmatch(value) is not None


def _text_problem(row: Row, keys: Iterable[str]) -> str | None:
    for key in keys:
        if row.get(key) is not None and not isinstance(row[key], str):
            return f"{key} must be a string"
    return None


def _date_problem(row: Row, keys: Iterable[str]) -> str | None:
    for key in keys:
        value = row.get(key)
        if value is None:
            continue
        # fromisoformat alone would also take "20240101" and "2024-W01-1".
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            return f"{key} must be a YYYY-MM-DD date"
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{key} must be a real YYYY-MM-DD date"
    return None


def _stamp_problem(row: Row) -> str | None:
    if row.get("updated_at") is None:
        return None
    try:
        dt.datetime.fromisoformat(row["updated_at"])
    except (TypeError, ValueError):
        return "updated_at must be an ISO 8601 timestamp"
    return None


def _entry_item(row: Row) -> dict[str, Any]:
    """The ENTRY as served: every ENTRY key (null when absent), nothing else."""
    item = {key: row.get(key) for key in ENTRY_KEYS}
    item["idCode"] = normalise_party_code(row["idCode"], row["partyType"])
    item["status"] = row.get("status") or "LISTED"
    return item


def _restriction_item(row: Row) -> dict[str, Any]:
    item = {key: row.get(key) for key in RESTRICTION_KEYS}
    item["idCode"] = normalise_party_code(row["idCode"])
    item["status"] = row.get("status") or "ACTIVE"
    return item


def _initial_at(row: Row) -> dt.datetime | None:
    """The instant an entry took its current status, as far as the row tells."""
    if row.get("updated_at"):
        stamp = dt.datetime.fromisoformat(row["updated_at"])
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=BEIJING)
    keys: tuple[str, ...] = ("publishDate", "filingDate")
    if row.get("status") == "REMOVED":
        keys = ("removedDate", *keys)
    for key in keys:
        if row.get(key):
            day = dt.date.fromisoformat(row[key])
            return dt.datetime.combine(day, dt.time(), tzinfo=BEIJING)
    return None


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(BEIJING).isoformat(timespec="seconds")


class CourtData:
    """Entries, restrictions and the change feed of the court stand-in.

    Rows must already have passed `entry_problem` / `restriction_problem`;
    entryIds must be unique. `loaded_at` stamps the initial change of an entry
    that carries no date at all.
    """

    def __init__(
        self,
        entries: Iterable[Row] = (),
        restrictions: Iterable[Row] = (),
        loaded_at: dt.datetime | None = None,
    ) -> None:
        self._entries: dict[str, dict[str, Any]] = {}
        self._entries_by_party: dict[str, list[str]] = {}
        self._restrictions_by_party: dict[str, list[dict[str, Any]]] = {}
        fallback = loaded_at or dt.datetime.now(BEIJING)
        initial: list[tuple[bool, dt.datetime, int, dict[str, Any]]] = []
        for position, row in enumerate(entries):
            item = self._store(_entry_item(row))
            at = _initial_at(row)
            change = self._change(item, item["status"], at or fallback)
            # Undated entries sort after every dated one; ties keep file order.
            initial.append((at is None, at or fallback, position, change))
        initial.sort(key=lambda started: started[:3])
        self._feed = ChangeFeed(change for *_, change in initial)
        for row in restrictions:
            item = _restriction_item(row)
            self._restrictions_by_party.setdefault(item["idCode"], []).append(item)

    def entries_for(self, id_codes: Sequence[str]) -> list[dict[str, Any]]:
        """Every entry of the given parties: party by party, each in its stored order."""
        return [
            self._entries[entry_id]
            for code in id_codes
            for entry_id in self._entries_by_party.get(code, ())
        ]

    def restrictions_for(self, id_codes: Sequence[str]) -> list[dict[str, Any]]:
        """Every consumption restriction of the given parties, in dataset order."""
        return [item for code in id_codes for item in self._restrictions_by_party.get(code, ())]

    def changes(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str]:
        """Entry changes after `cursor` and the next cursor (`InvalidCursor` if forged)."""
        return self._feed.page(cursor, limit)

    def put_entry(self, row: Row, at: dt.datetime) -> dict[str, Any]:
        """Insert or replace one entry and emit its change; returns the change.

        A new entry is LISTED (REMOVED when it arrives removed); a replaced one is
        REMOVED when its status became REMOVED, LISTED when it was listed again,
        and UPDATED otherwise. An entry cannot move to another party.
        """
        problem = entry_problem(row)
        if problem is not None:
            raise InvalidEntry(problem)
        item = _entry_item(row)
        before = self._entries.get(item["entryId"])
        if before is None:
            op = item["status"]
        elif before["idCode"] != item["idCode"]:
            raise InvalidEntry("idCode of an existing entry cannot change")
        elif item["status"] != before["status"]:
            op = item["status"]
        else:
            op = "UPDATED"
        self._store(item)
        return self._feed.append(self._change(item, op, at))

    def _store(self, item: dict[str, Any]) -> dict[str, Any]:
        entry_id = item["entryId"]
        if entry_id not in self._entries:
            self._entries_by_party.setdefault(item["idCode"], []).append(entry_id)
        self._entries[entry_id] = item
        return item

    @staticmethod
    def _change(item: dict[str, Any], op: str, at: dt.datetime) -> dict[str, Any]:
        return {"idCode": item["idCode"], "entryId": item["entryId"], "op": op, "at": _stamp(at)}


def load_court_dataset(dataset: Path) -> CourtData:
    """Load `court/entries.jsonl` and `court/restrictions.jsonl` from a dataset directory.

    Raises `DatasetError` naming file and line for a malformed row, an
    identifier that fails its check digit, or a repeated entryId / orderId.
    """
    return CourtData(
        entries=list(
            read_jsonl(
                dataset / "court" / "entries.jsonl",
                required=("entryId", "idCode", "partyType"),
                check=_unique_check("entryId", entry_problem),
            )
        ),
        restrictions=list(
            read_jsonl(
                dataset / "court" / "restrictions.jsonl",
                required=("orderId", "idCode"),
                check=_unique_check("orderId", restriction_problem),
            )
        ),
    )


def _unique_check(key: str, problem: Callable[[Row], str | None]) -> Callable[[Row], str | None]:
    """A row check that also refuses a repeated `key`; its memory lasts one load."""
    seen: set[str] = set()

    def check(row: Row) -> str | None:
        reason = problem(row)
        if reason is not None:
            return reason
        if row[key] in seen:
            return f"{key} {row[key]!r} appears twice"
        seen.add(row[key])
        return None

    return check
