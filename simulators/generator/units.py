"""The government units: names, levels and credit codes, from a fixed catalogue.

Units are taken from the catalogue in order: province departments, then each
department across the 14 cities, then across the districts and counties, then
sub-district offices. Departments are ordered authorities first, so even a
small dataset has a market regulator, a development and reform commission (the
credit office), a finance department (procurement supervision) and a tax bureau.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .codes import GOVERNMENT, CodeSpace
from .places import (
    CITIES,
    DEPARTMENTS,
    DISTRICTS,
    PROVINCE,
    PROVINCE_CODE,
    STREETS,
    City,
    District,
)

__all__ = ["CATALOGUE_SIZE", "Unit", "build_units"]


@dataclass(frozen=True)
class Unit:
    """A government unit (机关): an organisation with a 11-prefixed credit code."""

    index: int
    code: str
    name: str
    level: str  # PROVINCE | CITY | DISTRICT
    role: str  # authority role ("market", "tax", ...) or ""
    area: str  # 辽宁省 / 沈阳市 / 沈阳市和平区: how its party and supervisory organs are named
    abbr: str  # document abbreviation: 辽 / 沈 / 沈和
    city: City | None
    district: District | None

    @property
    def head_title(self) -> str:
        """The title of the unit's head, its legal representative."""
        if self.name.endswith("镇人民政府"):
            return "镇长"
        if self.name.endswith("乡人民政府"):
            return "乡长"
        if self.name.endswith("厅"):
            return "厅长"
        return "局长" if self.name.endswith("局") else "主任"


@dataclass(frozen=True)
class _Entry:
    name: str
    level: str
    role: str
    region: str
    area: str
    abbr: str
    city: City | None
    district: District | None


def _catalogue() -> Iterator[_Entry]:
    for dept in DEPARTMENTS:
        if dept.province:
            name = dept.province.format(area=PROVINCE)
            yield _Entry(name, "PROVINCE", dept.role, PROVINCE_CODE, PROVINCE, "辽", None, None)
    for dept in DEPARTMENTS:
        if dept.city:
            for city in CITIES:
                name = dept.city.format(area=city.name)
                yield _Entry(name, "CITY", dept.role, city.code, city.name, city.abbr, city, None)
    for dept in DEPARTMENTS:
        if dept.district:
            for district in DISTRICTS:
                name = dept.district.format(area=district.area)
                yield _Entry(
                    name,
                    "DISTRICT",
                    dept.role,
                    district.code,
                    district.area,
                    district.abbr,
                    district.city,
                    district,
                )
    for street in STREETS:
        for district in DISTRICTS:
            if district.name.endswith("区"):
                name = f"{district.area}{street}街道办事处"
                yield _Entry(
                    name,
                    "DISTRICT",
                    "",
                    district.code,
                    district.area,
                    district.abbr,
                    district.city,
                    district,
                )


CATALOGUE_SIZE = sum(1 for _ in _catalogue())


def build_units(count: int, codes: CodeSpace) -> tuple[Unit, ...]:
    """The first `count` units of the catalogue (at most CATALOGUE_SIZE), with codes."""
    units: list[Unit] = []
    for index, entry in enumerate(_catalogue()):
        if index >= count:
            break
        code = codes.random(index, GOVERNMENT, entry.region)
        units.append(
            Unit(
                index,
                code,
                entry.name,
                entry.level,
                entry.role,
                entry.area,
                entry.abbr,
                entry.city,
                entry.district,
            )
        )
    return tuple(units)
