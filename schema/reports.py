"""GraphQL types of a vetting report, built from the engine's `Report`.

A finding decided by a RESTRICTED record keeps its rule, effect, source and
`until`; its `summary` and `recordRef` go through the masking policy as details
of a restricted record (HIDDEN for every role but credit_admin).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from . import vetting
from .basis import SlotKind, note_slot
from .masking import Masked, MaskRule
from .types import Purpose, SourceName, SourceStatus, SubjectRef

__all__ = ["Effect", "Finding", "Verdict", "VettingReport"]

Verdict = strawberry.enum(vetting.Verdict, name="Verdict")
Effect = strawberry.enum(vetting.Effect, name="Effect")


def _detail(finding: Finding) -> MaskRule:
    return MaskRule("free_text", "text", restricted=finding.restricted)


@strawberry.type
class Finding:
    rule_id: str
    title: str = strawberry.field(description="The rule's title, as in the rule set.")
    effect: Effect  # type: ignore[valid-type]
    legal_basis: str
    source: SourceName
    until: dt.date | None = strawberry.field(description="first free day; null when open-ended")
    disputed: bool
    restricted: bool = strawberry.field(
        description="decided by a RESTRICTED record: details below are null"
    )
    summary: str | None = strawberry.field(extensions=[Masked(_detail)])
    record_ref: str | None = strawberry.field(extensions=[Masked(_detail)])

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
        )


@strawberry.type
class VettingReport:
    subject: SubjectRef
    purpose: Purpose
    as_of: dt.date
    verdict: Verdict  # type: ignore[valid-type]
    eligible_from: dt.date | None = strawberry.field(
        description="only when INELIGIBLE; null when a BAR is open-ended"
    )
    findings: list[Finding]
    sources: list[SourceStatus]
    rule_set_version: str
    policy_version: str
    notice: str
    made_at: strawberry.Private[dt.datetime]
    id: strawberry.Private[str]

    @strawberry.field(description="fresh for every answer")
    def report_id(self, info: Info[Any, Any]) -> strawberry.ID:
        note_slot(info, SlotKind.REPORT_ID, report_id=self.id)
        return strawberry.ID(self.id)

    @strawberry.field
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
