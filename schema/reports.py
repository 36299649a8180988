"""GraphQL types of a vetting report, built from the engine's `Report`.

A finding is a value like any other: its `summary` and `recordRef` are masked
by the policy class of the record behind it, for the role and purpose asking
(an investigation's finding follows the investigations row, a sanction's or
an assessment's the civil-servant row). When that class is HIDDEN for the
asker, or the record is RESTRICTED (a detail hidden from every role but
credit_admin and the data subject), the finding still decides — rule,
effect, source, `until` — and its details are null, listed in
`extensions.privacy`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from . import vetting
from .basis import SlotKind, note_slot
from .masking import Masked, MaskRule
from .types import Purpose, SourceName, SourceStatus, SubjectRef, describe_values

__all__ = ["Effect", "Finding", "Verdict", "VettingReport", "record_class"]

Verdict = strawberry.enum(
    vetting.Verdict, name="Verdict", description="What the rule set made of a subject."
)
describe_values(
    Verdict,
    {
        "CLEAR": "No BAR or FLAG fired and every source the purpose needs answered.",
        "FLAGGED": "Something for a human to weigh: a FLAG, or a BAR on a disputed record.",
        "INELIGIBLE": "A BAR holds on the as-of date: see eligibleFrom.",
        "INCOMPLETE": "A source the purpose needs did not answer (or was stale): never CLEAR.",
    },
)
Effect = strawberry.enum(
    vetting.Effect, name="Effect", description="What a finding does to the verdict."
)
describe_values(
    Effect,
    {
        "BAR": "Makes the subject INELIGIBLE until the finding's until (FLAGGED if disputed).",
        "FLAG": "Makes the subject FLAGGED: for a human to weigh.",
        "MERIT": "Speaks for the subject (守信激励); never changes the verdict.",
    },
)


def record_class(record_ref: str) -> str:
    """The policy class of the record a finding rests on, from its reference
    ("SOURCE:kind:id"). Credit, court and procurement records have no class of
    their own (who may use them is decided row by row, before any rule runs):
    their details are free text."""
    source, kind, _ = record_ref.split(":", 2)
    if source != "ARCHIVE":
        return "free_text"
    return "investigations" if kind == "investigation" else "civil_servant"


def _detail(finding: Finding) -> MaskRule:
    return MaskRule(finding.record_class, "text", restricted=finding.restricted)


@strawberry.type(description="One rule that fired on one record.")
class Finding:
    rule_id: str = strawberry.field(description="The rule's id in the rule set, e.g. CS-01.")
    title: str = strawberry.field(description="The rule's title, as in the rule set.")
    effect: Effect = strawberry.field(  # type: ignore[valid-type]
        description=(
            "BAR (makes the subject ineligible), FLAG (for a human to weigh) or MERIT"
            " (speaks for the subject, never changes the verdict)."
        )
    )
    legal_basis: str = strawberry.field(description="The provisions the rule rests on.")
    source: SourceName = strawberry.field(description="The platform of the record.")
    until: dt.date | None = strawberry.field(description="first free day; null when open-ended")
    disputed: bool = strawberry.field(
        description=("The record is under objection: a BAR on it gives FLAGGED, never INELIGIBLE.")
    )
    restricted: bool = strawberry.field(
        description="decided by a RESTRICTED record: details below are null"
    )
    summary: str | None = strawberry.field(
        extensions=[Masked(_detail)],
        description="What the record says, in a line (hidden where the record, or its"
        " policy class, is hidden from the caller).",
    )
    record_ref: str | None = strawberry.field(
        extensions=[Masked(_detail)],
        description="Which record: SOURCE:kind:id (hidden where the record, or its"
        " policy class, is hidden from the caller).",
    )
    record_class: strawberry.Private[str]

    @classmethod
    def of(cls, finding: vetting.Finding) -> Finding:
        return cls(
            rule_id=finding.rule_id,
            title=finding.title,
            effect=finding.effect,
            legal_basis=finding.legal_basis,
            source=finding.source,
            until=finding.until,
            disputed=finding.disputed,
            restricted=finding.restricted,
            summary=finding.summary,
            record_ref=finding.record_ref,
            record_class=record_class(finding.record_ref),
        )


@strawberry.type(description="The rule set's judgement on one subject for one purpose on one date.")
class VettingReport:
    subject: SubjectRef = strawberry.field(description="Who was vetted.")
    purpose: Purpose = strawberry.field(description="What for.")
    as_of: dt.date = strawberry.field(
        description="The date judged: records in force on this day count."
    )
    verdict: Verdict = strawberry.field(  # type: ignore[valid-type]
        description="The judgement: see the values of Verdict."
    )
    eligible_from: dt.date | None = strawberry.field(
        description="only when INELIGIBLE; null when a BAR is open-ended"
    )
    findings: list[Finding] = strawberry.field(description="Each rule that fired, on which record.")
    sources: list[SourceStatus] = strawberry.field(
        description="Each platform the purpose needs: answered or not, and how fresh."
    )
    rule_set_version: str = strawberry.field(description="The version of the rule set that judged.")
    policy_version: str = strawberry.field(description="The version of the masking policy applied.")
    notice: str = strawberry.field(
        description="What the report is for: a human decides; the report informs."
    )
    made_at: strawberry.Private[dt.datetime]
    id: strawberry.Private[str]

    @strawberry.field(description="fresh for every answer")
    def report_id(self, info: Info[Any, Any]) -> strawberry.ID:
        note_slot(info, SlotKind.REPORT_ID, report_id=self.id)
        return strawberry.ID(self.id)

    @strawberry.field(description="When this answer was made.")
    def generated_at(self, info: Info[Any, Any]) -> dt.datetime:
        note_slot(info, SlotKind.NOW)
        return self.made_at

    @classmethod
    def of(
        cls,
        report: vetting.Report,
        *,
        report_id: str,
        subject: SubjectRef,
        purpose: Purpose,
        sources: list[SourceStatus],
        policy_version: str,
        generated_at: dt.datetime,
    ) -> VettingReport:
        return cls(
            id=report_id,
            subject=subject,
            purpose=purpose,
            as_of=report.as_of,
            verdict=report.verdict,
            eligible_from=report.eligible_from,
            findings=[Finding.of(finding) for finding in report.findings],
            sources=sources,
            rule_set_version=report.rule_set_version,
            policy_version=policy_version,
            made_at=generated_at,
            notice=report.notice,
        )
