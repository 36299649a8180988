"""The access-log entry of one answer, and the answer's `extensions`.

An answer that touched personal data is logged BEFORE it leaves: who asked
(actor, acting roles, unit), for which purposes, about whom (pseudonyms), which
fields were returned, with which policy version, and how it went. If the entry
cannot be made durable, the caller gets an error and no data. The log holds no
raw identifier: subjects are the same keyed pseudonyms auditors see.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from auth.access_log import AccessLog
from auth.access_log_entry import AccessLogError, Entry
from connectors.base import SHANGHAI
from connectors.error_codes import Code
from schema.disclosure import Disclosure

__all__ = [
    "RULE_SET_NONE",
    "answer_extensions",
    "fields_returned",
    "record_access",
    "unrecorded_answer",
]

logger = logging.getLogger(__name__)

RULE_SET_NONE = "-"  # no vetting rules were applied to this answer
DENIALS = frozenset(
    {
        Code.FORBIDDEN_PURPOSE,
        Code.FORBIDDEN_SUBJECT,
        Code.FORBIDDEN_ARGUMENT,
        Code.PURPOSE_NOT_APPLICABLE,
        Code.NOT_FOUND,
    }
)


def fields_returned(data: Any, prefix: str = "") -> Iterator[str]:
    """Dotted response paths of every non-null leaf value, list positions left out."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from fields_returned(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(data, list):
        for item in data:
            yield from fields_returned(item, prefix)
    elif data is not None:
        yield prefix


def unrecorded_answer(request_id: str) -> dict[str, Any]:
    """What the caller gets when the access could not be recorded: no data."""
    return {
        "data": None,
        "errors": [
            {
                "message": "the access could not be recorded; no data was returned",
                "extensions": {"code": Code.INTERNAL},
            }
        ],
        "extensions": {"requestId": request_id},
    }


def answer_extensions(disclosure: Disclosure, request_id: str) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        "requestId": request_id,
        "policyVersion": disclosure.policy.version,
    }
    if disclosure.privacy:
        extensions["privacy"] = disclosure.privacy
    return extensions


async def record_access(
    log: AccessLog,
    disclosure: Disclosure,
    *,
    request_id: str,
    fields: Iterable[str],
    error_codes: Sequence[str],
) -> bool:
    """Make the entry durable; False when it could not be (the answer must then fail).

    `fields` are the answer's `fields_returned`."""
    principal = disclosure.principal
    outcome = "PARTIAL" if error_codes else "OK"
    if DENIALS.intersection(error_codes):
        outcome = "DENIED"
    elif any(event.startswith("reveal:") for event in disclosure.events):
        outcome = "IDENTITY_REVEALED"
    elif any(event.startswith("usage:") for event in disclosure.events):
        outcome = "USAGE_RECORDED"
    elif any(event.startswith("objection:") for event in disclosure.events):
        outcome = "OBJECTION_FILED"
    entry = Entry(
        time=dt.datetime.now(SHANGHAI),
        actor=disclosure.actor,
        role=",".join(sorted(disclosure.roles)) or "-",
        unit=(principal.unit or "-") if principal else "-",
        purpose=",".join(sorted(disclosure.purposes)) or "-",
        subjects=sorted(disclosure.subjects),
        fields=sorted({*fields, *disclosure.events}),
        verdicts=[report.verdict for report in disclosure.reports],
        policy_version=disclosure.policy.version,
        rule_set_version=disclosure.rule_set_version or RULE_SET_NONE,
        request_id=request_id,
        outcome=outcome,
        reports=disclosure.reports,
        outbox=disclosure.outbox,
    )
    try:
        await log.append(entry)
    except AccessLogError:
        logger.exception("access log write failed; request %s answered without data", request_id)
        return False
    return True
