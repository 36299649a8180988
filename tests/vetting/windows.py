"""One planted record per rule (and per sub-case): when it fires, and what undoes it.

A `Window` is a record that fires `rule` from `start` (None: not date-bound)
until `free`, its first free day (None: never, in these tests), with a finding
whose `until` is `until`. `withdrawn` are the same evidence with the record
repaired, revoked, removed, closed, resolved or lifted on or before `inside`;
`disputed` the same evidence with the record under objection (credit records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.records import CreditRecord
from schema.types import Purpose, SubjectKind
from schema.vetting import Effect, Evidence
from tests.vetting import build as b
from tests.vetting.build import DAY, A, m

CADRE, HONOURS = Purpose.CADRE_SELECTION, Purpose.HONOURS
PROCUREMENT = Purpose.PROCUREMENT_ELIGIBILITY
BAR, FLAG, MERIT = Effect.BAR, Effect.FLAG, Effect.MERIT
PERSON, ORGANIZATION = SubjectKind.PERSON, SubjectKind.ORGANIZATION


@dataclass(frozen=True)
class Window:
    name: str
    rule: str
    purpose: Purpose
    evidence: Evidence
    effect: Effect
    start: dt.date | None
    free: dt.date | None
    until: dt.date | None
    inside: dt.date = A
    withdrawn: tuple[Evidence, ...] = ()
    disputed: Evidence | None = None
    kind: SubjectKind | None = None  # by the rule's prefix unless given (ME-01: either)

    @property
    def subject(self) -> SubjectKind:
        if self.kind is not None:
            return self.kind
        return PERSON if self.rule[:2] in {"CS", "HN", "ME"} else ORGANIZATION

    def __str__(self) -> str:
        return f"{self.rule}/{self.name}"


def _sanctioned(
    kind: str, decided: dt.date, period: int | None, revoked: dt.date | None = None
) -> Evidence:
    planted = b.sanction(kind, decided, period=period, revoked=revoked)
    return b.person(file=b.servant(sanctions=[planted]))


def _sanction_windows() -> list[Window]:
    kinds = [
        ("CS-01", "GOV_WARNING", None, 6),
        ("CS-01", "GOV_DEMERIT", None, 12),
        ("CS-01", "GOV_MAJOR_DEMERIT", None, 18),
        ("CS-01", "GOV_DEMOTION", None, 24),
        ("CS-01", "GOV_REMOVAL", None, 24),
        ("CS-01", "GOV_DISMISSAL", None, None),
        ("CS-02", "PARTY_WARNING", None, 12),
        ("CS-02", "PARTY_SERIOUS_WARNING", None, 18),
        ("CS-02", "PARTY_POST_REMOVAL", None, 24),
        ("CS-02", "PARTY_PROBATION", 12, 36),
        ("CS-02", "PARTY_PROBATION", 24, 48),
        ("CS-02", "PARTY_PROBATION", None, 48),
        ("CS-02", "PARTY_EXPULSION", None, None),
        ("CS-03", "ADMONISHMENT", None, 6),
        ("CS-03", "ORG_POST_ADJUSTED", None, 12),
        ("CS-03", "ORG_RESIGNATION_ORDERED", None, 24),
        ("CS-03", "ORG_DISMISSED", None, 24),
        ("CS-03", "ORG_POST_ADJUSTED", 6, 6),
        ("CS-03", "ORG_DISMISSED", 36, 36),
    ]
    windows = []
    decided = m(-3)
    for rule, kind, period, months in kinds:
        until = m(months, decided) if months else None
        planted = _sanctioned(kind, decided, period)
        withdrawn = (
            _sanctioned(kind, decided, period, A),
            _sanctioned(kind, decided, period, m(-1)),
        )
        for purpose in (CADRE, HONOURS):
            name = f"{kind}-{period}-{purpose.name}"
            windows.append(
                Window(
                    name, rule, purpose, planted, BAR, decided, until, until, withdrawn=withdrawn
                )
            )
        # A revocation still ahead caps the until, and ends even a permanent bar.
        revoked = m(1)
        later = _sanctioned(kind, decided, period, revoked)
        name = f"{kind}-{period}-revoked-later"
        windows.append(Window(name, rule, CADRE, later, BAR, decided, revoked, revoked))
    month_end = dt.date(2024, 8, 31)
    leap = _sanctioned("GOV_WARNING", month_end, None)
    last = dt.date(2025, 2, 28)  # 31 August + 6 months, clamped
    name = "GOV_WARNING-month-end"
    windows.append(
        Window(name, "CS-01", CADRE, leap, BAR, month_end, last, last, inside=last - DAY)
    )
    return windows


def _archive_windows() -> list[Window]:
    opened, closes = m(-2), m(2)
    windows = []
    for purpose in (CADRE, HONOURS):
        open_case = b.person(file=b.servant(investigations=[b.investigation(opened)]))
        closed = b.person(file=b.servant(investigations=[b.investigation(opened, A)]))
        name = f"open-{purpose.name}"
        windows.append(
            Window(name, "CS-04", purpose, open_case, BAR, opened, None, None, withdrawn=(closed,))
        )
    later = b.person(file=b.servant(investigations=[b.investigation(opened, closes)]))
    windows.append(Window("closed-later", "CS-04", CADRE, later, BAR, opened, closes, closes))

    year, next_year = dt.date(2025, 1, 1), dt.date(2026, 1, 1)
    for grade in ("BASICALLY_COMPETENT", "INCOMPETENT"):
        graded = b.person(file=b.servant(grades={2024: grade}))
        windows.append(Window(grade, "CS-05", CADRE, graded, BAR, year, next_year, next_year))
    for grade in ("BASICALLY_COMPETENT", "INCOMPETENT"):
        graded = b.person(file=b.servant(grades={2024: grade}))
        windows.append(Window(grade, "HN-01", HONOURS, graded, BAR, year, next_year, next_year))
    # Not graded has innocent causes: a FLAG, without end, for the year after.
    graded = b.person(file=b.servant(grades={2024: "NOT_GRADED"}))
    windows.append(Window("NOT_GRADED", "HN-01", HONOURS, graded, FLAG, year, next_year, None))
    for purpose in (CADRE, HONOURS):
        unknown = b.person(civil_servant=False)
        name = f"not-civil-servant-{purpose.name}"
        windows.append(Window(name, "CS-00", purpose, unknown, FLAG, None, None, None))
    for purpose in (CADRE, HONOURS):
        # An honour of 2022 counts in 2022..2025: until 1 January 2026.
        honoured = b.person(file=b.servant(honours=[2022]))
        name = f"honour-2022-{purpose.name}"
        first = dt.date(2022, 1, 1)
        windows.append(Window(name, "ME-02", purpose, honoured, MERIT, first, next_year, next_year))
        excellent = b.person(file=b.servant(grades=dict.fromkeys((2022, 2023, 2024), "EXCELLENT")))
        name = f"EXCELLENT-2022..2024-{purpose.name}"
        windows.append(Window(name, "ME-03", purpose, excellent, MERIT, year, next_year, next_year))
    not_graded = b.person(file=b.servant(grades={2024: "NOT_GRADED"}))
    windows.append(
        Window("Y-1-NOT_GRADED", "CS-06", CADRE, not_graded, FLAG, year, dt.date(2028, 1, 1), None)
    )
    old = b.person(file=b.servant(grades={2022: "INCOMPETENT"}))
    windows.append(
        Window("Y-3-INCOMPETENT", "CS-06", CADRE, old, FLAG, dt.date(2024, 1, 1), next_year, None)
    )
    checked = m(-4)
    for result, effect in (("CONCEALMENT", BAR), ("MINOR_OMISSION", FLAG)):
        found = b.person(file=b.servant(checks=[b.check(checked, result)]))
        until = m(12, checked)
        windows.append(Window(result, "CS-07", CADRE, found, effect, checked, until, until))
    return windows


def _court_windows() -> list[Window]:
    windows = []
    published = m(-8)
    end = m(24, published) - DAY
    for rule, purpose, org in (
        ("CS-08", CADRE, False),
        ("CS-08", HONOURS, False),
        ("HO-02", HONOURS, True),
        ("PE-04", PROCUREMENT, True),
    ):
        make = b.organisation if org else b.person
        listed = make(entries=[b.entry(published, end, org=org)])
        removed = make(entries=[b.entry(published, end, removed=A, org=org)])
        name = f"term-{purpose.name}"
        windows.append(
            Window(
                name,
                rule,
                purpose,
                listed,
                BAR,
                published,
                end + DAY,
                end + DAY,
                withdrawn=(removed,),
            )
        )
        open_ended = make(entries=[b.entry(m(-5), org=org)])
        name = f"open-ended-{purpose.name}"
        windows.append(Window(name, rule, purpose, open_ended, BAR, m(-5), None, None))
        later = make(entries=[b.entry(m(-20), removed=m(2), org=org)])
        name = f"removed-later-{purpose.name}"
        windows.append(Window(name, rule, purpose, later, BAR, m(-20), m(2), m(2)))
    for purpose in (CADRE, HONOURS):
        restricted = b.person(restrictions=[b.restriction(m(-2))])
        lifted = b.person(restrictions=[b.restriction(m(-2), "LIFTED")])
        name = f"restriction-{purpose.name}"
        windows.append(
            Window(name, "CS-10", purpose, restricted, FLAG, m(-2), None, None, withdrawn=(lifted,))
        )
    return windows


def _credit(category: str, decided: dt.date, months: int, **fields: Any) -> Planted:
    """A credit record builder with these defaults; `status` and more may be changed."""
    return lambda **more: b.credit(category, decided, months, **{**fields, **more})


Planted = Callable[..., CreditRecord]


def _credit_window(
    name: str,
    rule: str,
    purpose: Purpose,
    record: Planted,
    effect: Effect,
    *,
    free: dt.date | None = None,
    inside: dt.date = A,
    org: bool | None = None,
) -> Window:
    """`free` defaults to publicity end + 1; a BAR's or MERIT's until is `free`, a FLAG
    has none. `org` by the rule's prefix unless given."""
    org = rule[:2] in {"HO", "PE"} if org is None else org
    make = b.organisation if org else b.person
    planted = record()
    assert planted.publicity_end is not None
    free = free or planted.publicity_end + DAY
    withdrawn = tuple(make(credit_records=[record(status=s)]) for s in ("REPAIRED", "REVOKED"))
    disputed = make(credit_records=[record(status="OBJECTION_PENDING")])
    return Window(
        name,
        rule,
        purpose,
        make(credit_records=[planted]),
        effect,
        planted.decision_date,
        free,
        None if effect is FLAG else free,
        inside,
        withdrawn,
        disputed,
        ORGANIZATION if org else PERSON,
    )


def _credit_windows() -> list[Window]:
    serious = _credit("SERIOUS_DISHONESTY", m(-5), 36, severity="SERIOUS", penalty_types=("OTHER",))
    general = _credit("ADMIN_PENALTY", m(-3), 12, fine="2000.00", penalty_types=("FINE",))
    gov = _credit("GOV_DISHONESTY", m(-4), 36, severity="SERIOUS")
    gov_general = _credit("GOV_DISHONESTY", m(-4), 36)
    windows = []
    for p in (CADRE, HONOURS):
        windows += [
            _credit_window(f"SERIOUS-{p.name}", "CS-09", p, serious, BAR),
            _credit_window(f"GENERAL-{p.name}", "CS-10", p, general, FLAG),
            _credit_window(f"SERIOUS-{p.name}", "CS-12", p, gov, BAR),
            _credit_window(f"GENERAL-{p.name}", "CS-12", p, gov_general, BAR),
        ]

    new_year = dt.date(2026, 1, 1)
    this_year = _credit("GOV_DISHONESTY", m(-2), 36, org=True)
    short = _credit("GOV_DISHONESTY", dt.date(2025, 11, 15), 1, org=True)
    windows += [
        _credit_window("decided-this-year", "HO-01", HONOURS, this_year, BAR, free=new_year),
        _credit_window(
            "publicity-ends-first", "HO-01", HONOURS, short, BAR, inside=dt.date(2025, 12, 1)
        ),
    ]

    suspended = _credit(
        "ADMIN_PENALTY", m(-8), 36, severity="SERIOUS", penalty_types=("SUSPENSION",), org=True
    )
    revoked = _credit("ADMIN_PENALTY", m(-5), 36, penalty_types=("LICENCE_REVOCATION",), org=True)
    fined = _credit(
        "ADMIN_PENALTY", m(-3), 12, penalty_types=("FINE",), fine="2000000.00", org=True
    )
    long = _credit("ADMIN_PENALTY", m(-3), 48, penalty_types=("FINE",), fine="2500000.00", org=True)
    dishonest = _credit("SERIOUS_DISHONESTY", m(-6), 36, severity="SERIOUS", org=True)
    tax = _credit("TAX_VIOLATION", m(-4), 36, severity="SERIOUS", fine="350000.00", org=True)
    warning = _credit("ADMIN_PENALTY", m(-1), 3, penalty_types=("WARNING",), org=True)
    below = _credit(
        "ADMIN_PENALTY", m(-3), 12, penalty_types=("FINE",), fine="1999999.99", org=True
    )
    pe = PROCUREMENT
    windows += [
        _credit_window("credit-SUSPENSION", "PE-03", pe, suspended, BAR, free=m(36, m(-8))),
        _credit_window("credit-LICENCE_REVOCATION", "PE-03", pe, revoked, BAR),
        _credit_window("fine-publicity-ends-first", "PE-03", pe, fined, BAR),
        _credit_window("fine-window-ends-first", "PE-03", pe, long, BAR, free=m(36, m(-3))),
        _credit_window("SERIOUS_DISHONESTY", "PE-05", pe, dishonest, BAR),
        _credit_window("TAX_VIOLATION", "PE-05", pe, tax, BAR),
        _credit_window("ADMIN_PENALTY-WARNING", "PE-06", pe, warning, FLAG),
        _credit_window("fine-below-threshold", "PE-06", pe, below, FLAG),
    ]
    for purpose, org in ((CADRE, False), (HONOURS, False), (HONOURS, True), (pe, True)):
        red = _credit("RED_LIST", m(-6), 36, severity=None, org=org)
        name = f"RED_LIST-{'org' if org else 'person'}-{purpose.name}"
        windows.append(_credit_window(name, "ME-01", purpose, red, MERIT, org=org))
    return windows


def _procurement_windows() -> list[Window]:
    windows = []
    for kind in ("LEGAL_REPRESENTATIVE", "SHAREHOLDER"):
        roles = b.person(roles=[b.role(kind=kind)])
        gone = tuple(b.person(roles=[b.role(s, kind)]) for s in ("SUSPENDED", "CANCELLED"))
        windows.append(Window(kind, "CS-11", CADRE, roles, FLAG, None, None, None, withdrawn=gone))
    for kind in ("LATE_PAYMENT", "BREACH"):
        owing = b.organisation(issues=[b.issue(kind, m(-4))])
        paid = b.organisation(issues=[b.issue(kind, m(-4), A)])
        windows.append(
            Window(kind, "HO-03", HONOURS, owing, FLAG, m(-4), None, None, withdrawn=(paid,))
        )
    resolving = b.organisation(issues=[b.issue("LATE_PAYMENT", m(-8), m(2))])
    windows.append(Window("resolved-later", "HO-03", HONOURS, resolving, FLAG, m(-8), m(2), m(2)))

    start = m(-6)
    end = m(24, start) - DAY
    debarred = b.organisation(registered=b.supplier(debarments=[b.debarment(start, end)]))
    free = end + DAY
    windows.append(Window("debarment", "PE-01", PROCUREMENT, debarred, BAR, start, free, free))
    for status in ("SUSPENDED", "CANCELLED"):  # NOT_REGISTERED fires nothing (test_engine)
        checked = b.organisation(registered=b.supplier(status))
        windows.append(Window(status, "PE-02", PROCUREMENT, checked, FLAG, None, None, None))
    penalised = m(-10)
    broke = b.organisation(registered=b.supplier(violations=[b.violation(penalised)]))
    until = m(36, penalised)
    windows.append(Window("violation", "PE-03", PROCUREMENT, broke, BAR, penalised, until, until))
    return windows


WINDOWS: tuple[Window, ...] = (
    *_sanction_windows(),
    *_archive_windows(),
    *_court_windows(),
    *_credit_windows(),
    *_procurement_windows(),
)
