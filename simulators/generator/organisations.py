"""Organisations, regenerated from their index: units, suppliers, other enterprises.

Index layout (see world.py): [0, units) government units, then registered
suppliers, then other enterprises. An enterprise's name, registration place,
legal representative and shareholders depend only on the seed and its index.
About 2% of suppliers have a civil servant as legal representative or
shareholder (公务员违规经商办企业): the conflicts of interest the audit
queries look for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .codes import ENTERPRISE
from .names import company_name
from .people import Person, Subject, private_person, random_person
from .places import DISTRICTS, District
from .units import Unit
from .world import World

__all__ = ["Org", "enterprise_place", "random_org", "unit_org"]

_CONFLICT_SHARE = 0.02
# The provincial government sits in 沈阳市皇姑区.
_PROVINCE_SEAT = next(d for d in DISTRICTS if d.code == "210105")
# Shenyang and Dalian register far more companies than the rest.
_DISTRICT_WEIGHTS = tuple(4 if d.city.prefix in ("2101", "2102") else 1 for d in DISTRICTS)


@dataclass(frozen=True)
class Org:
    """An organisation as the platforms know it."""

    key: int
    code: str
    name: str
    kind: str  # UNIT | SUPPLIER | ENTERPRISE
    district: District  # seat: decides the court of its enforcement cases
    representative: Person | None
    shareholders: tuple[Person, ...] = ()
    unit: Unit | None = None
    servant: int | None = None  # civil servant tied to a supplier (conflict of interest)

    @property
    def subject(self) -> Subject:
        """The organisation as a record subject."""
        return Subject("ORG", self.code, self.name, "O", self.key)

    def registry_row(self) -> dict[str, str]:
        """The organisation's line in the credit platform's subject registry."""
        return {"type": "ORG", "code": self.code, "name": self.name}


def unit_org(world: World, unit: Unit) -> Org:
    """A government unit as an organisation; its head is its legal representative."""
    head = world.service.heads[unit.index]
    representative = (
        random_person(world, world.service.person_of(head)) if head is not None else None
    )
    district = unit.district or (
        next(d for d in DISTRICTS if d.city == unit.city) if unit.city else _PROVINCE_SEAT
    )
    return Org(unit.index, unit.code, unit.name, "UNIT", district, representative, unit=unit)


def enterprise_place(rng: random.Random) -> tuple[District, str]:
    """Where a company is registered, and the place name its name starts with."""
    district = rng.choices(DISTRICTS, weights=_DISTRICT_WEIGHTS)[0]
    return district, "辽宁" if rng.random() < 0.15 else district.city.short


def random_org(world: World, index: int) -> Org:
    """Random organisation `index` (0 <= index < orgs)."""
    sizes = world.sizes
    if index < sizes.units:
        return unit_org(world, world.units[index])
    rng = world.rng("org", index)
    district, place = enterprise_place(rng)
    name = company_name(rng, place)
    code = world.codes.random(index, ENTERPRISE, district.code)
    representative = private_person(world, rng)
    if index >= sizes.units + sizes.suppliers:
        return Org(index, code, name, "ENTERPRISE", district, representative)
    shareholders = tuple(private_person(world, rng) for _ in range(rng.choice((0, 1, 1, 2, 3))))
    servant = None
    if world.service.count and rng.random() < _CONFLICT_SHARE:
        servant = rng.randrange(world.service.count)
        official = random_person(world, world.service.person_of(servant))
        if rng.random() < 0.5:
            representative = official
        else:
            shareholders = (official, *shareholders)
    return Org(index, code, name, "SUPPLIER", district, representative, shareholders, None, servant)
