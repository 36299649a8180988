"""What each audit query must answer, read straight off a generated dataset's files.

Independent of the gateway: no connector, no loader, no engine. The joins are
written out here; the vetting rules come from the generator tests' `_Oracle`,
a deliberately plain reading of the DOMAIN.md rules table, with the record
visibility of the asking role's sector (AUDIT for an auditor; CREDIT_OFFICE
for credit_admin, who sees every record: every generated record that is not
PUBLIC has CREDIT_OFFICE in its share scope).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schema.in_force import add_months
from tests.simulators.test_generator import _Oracle, rows

REGISTERED = ("ACTIVE", "SUSPENDED", "CANCELLED")
OWED = ("LATE_PAYMENT", "BREACH")
SECTOR = {"auditor": "AUDIT", "credit_admin": "CREDIT_OFFICE"}


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass
class _SectorOracle(_Oracle):
    """The rules oracle, with the credit records one sector may use."""

    sector: str = "AUDIT"

    def _credit(self, code: str, on: dt.date, sector: str) -> list[dict[str, Any]]:
        return super()._credit(code, on, self.sector)


@dataclass
class AuditOracle:
    dataset: Path
    today: dt.date
    servants: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.servants = {row["id_number"]: row for row in self._rows("archive/cs_person")}

    def _rows(self, name: str) -> list[dict[str, Any]]:
        return rows(self.dataset, f"{name}.jsonl")

    def units(self) -> set[str]:
        history = self._rows("archive/cs_position_history")
        codes = {row["unit_code"] for row in [*self.servants.values(), *history]}
        return {code for code in codes if code and code.startswith("11")}

    def conflicts(self, unit: str | None = None) -> set[tuple[str, str, str, frozenset[str]]]:
        """(ID number, supplier, role, contracts won from the servant's unit in 15 years)."""
        since = add_months(self.today, -15 * 12).isoformat()
        won = defaultdict(set)
        for award in self._rows("procurement/awards"):
            if since <= award["award_date"] <= self.today.isoformat():
                key = (award["purchaser_code"], award["supplier_code"])
                won[key].add(award["contract_no"])
        found = set()
        for supplier in self._rows("procurement/suppliers"):
            if supplier["registration_status"] not in REGISTERED:
                continue
            people = [(supplier["legal_representative"], "LEGAL_REPRESENTATIVE")]
            people += [(holder, "SHAREHOLDER") for holder in supplier["shareholders"]]
            for person, role in people:
                servant = self.servants.get((person or {}).get("id_number", ""))
                if servant is None or unit not in (None, servant["unit_code"]):
                    continue
                contracts = won[(servant["unit_code"], supplier["credit_code"])]
                found.add(
                    (servant["id_number"], supplier["credit_code"], role, frozenset(contracts))
                )
        return found

    def debtors(self) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        """Unit -> (entries in force today, LATE_PAYMENT / BREACH issues open today)."""
        units, today = self.units(), self.today
        listed, owing = defaultdict(set), defaultdict(set)
        for entry in self._rows("court/entries"):
            published, end = _day(entry["publishDate"]), _day(entry["listingEnd"])
            removed = _day(entry["removedDate"])
            in_force = (
                entry["idCode"] in units
                and published is not None
                and published <= today
                and (end is None or today <= end)
                and (entry["status"] == "LISTED" or (removed is not None and today < removed))
            )
            if in_force:
                listed[entry["idCode"]].add(entry["entryId"])
        for issue in self._rows("procurement/purchaser_issues"):
            due, resolved = _day(issue["due_date"]), _day(issue["resolved_date"])
            open_now = due is not None and due <= today and (resolved is None or today < resolved)
            if issue["purchaser_code"] in units and issue["type"] in OWED and open_now:
                owing[issue["purchaser_code"]].add(issue["contract_no"])
        return {
            unit: (frozenset(listed[unit]), frozenset(owing[unit])) for unit in {*listed, *owing}
        }

    def promotions(
        self, first: dt.date, last: dt.date, role: str
    ) -> set[tuple[str, str, frozenset[str]]]:
        """(ID number, start date, undisputed BAR rule ids) of the changes found."""
        oracle = _SectorOracle(self.dataset, sector=SECTOR[role])
        people = {row["person_id"]: row["id_number"] for row in self.servants.values()}
        found = set()
        for change in self._rows("archive/cs_position_history"):
            start = _day(change["start_date"])
            if start is None or not first <= start <= last:
                continue
            code = people[change["person_id"]]
            findings = oracle._court(code, start, "CS-08")
            findings += oracle._person(code, start, "CADRE_SELECTION")
            bars = frozenset(f.rule for f in findings if f.bar and not f.disputed)
            if bars:
                found.add((code, start.isoformat(), bars))
        return found

    def awards(
        self, first: dt.date, last: dt.date, role: str, purchaser: str | None = None
    ) -> set[tuple[str, frozenset[str]]]:
        """(contract, rule ids of its findings but PE-02) of the awards found."""
        oracle = _SectorOracle(self.dataset, sector=SECTOR[role])
        units = self.units()
        found = set()
        for award in self._rows("procurement/awards"):
            day = dt.date.fromisoformat(award["award_date"])
            buyer = award["purchaser_code"]
            if buyer not in units or purchaser not in (None, buyer) or not first <= day <= last:
                continue
            code = award["supplier_code"]
            findings = oracle._supplier(code, day) + oracle._rename(
                oracle._court(code, day, ""), "PE-04"
            )
            findings = [f for f in findings if f.rule != "PE-02"]
            if any(f.bar and not f.disputed for f in findings):
                found.add((award["contract_no"], frozenset(f.rule for f in findings)))
        return found
