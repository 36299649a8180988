"""The condition kinds rule clauses refer to: a small, generic set, parameterised by data.

Each kind reads ONE source and yields a `Match` for every record that meets it
on the as-of date. A match carries what the engine needs to time a finding:

    start     the day the record began to apply (decision, publication, check,
              penalty or due date), for `within_months` and `start_in_as_of_year`
    end       the record's own first free day: publicity_end + 1, listingEnd + 1,
              EndDate + 1, a sanction's period end; None when it has none
    changed   a change date after the as-of date (revocation, closure, removal,
              resolution): the record stops applying that day

Every kind applies record visibility rules 1 and 2 of DOMAIN.md itself (in force
on the as-of date, by the date convention; not REPAIRED or REVOKED), whatever
the caller filtered, so a past or future as-of date is judged on its own day.
RED_LIST credit records (commendations) match only a clause that names their
category; the rule file allows that only for MERIT clauses (rules.py).

    kind                     source           parameters (AND-ed; lists are any-of)
    credit_record            CREDIT_PLATFORM  categories?, severities?, penalty_types?, min_fine?
    unknown_person           ARCHIVE          - (the archive answered and holds no file)
    sanction                 ARCHIVE          periods (kind -> Period)
    investigation            ARCHIVE          -
    assessment               ARCHIVE          year_offsets, grades
    assessment_run           ARCHIVE          year_offsets, grades (each of those years)
    honour                   ARCHIVE          year_offsets (the latest honour of those years)
    matters_check            ARCHIVE          results
    enforcement_entry        COURT            -
    consumption_restriction  COURT            -
    business_role            PROCUREMENT      roles, statuses (the supplier's registration)
    debarment                PROCUREMENT      -
    registration             PROCUREMENT      statuses
    violation                PROCUREMENT      -
    purchaser_issue          PROCUREMENT      types

Where DOMAIN.md is silent:
- A record without the start date its kind needs (decision, publication,
  opening, issue, penalty date) is not known to have started: it never matches.
- A sanction of a kind no clause lists a period for never matches; a
  PARTY_PROBATION with period_months null runs 24 + 24 months (the longer
  probation), as schema/in_force.py does.
- A credit record matches by its own fields only: CS-09 is any category with
  severity SERIOUS, PE-05 the categories whatever their severity, HO-01 any
  GOV_DISHONESTY record. PE-03 takes ADMIN_PENALTY records only, so a
  TAX_VIOLATION fine does not count towards its threshold.
- No supplier status in the procurement answer reads as NOT_REGISTERED (the
  system answers an unknown code so).
- Several assessments for one year each match. `assessment_run` is one match
  for the whole run of years, `honour` one for the latest honour (ME-02's until
  follows the latest year), the first title of that year in the archive's order.
- An honour or assessment year counts by its number alone: the archive dates
  neither more precisely.

Record references name source, kind and the platform's own id:
"CREDIT_PLATFORM:record:CR-1", "ARCHIVE:sanction:S-1", "ARCHIVE:assessment:P-9/2025".
Assessments, honours and matters-report checks have no id of their own: theirs
is the archive person id and the year(s) / check date. A person the archive does
not know is "ARCHIVE:file:none" (no identifier in a reference that needs none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from schema.in_force import (
    credit_record_in_force,
    debarment_in_force,
    enforcement_in_force,
    investigation_open,
    issue_open,
    restriction_active,
)
from schema.types import SourceName

from .matches import ConditionKind, Match, Params, Records, record_ref

__all__ = ["COMMENDATIONS", "CONDITIONS"]

# Commendations: they never bar or flag (DOMAIN.md "Record visibility"), only a
# clause naming the category (a MERIT) reads them.
COMMENDATIONS = frozenset({"RED_LIST"})
_DISPUTED = "OBJECTION_PENDING"
_ONE_DAY = dt.timedelta(days=1)


def _next_day(day: dt.date | None) -> dt.date | None:
    """An inclusive end date's first free day."""
    return None if day is None else day + _ONE_DAY


def _later(change: dt.date | None, as_of: dt.date) -> dt.date | None:
    """A change date that has not happened yet on the as-of date."""
    return change if change is not None and change > as_of else None


# --- credit platform ---------------------------------------------------------


def _credit_records(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    for r in records.credit:
        if not credit_record_in_force(r, as_of):
            continue
        if p.categories is None and r.category in COMMENDATIONS:
            continue
        if p.categories is not None and r.category not in p.categories:
            continue
        if p.severities is not None and r.severity not in p.severities:
            continue
        if p.penalty_types is not None and p.penalty_types.isdisjoint(r.penalty_types):
            continue
        if p.min_fine is not None and (r.fine_amount is None or r.fine_amount < p.min_fine):
            continue
        yield Match(
            record_ref(r),
            f"{r.category} ({r.severity or 'no severity'}) decided {r.decision_date},"
            f" {r.decision_no or 'no decision number'}, in publicity to {r.publicity_end}",
            start=r.decision_date,
            end=_next_day(r.publicity_end),
            disputed=r.status == _DISPUTED,
        )


# --- archive -----------------------------------------------------------------


def _unknown_person(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    # Only reached when the archive answered (a missing source's clauses are
    # skipped): no file means nothing about this person could be checked.
    if records.servant is None:
        yield Match("ARCHIVE:file:none", "the civil-service archive holds no file of this person")


def _sanctions(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    for s in servant.sanctions if servant else ():
        period = p.periods.get(s.kind)
        if period is None or s.decision_date is None or as_of < s.decision_date:
            continue
        end = period.first_free_day(s)
        revoked = s.revoked_date is not None and as_of >= s.revoked_date
        if revoked or (end is not None and as_of >= end):
            continue
        yield Match(
            record_ref(s),
            f"{s.kind} decided {s.decision_date}, {s.decision_no or 'no decision number'}",
            start=s.decision_date,
            end=end,
            changed=_later(s.revoked_date, as_of),
        )


def _investigations(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    for i in servant.investigations if servant else ():
        if investigation_open(i, as_of):
            yield Match(
                record_ref(i),
                f"investigation opened {i.opened_date}",
                start=i.opened_date,
                changed=_later(i.closed_date, as_of),
            )


def _assessments(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    if servant is None:
        return
    years = {as_of.year - offset for offset in p.year_offsets}
    for a in servant.assessments:
        if a.year in years and a.grade in p.grades:
            yield Match(
                f"ARCHIVE:assessment:{servant.person_id}/{a.year}",
                f"annual assessment {a.year}: {a.grade}",
            )


def _assessment_runs(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    if servant is None:
        return
    years = sorted(as_of.year - offset for offset in p.year_offsets)
    graded = {a.year for a in servant.assessments if a.grade in p.grades}
    if graded.issuperset(years):
        grades = "/".join(sorted(p.grades))
        yield Match(
            f"ARCHIVE:assessment:{servant.person_id}/{years[0]}-{years[-1]}",
            f"annual assessments {years[0]}-{years[-1]}: {grades} every year",
        )


def _honours(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    if servant is None:
        return
    years = {as_of.year - offset for offset in p.year_offsets}
    earned = [h for h in servant.honours if h.year in years]
    if earned:
        latest = max(h.year for h in earned)
        honour = next(h for h in earned if h.year == latest)
        # Counts while the as-of year is within the offsets of its year.
        counts_to = latest + max(p.year_offsets)
        yield Match(
            f"ARCHIVE:honour:{servant.person_id}/{latest}",
            f"honour {latest}: {honour.title} ({honour.level or 'no level'})",
            end=dt.date(counts_to + 1, 1, 1),
        )


def _matters_checks(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    servant = records.servant
    if servant is None:
        return
    for c in servant.matters_report_checks:
        if c.result in p.results and c.check_date <= as_of:
            yield Match(
                f"ARCHIVE:matters_check:{servant.person_id}/{c.check_date}",
                f"personal matters report on {c.year} checked {c.check_date}: {c.result}",
                start=c.check_date,
            )


# --- court -------------------------------------------------------------------


def _entries(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    for e in records.entries:
        if enforcement_in_force(e, as_of):
            yield Match(
                record_ref(e),
                f"listed dishonest judgment debtor, case {e.case_code}, behaviour {e.behaviour},"
                f" published {e.publish_date}, listing end {e.listing_end or 'none'}",
                start=e.publish_date,
                end=_next_day(e.listing_end),
                changed=_later(e.removed_date, as_of),
            )


def _restrictions(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    for r in records.restrictions:
        if restriction_active(r, as_of):
            yield Match(
                record_ref(r),
                f"consumption restriction, case {r.case_code}, issued {r.issued_date}",
                start=r.issued_date,
            )


# --- procurement -------------------------------------------------------------


def _business_roles(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    for r in records.roles:
        if r.role in p.roles and r.registration_status in p.statuses:
            yield Match(
                f"PROCUREMENT:business_role:{r.supplier_code}/{r.role}",
                f"{r.role} of supplier {r.supplier_code} ({r.registration_status})",
            )


def _debarments(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    supplier = records.supplier
    for d in supplier.debarments if supplier else ():
        if debarment_in_force(d, as_of):
            yield Match(
                record_ref(d),
                f"debarred from {d.start_date} to {d.end_date}",
                start=d.start_date,
                end=_next_day(d.end_date),
            )


def _registration(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    # The procurement system answers an unknown code NOT_REGISTERED; no answer reads the same.
    supplier = records.supplier
    status = supplier.registration_status if supplier else "NOT_REGISTERED"
    if status in p.statuses:
        code = supplier.credit_code if supplier else "unknown"
        yield Match(f"PROCUREMENT:registration:{code}", f"supplier registration {status}")


def _violations(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    supplier = records.supplier
    for v in supplier.violations if supplier else ():
        if v.penalty_date is not None and v.penalty_date <= as_of:
            yield Match(
                record_ref(v),
                f"serious violation penalised {v.penalty_date}",
                start=v.penalty_date,
            )


def _purchaser_issues(records: Records, as_of: dt.date, p: Params) -> Iterator[Match]:
    purchaser = records.purchaser
    for i in purchaser.issues if purchaser else ():
        if i.type in p.types and issue_open(i, as_of):
            yield Match(
                record_ref(i),
                f"{i.type} as purchaser, contract {i.contract_no}, due {i.due_date}",
                start=i.due_date,
                changed=_later(i.resolved_date, as_of),
            )


_CREDIT, _ARCHIVE = SourceName.CREDIT_PLATFORM, SourceName.ARCHIVE
_COURT, _PROCUREMENT = SourceName.COURT, SourceName.PROCUREMENT
_CREDIT_FILTERS = frozenset({"categories", "severities", "penalty_types", "min_fine"})

CONDITIONS: Mapping[str, ConditionKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            ConditionKind("credit_record", _CREDIT, _credit_records, optional=_CREDIT_FILTERS),
            ConditionKind("unknown_person", _ARCHIVE, _unknown_person),
            ConditionKind("sanction", _ARCHIVE, _sanctions, frozenset({"periods"})),
            ConditionKind("investigation", _ARCHIVE, _investigations),
            ConditionKind(
                "assessment", _ARCHIVE, _assessments, frozenset({"year_offsets", "grades"})
            ),
            ConditionKind(
                "assessment_run",
                _ARCHIVE,
                _assessment_runs,
                frozenset({"year_offsets", "grades"}),
            ),
            ConditionKind("honour", _ARCHIVE, _honours, frozenset({"year_offsets"})),
            ConditionKind("matters_check", _ARCHIVE, _matters_checks, frozenset({"results"})),
            ConditionKind("enforcement_entry", _COURT, _entries),
            ConditionKind("consumption_restriction", _COURT, _restrictions),
            ConditionKind(
                "business_role", _PROCUREMENT, _business_roles, frozenset({"roles", "statuses"})
            ),
            ConditionKind("debarment", _PROCUREMENT, _debarments),
            ConditionKind("registration", _PROCUREMENT, _registration, frozenset({"statuses"})),
            ConditionKind("violation", _PROCUREMENT, _violations),
            ConditionKind("purchaser_issue", _PROCUREMENT, _purchaser_issues, frozenset({"types"})),
        )
    }
)
"""Every condition kind a rule file may name, by name."""
