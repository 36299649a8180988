"""What the credit platform knows: records, its subject registry, objections,
usage feedback and the change feed. All of the stand-in's mutable state is here.

What a record is, and when it is in publicity, is `credit_records`' business.
Every change to a record — an objection filed or decided, a record put or
deleted through the admin endpoints — is appended to the change feed. Requests
the platform refuses (unknown ids, an objection on a revoked record, ...) raise
`RejectedRequest`, answered as 400 E4000.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .changefeed import ChangeFeed, InvalidCursor
from .credit_records import (
    Record,
    SubjectKey,
    check_record,
    check_subject,
    is_active,
    platform_time,
    stored_record,
    updated_at,
)
from .dataset import Row, read_jsonl

__all__ = ["CreditData", "Objection", "RejectedRequest", "load_credit_dataset"]


class RejectedRequest(ValueError):
    """A request the platform refuses; the message says why (never echoing an identifier)."""


@dataclass
class Objection:
    """An objection (异议) against one record, and how it was decided."""

    objection_id: str
    record_id: str
    subject_code: str
    reason: str
    filed_by: str
    filed_at: str
    earlier_status: str
    status: str = "RECEIVED"
    decided_at: str | None = None

    def view(self) -> dict[str, Any]:
        """The answer of `GET /api/v2/objections/{id}`."""
        return {
            "objection_id": self.objection_id,
            "record_id": self.record_id,
            "status": self.status,
            "decided_at": self.decided_at,
        }


class CreditData:
    """Records by id and by subject, the subject registry, objections, feedback, changes."""

    def __init__(
        self,
        records: Iterable[Row] = (),
        names: Mapping[SubjectKey, str | None] | None = None,
        *,
        loaded_at: float | None = None,
    ) -> None:
        """Hold `records` (ValueError for one `check_record` refuses, or a repeated id).

        The initial changes list the records in `updated_at` order.

        `names` is the subject registry; `loaded_at` (unix seconds, default now)
        stamps records that came without an `updated_at`.
        """
        stamp = platform_time(time.time() if loaded_at is None else loaded_at)
        self.names: dict[SubjectKey, str | None] = dict(names or {})
        self._records: dict[str, Record] = {}
        self._by_subject: dict[SubjectKey, list[str]] = {}
        for row in records:
            reason = check_record(row)
            if reason is not None:
                raise ValueError(reason)
            if row["record_id"] in self._records:
                raise ValueError("duplicate record_id")
            self._store(stored_record(row, stamp))
        # sorted() is stable: records with the same timestamp keep their order.
        initial = sorted(self._records.values(), key=updated_at)
        self.changes = ChangeFeed(_change(r, "UPSERT", r["updated_at"]) for r in initial)
        self.objections: dict[str, Objection] = {}
        self._pending: dict[str, str] = {}  # record_id -> pending objection_id
        self._objection_keys: dict[str, str] = {}  # Idempotency-Key -> objection_id
        self.feedback: list[dict[str, Any]] = []
        self._feedback_answers: dict[str, dict[str, Any]] = {}

    # -- queries ---------------------------------------------------------------

    def record(self, record_id: str) -> Record | None:
        """A copy of one record, or None."""
        record = self._records.get(record_id)
        return _copy(record) if record is not None else None

    def subject_result(
        self, key: SubjectKey, include_inactive: bool, today: dt.date
    ) -> dict[str, Any]:
        """One batchQuery result: type, code, name and the subject's records."""
        records = [self._records[record_id] for record_id in self._by_subject.get(key, [])]
        shown = [_copy(r) for r in records if include_inactive or is_active(r, today)]
        return {"type": key[0], "code": key[1], "name": self._name(key, records), "records": shown}

    def _name(self, key: SubjectKey, records: Sequence[Record]) -> str | None:
        registered = self.names.get(key)
        if registered:
            return registered
        named = [r for r in records if r["subject_name"]]
        if not named:
            return None
        name: str = max(named, key=updated_at)["subject_name"]
        return name

    def change_page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str]:
        """Changes after `cursor` and the cursor to ask with next."""
        try:
            return self.changes.page(cursor, limit)
        except InvalidCursor:
            raise RejectedRequest("since is not a cursor this platform issued") from None

    # -- records (admin) ---------------------------------------------------------

    def put_record(self, row: Row, at: str) -> dict[str, Any]:
        """Insert or replace a record by record_id; returns the UPSERT change."""
        reason = check_record(row)
        if reason is not None:
            raise RejectedRequest(reason)
        record = stored_record(row, at)
        old = self._records.get(record["record_id"])
        if old is not None and _subject(old) != _subject(record):
            self._unindex(old)
        self._store(record)
        return self.changes.append(_change(record, "UPSERT", at))

    def delete_record(self, record_id: str, at: str) -> dict[str, Any]:
        """Remove a record; returns the DELETE change."""
        record = self._records.pop(record_id, None)
        if record is None:
            raise RejectedRequest("unknown record_id")
        self._unindex(record)
        return self.changes.append(_change(record, "DELETE", at))

    def _store(self, record: Record) -> None:
        ids = self._by_subject.setdefault(_subject(record), [])
        if record["record_id"] not in ids:
            ids.append(record["record_id"])
        self._records[record["record_id"]] = record

    def _unindex(self, record: Record) -> None:
        key = _subject(record)
        self._by_subject[key].remove(record["record_id"])
        if not self._by_subject[key]:
            del self._by_subject[key]

    # -- objections ------------------------------------------------------------

    def keyed_objection(self, idempotency_key: str) -> Objection | None:
        """The objection filed under this Idempotency-Key, if any."""
        objection_id = self._objection_keys.get(idempotency_key)
        return None if objection_id is None else self.objections[objection_id]

    def file_objection(
        self,
        record_id: str,
        subject_code: str,
        reason: str,
        filed_by: str,
        at: str,
        idempotency_key: str = "",
    ) -> Objection:
        """File an objection; the record becomes OBJECTION_PENDING.

        Filing the very same objection again while it is pending answers the
        pending one, so a client that lost the first answer may safely retry;
        so does a repeated `idempotency_key`, even once the objection is decided
        (see `keyed_objection`).
        """
        record = self._records.get(record_id)
        if record is None:
            raise RejectedRequest("unknown record_id")
        if record["subject_code"] != subject_code:
            raise RejectedRequest("subject_code is not the record's subject")
        if record["status"] == "REVOKED":
            raise RejectedRequest("the record is revoked")
        pending_id = self._pending.get(record_id)
        if pending_id is not None:
            pending = self.objections[pending_id]
            if (pending.subject_code, pending.reason, pending.filed_by) == (
                subject_code,
                reason,
                filed_by,
            ):
                if idempotency_key:
                    self._objection_keys.setdefault(idempotency_key, pending_id)
                return pending
            raise RejectedRequest("an objection on this record is still pending")
        # A record loaded as OBJECTION_PENDING has no objection this platform can
        # decide; rejecting a new one puts the record back in force.
        earlier = "EFFECTIVE" if record["status"] == "OBJECTION_PENDING" else record["status"]
        objection = Objection(
            objection_id=f"OBJ{len(self.objections) + 1:08d}",
            record_id=record_id,
            subject_code=subject_code,
            reason=reason,
            filed_by=filed_by,
            filed_at=at,
            earlier_status=earlier,
        )
        self.objections[objection.objection_id] = objection
        self._pending[record_id] = objection.objection_id
        if idempotency_key:
            self._objection_keys[idempotency_key] = objection.objection_id
        self._set_status(record, "OBJECTION_PENDING", at)
        return objection

    def objection(self, objection_id: str) -> Objection:
        """One objection, or `RejectedRequest` for an unknown id."""
        objection = self.objections.get(objection_id)
        if objection is None:
            raise RejectedRequest("unknown objection id")
        return objection

    def decide(self, objection_id: str, status: str, at: str) -> Objection:
        """Decide a pending objection: UPHELD revokes the record, REJECTED restores it."""
        objection = self.objection(objection_id)
        if objection.status != "RECEIVED":
            raise RejectedRequest("the objection is already decided")
        if status not in ("UPHELD", "REJECTED"):
            raise RejectedRequest("status must be UPHELD or REJECTED")
        objection.status = status
        objection.decided_at = at
        del self._pending[objection.record_id]
        record = self._records.get(objection.record_id)
        if record is not None:  # it may have been deleted meanwhile
            new_status = "REVOKED" if status == "UPHELD" else objection.earlier_status
            self._set_status(record, new_status, at)
        return objection

    def _set_status(self, record: Record, status: str, at: str) -> None:
        record["status"] = status
        record["updated_at"] = at
        self.changes.append(_change(record, "UPSERT", at))

    # -- usage feedback ----------------------------------------------------------

    def answered_feedback(self, idempotency_key: str) -> dict[str, Any] | None:
        """The answer already given to this Idempotency-Key, if any."""
        return self._feedback_answers.get(idempotency_key)

    def record_feedback(self, idempotency_key: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Store one usage feedback under its key; returns the answer `{"feedback_id"}`."""
        if any(record_id not in self._records for record_id in fields["record_ids"]):
            raise RejectedRequest("record_ids names an unknown record")
        answer = {"feedback_id": f"FB{len(self.feedback) + 1:08d}"}
        self.feedback.append({**answer, "idempotency_key": idempotency_key, **fields})
        self._feedback_answers[idempotency_key] = answer
        return dict(answer)


def _subject(record: Mapping[str, Any]) -> SubjectKey:
    return (record["subject_type"], record["subject_code"])


def _copy(record: Record) -> Record:
    return {key: list(value) if isinstance(value, list) else value for key, value in record.items()}


def _change(record: Mapping[str, Any], op: str, at: str) -> dict[str, Any]:
    return {
        "subject_code": record["subject_code"],
        "record_id": record["record_id"],
        "op": op,
        "at": at,
    }


def load_credit_dataset(dataset: Path, *, loaded_at: float | None = None) -> CreditData:
    """Read `credit_platform/records.jsonl` and the optional `subjects.jsonl`.

    A malformed line — bad JSON, a missing identifier, a subject code failing
    its check digit, a duplicate id — raises `DatasetError` naming file and line.
    `loaded_at` (unix seconds, default now) stamps records without `updated_at`.
    """
    folder = dataset / "credit_platform"
    names: dict[SubjectKey, str | None] = {}
    rows: dict[str, Row] = {}

    # The checks run before read_jsonl yields a row, so a refusal names the line;
    # rows yielded earlier are already stored when a later one is checked.
    def check_subject_row(row: Row) -> str | None:
        reason = check_subject(row.get("type"), row.get("code"))
        if reason is None and not isinstance(row.get("name"), str | None):
            return "name must be a string or null"
        if reason is None and (row["type"], row["code"]) in names:
            return "subject listed twice"
        return reason

    def check_record_row(row: Row) -> str | None:
        reason = check_record(row)
        if reason is None and row["record_id"] in rows:
            return "duplicate record_id"
        return reason

    for row in read_jsonl(folder / "subjects.jsonl", ("type", "code"), check_subject_row):
        names[(row["type"], row["code"])] = row.get("name")
    required = ("record_id", "subject_type", "subject_code")
    for row in read_jsonl(folder / "records.jsonl", required, check_record_row):
        rows[row["record_id"]] = row
    return CreditData(rows.values(), names, loaded_at=loaded_at)
