"""The golden cases: planted subjects whose vetting outcome is known in advance.

Every rule of DOMAIN.md has a case where it fires ("inside"), a case on the
first free day when the rule has an `until` ("outside"), and — for rules that
rest on credit-platform records — a case where the record is under objection
("disputed": a BAR on a disputed record gives FLAGGED, never INELIGIBLE; a
MERIT stays a MERIT). MERIT rules (ME-..) never change a verdict: a CLEAR case
may name them.
Sub-cases of multi-kind rules, boundaries, overlapping bars, records that must
not fire, clean subjects and the HONOURS variants complete the set. The
expectations were derived by hand from the rules table; the table below says
how. Each case's subject is dedicated to it (or to the cases of one template):
its only data is what the template plants plus what the purpose needs to be
clean (golden_plant.py: a planted civil servant has COMPETENT assessments for
Y-5..Y-1; a planted supplier is registered ACTIVE; credit records are PUBLIC).

Notation: A = the dataset's as-of date, Y = its year; m(D, n) = D plus n
calendar months (31 Aug + 6 m = 28/29 Feb); E+1 = the day after E; 1/1 Y+1 =
1 January of Y+1; U = until, the first free day; eF = expected eligibleFrom
(only for INELIGIBLE, null when a BAR is open-ended). "outside" is always the
as-of date U itself, "lastday" U-1. Case names read RULE/VARIANT/KIND; an
"@HONOURS" subject is the same one vetted for HONOURS (variant HONOURS-...).
Rules in [brackets]; INEL = INELIGIBLE, FLAG = FLAGGED.

The table: one entry per template — planted data | cases | why.

PERSONS, CADRE_SELECTION (a planted civil servant unless noted)
CS-01..03 periods: kinds and N months: GOV_WARNING 6, GOV_DEMERIT 12,
    GOV_MAJOR_DEMERIT 18, GOV_DEMOTION 24, GOV_REMOVAL 24, PARTY_WARNING 12,
    PARTY_SERIOUS_WARNING 18, PARTY_POST_REMOVAL 24, PARTY_PROBATION-12 36,
    PARTY_PROBATION-24 48, ADMONISHMENT 6, ORG_POST_ADJUSTED 12,
    ORG_RESIGNATION_ORDERED 24, ORG_DISMISSED 24, ORG_POST_ADJUSTED-period-6 6,
    ORG_DISMISSED-period-36 36
  | sanction decided D = m(A,-3)
  | inside A → INEL [rule] eF m(D,N); outside m(D,N) → CLEAR; GOV_WARNING,
    PARTY_WARNING, ADMONISHMENT also lastday → INEL; GOV_DEMERIT, PARTY_WARNING,
    ADMONISHMENT also @HONOURS inside → INEL [rule]
  | in force on [D, m(D,N)); PARTY_PROBATION is period_months + 24; for ORG_*
    a period_months overrides. Outside days fall in Y..Y+4, whose "last three
    years" are COMPETENT or not yet assessed (a missing grade fires nothing).
CS-01 GOV_WARNING-month-end | GOV_WARNING decided 31 Aug Y-1, U = m(D,6) =
    28/29 Feb Y | lastday → INEL eF U; outside → CLEAR | months clamp.
CS-01 GOV_DISMISSAL | decided m(A,-14), status DISMISSED, no assessment from
    that year on | inside A → INEL eF null; ten-years-later m(A,120) → same;
    @HONOURS → same | permanent; missing grades fire nothing.
CS-02 PARTY_EXPULSION | decided m(A,-14) | inside A → INEL eF null | permanent.
CS-01 GOV_DEMERIT-revoked | D = m(A,-5), revoked R = m(A,-1)
  | before-revocation m(A,-3) → INEL eF R; outside R → CLEAR; not-fired A → CLEAR
  | a later change date caps until: min(m(D,12), R) = R; void from R on.
CS-01 GOV_DISMISSAL-revoked | D = m(A,-30), revoked R = m(A,-2)
  | before-revocation m(A,-6) → INEL eF R; outside R → CLEAR
  | the revocation gives the permanent bar an end.
CS-04 open | investigation opened O = m(A,-2), open
  | inside A → INEL eF null; before-opened O-1 → CLEAR; @HONOURS → INEL eF null
  | open-ended; in force from opened_date.
CS-04 closed | opened m(A,-10), closed C = m(A,-2)
  | before-closure m(A,-5) → INEL eF C; outside C → CLEAR | closure = first free day.
CS-05 BASICALLY_COMPETENT, INCOMPETENT | that grade for Y-1
  | inside A → INEL [CS-05] eF 1/1 Y+1; lastday 31 Dec Y (BASICALLY_COMPETENT);
    outside 1/1 Y+1 → FLAG [CS-06]
  | on 1/1 Y+1 the grade is asOf.year-2: CS-05 ends and CS-06 fires instead.
CS-06 Y-1-NOT_GRADED, Y-2-BASICALLY_COMPETENT, Y-2-NOT_GRADED, Y-3-INCOMPETENT
  | that grade for that year | inside A → FLAG [CS-06]; Y-3-INCOMPETENT also
    lastday 31 Dec Y → FLAG, outside 1/1 Y+1 → CLEAR
  | NOT_GRADED is no CS-05 grade; Y-3 leaves the window on 1/1 Y+1.
CS-06 Y-4-INCOMPETENT, Y-1-missing | that grade; no Y-1 assessment
  | not-fired A → CLEAR | beyond three years; a missing grade fires nothing.
CS-07 CONCEALMENT | check C = m(A,-4)
  | inside A → INEL eF m(C,12); lastday; outside m(C,12) → CLEAR; before-check
    C-1 → CLEAR; @HONOURS A → CLEAR | [C, m(C,12)); not an HONOURS rule.
CS-07 MINOR_OMISSION, CONSISTENT | check C = m(A,-4)
  | MINOR_OMISSION inside A → FLAG [CS-07], outside m(C,12) → CLEAR;
    CONSISTENT not-fired A → CLEAR | a FLAG has no eligibleFrom.
CS-08 term | entry behaviour 2, published P = m(A,-8), listingEnd E = m(P,24)-1
  | inside A → INEL eF E+1; lastday E; outside E+1 → CLEAR; before-published
    P-1 → CLEAR; @HONOURS inside → INEL | inclusive end E → until E+1.
CS-08 open-ended | behaviour 1, P = m(A,-5), no listingEnd
  | inside A → INEL eF null | no fixed term.
CS-08 removed | behaviour 1, P = m(A,-20), REMOVED on R = m(A,-2)
  | before-removal m(A,-6) → INEL eF R; outside R → CLEAR; not-fired A → CLEAR
  | a removal after asOf caps until at R.
CS-09 SERIOUS_DISHONESTY | SERIOUS, D = m(A,-5), publicity_end E = m(D,36)-1
  | inside A → INEL eF E+1; lastday E; outside E+1 → CLEAR; @HONOURS → INEL
  | in publicity on [D, E].
CS-09 disputed | the same, OBJECTION_PENDING | A → FLAG [CS-09] eF null, also
    @HONOURS | a BAR on a disputed record flags.
CS-09 REPAIRED, REVOKED | the same with that status | not-fired A → CLEAR.
CS-09 ADMIN_PENALTY-SERIOUS | SERIOUS fine, D = m(A,-2), 36 m | inside A →
    INEL [CS-09] eF E+1 | any SERIOUS record in publicity.
CS-09 RESTRICTED-ORG_HR | as SERIOUS_DISHONESTY, RESTRICTED, share_scope
    [ORG_HR, CREDIT_OFFICE] | inside A → INEL eF E+1 | both roles that may ask
    for CADRE_SELECTION decide on it (hr_officer by scope, credit_admin always).
CS-10 ADMIN_PENALTY | GENERAL fine 2000.00, D = m(A,-3), publicity 12 m
  | inside A → FLAG [CS-10]; outside E+1 → CLEAR; disputed → FLAG [CS-10];
    @HONOURS inside → FLAG | a disputed FLAG is still only a FLAG.
CS-10 BROKEN_COMMITMENT | GENERAL, D = m(A,-2), 12 m | inside A → FLAG.
CS-10 ADMIN_PENALTY-REPAIRED, RED_LIST | REPAIRED penalty; red list (severity
    null) | not-fired A → CLEAR (the red list: CLEAR [ME-01]) | invisible; red
    lists never bar or flag.
CS-10 consumption-restriction | ACTIVE restriction issued I = m(A,-2)
  | inside A → FLAG; before-issued I-1 → CLEAR; @HONOURS inside → FLAG.
CS-10 restriction-LIFTED | LIFTED, issued m(A,-8) | not-fired A → CLEAR.
CS-11 legal-representative, shareholder | of an ACTIVE planted supplier
  | inside A → FLAG [CS-11]; legal representative @HONOURS → CLEAR
  | CS-11 is no HONOURS rule.
CS-11 legal-representative-SUSPENDED, -CANCELLED | not-fired A → CLEAR.
CS-12 GOV_DISHONESTY-SERIOUS | SERIOUS, D = m(A,-4), 36 m
  | inside A → INEL [CS-09, CS-12] eF E+1; outside E+1 → CLEAR; disputed →
    FLAG [CS-09, CS-12]; @HONOURS inside → INEL [CS-09, CS-12]
  | the one record also fires CS-09, being SERIOUS.
CS-12 GOV_DISHONESTY-GENERAL | GENERAL, D = m(A,-4), 36 m | inside A → INEL
    [CS-10, CS-12] eF E+1, also @HONOURS | GENERAL in publicity also flags.
OVERLAP CS-01+CS-02 | GOV_DEMERIT m(A,-2), PARTY_SERIOUS_WARNING m(A,-5)
  | A → INEL eF the later of the two untils | the longest bar governs.
OVERLAP CS-01+CS-04 | GOV_WARNING and an open investigation, both m(A,-1)
  | A → INEL eF null | an open-ended bar nulls eligibleFrom.
OVERLAP CS-01+CS-09-disputed | GOV_WARNING D = m(A,-2); disputed SERIOUS
    record decided m(A,-1), 36 m | A → INEL [CS-01, CS-09] eF m(D,6)
  | only undisputed BARs count for eligibleFrom.
OVERLAP CS-03+CS-05 | ADMONISHMENT D = m(A,-1); BASICALLY_COMPETENT Y-1
  | A → INEL eF max(m(D,6), 1/1 Y+1).
OVERLAP CS-01+CS-10 | GOV_WARNING D = m(A,-2); GENERAL penalty m(A,-3)
  | A → INEL [CS-01, CS-10] eF m(D,6) | a FLAG leaves eligibleFrom alone.
OVERLAP CS-07+CS-09-disputed | MINOR_OMISSION check m(A,-4); disputed SERIOUS
    record | A → FLAG [CS-07, CS-09] | no undisputed BAR.
CLEAR | a plain civil servant (also @HONOURS); one with all EXCELLENT (also
    @HONOURS) | A → CLEAR; the excellent one CLEAR [ME-03].
CS-00 not-civil-servant | a person the archive does not know (registry line
    only) | inside A → FLAG [CS-00], also @HONOURS; with a SERIOUS record →
    INEL [CS-00, CS-09] eF E+1; with a red list @HONOURS → FLAG [CS-00, ME-01];
    a planted civil servant not-fired → CLEAR
  | the archive answered and knows no such person: nothing could be checked,
    so never CLEAR. (The archive failing is INCOMPLETE: no golden data.)

PERSONS AND ORGANISATIONS, MERIT (never changes a verdict: CLEAR [ME-..])
ME-01 RED_LIST | red list D = m(A,-6), 36 m, E = m(D,36)-1 | person: inside A,
    lastday E → CLEAR [ME-01]; outside E+1 → CLEAR; @HONOURS; disputed → CLEAR
    [ME-01]; REPAIRED not-fired → CLEAR; supplier (PROCUREMENT_ELIGIBILITY)
    inside, outside; unit @HONOURS inside
  | until = publicity_end + 1; a disputed MERIT is still no FLAG.
ME-02 honour | cs_honour of Y-3 | inside A, lastday 31 Dec Y → CLEAR [ME-02];
    outside 1/1 Y+1 → CLEAR; @HONOURS | year ≥ asOf.year − 3.
ME-02 two-honours | Y-3 and Y-1 | lastday 31 Dec Y+2 → CLEAR [ME-02];
    outside 1/1 Y+3 | until follows the latest honour: 1/1 (Y-1)+4.
ME-02 honour-Y-4 | not-fired A → CLEAR | beyond three years.
ME-03 EXCELLENT-Y-3..Y-1 | EXCELLENT for Y-3..Y-1 | inside A, lastday 31 Dec
    Y → CLEAR [ME-03]; outside 1/1 Y+1 → CLEAR (Y not yet assessed); @HONOURS
  | EXCELLENT-Y-3..Y-2 (COMPETENT Y-1) not-fired → CLEAR.
OVERLAP CS-09+ME-01 | red list and SERIOUS record | A → INEL [CS-09, ME-01] eF E+1.
OVERLAP PE-02+ME-01 | SUSPENDED supplier with a red list | A → FLAG [ME-01, PE-02].
OVERLAP CS-01+ME-02 | honour Y-1; GOV_WARNING D = m(A,-2) | A → INEL eF m(D,6).
OVERLAP CS-10+ME-03 | EXCELLENT Y-3..Y-1; GENERAL record @HONOURS | A → FLAG.

PERSONS, HONOURS (CS-00 as FLAG; CS-01..04, 08, 09, 12 as BAR; CS-10 as
FLAG; HN-01; not the procurement system)
HN-01 BASICALLY_COMPETENT, INCOMPETENT | that grade for Y-1 (the CS-05
    subjects) | inside A → INEL [HN-01] eF 1/1 Y+1; BASICALLY_COMPETENT also
    lastday 31 Dec Y and outside 1/1 Y+1 → CLEAR
  | on 1/1 Y+1 "last year" is Y, not assessed yet; CS-06 is no HONOURS rule.
HN-01 NOT_GRADED | NOT_GRADED for Y-1 | inside A, lastday 31 Dec Y → FLAG
    [HN-01]; outside 1/1 Y+1 → CLEAR | not graded has innocent causes.
HN-01 Y-2-BASICALLY_COMPETENT, Y-1-missing | not-fired A → CLEAR | Y-1 only.
OVERLAP CS-01+HN-01 | GOV_DEMERIT D = m(A,-2); BASICALLY_COMPETENT Y-1
  | A → INEL eF max(m(D,12), 1/1 Y+1).

ORGANISATIONS, HONOURS (a planted town government)
HO-01 GOV_DISHONESTY | decided D = max(1/1 Y, m(A,-2)), 36 m
  | inside A → INEL eF 1/1 Y+1; lastday 31 Dec Y; outside 1/1 Y+1 → CLEAR;
    disputed (a twin, OBJECTION_PENDING) → FLAG [HO-01]
  | decided in the honours year, barred to its end.
HO-01 not fired | GOV_DISHONESTY of 20 Nov Y-1; REPAIRED GOV_DISHONESTY of Y;
    ADMIN_PENALTY of Y | A → CLEAR | other year; invisible; other category.
HO-02 term | entry behaviour 6, P = m(A,-8), E = m(P,24)-1
  | inside A → INEL eF E+1; lastday E; outside E+1 → CLEAR | like CS-08.
HO-02 open-ended, removed | behaviour 1 without end; REMOVED R = m(A,-2),
    published m(A,-14) | open-ended A → INEL eF null; before-removal m(A,-6)
    → INEL eF R; removed not-fired A → CLEAR.
HO-03 LATE_PAYMENT, BREACH | open, due m(A,-4) | inside A → FLAG [HO-03].
HO-03 LATE_PAYMENT-resolved | due m(A,-8), resolved R = m(A,-2)
  | before-resolution m(A,-5) → FLAG; outside R → CLEAR | open until resolved.
HO-03 not fired | open ACCEPTANCE_DELAY; LATE_PAYMENT due m(A,1)
  | A → CLEAR | other type; in force from DueDate only.
OVERLAP HO-01+HO-02 | the HO-01 record with an open-ended listing / a term
    listing | A → INEL eF null / max(1/1 Y+1, E+1).
OVERLAP HO-02+HO-03 | term listing; open LATE_PAYMENT | A → INEL eF E+1.
CLEAR | a unit with no data | A → CLEAR.

ORGANISATIONS, PROCUREMENT_ELIGIBILITY (a planted ACTIVE supplier unless noted)
PE-01 debarment | StartDate S = m(A,-6), EndDate E = m(S,24)-1
  | inside A → INEL eF E+1; lastday E; outside E+1 → CLEAR; before-start S-1
    → CLEAR | S ≤ asOf ≤ E.
PE-01 debarment-expired | S = m(A,-40), E = m(S,24)-1 | not-fired A → CLEAR.
PE-02 SUSPENDED, CANCELLED | inside A → FLAG [PE-02] | checked with the
    registry (财库〔2019〕38号).
PE-02 NOT_REGISTERED (a company never registered) | not-fired A → CLEAR
  | registration may not be a precondition for taking part.
PE-03 violation | PenaltyDate V = m(A,-10)
  | inside A → INEL eF m(V,36); lastday; outside m(V,36) → CLEAR.
PE-03 credit-SUSPENSION | ADMIN_PENALTY SUSPENSION, D = m(A,-8), publicity
    36 m | inside A → INEL eF min(m(D,36), E+1) = m(D,36); outside → CLEAR;
    disputed → FLAG [PE-03]; REPAIRED not-fired → CLEAR
  | a disputed BAR counts as fired, so no PE-06 either.
PE-03 credit-LICENCE_REVOCATION | D = m(A,-5), 36 m | inside A → INEL eF m(D,36).
PE-03 credit-fine-2000000.00 | ADMIN_PENALTY fine 2,000,000.00, D = m(A,-3),
    publicity 12 m | inside A → INEL eF min(m(D,36), E+1) = m(D,12); outside
    m(D,12) → CLEAR | at the threshold; until capped at publicity_end + 1.
PE-03 fine-below-threshold | fine 1,999,999.99, 12 m | A → FLAG [PE-06]
  | below the threshold the record fires nothing but PE-06.
PE-04 term, open-ended, removed | as HO-02 (term with behaviour 3)
  | as HO-02 | like CS-08.
PE-05 SERIOUS_DISHONESTY | D = m(A,-6), 36 m
  | inside A → INEL eF E+1; lastday; outside E+1 → CLEAR; disputed → FLAG
    [PE-05]; REVOKED not-fired → CLEAR.
PE-05 TAX_VIOLATION | D = m(A,-4), 36 m, a fine | inside A → INEL eF E+1;
    outside E+1 → CLEAR | not an ADMIN_PENALTY: PE-03 ignores its fine.
PE-06 ADMIN_PENALTY-WARNING | GENERAL warning, D = m(A,-1), publicity 3 m
  | inside A → FLAG; outside E+1 → CLEAR; disputed → FLAG [PE-06]; REPAIRED
    not-fired → CLEAR | in force, and it fired nothing else.
PE-06 BROKEN_COMMITMENT | GENERAL, 12 m | inside A → FLAG [PE-06].
PE-06 RED_LIST | red list | not-fired A → CLEAR | red lists are excluded.
OVERLAP PE-01+PE-01 | debarments from m(A,-10) for 12 m and m(A,-4) for 36 m
  | A → INEL [PE-01] eF the later EndDate + 1.
OVERLAP PE-01+PE-03 | debarment m(A,-6) for 12 m; violation V = m(A,-6)
  | A → INEL eF max(m(S,12), m(V,36)).
OVERLAP PE-01+PE-02 | SUSPENDED, debarment S = m(A,-6) for 12 m | A → INEL
    [PE-01, PE-02] eF m(S,12) | PE-02 only flags.
OVERLAP PE-01+PE-05-disputed | debarment S = m(A,-3) for 12 m; disputed
    SERIOUS_DISHONESTY m(A,-2), 36 m | A → INEL [PE-01, PE-05] eF m(S,12)
  | the disputed bar is longer but does not count.
OVERLAP PE-04+PE-06 | open-ended listing; warning | A → INEL eF null.
CLEAR | a supplier with no data; one with only a red list | A → CLEAR (the
    red list: CLEAR [ME-01]).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .audit_cases import AuditGolden, plant_audit_cases
from .credit import ALL_SCOPES
from .dates import ONE_DAY, add_months
from .golden_plant import CADRE, HONOURS, PROCUREMENT, GoldenCase, Planter, Servant
from .organisations import Org
from .world import World

__all__ = ["RULES", "GoldenCase", "GoldenData", "build_golden"]

# rule id -> (has an `until`, rests on credit-platform records)
RULES: dict[str, tuple[bool, bool]] = {
    "CS-00": (False, False),
    "CS-01": (True, False),
    "CS-02": (True, False),
    "CS-03": (True, False),
    "CS-04": (False, False),
    "CS-05": (True, False),
    "CS-06": (False, False),
    "CS-07": (True, False),
    "CS-08": (True, False),
    "CS-09": (True, True),
    "CS-10": (False, True),
    "CS-11": (False, False),
    "CS-12": (True, True),
    "HN-01": (True, False),
    "HO-01": (True, True),
    "HO-02": (True, False),
    "HO-03": (False, False),
    "PE-01": (True, False),
    "PE-02": (False, False),
    "PE-03": (True, True),
    "PE-04": (True, False),
    "PE-05": (True, True),
    "PE-06": (False, True),
    "ME-01": (True, True),
    "ME-02": (True, False),
    "ME-03": (True, False),
}


@dataclass(frozen=True)
class GoldenData:
    """The planted rows, as (dataset file, row) in writing order, the cases, and
    what the auditors' queries must find (audit_cases.py)."""

    rows: tuple[tuple[str, dict[str, Any]], ...]
    cases: tuple[GoldenCase, ...]
    audit: AuditGolden


def build_golden(world: World) -> GoldenData:
    """Plant every golden case of the table above, then the audit cases."""
    plant = Planter(world)
    for template in (
        _sanctions,
        _permanent_and_revoked,
        _investigations,
        _assessments,
        _matters_checks,
        _court_persons,
        _credit_persons,
        _business_roles,
        _person_overlaps,
        _person_clear,
        _unknown_persons,
        _merits,
        _unit_honours,
        _debarments_and_registration,
        _procurement_penalties,
        _court_and_credit_suppliers,
        _supplier_overlaps,
    ):
        template(plant)
    audit = plant_audit_cases(plant)  # last: the cases above keep their identities
    return GoldenData(tuple(plant.rows), tuple(plant.cases), audit)


# -- persons: CADRE_SELECTION and HONOURS ------------------------------------

_PERIOD_KINDS = (
    # rule, kind, months, period_months, lastday, also under HONOURS
    ("CS-01", "GOV_WARNING", 6, None, True, False),
    ("CS-01", "GOV_DEMERIT", 12, None, False, True),
    ("CS-01", "GOV_MAJOR_DEMERIT", 18, None, False, False),
    ("CS-01", "GOV_DEMOTION", 24, None, False, False),
    ("CS-01", "GOV_REMOVAL", 24, None, False, False),
    ("CS-02", "PARTY_WARNING", 12, None, True, True),
    ("CS-02", "PARTY_SERIOUS_WARNING", 18, None, False, False),
    ("CS-02", "PARTY_POST_REMOVAL", 24, None, False, False),
    ("CS-02", "PARTY_PROBATION", 36, 12, False, False),
    ("CS-02", "PARTY_PROBATION", 48, 24, False, False),
    ("CS-03", "ADMONISHMENT", 6, None, True, True),
    ("CS-03", "ORG_POST_ADJUSTED", 12, None, False, False),
    ("CS-03", "ORG_RESIGNATION_ORDERED", 24, None, False, False),
    ("CS-03", "ORG_DISMISSED", 24, None, False, False),
    ("CS-03", "ORG_POST_ADJUSTED", 6, 6, False, False),
    ("CS-03", "ORG_DISMISSED", 36, 36, False, False),
)


def _sanctions(p: Planter) -> None:
    for rule, kind, months, period, lastday, honours in _PERIOD_KINDS:
        variant = kind
        if period is not None:
            variant += f"-{period}" if kind == "PARTY_PROBATION" else f"-period-{period}"
        s = p.servant()
        decided = p.m(-3)
        p.sanction(s, kind, decided, period)
        until = add_months(decided, months)
        p.bar(f"{rule}/{variant}/inside", s, CADRE, p.A, rule, until)
        if lastday:
            p.bar(f"{rule}/{variant}/lastday", s, CADRE, until - ONE_DAY, rule, until)
        p.clear(f"{rule}/{variant}/outside", s, CADRE, until)
        if honours:
            p.bar(f"{rule}/HONOURS-{variant}/inside", s, HONOURS, p.A, rule, until)

    s = p.servant()
    decided = dt.date(p.Y - 1, 8, 31)
    p.sanction(s, "GOV_WARNING", decided)
    until = add_months(decided, 6)  # 28 or 29 February of Y
    p.bar("CS-01/GOV_WARNING-month-end/lastday", s, CADRE, until - ONE_DAY, "CS-01", until)
    p.clear("CS-01/GOV_WARNING-month-end/outside", s, CADRE, until)


def _permanent_and_revoked(p: Planter) -> None:
    decided = p.m(-14)
    gone = {year: None for year in range(decided.year, p.Y)}
    s = p.servant(gone, status="DISMISSED")
    p.sanction(s, "GOV_DISMISSAL", decided)
    p.bar("CS-01/GOV_DISMISSAL/inside", s, CADRE, p.A, "CS-01")
    p.bar("CS-01/GOV_DISMISSAL/ten-years-later", s, CADRE, p.m(120), "CS-01")
    p.bar("CS-01/HONOURS-GOV_DISMISSAL/inside", s, HONOURS, p.A, "CS-01")

    s = p.servant()
    p.sanction(s, "PARTY_EXPULSION", p.m(-14))
    p.bar("CS-02/PARTY_EXPULSION/inside", s, CADRE, p.A, "CS-02")

    s = p.servant()
    revoked = p.m(-1)
    p.sanction(s, "GOV_DEMERIT", p.m(-5), revoked=revoked)
    p.bar("CS-01/GOV_DEMERIT-revoked/before-revocation", s, CADRE, p.m(-3), "CS-01", revoked)
    p.clear("CS-01/GOV_DEMERIT-revoked/outside", s, CADRE, revoked)
    p.clear("CS-01/GOV_DEMERIT-revoked/not-fired", s, CADRE, p.A)

    s = p.servant()
    revoked = p.m(-2)
    p.sanction(s, "GOV_DISMISSAL", p.m(-30), revoked=revoked)
    p.bar("CS-01/GOV_DISMISSAL-revoked/before-revocation", s, CADRE, p.m(-6), "CS-01", revoked)
    p.clear("CS-01/GOV_DISMISSAL-revoked/outside", s, CADRE, revoked)


def _investigations(p: Planter) -> None:
    s = p.servant()
    opened = p.m(-2)
    p.investigation(s, opened, None)
    p.bar("CS-04/open/inside", s, CADRE, p.A, "CS-04")
    p.clear("CS-04/open/before-opened", s, CADRE, opened - ONE_DAY)
    p.bar("CS-04/HONOURS-open/inside", s, HONOURS, p.A, "CS-04")

    s = p.servant()
    closed = p.m(-2)
    p.investigation(s, p.m(-10), closed)
    p.bar("CS-04/closed/before-closure", s, CADRE, p.m(-5), "CS-04", closed)
    p.clear("CS-04/closed/outside", s, CADRE, closed)


def _assessments(p: Planter) -> None:
    y = p.Y
    next_year = p.new_year()
    for grade in ("BASICALLY_COMPETENT", "INCOMPETENT"):
        s = p.servant({y - 1: grade})
        p.bar(f"CS-05/{grade}/inside", s, CADRE, p.A, "CS-05", next_year)
        if grade == "BASICALLY_COMPETENT":
            p.bar(f"CS-05/{grade}/lastday", s, CADRE, dt.date(y, 12, 31), "CS-05", next_year)
        # On 1/1 Y+1 the grade is two years back: CS-06 takes over from CS-05.
        p.flag(f"CS-05/{grade}/outside", s, CADRE, next_year, "CS-06")
        p.bar(f"HN-01/{grade}/inside", s, HONOURS, p.A, "HN-01", next_year)
        if grade == "BASICALLY_COMPETENT":
            p.bar(f"HN-01/{grade}/lastday", s, HONOURS, dt.date(y, 12, 31), "HN-01", next_year)
            p.clear(f"HN-01/{grade}/outside", s, HONOURS, next_year)

    s = p.servant({y - 1: "NOT_GRADED"})
    p.flag("CS-06/Y-1-NOT_GRADED/inside", s, CADRE, p.A, "CS-06")
    p.flag("HN-01/NOT_GRADED/inside", s, HONOURS, p.A, "HN-01")
    p.flag("HN-01/NOT_GRADED/lastday", s, HONOURS, dt.date(y, 12, 31), "HN-01")
    p.clear("HN-01/NOT_GRADED/outside", s, HONOURS, next_year)

    s = p.servant({y - 2: "BASICALLY_COMPETENT"})
    p.flag("CS-06/Y-2-BASICALLY_COMPETENT/inside", s, CADRE, p.A, "CS-06")
    p.clear("HN-01/Y-2-BASICALLY_COMPETENT/not-fired", s, HONOURS, p.A)

    s = p.servant({y - 2: "NOT_GRADED"})
    p.flag("CS-06/Y-2-NOT_GRADED/inside", s, CADRE, p.A, "CS-06")

    s = p.servant({y - 3: "INCOMPETENT"})
    p.flag("CS-06/Y-3-INCOMPETENT/inside", s, CADRE, p.A, "CS-06")
    p.flag("CS-06/Y-3-INCOMPETENT/lastday", s, CADRE, dt.date(y, 12, 31), "CS-06")
    p.clear("CS-06/Y-3-INCOMPETENT/outside", s, CADRE, next_year)

    s = p.servant({y - 4: "INCOMPETENT"})
    p.clear("CS-06/Y-4-INCOMPETENT/not-fired", s, CADRE, p.A)

    s = p.servant({y - 1: None})
    p.clear("CS-06/Y-1-missing/not-fired", s, CADRE, p.A)
    p.clear("HN-01/Y-1-missing/not-fired", s, HONOURS, p.A)


def _matters_checks(p: Planter) -> None:
    s = p.servant()
    checked = p.m(-4)
    until = add_months(checked, 12)
    p.check(s, checked, "CONCEALMENT")
    p.bar("CS-07/CONCEALMENT/inside", s, CADRE, p.A, "CS-07", until)
    p.bar("CS-07/CONCEALMENT/lastday", s, CADRE, until - ONE_DAY, "CS-07", until)
    p.clear("CS-07/CONCEALMENT/outside", s, CADRE, until)
    p.clear("CS-07/CONCEALMENT/before-check", s, CADRE, checked - ONE_DAY)
    p.clear("CS-07/HONOURS-CONCEALMENT/not-fired", s, HONOURS, p.A)

    s = p.servant()
    p.check(s, checked, "MINOR_OMISSION")
    p.flag("CS-07/MINOR_OMISSION/inside", s, CADRE, p.A, "CS-07")
    p.clear("CS-07/MINOR_OMISSION/outside", s, CADRE, until)

    s = p.servant()
    p.check(s, checked, "CONSISTENT")
    p.clear("CS-07/CONSISTENT/not-fired", s, CADRE, p.A)


def _court_persons(p: Planter) -> None:
    s = p.servant()
    published = p.m(-8)
    end = add_months(published, 24) - ONE_DAY
    p.listing(s.person.subject, published, behaviour=2, listing_end=end)
    p.bar("CS-08/term/inside", s, CADRE, p.A, "CS-08", end + ONE_DAY)
    p.bar("CS-08/term/lastday", s, CADRE, end, "CS-08", end + ONE_DAY)
    p.clear("CS-08/term/outside", s, CADRE, end + ONE_DAY)
    p.clear("CS-08/term/before-published", s, CADRE, published - ONE_DAY)
    p.bar("CS-08/HONOURS-term/inside", s, HONOURS, p.A, "CS-08", end + ONE_DAY)

    s = p.servant()
    p.listing(s.person.subject, p.m(-5), behaviour=1, listing_end=None)
    p.bar("CS-08/open-ended/inside", s, CADRE, p.A, "CS-08")

    s = p.servant()
    removed = p.m(-2)
    p.listing(s.person.subject, p.m(-20), behaviour=1, listing_end=None, removed=removed)
    p.bar("CS-08/removed/before-removal", s, CADRE, p.m(-6), "CS-08", removed)
    p.clear("CS-08/removed/outside", s, CADRE, removed)
    p.clear("CS-08/removed/not-fired", s, CADRE, p.A)


def _credit_persons(p: Planter) -> None:
    def serious(
        status: str = "EFFECTIVE",
        disclosure: str = "PUBLIC",
        scope: tuple[str, ...] = ALL_SCOPES,
    ) -> tuple[Servant, dt.date]:
        s = p.servant()
        subject = s.person.subject
        end = p.credit(
            subject,
            "SERIOUS_DISHONESTY",
            p.m(-5),
            36,
            status=status,
            penalties=("OTHER",),
            disclosure=disclosure,
            scope=scope,
        )
        return s, end + ONE_DAY

    s, until = serious()
    p.bar("CS-09/SERIOUS_DISHONESTY/inside", s, CADRE, p.A, "CS-09", until)
    p.bar("CS-09/SERIOUS_DISHONESTY/lastday", s, CADRE, until - ONE_DAY, "CS-09", until)
    p.clear("CS-09/SERIOUS_DISHONESTY/outside", s, CADRE, until)
    p.bar("CS-09/HONOURS-SERIOUS_DISHONESTY/inside", s, HONOURS, p.A, "CS-09", until)
    s, _ = serious("OBJECTION_PENDING")
    p.flag("CS-09/SERIOUS_DISHONESTY/disputed", s, CADRE, p.A, "CS-09")
    p.flag("CS-09/HONOURS-SERIOUS_DISHONESTY/disputed", s, HONOURS, p.A, "CS-09")
    for status in ("REPAIRED", "REVOKED"):
        s, _ = serious(status)
        p.clear(f"CS-09/SERIOUS_DISHONESTY-{status}/not-fired", s, CADRE, p.A)
    s, until = serious(disclosure="RESTRICTED", scope=("ORG_HR", "CREDIT_OFFICE"))
    p.bar("CS-09/RESTRICTED-ORG_HR/inside", s, CADRE, p.A, "CS-09", until)
    s = p.servant()
    end = p.credit(
        s.person.subject, "ADMIN_PENALTY", p.m(-2), 36, penalties=("FINE",), fine_cents=8_000_000
    )
    p.bar("CS-09/ADMIN_PENALTY-SERIOUS/inside", s, CADRE, p.A, "CS-09", end + ONE_DAY)

    def general(status: str = "EFFECTIVE") -> tuple[Servant, dt.date]:
        s = p.servant()
        end = p.credit(
            s.person.subject,
            "ADMIN_PENALTY",
            p.m(-3),
            12,
            severity="GENERAL",
            status=status,
            penalties=("FINE",),
            fine_cents=200_000,
        )
        return s, end

    s, end = general()
    p.flag("CS-10/ADMIN_PENALTY/inside", s, CADRE, p.A, "CS-10")
    p.clear("CS-10/ADMIN_PENALTY/outside", s, CADRE, end + ONE_DAY)
    p.flag("CS-10/HONOURS-ADMIN_PENALTY/inside", s, HONOURS, p.A, "CS-10")
    s, _ = general("OBJECTION_PENDING")
    p.flag("CS-10/ADMIN_PENALTY/disputed", s, CADRE, p.A, "CS-10")
    s, _ = general("REPAIRED")
    p.clear("CS-10/ADMIN_PENALTY-REPAIRED/not-fired", s, CADRE, p.A)
    s = p.servant()
    p.credit(s.person.subject, "BROKEN_COMMITMENT", p.m(-2), 12, severity="GENERAL")
    p.flag("CS-10/BROKEN_COMMITMENT/inside", s, CADRE, p.A, "CS-10")
    s = p.servant()
    p.credit(s.person.subject, "RED_LIST", p.m(-6), 36, severity=None)
    p.clear("CS-10/RED_LIST/not-fired", s, CADRE, p.A, "ME-01")

    s = p.servant()
    issued = p.m(-2)
    p.restriction(s.person.subject, issued, "ACTIVE")
    p.flag("CS-10/consumption-restriction/inside", s, CADRE, p.A, "CS-10")
    p.clear("CS-10/consumption-restriction/before-issued", s, CADRE, issued - ONE_DAY)
    p.flag("CS-10/HONOURS-consumption-restriction/inside", s, HONOURS, p.A, "CS-10")
    s = p.servant()
    p.restriction(s.person.subject, p.m(-8), "LIFTED")
    p.clear("CS-10/restriction-LIFTED/not-fired", s, CADRE, p.A)

    for status in ("EFFECTIVE", "OBJECTION_PENDING"):
        s = p.servant()
        end = p.credit(s.person.subject, "GOV_DISHONESTY", p.m(-4), 36, status=status)
        if status == "EFFECTIVE":
            rules = "CS-09 CS-12"
            p.bar("CS-12/GOV_DISHONESTY-SERIOUS/inside", s, CADRE, p.A, rules, end + ONE_DAY)
            p.clear("CS-12/GOV_DISHONESTY-SERIOUS/outside", s, CADRE, end + ONE_DAY)
            p.bar(
                "CS-12/HONOURS-GOV_DISHONESTY-SERIOUS/inside", s, HONOURS, p.A, rules, end + ONE_DAY
            )
        else:
            p.flag("CS-12/GOV_DISHONESTY-SERIOUS/disputed", s, CADRE, p.A, "CS-09 CS-12")
    s = p.servant()
    end = p.credit(s.person.subject, "GOV_DISHONESTY", p.m(-4), 36, severity="GENERAL")
    rules = "CS-10 CS-12"
    p.bar("CS-12/GOV_DISHONESTY-GENERAL/inside", s, CADRE, p.A, rules, end + ONE_DAY)
    p.bar("CS-12/HONOURS-GOV_DISHONESTY-GENERAL/inside", s, HONOURS, p.A, rules, end + ONE_DAY)


def _business_roles(p: Planter) -> None:
    s = p.servant()
    p.supplier(representative=s.person)
    p.flag("CS-11/legal-representative/inside", s, CADRE, p.A, "CS-11")
    p.clear("CS-11/HONOURS-legal-representative/not-fired", s, HONOURS, p.A)
    s = p.servant()
    p.supplier(shareholders=[s.person])
    p.flag("CS-11/shareholder/inside", s, CADRE, p.A, "CS-11")
    for status in ("SUSPENDED", "CANCELLED"):
        s = p.servant()
        p.supplier(status, representative=s.person)
        p.clear(f"CS-11/legal-representative-{status}/not-fired", s, CADRE, p.A)


def _person_overlaps(p: Planter) -> None:
    s = p.servant()
    first, second = p.m(-2), p.m(-5)
    p.sanction(s, "GOV_DEMERIT", first)
    p.sanction(s, "PARTY_SERIOUS_WARNING", second)
    latest = max(add_months(first, 12), add_months(second, 18))
    p.bar("OVERLAP/CS-01+CS-02/inside", s, CADRE, p.A, "CS-01 CS-02", latest)

    s = p.servant()
    p.sanction(s, "GOV_WARNING", p.m(-1))
    p.investigation(s, p.m(-1), None)
    p.bar("OVERLAP/CS-01+CS-04/inside", s, CADRE, p.A, "CS-01 CS-04")

    s = p.servant()
    decided = p.m(-2)
    p.sanction(s, "GOV_WARNING", decided)
    p.credit(
        s.person.subject,
        "SERIOUS_DISHONESTY",
        p.m(-1),
        36,
        status="OBJECTION_PENDING",
        penalties=("OTHER",),
    )
    p.bar(
        "OVERLAP/CS-01+CS-09-disputed/inside", s, CADRE, p.A, "CS-01 CS-09", add_months(decided, 6)
    )

    s = p.servant({p.Y - 1: "BASICALLY_COMPETENT"})
    decided = p.m(-1)
    p.sanction(s, "ADMONISHMENT", decided)
    latest = max(add_months(decided, 6), p.new_year())
    p.bar("OVERLAP/CS-03+CS-05/inside", s, CADRE, p.A, "CS-03 CS-05", latest)

    s = p.servant()
    decided = p.m(-2)
    p.sanction(s, "GOV_WARNING", decided)
    p.credit(
        s.person.subject, "ADMIN_PENALTY", p.m(-3), 12, severity="GENERAL", penalties=("WARNING",)
    )
    p.bar("OVERLAP/CS-01+CS-10/inside", s, CADRE, p.A, "CS-01 CS-10", add_months(decided, 6))

    s = p.servant()
    p.check(s, p.m(-4), "MINOR_OMISSION")
    p.credit(
        s.person.subject,
        "SERIOUS_DISHONESTY",
        p.m(-1),
        36,
        status="OBJECTION_PENDING",
        penalties=("OTHER",),
    )
    p.flag("OVERLAP/CS-07+CS-09-disputed/inside", s, CADRE, p.A, "CS-07 CS-09")

    s = p.servant({p.Y - 1: "BASICALLY_COMPETENT"})
    decided = p.m(-2)
    p.sanction(s, "GOV_DEMERIT", decided)
    latest = max(add_months(decided, 12), p.new_year())
    p.bar("OVERLAP/CS-01+HN-01/inside", s, HONOURS, p.A, "CS-01 HN-01", latest)


def _person_clear(p: Planter) -> None:
    s = p.servant()
    p.clear("CLEAR/CADRE_SELECTION/clean", s, CADRE, p.A)
    p.clear("CLEAR/HONOURS-person/clean", s, HONOURS, p.A)
    s = p.servant(dict.fromkeys(range(p.Y - 5, p.Y), "EXCELLENT"))
    p.clear("CLEAR/CADRE_SELECTION-excellent/clean", s, CADRE, p.A, "ME-03")
    p.clear("CLEAR/HONOURS-excellent/clean", s, HONOURS, p.A, "ME-03")


def _unknown_persons(p: Planter) -> None:
    outsider = p.person()
    p.flag("CS-00/not-civil-servant/inside", outsider, CADRE, p.A, "CS-00")
    p.flag("CS-00/HONOURS-not-civil-servant/inside", outsider, HONOURS, p.A, "CS-00")
    outsider = p.person()
    end = p.credit(outsider.subject, "SERIOUS_DISHONESTY", p.m(-5), 36, penalties=("OTHER",))
    p.bar(
        "CS-00/not-civil-servant-SERIOUS_DISHONESTY/inside",
        outsider,
        CADRE,
        p.A,
        "CS-00 CS-09",
        end + ONE_DAY,
    )
    outsider = p.person()
    p.credit(outsider.subject, "RED_LIST", p.m(-6), 36, severity=None)
    p.flag("CS-00/not-civil-servant-red-list/inside", outsider, HONOURS, p.A, "CS-00 ME-01")
    s = p.servant()
    p.clear("CS-00/civil-servant/not-fired", s, CADRE, p.A)


def _merits(p: Planter) -> None:
    y, next_year = p.Y, p.new_year()

    def red_list(subject: Servant | Org, status: str = "EFFECTIVE") -> dt.date:
        who = subject.person.subject if isinstance(subject, Servant) else subject.subject
        return p.credit(who, "RED_LIST", p.m(-6), 36, severity=None, status=status) + ONE_DAY

    s = p.servant()
    until = red_list(s)
    p.clear("ME-01/RED_LIST-person/inside", s, CADRE, p.A, "ME-01")
    p.clear("ME-01/RED_LIST-person/lastday", s, CADRE, until - ONE_DAY, "ME-01")
    p.clear("ME-01/RED_LIST-person/outside", s, CADRE, until)
    p.clear("ME-01/HONOURS-RED_LIST-person/inside", s, HONOURS, p.A, "ME-01")
    s = p.servant()
    red_list(s, "OBJECTION_PENDING")
    p.clear("ME-01/RED_LIST-person/disputed", s, CADRE, p.A, "ME-01")
    s = p.servant()
    red_list(s, "REPAIRED")
    p.clear("ME-01/RED_LIST-person-REPAIRED/not-fired", s, CADRE, p.A)
    o = p.supplier()
    until = red_list(o)
    p.clear("ME-01/RED_LIST-supplier/inside", o, PROCUREMENT, p.A, "ME-01")
    p.clear("ME-01/RED_LIST-supplier/outside", o, PROCUREMENT, until)
    u = p.unit()
    red_list(u)
    p.clear("ME-01/HONOURS-RED_LIST-unit/inside", u, HONOURS, p.A, "ME-01")
    s = p.servant()
    red_list(s)
    end = p.credit(s.person.subject, "SERIOUS_DISHONESTY", p.m(-5), 36, penalties=("OTHER",))
    p.bar("OVERLAP/CS-09+ME-01/inside", s, CADRE, p.A, "CS-09 ME-01", end + ONE_DAY)
    o = p.supplier("SUSPENDED")
    red_list(o)
    p.flag("OVERLAP/PE-02+ME-01/inside", o, PROCUREMENT, p.A, "ME-01 PE-02")

    s = p.servant()
    p.honour(s, y - 3)
    p.clear("ME-02/honour-Y-3/inside", s, CADRE, p.A, "ME-02")
    p.clear("ME-02/honour-Y-3/lastday", s, CADRE, dt.date(y, 12, 31), "ME-02")
    p.clear("ME-02/honour-Y-3/outside", s, CADRE, next_year)
    p.clear("ME-02/HONOURS-honour-Y-3/inside", s, HONOURS, p.A, "ME-02")
    s = p.servant()
    p.honour(s, y - 3, "嘉奖")
    p.honour(s, y - 1)
    p.clear("ME-02/two-honours/lastday", s, HONOURS, dt.date(y + 2, 12, 31), "ME-02")
    p.clear("ME-02/two-honours/outside", s, HONOURS, p.new_year(3))
    s = p.servant()
    p.honour(s, y - 4)
    p.clear("ME-02/honour-Y-4/not-fired", s, CADRE, p.A)
    s = p.servant()
    p.honour(s, y - 1)
    decided = p.m(-2)
    p.sanction(s, "GOV_WARNING", decided)
    p.bar("OVERLAP/CS-01+ME-02/inside", s, CADRE, p.A, "CS-01 ME-02", add_months(decided, 6))

    excellent = dict.fromkeys(range(y - 3, y), "EXCELLENT")
    s = p.servant(excellent)
    p.clear("ME-03/EXCELLENT-Y-3..Y-1/inside", s, CADRE, p.A, "ME-03")
    p.clear("ME-03/EXCELLENT-Y-3..Y-1/lastday", s, CADRE, dt.date(y, 12, 31), "ME-03")
    p.clear("ME-03/EXCELLENT-Y-3..Y-1/outside", s, CADRE, next_year)
    p.clear("ME-03/HONOURS-EXCELLENT-Y-3..Y-1/inside", s, HONOURS, p.A, "ME-03")
    s = p.servant({y - 3: "EXCELLENT", y - 2: "EXCELLENT"})
    p.clear("ME-03/EXCELLENT-Y-3..Y-2/not-fired", s, CADRE, p.A)
    s = p.servant(excellent)
    p.credit(s.person.subject, "BROKEN_COMMITMENT", p.m(-2), 12, severity="GENERAL")
    p.flag("OVERLAP/CS-10+ME-03/inside", s, HONOURS, p.A, "CS-10 ME-03")


# -- organisations: HONOURS ----------------------------------------------------


def _unit_honours(p: Planter) -> None:
    next_year = p.new_year()
    decided = max(dt.date(p.Y, 1, 1), p.m(-2))
    u = p.unit()
    p.credit(u.subject, "GOV_DISHONESTY", decided, 36, severity="GENERAL")
    p.bar("HO-01/GOV_DISHONESTY/inside", u, HONOURS, p.A, "HO-01", next_year)
    p.bar("HO-01/GOV_DISHONESTY/lastday", u, HONOURS, dt.date(p.Y, 12, 31), "HO-01", next_year)
    p.clear("HO-01/GOV_DISHONESTY/outside", u, HONOURS, next_year)
    u = p.unit()
    p.credit(
        u.subject, "GOV_DISHONESTY", decided, 36, severity="GENERAL", status="OBJECTION_PENDING"
    )
    p.flag("HO-01/GOV_DISHONESTY/disputed", u, HONOURS, p.A, "HO-01")
    u = p.unit()
    p.credit(u.subject, "GOV_DISHONESTY", dt.date(p.Y - 1, 11, 20), 36, severity="GENERAL")
    p.clear("HO-01/GOV_DISHONESTY-previous-year/not-fired", u, HONOURS, p.A)
    u = p.unit()
    p.credit(u.subject, "GOV_DISHONESTY", decided, 36, severity="GENERAL", status="REPAIRED")
    p.clear("HO-01/GOV_DISHONESTY-REPAIRED/not-fired", u, HONOURS, p.A)
    u = p.unit()
    p.credit(u.subject, "ADMIN_PENALTY", decided, 12, severity="GENERAL", penalties=("WARNING",))
    p.clear("HO-01/ADMIN_PENALTY/not-fired", u, HONOURS, p.A)

    published = p.m(-8)
    end = add_months(published, 24) - ONE_DAY
    u = p.unit()
    p.listing(u.subject, published, behaviour=6, listing_end=end, org=u)
    p.bar("HO-02/term/inside", u, HONOURS, p.A, "HO-02", end + ONE_DAY)
    p.bar("HO-02/term/lastday", u, HONOURS, end, "HO-02", end + ONE_DAY)
    p.clear("HO-02/term/outside", u, HONOURS, end + ONE_DAY)
    u = p.unit()
    p.listing(u.subject, p.m(-5), behaviour=1, listing_end=None, org=u)
    p.bar("HO-02/open-ended/inside", u, HONOURS, p.A, "HO-02")
    u = p.unit()
    removed = p.m(-2)
    p.listing(u.subject, p.m(-14), behaviour=1, listing_end=None, removed=removed, org=u)
    p.bar("HO-02/removed/before-removal", u, HONOURS, p.m(-6), "HO-02", removed)
    p.clear("HO-02/removed/not-fired", u, HONOURS, p.A)

    for kind in ("LATE_PAYMENT", "BREACH"):
        u = p.unit()
        p.issue(u, kind, p.m(-4), None)
        p.flag(f"HO-03/{kind}/inside", u, HONOURS, p.A, "HO-03")
    u = p.unit()
    resolved = p.m(-2)
    p.issue(u, "LATE_PAYMENT", p.m(-8), resolved)
    p.flag("HO-03/LATE_PAYMENT-resolved/before-resolution", u, HONOURS, p.m(-5), "HO-03")
    p.clear("HO-03/LATE_PAYMENT-resolved/outside", u, HONOURS, resolved)
    u = p.unit()
    p.issue(u, "ACCEPTANCE_DELAY", p.m(-4), None)
    p.clear("HO-03/ACCEPTANCE_DELAY/not-fired", u, HONOURS, p.A)
    u = p.unit()
    p.issue(u, "LATE_PAYMENT", p.m(1), None)
    p.clear("HO-03/LATE_PAYMENT-due-later/not-fired", u, HONOURS, p.A)

    u = p.unit()
    p.credit(u.subject, "GOV_DISHONESTY", decided, 36, severity="GENERAL")
    p.listing(u.subject, p.m(-5), behaviour=1, listing_end=None, org=u)
    p.bar("OVERLAP/HO-01+HO-02-open-ended/inside", u, HONOURS, p.A, "HO-01 HO-02")
    u = p.unit()
    p.credit(u.subject, "GOV_DISHONESTY", decided, 36, severity="GENERAL")
    p.listing(u.subject, published, behaviour=6, listing_end=end, org=u)
    latest = max(next_year, end + ONE_DAY)
    p.bar("OVERLAP/HO-01+HO-02-term/inside", u, HONOURS, p.A, "HO-01 HO-02", latest)
    u = p.unit()
    p.listing(u.subject, published, behaviour=6, listing_end=end, org=u)
    p.issue(u, "LATE_PAYMENT", p.m(-4), None)
    p.bar("OVERLAP/HO-02+HO-03/inside", u, HONOURS, p.A, "HO-02 HO-03", end + ONE_DAY)

    u = p.unit()
    p.clear("CLEAR/HONOURS-org/clean", u, HONOURS, p.A)


# -- organisations: PROCUREMENT_ELIGIBILITY -------------------------------------


def _debarments_and_registration(p: Planter) -> None:
    start = p.m(-6)
    end = add_months(start, 24) - ONE_DAY
    o = p.supplier(debarments=[(start, end)])
    p.bar("PE-01/debarment/inside", o, PROCUREMENT, p.A, "PE-01", end + ONE_DAY)
    p.bar("PE-01/debarment/lastday", o, PROCUREMENT, end, "PE-01", end + ONE_DAY)
    p.clear("PE-01/debarment/outside", o, PROCUREMENT, end + ONE_DAY)
    p.clear("PE-01/debarment/before-start", o, PROCUREMENT, start - ONE_DAY)
    old = p.m(-40)
    o = p.supplier(debarments=[(old, add_months(old, 24) - ONE_DAY)])
    p.clear("PE-01/debarment-expired/not-fired", o, PROCUREMENT, p.A)

    for status in ("SUSPENDED", "CANCELLED"):
        o = p.supplier(status)
        p.flag(f"PE-02/{status}/inside", o, PROCUREMENT, p.A, "PE-02")
    o = p.enterprise()
    p.clear("PE-02/NOT_REGISTERED/not-fired", o, PROCUREMENT, p.A)


def _procurement_penalties(p: Planter) -> None:
    penalised = p.m(-10)
    until = add_months(penalised, 36)
    o = p.supplier(violations=[penalised])
    p.bar("PE-03/violation/inside", o, PROCUREMENT, p.A, "PE-03", until)
    p.bar("PE-03/violation/lastday", o, PROCUREMENT, until - ONE_DAY, "PE-03", until)
    p.clear("PE-03/violation/outside", o, PROCUREMENT, until)

    decided = p.m(-8)
    until = add_months(decided, 36)  # = publicity_end + 1 for a 36-month publicity
    for status, kind in (
        ("EFFECTIVE", "inside"),
        ("OBJECTION_PENDING", "disputed"),
        ("REPAIRED", "not-fired"),
    ):
        o = p.supplier()
        p.credit(o.subject, "ADMIN_PENALTY", decided, 36, status=status, penalties=("SUSPENSION",))
        if kind == "inside":
            p.bar("PE-03/credit-SUSPENSION/inside", o, PROCUREMENT, p.A, "PE-03", until)
            p.clear("PE-03/credit-SUSPENSION/outside", o, PROCUREMENT, until)
        elif kind == "disputed":
            p.flag("PE-03/credit-SUSPENSION/disputed", o, PROCUREMENT, p.A, "PE-03")
        else:
            p.clear("PE-03/credit-SUSPENSION-REPAIRED/not-fired", o, PROCUREMENT, p.A)

    o = p.supplier()
    decided = p.m(-5)
    p.credit(o.subject, "ADMIN_PENALTY", decided, 36, penalties=("LICENCE_REVOCATION",))
    p.bar(
        "PE-03/credit-LICENCE_REVOCATION/inside",
        o,
        PROCUREMENT,
        p.A,
        "PE-03",
        add_months(decided, 36),
    )

    o = p.supplier()
    decided = p.m(-3)
    end = p.credit(
        o.subject,
        "ADMIN_PENALTY",
        decided,
        12,
        severity="GENERAL",
        penalties=("FINE",),
        fine_cents=200_000_000,
    )
    until = min(add_months(decided, 36), end + ONE_DAY)
    p.bar("PE-03/credit-fine-2000000.00/inside", o, PROCUREMENT, p.A, "PE-03", until)
    p.clear("PE-03/credit-fine-2000000.00/outside", o, PROCUREMENT, until)
    o = p.supplier()
    p.credit(
        o.subject,
        "ADMIN_PENALTY",
        decided,
        12,
        severity="GENERAL",
        penalties=("FINE",),
        fine_cents=199_999_999,
    )
    p.flag("PE-03/fine-below-threshold/not-fired", o, PROCUREMENT, p.A, "PE-06")


def _court_and_credit_suppliers(p: Planter) -> None:
    published = p.m(-8)
    end = add_months(published, 24) - ONE_DAY
    o = p.supplier()
    p.listing(o.subject, published, behaviour=3, listing_end=end, org=o)
    p.bar("PE-04/term/inside", o, PROCUREMENT, p.A, "PE-04", end + ONE_DAY)
    p.bar("PE-04/term/lastday", o, PROCUREMENT, end, "PE-04", end + ONE_DAY)
    p.clear("PE-04/term/outside", o, PROCUREMENT, end + ONE_DAY)
    o = p.supplier()
    p.listing(o.subject, p.m(-5), behaviour=1, listing_end=None, org=o)
    p.bar("PE-04/open-ended/inside", o, PROCUREMENT, p.A, "PE-04")
    o = p.supplier()
    removed = p.m(-2)
    p.listing(o.subject, p.m(-14), behaviour=1, listing_end=None, removed=removed, org=o)
    p.bar("PE-04/removed/before-removal", o, PROCUREMENT, p.m(-6), "PE-04", removed)
    p.clear("PE-04/removed/not-fired", o, PROCUREMENT, p.A)

    for status in ("EFFECTIVE", "OBJECTION_PENDING", "REVOKED"):
        o = p.supplier()
        until = (
            p.credit(
                o.subject, "SERIOUS_DISHONESTY", p.m(-6), 36, status=status, penalties=("OTHER",)
            )
            + ONE_DAY
        )
        if status == "EFFECTIVE":
            p.bar("PE-05/SERIOUS_DISHONESTY/inside", o, PROCUREMENT, p.A, "PE-05", until)
            p.bar(
                "PE-05/SERIOUS_DISHONESTY/lastday", o, PROCUREMENT, until - ONE_DAY, "PE-05", until
            )
            p.clear("PE-05/SERIOUS_DISHONESTY/outside", o, PROCUREMENT, until)
        elif status == "OBJECTION_PENDING":
            p.flag("PE-05/SERIOUS_DISHONESTY/disputed", o, PROCUREMENT, p.A, "PE-05")
        else:
            p.clear("PE-05/SERIOUS_DISHONESTY-REVOKED/not-fired", o, PROCUREMENT, p.A)
    o = p.supplier()
    until = (
        p.credit(
            o.subject, "TAX_VIOLATION", p.m(-4), 36, penalties=("FINE",), fine_cents=35_000_000
        )
        + ONE_DAY
    )
    p.bar("PE-05/TAX_VIOLATION/inside", o, PROCUREMENT, p.A, "PE-05", until)
    p.clear("PE-05/TAX_VIOLATION/outside", o, PROCUREMENT, until)

    for status in ("EFFECTIVE", "OBJECTION_PENDING", "REPAIRED"):
        o = p.supplier()
        end = p.credit(
            o.subject,
            "ADMIN_PENALTY",
            p.m(-1),
            3,
            severity="GENERAL",
            status=status,
            penalties=("WARNING",),
        )
        if status == "EFFECTIVE":
            p.flag("PE-06/ADMIN_PENALTY-WARNING/inside", o, PROCUREMENT, p.A, "PE-06")
            p.clear("PE-06/ADMIN_PENALTY-WARNING/outside", o, PROCUREMENT, end + ONE_DAY)
        elif status == "OBJECTION_PENDING":
            p.flag("PE-06/ADMIN_PENALTY-WARNING/disputed", o, PROCUREMENT, p.A, "PE-06")
        else:
            p.clear("PE-06/ADMIN_PENALTY-WARNING-REPAIRED/not-fired", o, PROCUREMENT, p.A)
    o = p.supplier()
    p.credit(o.subject, "BROKEN_COMMITMENT", p.m(-2), 12, severity="GENERAL")
    p.flag("PE-06/BROKEN_COMMITMENT/inside", o, PROCUREMENT, p.A, "PE-06")
    o = p.supplier()
    p.credit(o.subject, "RED_LIST", p.m(-6), 36, severity=None)
    p.clear("PE-06/RED_LIST/not-fired", o, PROCUREMENT, p.A, "ME-01")


def _supplier_overlaps(p: Planter) -> None:
    first, second = p.m(-10), p.m(-4)
    o = p.supplier(
        debarments=[
            (first, add_months(first, 12) - ONE_DAY),
            (second, add_months(second, 36) - ONE_DAY),
        ]
    )
    latest = max(add_months(first, 12), add_months(second, 36))
    p.bar("OVERLAP/PE-01+PE-01/inside", o, PROCUREMENT, p.A, "PE-01", latest)

    start = penalised = p.m(-6)
    o = p.supplier(debarments=[(start, add_months(start, 12) - ONE_DAY)], violations=[penalised])
    latest = max(add_months(start, 12), add_months(penalised, 36))
    p.bar("OVERLAP/PE-01+PE-03/inside", o, PROCUREMENT, p.A, "PE-01 PE-03", latest)

    o = p.supplier("SUSPENDED", debarments=[(start, add_months(start, 12) - ONE_DAY)])
    p.bar("OVERLAP/PE-01+PE-02/inside", o, PROCUREMENT, p.A, "PE-01 PE-02", add_months(start, 12))

    start = p.m(-3)
    o = p.supplier(debarments=[(start, add_months(start, 12) - ONE_DAY)])
    p.credit(
        o.subject,
        "SERIOUS_DISHONESTY",
        p.m(-2),
        36,
        status="OBJECTION_PENDING",
        penalties=("OTHER",),
    )
    p.bar(
        "OVERLAP/PE-01+PE-05-disputed/inside",
        o,
        PROCUREMENT,
        p.A,
        "PE-01 PE-05",
        add_months(start, 12),
    )

    o = p.supplier()
    p.listing(o.subject, p.m(-5), behaviour=1, listing_end=None, org=o)
    p.credit(o.subject, "ADMIN_PENALTY", p.m(-1), 3, severity="GENERAL", penalties=("WARNING",))
    p.bar("OVERLAP/PE-04+PE-06/inside", o, PROCUREMENT, p.A, "PE-04 PE-06")

    o = p.supplier()
    p.clear("CLEAR/PROCUREMENT_ELIGIBILITY/clean", o, PROCUREMENT, p.A)
    o = p.supplier()
    p.credit(o.subject, "RED_LIST", p.m(-6), 36, severity=None)
    p.clear("CLEAR/PROCUREMENT_ELIGIBILITY-red-list/clean", o, PROCUREMENT, p.A, "ME-01")
