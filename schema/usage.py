"""`recordUsage`: the human outcome of a vetting report (反馈应用情况).

The outcome is stored durably as an access-log entry of its own (outcome
`USAGE_RECORDED`, the report id and outcome in its fields), in the same hash
chain as every access; forwarding it to the credit platform's usage-feedback
endpoint is the outbox's job, so the answer says `queued: true` until the
platform has acknowledged it. Only the actor a report was given to may record
its outcome: an unknown report id and another actor's report look the same
(`NOT_FOUND`), so report ids cannot be probed.
"""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from connectors.error_codes import Code

from .context import RequestContext
from .errors import refusal
from .types import describe_values

__all__ = ["UsageFeedback", "UsageOutcome", "record_usage"]


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


@strawberry.type(description="A recorded usage outcome.")
class UsageFeedback:
    report_id: strawberry.ID = strawberry.field(description="The report it is about.")
    outcome: UsageOutcome = strawberry.field(description="The outcome recorded.")
    queued: bool = strawberry.field(
        description="True: stored, to be forwarded to the credit platform."
    )


async def record_usage(
    info: Info[RequestContext, None], report_id: str, outcome: UsageOutcome
) -> UsageFeedback:
    context = info.context
    disclosure = context.disclosure
    report = await context.access_log.report(report_id)
    if report is None or report.actor != disclosure.actor:
        raise refusal(Code.NOT_FOUND, "no such report for this caller")
    disclosure.purposes.add(report.purpose)
    disclosure.events.append(f"usage:{report_id}:{outcome.value}")
    return UsageFeedback(report_id=strawberry.ID(report_id), outcome=outcome, queued=True)
