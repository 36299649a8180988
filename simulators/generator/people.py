"""Persons, regenerated from their index: ID number, name, gender, birth date.

A person's identity depends only on the seed and the index, so any generator
can name person i (a debtor, a legal representative, a unit head) without
keeping the population in memory. `Subject` is how the platforms refer to a
person or an organisation.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .codes import birth_date
from .names import person_name
from .world import GOLDEN_KEY, World

__all__ = ["Person", "Subject", "golden_person", "private_person", "random_person"]


@dataclass(frozen=True)
class Subject:
    """Who a record is about, as the platforms name it; `tag` + `key` make row ids unique."""

    type: str  # PERSON | ORG
    code: str
    name: str
    tag: str  # "P" for persons, "O" for organisations
    key: int

    def row_id(self, prefix: str, number: int) -> str:
        """A row id unique per platform: prefix, subject tag and key, running number."""
        return f"{prefix}{self.tag}{self.key:08d}{number:02d}"


@dataclass(frozen=True)
class Person:
    """A natural person."""

    key: int
    id_number: str
    name: str
    gender: str  # M | F
    birth: dt.date

    @property
    def subject(self) -> Subject:
        """The person as a record subject."""
        return Subject("PERSON", self.id_number, self.name, "P", self.key)

    def registry_row(self) -> dict[str, str]:
        """The person's line in the credit platform's subject registry."""
        return {"type": "PERSON", "code": self.id_number, "name": self.name}


def _person(key: int, id_number: str, rng: random.Random) -> Person:
    # The 17th digit is odd for men (GB 11643).
    gender = "M" if int(id_number[16]) % 2 else "F"
    return Person(key, id_number, person_name(rng, gender), gender, birth_date(id_number))


def random_person(world: World, index: int) -> Person:
    """Random person `index` (0 <= index < persons)."""
    return _person(index, world.ids.random(index), world.rng("person", index))


def golden_person(world: World, index: int) -> Person:
    """Planted person `index`: an identity no random person has."""
    return _person(GOLDEN_KEY + index, world.ids.golden(index), world.rng("golden-person", index))


def private_person(world: World, rng: random.Random) -> Person:
    """A random person who is not a civil servant."""
    index = rng.randrange(world.sizes.persons)
    while world.service.servant_of(index) is not None:
        index = (index + 1) % world.sizes.persons
    return random_person(world, index)
