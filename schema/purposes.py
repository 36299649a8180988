"""Which platforms a purpose consults for which kind of subject (minimum necessary).

The table of DOMAIN.md "Roles, purposes, sectors" (settled on 2026-12-07): any
pair not listed is not applicable (`PURPOSE_NOT_APPLICABLE`). A platform a
purpose does not consult is never asked, and its fields stay null.
"""

from __future__ import annotations

from .types import Purpose, SourceName, SubjectKind

__all__ = ["PURPOSE_SOURCES", "sources_for"]

_ALL = frozenset(SourceName)
_NO_ARCHIVE = frozenset({SourceName.CREDIT_PLATFORM, SourceName.COURT, SourceName.PROCUREMENT})
# No HONOURS rule about a person reads procurement: it is not asked (minimum
# necessary), so its absence never makes such a verdict INCOMPLETE.
_NO_PROCUREMENT = frozenset({SourceName.CREDIT_PLATFORM, SourceName.COURT, SourceName.ARCHIVE})

PURPOSE_SOURCES: dict[tuple[Purpose, SubjectKind], frozenset[SourceName]] = {
    (Purpose.CADRE_SELECTION, SubjectKind.PERSON): _ALL,
    (Purpose.HONOURS, SubjectKind.PERSON): _NO_PROCUREMENT,
    (Purpose.HONOURS, SubjectKind.ORGANIZATION): _NO_ARCHIVE,
    (Purpose.PROCUREMENT_ELIGIBILITY, SubjectKind.ORGANIZATION): _NO_ARCHIVE,
    (Purpose.AUDIT, SubjectKind.PERSON): _ALL,
    (Purpose.AUDIT, SubjectKind.ORGANIZATION): _ALL,
    (Purpose.SELF_CHECK, SubjectKind.PERSON): _ALL,
    (Purpose.SELF_CHECK, SubjectKind.ORGANIZATION): _ALL,
}


def sources_for(purpose: Purpose, kind: SubjectKind) -> frozenset[SourceName] | None:
    """The platforms to consult, or None when the purpose does not apply to the kind."""
    return PURPOSE_SOURCES.get((purpose, kind))
