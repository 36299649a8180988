"""Reading the credit platform's answers without trusting them.

Every answer is an envelope `{"code", "message", "data"}`; success is code "0000".
A batchQuery answer is accepted only when all of this holds, and is otherwise
refused whole with `SourceProtocolError` (never a crash, never partial data):

- one result per requested subject, in request order, matching type and code;
- every identifier passes its check digit (subjects and deciding authorities);
- every record is about its result's subject;
- every enumeration holds a value UPSTREAMS.md lists; record ids are unique;
- money is a decimal string (a JSON number is refused: it may already have lost
  precision), dates are `YYYY-MM-DD`, timestamps ISO 8601 with an offset.

Unknown extra keys are ignored, so the platform may add fields. Messages name
the offending field by position, never by value: values may identify a person.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .base import check_answer
from .errors import SourceProtocolError
from .identifiers import is_valid_credit_code, is_valid_id_number
from .records import CreditRecord, CreditSubject, SubjectKey, SubjectType

__all__ = [
    "CATEGORIES",
    "DISCLOSURES",
    "OBJECTION_STATUSES",
    "PENALTY_TYPES",
    "SECTORS",
    "SEVERITIES",
    "STATUSES",
    "SUCCESS",
    "ObjectionDecision",
    "error_code",
    "parse_batch_answer",
    "parse_feedback_answer",
    "parse_objection_answer",
    "parse_objection_decision",
    "success_data",
]

SUCCESS = "0000"
CATEGORIES = frozenset(
    {
        "ADMIN_PENALTY",
        "SERIOUS_DISHONESTY",
        "TAX_VIOLATION",
        "GOV_DISHONESTY",
        "BROKEN_COMMITMENT",
        "RED_LIST",
    }
)
PENALTY_TYPES = frozenset(
    {"WARNING", "FINE", "CONFISCATION", "SUSPENSION", "LICENCE_REVOCATION", "DETENTION", "OTHER"}
)
SEVERITIES = frozenset({"GENERAL", "SERIOUS"})
DISCLOSURES = frozenset({"PUBLIC", "CONDITIONAL", "RESTRICTED"})
SECTORS = frozenset({"ORG_HR", "PROCUREMENT", "AUDIT", "CREDIT_OFFICE"})
STATUSES = frozenset({"EFFECTIVE", "OBJECTION_PENDING", "REPAIRED", "REVOKED"})

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONEY = re.compile(r"[0-9]+(\.[0-9]+)?")
_ERROR_CODE = re.compile(r"E[0-9]{4}")


class _Refused(Exception):
    """Why an answer cannot be trusted; becomes a SourceProtocolError at the top."""


def success_data(platform: str, payload: bytes) -> object:
    """The `data` of a success envelope; `SourceProtocolError` for anything else."""
    envelope = _envelope(payload)
    if envelope is None:
        raise SourceProtocolError(platform, "answer is not a JSON envelope")
    code = envelope["code"]
    if code != SUCCESS:
        # Only a well-formed platform code is repeated: the message must stay safe.
        shown = code if _ERROR_CODE.fullmatch(code) else "an unknown code"
        raise SourceProtocolError(platform, f"HTTP 200 answer carries {shown}")
    if "data" not in envelope:
        raise SourceProtocolError(platform, "success envelope has no data")
    return envelope["data"]


def error_code(payload: bytes) -> str | None:
    """The platform's error code (`E` and four digits) of an error answer, if any."""
    envelope = _envelope(payload)
    code = envelope["code"] if envelope is not None else None
    return code if code is not None and _ERROR_CODE.fullmatch(code) else None


def _envelope(payload: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and undecodable bytes; RecursionError deep nesting.
        return None
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return None
    return value


OBJECTION_STATUSES = frozenset({"RECEIVED", "UPHELD", "REJECTED"})


def parse_objection_answer(platform: str, data: object) -> tuple[str, str]:
    """The objection id and status of an objections answer's `data`."""
    try:
        fields = _Fields(data, "data")
        return fields.text("objection_id"), fields.choice("status", OBJECTION_STATUSES)
    except _Refused as refusal:
        raise SourceProtocolError(platform, str(refusal)) from None


@dataclass(frozen=True)
class ObjectionDecision:
    """An objection as `GET /api/v2/objections/{id}` tells it."""

    objection_id: str
    record_id: str
    status: str
    decided_at: dt.datetime | None


def parse_objection_decision(platform: str, data: object) -> ObjectionDecision:
    """The `data` of `GET /api/v2/objections/{id}`."""
    try:
        fields = _Fields(data, "data")
        return ObjectionDecision(
            objection_id=fields.text("objection_id"),
            record_id=fields.text("record_id"),
            status=fields.choice("status", OBJECTION_STATUSES),
            decided_at=fields.timestamp("decided_at"),
        )
    except _Refused as refusal:
        raise SourceProtocolError(platform, str(refusal)) from None


def parse_feedback_answer(platform: str, data: object) -> str:
    """The feedback id of a usage-feedback answer's `data`."""
    try:
        return _Fields(data, "data").text("feedback_id")
    except _Refused as refusal:
        raise SourceProtocolError(platform, str(refusal)) from None


def parse_batch_answer(
    platform: str, asked: Sequence[SubjectKey], data: object
) -> tuple[dict[SubjectKey, CreditSubject], dt.datetime]:
    """The subjects of a batchQuery answer's `data`, by key, and its `asOf`."""
    try:
        fields = _Fields(data, "data")
        as_of = fields.timestamp("asOf")
        if as_of is None:
            raise _Refused("data.asOf is missing")
        results = fields.items("results")
        subjects = [_subject(item, f"results[{index}]") for index, item in enumerate(results)]
        record_ids = [record.record_id for subject in subjects for record in subject.records]
        if len(set(record_ids)) != len(record_ids):
            raise _Refused("a record id appears twice")
    except _Refused as refusal:
        raise SourceProtocolError(platform, str(refusal)) from None
    check_answer(platform, asked, [subject.key for subject in subjects])
    return {subject.key: subject for subject in subjects}, as_of


def _subject(value: object, where: str) -> CreditSubject:
    fields = _Fields(value, where)
    key = fields.subject("type", "code")
    records = tuple(
        _record(item, f"{where}.records[{index}]")
        for index, item in enumerate(fields.items("records"))
    )
    if any(record.subject_type is not key.type for record in records) or any(
        record.subject_code != key.code for record in records
    ):
        raise _Refused(f"{where} holds a record about another subject")
    return CreditSubject(key=key, name=fields.optional_text("name"), records=records)


def _record(value: object, where: str) -> CreditRecord:
    fields = _Fields(value, where)
    key = fields.subject("subject_type", "subject_code")
    return CreditRecord(
        record_id=fields.text("record_id"),
        category=fields.choice("category", CATEGORIES),
        subject_type=key.type,
        subject_code=key.code,
        subject_name=fields.optional_text("subject_name"),
        decision_no=fields.optional_text("decision_no"),
        violation_type=fields.optional_text("violation_type"),
        penalty_types=fields.choices("penalty_types", PENALTY_TYPES),
        penalty_content=fields.optional_text("penalty_content"),
        fine_amount=fields.money("fine_amount"),
        decision_date=fields.date("decision_date"),
        authority_name=fields.optional_text("authority_name"),
        authority_code=fields.authority_code("authority_code"),
        severity=fields.optional_choice("severity", SEVERITIES),
        publicity_end=fields.date("publicity_end"),
        disclosure=fields.choice("disclosure", DISCLOSURES),
        share_scope=fields.choices("share_scope", SECTORS),
        status=fields.choice("status", STATUSES),
        updated_at=fields.timestamp("updated_at"),
    )


class _Fields:
    """Typed reads from one JSON object; a missing key reads as null."""

    def __init__(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise _Refused(f"{where} is not a JSON object")
        self.values: Mapping[str, Any] = value
        self.where = where

    def _refuse(self, key: str, reason: str) -> _Refused:
        return _Refused(f"{self.where}.{key} {reason}")

    def optional_text(self, key: str) -> str | None:
        value = self.values.get(key)
        if value is not None and not isinstance(value, str):
            raise self._refuse(key, "is not a string")
        return value

    def text(self, key: str) -> str:
        value = self.optional_text(key)
        if not value:
            raise self._refuse(key, "is missing or empty")
        return value

    def optional_choice(self, key: str, allowed: frozenset[str]) -> str | None:
        value = self.optional_text(key)
        if value is not None and value not in allowed:
            raise self._refuse(key, "is not a value the platform defines")
        return value

    def choice(self, key: str, allowed: frozenset[str]) -> str:
        value = self.optional_choice(key, allowed)
        if value is None:
            raise self._refuse(key, "is missing")
        return value

    def choices(self, key: str, allowed: frozenset[str]) -> tuple[str, ...]:
        values = self.values.get(key)
        if values is None:
            return ()
        if not isinstance(values, list) or not all(
            isinstance(item, str) and item in allowed for item in values
        ):
            raise self._refuse(key, "is not a list of values the platform defines")
        return tuple(values)

    def items(self, key: str) -> list[Any]:
        value = self.values.get(key)
        if not isinstance(value, list):
            raise self._refuse(key, "is not a list")
        return value

    def subject(self, type_key: str, code_key: str) -> SubjectKey:
        kind = self.values.get(type_key)
        if kind not in ("PERSON", "ORG"):
            raise self._refuse(type_key, "is neither PERSON nor ORG")
        subject_type = SubjectType(kind)
        code = self.text(code_key)
        valid = is_valid_id_number if subject_type is SubjectType.PERSON else is_valid_credit_code
        if not valid(code):
            raise self._refuse(code_key, "fails its format or check digit")
        return SubjectKey(subject_type, code)

    def authority_code(self, key: str) -> str | None:
        code = self.optional_text(key)
        if code is not None and not is_valid_credit_code(code):
            raise self._refuse(key, "fails its format or check digit")
        return code

    def money(self, key: str) -> Decimal | None:
        value = self.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not _MONEY.fullmatch(value):
            raise self._refuse(key, "is not a decimal string")
        return Decimal(value)

    def date(self, key: str) -> dt.date | None:
        value = self.optional_text(key)
        if value is None:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self._refuse(key, "is not a YYYY-MM-DD date") from None

    def timestamp(self, key: str) -> dt.datetime | None:
        value = self.optional_text(key)
        if value is None:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self._refuse(key, "is not an ISO 8601 timestamp") from None
        if parsed.tzinfo is None:
            raise self._refuse(key, "has no offset")
        return parsed
