"""The README's first query: the demo's GraphiQL opens with it, and a test checks
that the README shows it and that it runs on the demo dataset.

The demo dataset is anchored at 2025-06-30 (`credgate generate --as-of`), so the
query asks as of that date: asked as of today, the records planted around it
may have ended.
"""

__all__ = ["DEMO_AS_OF", "DEMO_PERSON", "FIRST_QUERY", "FIRST_QUERY_ROLE"]

DEMO_AS_OF = "2025-06-30"
# A civil servant of the demo dataset under a sanction on that date; the demo's
# data_subject token is this person's, so the README's examples fit together.
DEMO_PERSON = "211322199906275760"
FIRST_QUERY_ROLE = "hr_officer"
# Kept as the README shows it (a test compares them).
FIRST_QUERY = """\
# as hr_officer; the demo data is anchored at 2025-06-30
{
  person(idNumber: "211322199906275760", purpose: CADRE_SELECTION, asOf: "2025-06-30") {
    name idNumber birthDate
    civilServant { position sanctions { kind decisionDate inForce } }
    creditRecords { category severity publicityEnd disputed }
    enforcement { caseCode court inForce }
    sources { source ok asOf error }
  }
  vet(subject: { idNumber: "211322199906275760" }, purpose: CADRE_SELECTION,
      asOf: "2025-06-30") {
    reportId verdict eligibleFrom
    findings { ruleId title effect until legalBasis recordRef }
  }
}
"""
