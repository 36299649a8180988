"""What one generation run is made of: the options, the sizes, and the shared context.

Sizes scale with the options (defaults in brackets):
- persons P [20,000]: a quarter are civil servants [5,000]; the rest are private
  persons (debtors, legal representatives, shareholders, credit subjects).
- organisations O [5,000]: 6% government units [300] (at most the unit
  catalogue, about 4,800), 60% registered suppliers [3,000], the rest other
  enterprises [1,700].

Organisation indices are laid out units first, then suppliers, then the other
enterprises. Civil servant c is person `c * P // C` (spread over the person
indices) and belongs to the unit whose block of civil-servant numbers holds c;
blocks are sized by unit level (province > city > district) with some jitter.
A unit's head is the first civil servant of its block aged 40 to 59.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .codes import CodeSpace, IdSpace, birth_date
from .dates import age
from .units import CATALOGUE_SIZE, Unit, build_units

__all__ = ["MAX_ENTITIES", "CivilService", "GeneratorOptions", "Sizes", "World", "build_world"]

# Record and row ids reserve 8 digits for an entity index; planted (golden)
# entities are numbered from GOLDEN_KEY upwards, random ones below it.
MAX_ENTITIES = 90_000_000
GOLDEN_KEY = 90_000_000

_LEVEL_WEIGHT = {"PROVINCE": 300, "CITY": 200, "DISTRICT": 100}
_HEAD_MIN_AGE = 40
_RETIREMENT_AGE = 60


@dataclass(frozen=True)
class GeneratorOptions:
    """What to generate: how many persons and organisations, the seed, the as-of date."""

    persons: int = 20_000
    orgs: int = 5_000
    seed: int = 1
    as_of: dt.date = dt.date(2025, 6, 30)


@dataclass(frozen=True)
class Sizes:
    """How many entities of each kind one run generates."""

    persons: int
    civil_servants: int
    orgs: int
    units: int
    suppliers: int
    enterprises: int

    @classmethod
    def plan(cls, options: GeneratorOptions) -> Sizes:
        """Scale the default proportions to the options (see the module docstring)."""
        if not 4 <= options.persons < MAX_ENTITIES:
            raise ValueError(f"persons must be between 4 and {MAX_ENTITIES - 1}")
        if not 3 <= options.orgs < MAX_ENTITIES:
            raise ValueError(f"orgs must be between 3 and {MAX_ENTITIES - 1}")
        units = min(CATALOGUE_SIZE, max(1, round(options.orgs * 0.06)))
        suppliers = max(1, round(options.orgs * 0.6))
        return cls(
            persons=options.persons,
            civil_servants=options.persons // 4,
            orgs=options.orgs,
            units=units,
            suppliers=suppliers,
            enterprises=options.orgs - units - suppliers,
        )


@dataclass(frozen=True)
class CivilService:
    """Which persons are civil servants, and in which unit each one serves."""

    persons: int
    count: int
    block_starts: tuple[int, ...]  # civil-servant numbers; len = units + 1
    heads: tuple[int | None, ...]  # the head's civil-servant number, per unit

    def person_of(self, servant: int) -> int:
        """The person index of civil servant `servant`."""
        return servant * self.persons // self.count

    def servant_of(self, person: int) -> int | None:
        """The civil-servant number of person `person`, or None for a private person."""
        if self.count == 0:
            return None
        servant = -(-person * self.count // self.persons)  # ceiling division
        return servant if servant < self.count and self.person_of(servant) == person else None

    def unit_of(self, servant: int) -> int:
        """The index of the unit civil servant `servant` works in."""
        return bisect.bisect_right(self.block_starts, servant) - 1

    def members(self, unit: int) -> range:
        """The civil-servant numbers of a unit."""
        return range(self.block_starts[unit], self.block_starts[unit + 1])


@dataclass(frozen=True)
class World:
    """The context every generator function is handed: options, sizes, identifier spaces."""

    options: GeneratorOptions
    sizes: Sizes
    ids: IdSpace
    codes: CodeSpace
    units: tuple[Unit, ...]
    service: CivilService
    authorities: Mapping[str, tuple[int, ...]]  # role -> unit indices

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.options.seed

    @property
    def as_of(self) -> dt.date:
        """The date every generated date is anchored at."""
        return self.options.as_of

    def rng(self, *parts: object) -> random.Random:
        """A generator seeded by the run's seed and `parts` ("person", 12, "credit")."""
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def authority(self, rng: random.Random, *roles: str) -> Unit:
        """A unit acting in one of `roles`; any unit when none has that role."""
        candidates = [index for role in roles for index in self.authorities.get(role, ())]
        if not candidates:
            return self.units[rng.randrange(len(self.units))]
        return self.units[rng.choice(candidates)]


def _blocks(seed: int, units: tuple[Unit, ...], servants: int) -> tuple[int, ...]:
    """Where each unit's block of civil-servant numbers starts (and, last, the end)."""
    rng = random.Random(f"{seed}:units")
    weights = [_LEVEL_WEIGHT[unit.level] * rng.randint(60, 140) for unit in units]
    total = sum(weights)
    starts = [0]
    running = 0
    for weight in weights:
        running += weight
        starts.append(servants * running // total)  # integers only: no float rounding
    return tuple(starts)


def _heads(service: CivilService, ids: IdSpace, as_of: dt.date) -> tuple[int | None, ...]:
    """Each unit's head: the first member aged 40 to 59 among its first 25, else the first."""
    heads: list[int | None] = []
    for unit in range(len(service.block_starts) - 1):
        members = service.members(unit)
        head = members.start if members else None
        for servant in members[:25]:
            born = birth_date(ids.random(service.person_of(servant)))
            if _HEAD_MIN_AGE <= age(born, as_of) < _RETIREMENT_AGE:
                head = servant
                break
        heads.append(head)
    return tuple(heads)


def build_world(options: GeneratorOptions) -> World:
    """Everything shared by a run, computed once (a few kilobytes per unit)."""
    sizes = Sizes.plan(options)
    ids = IdSpace.create(options.seed, options.as_of)
    codes = CodeSpace.create(options.seed)
    units = build_units(sizes.units, codes)
    starts = _blocks(options.seed, units, sizes.civil_servants)
    unheaded = CivilService(sizes.persons, sizes.civil_servants, starts, ())
    service = replace(unheaded, heads=_heads(unheaded, ids, options.as_of))
    authorities: dict[str, list[int]] = {}
    for unit in units:
        if unit.role:
            authorities.setdefault(unit.role, []).append(unit.index)
    return World(
        options=options,
        sizes=sizes,
        ids=ids,
        codes=codes,
        units=units,
        service=service,
        authorities={role: tuple(indices) for role, indices in sorted(authorities.items())},
    )
