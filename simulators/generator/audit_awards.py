"""Awards to ineligible suppliers: audit cases planted on random suppliers.

Awards may never name a planted subject (the random data's awards are kept
apart from the vetting golden cases), so these contracts are planted between
random units and random suppliers, chosen by regenerating suppliers from their
index (the same draws the run made) in index order:

    PE-01  the first ACTIVE supplier with a debarment wins a contract on the
           debarment's first day: it must be reported;
    PE-03  the first ACTIVE supplier with a serious violation wins one on the
           penalty day: it must be reported;
    clean  the first ACTIVE supplier with no record anywhere wins one: not reported;
    over   an ACTIVE supplier whose only record is a debarment wins one the day
           after it ended: not reported;
    later  a supplier suspended or cancelled later, with no record anywhere,
           wins one before it stopped: not reported (its registration status has
           no date, so it says nothing about the award day).

All are awarded by the first unit, before the as-of date, like random awards.
A case whose kind of supplier the run does not have is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .court import random_court
from .credit import random_records
from .dates import ONE_DAY, add_months, money
from .golden_plant import Planter
from .organisations import Org, random_org
from .procurement import award, random_supplier
from .world import World
from .writer import AWARDS

__all__ = ["PlantedAward", "plant_awards"]


@dataclass(frozen=True)
class PlantedAward:
    """One planted contract; `rule` is the bar it must be reported with (None: not reported)."""

    case: str
    contract_no: str
    purchaser: str
    supplier: str
    award_date: dt.date
    rule: str | None

    def row(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "contractNo": self.contract_no,
            "purchaserCode": self.purchaser,
            "supplierCode": self.supplier,
            "awardDate": self.award_date.isoformat(),
            "rule": self.rule,
        }


@dataclass(frozen=True)
class _Supplier:
    """A random supplier as the run generated it."""

    org: Org
    row: dict[str, Any]
    status: str
    stopped: dt.date | None
    quiet: bool  # no credit record and no court entry or restriction

    @property
    def debarments(self) -> list[dict[str, Any]]:
        return list(self.row["debarments"])

    @property
    def violations(self) -> list[dict[str, Any]]:
        return list(self.row["violations"])


def plant_awards(p: Planter) -> list[PlantedAward]:
    """Plant one contract per case the run has a supplier for; returns them in case order."""
    world, as_of = p.world, p.A
    picks: dict[str, tuple[_Supplier, dt.date]] = {}
    choosers = _choosers(as_of)
    for supplier in _suppliers(world):
        for case, choose in choosers.items():
            if case not in picks and (day := choose(supplier)) is not None:
                picks[case] = (supplier, day)
                break
        if len(picks) == len(choosers):
            break
    purchaser = world.units[0]
    planted = []
    for case in choosers:
        if case not in picks:
            continue
        supplier, day = picks[case]
        contract_no = f"LNZC{day.year}-{supplier.org.key:08d}-91"
        p.rows.append(
            (
                AWARDS,
                award(
                    purchaser=purchaser.code,
                    contract_no=contract_no,
                    supplier=supplier.org,
                    awarded=day,
                    amount=money(123_400_000),
                ),
            )
        )
        rule = case if case.startswith("PE-") else None
        planted.append(
            PlantedAward(case, contract_no, purchaser.code, supplier.org.code, day, rule)
        )
    return planted


def _choosers(as_of: dt.date) -> dict[str, Callable[[_Supplier], dt.date | None]]:
    """Per case: the award day if this supplier fits the case, else None."""

    def debarred(s: _Supplier) -> dt.date | None:
        if s.status != "ACTIVE" or not s.debarments:
            return None
        return dt.date.fromisoformat(s.debarments[0]["start_date"])

    def violated(s: _Supplier) -> dt.date | None:
        if s.status != "ACTIVE" or not s.violations:
            return None
        return dt.date.fromisoformat(s.violations[0]["penalty_date"])

    def clean(s: _Supplier) -> dt.date | None:
        spotless = s.quiet and not s.debarments and not s.violations
        return add_months(as_of, -3) if s.status == "ACTIVE" and spotless else None

    def over(s: _Supplier) -> dt.date | None:
        if s.status != "ACTIVE" or not s.quiet or s.violations or not s.debarments:
            return None
        periods = [
            (dt.date.fromisoformat(d["start_date"]), dt.date.fromisoformat(d["end_date"]))
            for d in s.debarments
        ]
        for _, end in periods:
            day = end + ONE_DAY
            if day < as_of and not any(start <= day <= last for start, last in periods):
                return day
        return None

    def later(s: _Supplier) -> dt.date | None:
        spotless = s.quiet and not s.debarments and not s.violations
        if s.status == "ACTIVE" or s.stopped is None or not spotless:
            return None
        return s.stopped - dt.timedelta(days=30)

    return {"PE-01": debarred, "PE-03": violated, "clean": clean, "over": over, "later": later}


def _suppliers(world: World) -> Iterator[_Supplier]:
    """The run's random suppliers in index order, regenerated from their index."""
    sizes = world.sizes
    for index in range(sizes.units, sizes.units + sizes.suppliers):
        org = random_org(world, index)
        row, status, stopped = random_supplier(world, world.rng("org", index, "procurement"), org)
        records = random_records(world, world.rng("org", index, "credit"), org.subject, "supplier")
        rep = org.representative.name if org.representative else None
        entries, orders = random_court(
            world, world.rng("org", index, "court"), org.subject, org.district, rep, "supplier"
        )
        quiet = not records and not entries and not orders
        yield _Supplier(org, row, status, stopped, quiet)
