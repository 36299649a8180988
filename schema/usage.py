"""`recordUsage`: the human outcome of a vetting report (反馈应用情况), and reading it back.

The outcome — with, when given, the reason and the measure applied (how the
result was used) — is an access-log entry of its own (outcome
`USAGE_RECORDED`, the report id and outcome in its fields) and an outbox item
stored in the same transaction (`auth/outbox_item.py`); the delivery worker
forwards it to the credit platform's usage-feedback endpoint. The answer says
`queued: true`: the platform has not acknowledged it yet (the entry is not
even committed when the resolver returns). `usageFeedback(reportId)` reads
back each outcome recorded for a report and where its delivery stands.

Only the actor a report was given to may record or read its outcome: an
unknown report id and another actor's report look the same (`NOT_FOUND`), so
report ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import strawberry
from strawberry.types import Info

from auth.access_log_entry import ReportRow
from auth.outbox import ItemStatus
from auth.outbox_item import ItemKind, OutboxItem
from connectors.base import SHANGHAI
from connectors.error_codes import Code

from .context import RequestContext
from .delivery import DeliveryState
from .errors import refusal
from .types import describe_values

__all__ = [
    "MAX_MEASURE_CHARS",
    "MAX_USAGE_REASON_CHARS",
    "UsageFeedback",
    "UsageOutcome",
    "record_usage",
    "usage_feedback",
]

MAX_USAGE_REASON_CHARS = 2_000
MAX_MEASURE_CHARS = 500


@strawberry.enum(description="What the human decision made of a report (反馈应用情况).")
class UsageOutcome(enum.Enum):
    ADOPTED = "ADOPTED"
    NOT_ADOPTED = "NOT_ADOPTED"
    PENDING = "PENDING"


describe_values(
    UsageOutcome,
    {
        "ADOPTED": "The report was followed.",
        "NOT_ADOPTED": "The report was not followed.",
        "PENDING": "Not decided yet.",
    },
)


@strawberry.type(description="One outcome recorded for a report, and its delivery.")
class UsageFeedback:
    report_id: strawberry.ID = strawberry.field(description="The report it is about.")
    outcome: UsageOutcome = strawberry.field(description="The outcome recorded.")
    queued: bool = strawberry.field(
        description="True until the credit platform has acknowledged it."
    )
    reason: str | None = strawberry.field(description="Why it was decided so, as recorded.")
    measure: str | None = strawberry.field(description="The measure applied, as recorded.")
    delivery: DeliveryState = strawberry.field(
        description="Where its forwarding to the credit platform stands."
    )
    feedback_id: strawberry.ID | None = strawberry.field(
        description="The credit platform's id for it, once acknowledged."
    )
    recorded_at: dt.datetime = strawberry.field(description="When the outcome was recorded.")
    acknowledged_at: dt.datetime | None = strawberry.field(
        description="When the credit platform acknowledged it."
    )

    @classmethod
    def of(cls, item: ItemStatus) -> UsageFeedback:
        delivery = DeliveryState.of(item.state)
        return cls(
            report_id=strawberry.ID(item.reference),
            outcome=UsageOutcome(item.body["outcome"]),
            queued=delivery is DeliveryState.QUEUED,
            reason=item.body.get("reason"),
            measure=item.body.get("measure"),
            delivery=delivery,
            feedback_id=None if item.answer is None else strawberry.ID(item.answer),
            recorded_at=dt.datetime.fromisoformat(item.body["at"]),
            acknowledged_at=item.answered_at if delivery is DeliveryState.DELIVERED else None,
        )


async def _own_report(info: Info[RequestContext, None], report_id: str) -> ReportRow:
    context = info.context
    report = await context.access_log.report(report_id)
    if report is None or report.actor != context.disclosure.actor:
        raise refusal(Code.NOT_FOUND, "no such report for this caller")
    context.disclosure.purposes.add(report.purpose)
    return report


def _text(name: str, value: str | None, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise refusal(Code.INVALID_ARGUMENT, f"{name} takes at most {limit} characters")
    return text or None


async def record_usage(
    info: Info[RequestContext, None],
    report_id: str,
    outcome: UsageOutcome,
    reason: str | None,
    measure: str | None,
) -> UsageFeedback:
    reason = _text("reason", reason, MAX_USAGE_REASON_CHARS)
    measure = _text("measure", measure, MAX_MEASURE_CHARS)
    report = await _own_report(info, report_id)
    disclosure = info.context.disclosure
    at = dt.datetime.now(SHANGHAI)
    body: dict[str, Any] = {
        "query_ref": report_id,
        "subject_code": report.subject,
        "purpose": report.purpose,
        "outcome": outcome.value,
        "record_ids": list(report.credit_record_ids),
        "at": at.isoformat(timespec="seconds"),
    }
    body |= {key: value for key, value in (("reason", reason), ("measure", measure)) if value}
    disclosure.outbox.append(
        OutboxItem(
            kind=ItemKind.USAGE_FEEDBACK,
            actor=disclosure.actor,
            subject_code=report.subject,
            reference=report_id,
            body=body,
        )
    )
    disclosure.events.append(f"usage:{report_id}:{outcome.value}")
    return UsageFeedback(
        report_id=strawberry.ID(report_id),
        outcome=outcome,
        queued=True,
        reason=reason,
        measure=measure,
        delivery=DeliveryState.QUEUED,
        feedback_id=None,
        recorded_at=at.replace(microsecond=0),
        acknowledged_at=None,
    )


async def usage_feedback(info: Info[RequestContext, None], report_id: str) -> list[UsageFeedback]:
    await _own_report(info, report_id)
    items = await info.context.outbox.items(ItemKind.USAGE_FEEDBACK, reference=report_id)
    return [UsageFeedback.of(item) for item in items]
