"""Reading the credit platform's requests strictly: anything off is 400 E4000.

Bodies are JSON objects with exactly the documented keys (an unknown key is
refused too); strings that must say something may not be empty; subject codes
must be valid identifiers of their type in canonical form. Messages name the
offending field but never echo its value, which may be a person's ID number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .credit_envelope import ApiError, malformed
from .credit_records import SubjectKey, check_subject

__all__ = [
    "DEFAULT_CHANGES_LIMIT",
    "MAX_CHANGES_LIMIT",
    "MAX_SUBJECTS",
    "OUTCOMES",
    "BatchQuery",
    "ObjectionFiling",
    "parse_batch_query",
    "parse_changes_query",
    "parse_decision",
    "parse_feedback",
    "parse_objection",
    "parse_record",
]

MAX_SUBJECTS = 100
DEFAULT_CHANGES_LIMIT = 100
MAX_CHANGES_LIMIT = 1000
OUTCOMES = ("ADOPTED", "NOT_ADOPTED", "PENDING")


@dataclass(frozen=True)
class BatchQuery:
    """A `subjects:batchQuery` request."""

    subjects: tuple[SubjectKey, ...]
    include_inactive: bool


@dataclass(frozen=True)
class ObjectionFiling:
    """A `POST /objections` request."""

    record_id: str
    subject_code: str
    reason: str
    filed_by: str


def parse_batch_query(body: bytes) -> BatchQuery:
    """`{"subjects": [{"type", "code"}...], "includeInactive"?}`; over 100 → 413 E4130."""
    fields = _object(_json(body), "body", required={"subjects"}, optional={"includeInactive"})
    subjects = fields["subjects"]
    if not isinstance(subjects, list):
        raise malformed("subjects must be a list")
    if len(subjects) > MAX_SUBJECTS:
        raise ApiError(413, "E4130", f"at most {MAX_SUBJECTS} subjects per request")
    keys = []
    for index, item in enumerate(subjects):
        where = f"subjects[{index}]"
        subject = _object(item, where, required={"type", "code"})
        reason = check_subject(subject["type"], subject["code"])
        if reason is not None:
            raise malformed(f"{where}: {reason}")
        keys.append((subject["type"], subject["code"]))
    include_inactive = fields.get("includeInactive", False)
    if not isinstance(include_inactive, bool):
        raise malformed("includeInactive must be true or false")
    return BatchQuery(tuple(keys), include_inactive)


def parse_changes_query(params: Mapping[str, str]) -> tuple[str | None, int]:
    """`since` (a cursor; absent or empty = from the start) and `limit` (1..1000)."""
    since = params.get("since") or None
    text = params.get("limit")
    if text is None:
        return since, DEFAULT_CHANGES_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_CHANGES_LIMIT:
        raise malformed(f"limit must be an integer from 1 to {MAX_CHANGES_LIMIT}")
    return since, int(text)


def parse_feedback(body: bytes) -> dict[str, Any]:
    """The usage-feedback body: every documented key required; `reason` and `measure`
    (how the result was used, as free text) optional."""
    keys = {"query_ref", "subject_code", "purpose", "outcome", "record_ids", "at"}
    fields = _object(_json(body), "body", required=keys, optional={"reason", "measure"})
    for key in ("reason", "measure"):
        if key in fields:
            _text(fields, key)
    for key in ("query_ref", "purpose"):
        _text(fields, key)
    code = _text(fields, "subject_code")
    if all(check_subject(kind, code) is not None for kind in ("PERSON", "ORG")):
        raise malformed("subject_code must be a valid ID number or credit code")
    if fields["outcome"] not in OUTCOMES:
        raise malformed(f"outcome must be one of {', '.join(OUTCOMES)}")
    record_ids = fields["record_ids"]
    if not isinstance(record_ids, list) or not all(
        isinstance(item, str) and item for item in record_ids
    ):
        raise malformed("record_ids must be a list of record ids")
    _timestamp(fields, "at")
    return dict(fields)


def parse_objection(body: bytes) -> ObjectionFiling:
    """`{"record_id", "subject_code", "reason", "filed_by"}`, all non-empty strings."""
    keys = {"record_id", "subject_code", "reason", "filed_by"}
    fields = _object(_json(body), "body", required=keys)
    return ObjectionFiling(
        record_id=_text(fields, "record_id"),
        subject_code=_text(fields, "subject_code"),
        reason=_text(fields, "reason"),
        filed_by=_text(fields, "filed_by"),
    )


def parse_decision(body: bytes) -> str:
    """The admin decision `{"status": "UPHELD"|"REJECTED"}`."""
    fields = _object(_json(body), "body", required={"status"})
    if fields["status"] not in ("UPHELD", "REJECTED"):
        raise malformed("status must be UPHELD or REJECTED")
    status: str = fields["status"]
    return status


def parse_record(body: bytes) -> dict[str, Any]:
    """One RECORD as a JSON object (checked by the data layer)."""
    value = _json(body)
    if not isinstance(value, dict):
        raise malformed("body must be a JSON object")
    return value


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and bytes that are not UTF-8; RecursionError
        # absorbs pathologically deep nesting.
        raise malformed("body is not valid JSON") from None


def _object(
    value: object, where: str, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(f"{where} must be a JSON object")
    missing = sorted(required - value.keys())
    if missing:
        raise malformed(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(value.keys() - required - optional)
    if unknown:
        raise malformed(f"{where}: unknown key(s) {', '.join(unknown)}")
    return value


def _text(fields: Mapping[str, Any], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str) or not value.strip():
        raise malformed(f"{key} must be a non-empty string")
    return value


def _timestamp(fields: Mapping[str, Any], key: str) -> None:
    value = _text(fields, key)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise malformed(f"{key} must be an ISO 8601 timestamp with offset") from None
    if parsed.tzinfo is None:
        raise malformed(f"{key} must be an ISO 8601 timestamp with offset")
