"""The planting kit for golden cases: dedicated subjects and the rows they own.

`Planter` creates planted (golden) persons and organisations — identities from
the top of the identifier spaces, which random data never uses — and the rows
a case plants for them on each platform, and records the cases. golden.py
holds the case templates and the reasoning behind each expectation.

A planted civil servant works in the planted employer unit and has COMPETENT
assessments for the five years before the as-of year (Y-5..Y-1) unless a case
says otherwise, so CS-05, CS-06 and HN-01 stay silent for any as-of date from
Y-2 on. A planted supplier is registered ACTIVE unless a case says otherwise.
Every credit record planted is PUBLIC with every sector in its share scope,
unless the case is about disclosure, so the verdict does not depend on the role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .archive import (
    assessment_row,
    check_row,
    decider,
    history_row,
    honour_row,
    investigation_row,
    person_row,
    position_title,
    sanction_row,
    servant_id,
)
from .codes import ENTERPRISE, GOVERNMENT
from .court import Case, court_entry, restriction
from .credit import ALL_SCOPES, credit_record, decision_no, record_content
from .dates import ONE_DAY, add_months, money, stamp
from .names import company_name
from .organisations import Org, enterprise_place
from .people import Person, Subject, golden_person
from .places import GOLDEN_TOWNS, home_district
from .procurement import (
    DEBARMENT_GROUNDS,
    VIOLATION_BASIS,
    debarment,
    purchaser_issue,
    supplier_row,
    violation,
)
from .procurement import finance_authority as _finance
from .units import Unit
from .world import GOLDEN_KEY, World
from .writer import (
    ENTRIES,
    ISSUES,
    RECORDS,
    RESTRICTIONS,
    SUBJECTS,
    SUPPLIERS,
    archive_file,
)

__all__ = [
    "CADRE",
    "CLEAR",
    "FLAGGED",
    "HONOURS",
    "INELIGIBLE",
    "MERIT_PREFIX",
    "PROCUREMENT",
    "GoldenCase",
    "Planter",
    "Servant",
]

CADRE = "CADRE_SELECTION"
HONOURS = "HONOURS"
PROCUREMENT = "PROCUREMENT_ELIGIBILITY"
INELIGIBLE = "INELIGIBLE"
FLAGGED = "FLAGGED"
CLEAR = "CLEAR"
MERIT_PREFIX = "ME-"  # the MERIT rules: they never change a verdict

_DOC_WORDS = {
    "ADMIN_PENALTY": ("market", "市监处罚"),
    "SERIOUS_DISHONESTY": ("development", "发改信用"),
    "TAX_VIOLATION": ("tax", "税稽罚"),
    "GOV_DISHONESTY": ("development", "发改信用"),
    "BROKEN_COMMITMENT": ("development", "发改信用"),
    "RED_LIST": ("development", "发改信用"),
}
_TEXTS = {
    "ADMIN_PENALTY": "未取得营业执照从事经营活动",
    "SERIOUS_DISHONESTY": "拒不履行法定义务，严重影响司法机关和行政机关公信力",
    "TAX_VIOLATION": "偷税",
    "GOV_DISHONESTY": "拖欠中小企业账款",
    "BROKEN_COMMITMENT": "告知承诺制审批后未按期兑现承诺事项",
    "RED_LIST": "诚信经营示范单位",
}


@dataclass(frozen=True)
class GoldenCase:
    """One expectation: this subject, vetted for this purpose on this day, gives this."""

    case: str
    subject: tuple[str, str]  # ("idNumber" | "creditCode", value)
    purpose: str
    as_of: dt.date
    verdict: str
    rules: tuple[str, ...]
    eligible_from: dt.date | None

    def row(self) -> dict[str, Any]:
        """The case's line in golden.jsonl."""
        return {
            "case": self.case,
            "subject": {self.subject[0]: self.subject[1]},
            "purpose": self.purpose,
            "asOf": self.as_of.isoformat(),
            "expected_verdict": self.verdict,
            "expected_rules": sorted(self.rules),
            "expected_eligible_from": self.eligible_from.isoformat()
            if self.eligible_from
            else None,
        }


@dataclass(frozen=True)
class Servant:
    """A planted civil servant."""

    person: Person
    person_id: str


@dataclass
class Planter:
    """Accumulates planted rows (in order) and cases for one world."""

    world: World
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cases: list[GoldenCase] = field(default_factory=list)
    _persons: int = 0
    _orgs: int = 0
    _numbers: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = self.world.rng("golden")
        self.A = self.world.as_of
        self.Y = self.A.year
        # Every planted civil servant works here; the unit itself has no data.
        self.employer = self._new_unit()[1]

    # -- dates ---------------------------------------------------------------

    def m(self, months: int, day: dt.date | None = None) -> dt.date:
        """`day` (default the as-of date A) plus calendar months."""
        return add_months(day or self.A, months)

    def new_year(self, offset: int = 1) -> dt.date:
        """1 January of the year Y + offset."""
        return dt.date(self.Y + offset, 1, 1)

    def _stamp(self, day: dt.date) -> str:
        return stamp(self.rng, day, self.A)

    def _next(self, subject: Subject, prefix: str) -> int:
        key = f"{prefix}{subject.tag}{subject.key}"
        self._numbers[key] = self._numbers.get(key, 0) + 1
        return self._numbers[key]

    # -- subjects ------------------------------------------------------------

    def person(self) -> Person:
        """A planted person with no data but their registry line."""
        person = golden_person(self.world, self._persons)
        self._persons += 1
        self.rows.append((SUBJECTS, person.registry_row()))
        return person

    def servant(
        self,
        grades: Mapping[int, str | None] | None = None,
        status: str = "ACTIVE",
        *,
        unit: Unit | None = None,
        promoted: dt.date | None = None,
    ) -> Servant:
        """A planted civil servant: COMPETENT for Y-5..Y-1 except `grades` (None = missing),
        in the planted employer unless `unit` is given, in one post since m(-60) or,
        when `promoted` is given, promoted to the next rank on that day."""
        person = self.person()
        unit = unit or self.employer
        person_id = servant_id(person.key)
        since = self.m(-60)
        title = position_title(self.rng, 3, unit)
        posts = [(since, title, "二级主任科员")]
        if promoted is not None:
            posts.append((promoted, position_title(self.rng, 4, unit), "一级主任科员"))
        self._archive(
            "cs_person",
            person_row(
                person=person,
                person_id=person_id,
                unit=unit,
                position=posts[-1][1],
                rank=posts[-1][2],
                status=status,
                updated_at=self._stamp(posts[-1][0]),
            ),
        )
        for number, (start, post, rank) in enumerate(posts):
            end = posts[number + 1][0] - ONE_DAY if number + 1 < len(posts) else None
            self._archive(
                "cs_position_history", history_row(person_id, post, rank, unit, start, end)
            )
        for year in range(self.Y - 5, self.Y):
            grade = (grades or {}).get(year, "COMPETENT")
            if grade is not None:
                self._archive("cs_assessment", assessment_row(person_id, year, grade))
        return Servant(person, person_id)

    def _org_index(self) -> int:
        index = self._orgs
        self._orgs += 1
        return index

    def _new_unit(self) -> tuple[Org, Unit]:
        index = self._org_index()
        head = self.person()
        code6, town = GOLDEN_TOWNS[index % len(GOLDEN_TOWNS)]
        district = home_district(code6)
        name = f"{district.area}{town}人民政府"
        code = self.world.codes.golden(index, GOVERNMENT, district.code)
        key = GOLDEN_KEY + index
        unit = Unit(
            key, code, name, "DISTRICT", "", district.area, district.abbr, district.city, district
        )
        org = Org(key, code, name, "UNIT", district, head, unit=unit)
        self.rows.append((SUBJECTS, org.registry_row()))
        return org, unit

    def unit(self) -> Org:
        """A planted government unit (a town government) with no data."""
        return self._new_unit()[0]

    def enterprise(
        self, *, representative: Person | None = None, shareholders: Sequence[Person] = ()
    ) -> Org:
        """A planted company, not (yet) registered as a supplier."""
        index = self._org_index()
        rng = self.world.rng("golden-org", index)
        district, place = enterprise_place(rng)
        code = self.world.codes.golden(index, ENTERPRISE, district.code)
        org = Org(
            GOLDEN_KEY + index,
            code,
            company_name(rng, place),
            "ENTERPRISE",
            district,
            representative or self.person(),
            tuple(shareholders),
        )
        self.rows.append((SUBJECTS, org.registry_row()))
        return org

    def supplier(
        self,
        status: str = "ACTIVE",
        *,
        debarments: Iterable[tuple[dt.date, dt.date]] = (),
        violations: Iterable[dt.date] = (),
        representative: Person | None = None,
        shareholders: Sequence[Person] = (),
    ) -> Org:
        """A planted supplier registered with `status`, its debarments (start, last
        day) and serious violations (penalty date)."""
        org = replace(
            self.enterprise(representative=representative, shareholders=shareholders),
            kind="SUPPLIER",
        )
        barred = []
        for start, end in debarments:
            reason, basis = DEBARMENT_GROUNDS[0]
            barred.append(
                debarment(
                    record_no=org.subject.row_id("BL", self._next(org.subject, "BL")),
                    reason=reason,
                    legal_basis=basis,
                    authority=_finance(self.world, self.rng).name,
                    start=start,
                    end=end,
                    published=start,
                )
            )
        broken = [
            violation(
                record_no=org.subject.row_id("WF", self._next(org.subject, "WF")),
                circumstance="因违法经营被处以较大数额罚款",
                penalty=f"罚款人民币{money(300_000_000)}元",
                legal_basis=VIOLATION_BASIS,
                penalty_date=day,
                authority=self.world.authority(self.rng, "market").name,
            )
            for day in violations
        ]
        self.rows.append(
            (SUPPLIERS, supplier_row(org, status, barred, broken, self._stamp(self.m(-12))))
        )
        return org

    # -- planted data ----------------------------------------------------------

    def _archive(self, table: str, row: dict[str, Any]) -> None:
        self.rows.append((archive_file(table), row))

    def sanction(
        self,
        servant: Servant,
        kind: str,
        decided: dt.date,
        period: int | None = None,
        revoked: dt.date | None = None,
    ) -> None:
        """A cs_sanction row."""
        unit = self.employer
        organ = (
            "supervision"
            if kind.startswith("GOV_")
            else "org"
            if kind.startswith("ORG_")
            else "party"
        )
        authority, word = decider(unit, organ)
        number = self._next(servant.person.subject, "S")
        self._archive(
            "cs_sanction",
            sanction_row(
                sanction_id=f"S{servant.person.key:08d}{number:02d}",
                person_id=servant.person_id,
                kind=kind,
                decision_no=f"{unit.abbr}{word}〔{decided.year}〕{number + 40}号",
                authority=authority,
                decision_date=decided,
                period_months=period,
                reason="违反工作纪律，履职不力，造成不良影响",
                disclosure="PUBLIC",
                revoked_date=revoked,
                updated_at=self._stamp(revoked or decided),
            ),
        )

    def investigation(self, servant: Servant, opened: dt.date, closed: dt.date | None) -> None:
        """A cs_investigation row."""
        unit = self.employer
        number = self._next(servant.person.subject, "AJ")
        self._archive(
            "cs_investigation",
            investigation_row(
                case_id=f"AJ{servant.person.key:08d}{number:02d}",
                person_id=servant.person_id,
                authority=decider(unit, "supervision")[0],
                opened=opened,
                closed=closed,
                disclosure="PUBLIC",
            ),
        )

    def honour(self, servant: Servant, year: int, title: str = "优秀公务员") -> None:
        """A cs_honour row, awarded at the employer's (district) level."""
        self._archive("cs_honour", honour_row(servant.person_id, year, title, "县级"))

    def check(self, servant: Servant, checked: dt.date, result: str) -> None:
        """A cs_matters_report_check row (reporting on the year before the check)."""
        self._archive(
            "cs_matters_report_check",
            check_row(servant.person_id, checked.year - 1, checked, result),
        )

    def credit(
        self,
        subject: Subject,
        category: str,
        decided: dt.date,
        months: int,
        *,
        severity: str | None = "SERIOUS",
        status: str = "EFFECTIVE",
        penalties: Sequence[str] = (),
        fine_cents: int | None = None,
        disclosure: str = "PUBLIC",
        scope: Sequence[str] = ALL_SCOPES,
    ) -> dt.date:
        """A credit record in publicity for `months` from `decided`; returns publicity_end."""
        end = add_months(decided, months) - ONE_DAY
        role, word = _DOC_WORDS[category]
        authority = self.world.authority(self.rng, role)
        number = self._next(subject, "CR")
        content = record_content(category, penalties, fine_cents)
        changed = (
            decided
            if status == "EFFECTIVE"
            else min(self.A - ONE_DAY, decided + dt.timedelta(days=30))
        )
        self.rows.append(
            (
                RECORDS,
                credit_record(
                    record_id=subject.row_id("CR", number),
                    category=category,
                    subject=subject,
                    decision_no=decision_no(authority, word, decided.year, 500 + number),
                    violation_type=_TEXTS[category],
                    penalty_types=penalties,
                    penalty_content=content,
                    fine_amount=money(fine_cents) if fine_cents is not None else None,
                    decision_date=decided,
                    authority=authority,
                    severity=severity,
                    publicity_end=end,
                    disclosure=disclosure,
                    share_scope=scope,
                    status=status,
                    updated_at=self._stamp(changed),
                ),
            )
        )
        return end

    def _court_place(self, subject: Subject, org: Org | None) -> tuple[Any, str | None]:
        if org is not None:
            rep = org.representative
            return org.district, rep.name if rep else None
        return home_district(subject.code[:6]), None

    def listing(
        self,
        subject: Subject,
        published: dt.date,
        *,
        behaviour: int,
        listing_end: dt.date | None,
        removed: dt.date | None = None,
        org: Org | None = None,
    ) -> None:
        """A dishonest-debtor entry, filed a month before it was published."""
        district, rep = self._court_place(subject, org)
        filed = self.m(-1, published)
        self.rows.append(
            (
                ENTRIES,
                court_entry(
                    entry_id=subject.row_id("SX", self._next(subject, "SX")),
                    case=Case.draw(self.rng, district, filed),
                    party=subject,
                    legal_rep_name=rep,
                    obligation=f"支付货款人民币{money(12_345_600)}元及逾期付款利息",
                    performance="NONE",
                    unperformed_amount=money(12_345_600),
                    behaviour=behaviour,
                    filing_date=filed,
                    publish_date=published,
                    listing_end=listing_end,
                    status="REMOVED" if removed else "LISTED",
                    removed_date=removed,
                    removal_reason="已履行生效法律文书确定的义务" if removed else None,
                    updated_at=self._stamp(removed or published),
                ),
            )
        )

    def restriction(self, subject: Subject, issued: dt.date, status: str) -> None:
        """A consumption restriction (without a listing)."""
        district, _ = self._court_place(subject, None)
        self.rows.append(
            (
                RESTRICTIONS,
                restriction(
                    order_id=subject.row_id("XF", self._next(subject, "XF")),
                    case=Case.draw(self.rng, district, issued - dt.timedelta(days=20)),
                    party=subject,
                    issued_date=issued,
                    status=status,
                ),
            )
        )

    def issue(self, unit: Org, kind: str, due: dt.date, resolved: dt.date | None) -> None:
        """A purchaser issue of a planted unit."""
        number = self._next(unit.subject, "HT")
        self.rows.append(
            (
                ISSUES,
                purchaser_issue(
                    purchaser=unit.code,
                    contract_no=f"HT{due.year}-{unit.key:08d}-{number:02d}",
                    kind=kind,
                    amount=money(86_000_000),
                    due=due,
                    resolved=resolved,
                ),
            )
        )

    # -- cases -----------------------------------------------------------------

    def bar(
        self,
        name: str,
        subject: Servant | Person | Org,
        purpose: str,
        as_of: dt.date,
        rules: str,
        eligible_from: dt.date | None = None,
    ) -> None:
        """Expect INELIGIBLE with the (space-separated) `rules`; eligible_from None = open-ended."""
        self._case(name, subject, purpose, as_of, INELIGIBLE, rules.split(), eligible_from)

    def flag(
        self, name: str, subject: Servant | Person | Org, purpose: str, as_of: dt.date, rules: str
    ) -> None:
        """Expect FLAGGED with the (space-separated) `rules`."""
        self._case(name, subject, purpose, as_of, FLAGGED, rules.split(), None)

    def clear(
        self,
        name: str,
        subject: Servant | Person | Org,
        purpose: str,
        as_of: dt.date,
        merits: str = "",
    ) -> None:
        """Expect CLEAR: no BAR or FLAG fires; the (space-separated) MERIT rules `merits` do."""
        self._case(name, subject, purpose, as_of, CLEAR, merits.split(), None)

    def _case(
        self,
        name: str,
        subject: Servant | Person | Org,
        purpose: str,
        as_of: dt.date,
        verdict: str,
        rules: list[str],
        eligible_from: dt.date | None,
    ) -> None:
        if isinstance(subject, Servant):
            subject = subject.person
        if isinstance(subject, Person):
            key = ("idNumber", subject.id_number)
        else:
            key = ("creditCode", subject.code)
        if verdict != CLEAR and not rules:
            raise ValueError(f"{name}: a {verdict} case names the rules that fire")
        if verdict == CLEAR and any(not rule.startswith(MERIT_PREFIX) for rule in rules):
            raise ValueError(f"{name}: only MERIT rules fire on a CLEAR case")
        self.cases.append(
            GoldenCase(name, key, purpose, as_of, verdict, tuple(sorted(rules)), eligible_from)
        )
