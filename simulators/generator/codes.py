"""Valid, unique identifiers from an entity's index: ID numbers and credit codes.

An index is mapped to an identifier through a keyed permutation of the whole
identifier space (a four-round Feistel network over the next power of two,
walking the cycle until it lands inside the space), so two indices never share
an identifier, no set of issued identifiers has to be kept, and neighbouring
indices look unrelated. The keys come from the seed, so another seed issues
other identifiers. Random entities use the low indices; planted (golden) ones
count down from the top of the space, so the two never meet.

- ID number: region (6) + birth date (8) + sequence (3, odd for men) + check.
- Credit code: registration authority and kind (2: "11" for a government organ,
  "91" for an enterprise) + region (6) + organisation code (8 digits and their
  GB 11714 check) + GB 32100 check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from connectors.identifiers import credit_code_check_char, id_number_check_char

from .places import ID_REGIONS

__all__ = [
    "ENTERPRISE",
    "GOVERNMENT",
    "CodeSpace",
    "IdSpace",
    "Permutation",
    "birth_date",
    "gb11714_check",
]

GOVERNMENT = "11"  # 机构编制 + 机关
ENTERPRISE = "91"  # 市场监督管理 + 企业

_ORG_BODY_SPACE = 10**8
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MASK32 = 0xFFFFFFFF


def gb11714_check(body: str) -> str:
    """The check character of an 8-digit organisation code body (GB 11714)."""
    total = sum(int(digit) * weight for digit, weight in zip(body, _GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def birth_date(id_number: str) -> dt.date:
    """The birth date in positions 7..14 of a (generated, hence valid) ID number."""
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def _mix(value: int) -> int:
    # An integer hash with good avalanche (multiply / xor-shift), pure arithmetic.
    value = (value * 0x45D9F3B) & _MASK32
    value ^= value >> 16
    value = (value * 0x45D9F3B) & _MASK32
    return value ^ (value >> 16)


@dataclass(frozen=True)
class Permutation:
    """A keyed bijection of [0, size)."""

    size: int
    half_bits: int
    keys: tuple[int, ...]

    @classmethod
    def create(cls, seed: int, label: str, size: int) -> Permutation:
        """The permutation of [0, size) for one seed and purpose."""
        half_bits = max(1, ((size - 1).bit_length() + 1) // 2)
        digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
        keys = tuple(int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4))
        return cls(size, half_bits, keys)

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise ValueError("index outside the permuted range")
        value = self._round_trip(index)
        while value >= self.size:  # cycle walking: stays a bijection on [0, size)
            value = self._round_trip(value)
        return value

    def _round_trip(self, value: int) -> int:
        mask = (1 << self.half_bits) - 1
        left, right = value >> self.half_bits, value & mask
        for key in self.keys:
            left, right = right, left ^ (_mix(right ^ key) & mask)
        return (left << self.half_bits) | right


@dataclass(frozen=True)
class IdSpace:
    """Resident ID numbers of people born on `days` days from `first_birth`."""

    first_birth: dt.date
    days: int
    permutation: Permutation

    @classmethod
    def create(cls, seed: int, as_of: dt.date) -> IdSpace:
        """People aged about 23 to 63 on `as_of`."""
        first = dt.date(as_of.year - 63, 1, 1)
        days = (dt.date(as_of.year - 23, 12, 31) - first).days + 1
        size = len(ID_REGIONS) * days * 1000
        return cls(first, days, Permutation.create(seed, "id-space", size))

    @property
    def size(self) -> int:
        """How many distinct ID numbers the space holds."""
        return self.permutation.size

    def random(self, index: int) -> str:
        """The ID number of random person `index`."""
        rest, sequence = divmod(self.permutation(index), 1000)
        region, day = divmod(rest, self.days)
        birth = self.first_birth + dt.timedelta(days=day)
        first17 = f"{ID_REGIONS[region]}{birth:%Y%m%d}{sequence:03d}"
        return first17 + id_number_check_char(first17)

    def golden(self, index: int) -> str:
        """The ID number of planted person `index` (from the top of the space)."""
        return self.random(self.size - 1 - index)


@dataclass(frozen=True)
class CodeSpace:
    """Unified social credit codes; the 8-digit organisation code body is permuted."""

    permutation: Permutation

    @classmethod
    def create(cls, seed: int) -> CodeSpace:
        """The code space of one seed."""
        return cls(Permutation.create(seed, "org-space", _ORG_BODY_SPACE))

    @property
    def size(self) -> int:
        """How many organisation code bodies there are."""
        return _ORG_BODY_SPACE

    def random(self, index: int, kind: str, region: str) -> str:
        """The credit code of random organisation `index` (kind GOVERNMENT or ENTERPRISE)."""
        body = f"{self.permutation(index):08d}"
        first17 = f"{kind}{region}{body}{gb11714_check(body)}"
        return first17 + credit_code_check_char(first17)

    def golden(self, index: int, kind: str, region: str) -> str:
        """The credit code of planted organisation `index`."""
        return self.random(_ORG_BODY_SPACE - 1 - index, kind, region)
