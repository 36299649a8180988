"""What a credit RECORD is: its keys, which rows are valid, when it is in publicity.

Records are kept with the keys of the RECORD table only; unknown extra keys of
an incoming row are dropped and missing ones filled in. A record is *active*
unless its status is REPAIRED or REVOKED or its `publicity_end` lies before the
platform's current date; the `publicity_end` day itself is still public. The
platform's clock runs in +08:00, and so do its dates and timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number

from .dataset import Row, row_date

__all__ = [
    "CN_TZ",
    "RECORD_KEYS",
    "STATUSES",
    "Record",
    "SubjectKey",
    "check_record",
    "check_subject",
    "is_active",
    "parse_time",
    "platform_date",
    "platform_time",
    "stored_record",
    "updated_at",
]

CN_TZ = dt.timezone(dt.timedelta(hours=8))

RECORD_KEYS = (
    "record_id",
    "category",
    "subject_type",
    "subject_code",
    "subject_name",
    "decision_no",
    "violation_type",
    "penalty_types",
    "penalty_content",
    "fine_amount",
    "decision_date",
    "authority_name",
    "authority_code",
    "severity",
    "publicity_end",
    "disclosure",
    "share_scope",
    "status",
    "updated_at",
)
_LIST_KEYS = frozenset({"penalty_types", "share_scope"})
_DATE_KEYS = ("decision_date", "publicity_end")
STATUSES = ("EFFECTIVE", "OBJECTION_PENDING", "REPAIRED", "REVOKED")
_INACTIVE_STATUSES = frozenset({"REPAIRED", "REVOKED"})

SubjectKey = tuple[str, str]  # (subject type, code)
Record = dict[str, Any]


def platform_time(seconds: float) -> str:
    """Unix seconds as the platform writes a timestamp: ISO 8601 with +08:00."""
    return dt.datetime.fromtimestamp(seconds, CN_TZ).isoformat(timespec="seconds")


def platform_date(seconds: float) -> dt.date:
    """The platform's calendar date (+08:00) at unix `seconds`."""
    return dt.datetime.fromtimestamp(seconds, CN_TZ).date()


def check_subject(subject_type: object, code: object) -> str | None:
    """Why (type, code) is no valid subject, or None when it is."""
    if subject_type not in ("PERSON", "ORG"):
        return "subject type must be PERSON or ORG"
    if not isinstance(code, str):
        return "subject code must be a string"
    normalise = normalise_id_number if subject_type == "PERSON" else normalise_credit_code
    try:
        canonical = normalise(code, "code")
    except InvalidIdentifier as exc:
        return exc.reason
    return None if canonical == code else "subject code must be in canonical form (18 characters)"


def check_record(row: Row) -> str | None:
    """Why `row` is no valid RECORD, or None when it is.

    Only what the platform itself relies on is checked: the identifiers, the
    status, the dates it judges publicity by and the timestamp it orders by.
    """
    if not isinstance(row.get("record_id"), str) or not row["record_id"]:
        return "record_id must be a non-empty string"
    reason = check_subject(row.get("subject_type"), row.get("subject_code"))
    if reason is not None:
        return f"subject_type/subject_code: {reason}"
    status = row.get("status")
    if status is not None and status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    for key in _DATE_KEYS:
        try:
            row_date(row, key)
        except ValueError:
            return f"{key} must be a YYYY-MM-DD date"
    for key in _LIST_KEYS:
        if row.get(key) is not None and not isinstance(row[key], list):
            return f"{key} must be a list"
    if row.get("updated_at") is not None and parse_time(row["updated_at"]) is None:
        return "updated_at must be an ISO 8601 timestamp"
    return None


def is_active(record: Mapping[str, Any], today: dt.date) -> bool:
    """In force and in publicity on `today` (the platform's date)."""
    if record["status"] in _INACTIVE_STATUSES:
        return False
    end = record["publicity_end"]
    return end is None or dt.date.fromisoformat(end) >= today


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 timestamp (no offset = +08:00), or None when it is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    # A timestamp without an offset is the platform's local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CN_TZ)


def stored_record(row: Row, stamp: str) -> Record:
    """The stored form of a checked row: RECORD keys only, defaults filled in."""
    record = {key: row.get(key, [] if key in _LIST_KEYS else None) for key in RECORD_KEYS}
    # A record is in force unless the platform says otherwise, and the platform
    # stamps a record it receives without a timestamp with the time it got it.
    record["status"] = record["status"] or "EFFECTIVE"
    record["updated_at"] = record["updated_at"] or stamp
    return record


def updated_at(record: Mapping[str, Any]) -> dt.datetime:
    """When a stored record was last changed, for ordering."""
    # Stored records always carry a timestamp that parses (see check_record).
    return parse_time(record["updated_at"]) or dt.datetime.fromtimestamp(0, dt.UTC)
