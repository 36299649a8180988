"""The field masks of DOMAIN.md "Field masking (column level), per role".

- `FULL` the value as it is; `HIDDEN` null.
- `ID_PARTIAL` a resident ID number keeps its first 6 and last 4 characters
  (`110101********123X`), a unified social credit code its first 8 and last 2.
- `NAME_PARTIAL` the surname and one `*` per other character (`张*`, `欧阳**`).
- `YEAR_ONLY` a date keeps its year (`1985`).
- `PSEUDONYM` a keyed HMAC-SHA256 token of the subject's canonical identifier,
  `P-…` for persons and `O-…` for organisations: the same subject gives the same
  token from every source and in every query, so auditors can join records
  without seeing who they are about; without the key it cannot be reversed.

Every function here is pure and refuses, with `MaskError`, a value that is not
what its kind says (an ID number failing its check character, a date that is not
`YYYY-MM-DD`, a non-string): masking never guesses which characters are safe to
show. The message names the kind, never the value, which may be personal data.
Identifiers are normalised first (`connectors.identifiers`: case, whitespace,
legacy 15-digit numbers), so one subject is masked alike whatever the source.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, TypeAlias, get_args

from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number

__all__ = [
    "COMPOUND_SURNAMES",
    "KINDS",
    "MASKS_FOR_KIND",
    "PSEUDONYM_KEY_MIN_BYTES",
    "Kind",
    "Mask",
    "MaskError",
    "Pseudonymiser",
    "apply_mask",
    "credit_code_partial",
    "id_number_partial",
    "name_partial",
    "year_only",
]


class Mask(StrEnum):
    """What a role gets to see of one field."""

    FULL = "FULL"
    ID_PARTIAL = "ID_PARTIAL"
    NAME_PARTIAL = "NAME_PARTIAL"
    YEAR_ONLY = "YEAR_ONLY"
    PSEUDONYM = "PSEUDONYM"
    HIDDEN = "HIDDEN"


Kind: TypeAlias = Literal["id_number", "credit_code", "name", "date", "text"]
"""What a value is, which decides how a mask rewrites it."""

KINDS: frozenset[str] = frozenset(get_args(Kind))

# Which masks make sense for which kind of value; anything else is a policy error.
MASKS_FOR_KIND: MappingProxyType[str, frozenset[Mask]] = MappingProxyType(
    {
        "id_number": frozenset({Mask.FULL, Mask.ID_PARTIAL, Mask.PSEUDONYM, Mask.HIDDEN}),
        "credit_code": frozenset({Mask.FULL, Mask.ID_PARTIAL, Mask.PSEUDONYM, Mask.HIDDEN}),
        "name": frozenset({Mask.FULL, Mask.NAME_PARTIAL, Mask.PSEUDONYM, Mask.HIDDEN}),
        "date": frozenset({Mask.FULL, Mask.YEAR_ONLY, Mask.HIDDEN}),
        "text": frozenset({Mask.FULL, Mask.HIDDEN}),
    }
)

# Two-character (compound) surnames, kept whole by NAME_PARTIAL. Rare pairs whose
# first character is a common surname of its own (左丘, 梁丘, 宗政, 乐正, 段干, 谷梁,
# 褚师) are left out on purpose: 梁丘明 is far more often 梁 + 丘明. A compound
# surname missing here shows one character too few, never one too many.
# fmt: off
COMPOUND_SURNAMES: frozenset[str] = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "万俟",
    "闻人", "澹台", "公羊", "赫连", "濮阳", "公冶", "太叔", "太史", "申屠", "仲孙",
    "鲜于", "司空", "司寇", "闾丘", "子车", "亓官", "巫马", "公西", "颛孙", "壤驷",
    "公良", "漆雕", "宰父", "拓跋", "呼延", "百里", "东郭", "南门", "西门", "羊舌",
    "微生", "第五", "东里", "南荣", "即墨", "达奚", "贯丘", "公仪", "公伯", "东宫",
})
# fmt: on

PSEUDONYM_KEY_MIN_BYTES = 32
_TOKEN_BYTES = 10  # 80 bits: no collision in any realistic population, 16 base32 chars


class MaskError(ValueError):
    """A value cannot be masked as its kind; `kind` names it, the value is never echoed."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"cannot mask {kind}: {reason}")
        self.kind = kind
        self.reason = reason


def _text(value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise MaskError(kind, f"expected a string, got {type(value).__name__}")
    return value


def _canonical_id_number(value: object) -> str:
    try:
        return normalise_id_number(_text(value, "id_number"))
    except InvalidIdentifier as exc:
        raise MaskError("id_number", exc.reason) from None


def _canonical_credit_code(value: object) -> str:
    try:
        return normalise_credit_code(_text(value, "credit_code"))
    except InvalidIdentifier as exc:
        raise MaskError("credit_code", exc.reason) from None


def id_number_partial(value: str) -> str:
    """First 6 and last 4 characters of the canonical ID number, `*` between."""
    canonical = _canonical_id_number(value)
    return canonical[:6] + "*" * 8 + canonical[-4:]


def credit_code_partial(value: str) -> str:
    """First 8 and last 2 characters of the canonical credit code, `*` between."""
    canonical = _canonical_credit_code(value)
    return canonical[:8] + "*" * 8 + canonical[-2:]


def name_partial(value: str) -> str:
    """The surname, then one `*` for every other character.

    A compound surname (`COMPOUND_SURNAMES`) is kept whole only when at least one
    character follows it: a name that is just `欧阳` is read as 欧 + 阳 and shows
    `欧*`, so the output always hides at least one character. A one-character name
    is all surname, so it shows `*`. Surrounding whitespace is dropped; an empty
    name stays empty (there is nothing to hide). Every other character — spaces,
    the `·` of transcribed names, Latin letters — counts as a character and is starred.
    """
    name = _text(value, "name").strip()
    if len(name) <= 1:
        return "*" * len(name)
    kept = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:kept] + "*" * (len(name) - kept)


def year_only(value: dt.date | str) -> str:
    """The four-digit year of a date, a datetime, or a `YYYY-MM-DD` string."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}"
    text = _text(value, "date")
    # fromisoformat alone also takes "19850304" and week dates; the data never does.
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise MaskError("date", "expected YYYY-MM-DD")
    try:
        return f"{dt.date.fromisoformat(text).year:04d}"
    except ValueError:
        raise MaskError("date", "not a calendar date") from None


@dataclass(frozen=True)
class Pseudonymiser:
    """Stable keyed pseudonyms: HMAC-SHA256 over the canonical identifier.

    The key comes from configuration (`[auth] pseudonym_key_file`); every replica
    must hold the same one, or their tokens for one subject differ. The message is
    labelled with the subject type so a person and an organisation never share a
    token, and so other uses of the same key (cache keys) use a different label.
    """

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, bytes) or len(self.key) < PSEUDONYM_KEY_MIN_BYTES:
            raise ValueError(f"a pseudonym key is at least {PSEUDONYM_KEY_MIN_BYTES} bytes")

    def person(self, id_number: str) -> str:
        """`P-` token of a resident ID number (normalised first)."""
        return "P-" + self._token(b"person", _canonical_id_number(id_number))

    def organisation(self, credit_code: str) -> str:
        """`O-` token of a unified social credit code (normalised first)."""
        return "O-" + self._token(b"organisation", _canonical_credit_code(credit_code))

    def _token(self, label: bytes, canonical: str) -> str:
        digest = hmac.digest(self.key, label + b"\x00" + canonical.encode("ascii"), "sha256")
        return base64.b32encode(digest[:_TOKEN_BYTES]).decode("ascii")


def apply_mask(
    mask: Mask,
    value: str | dt.date | None,
    kind: Kind,
    pseudonymiser: Pseudonymiser,
    subject: str | None = None,
) -> str | dt.date | None:
    """`value`, a `kind`, as `mask` shows it; None stays None.

    A name is pseudonymised by its holder's ID number, given as `subject`, so it
    joins with that person's other records (names are neither unique nor stable).
    A mask that does not fit the kind (YEAR_ONLY of a name) raises `MaskError`.
    """
    allowed = MASKS_FOR_KIND.get(kind)
    if allowed is None:
        raise MaskError(str(kind), "unknown kind")
    if mask not in allowed:
        raise MaskError(kind, f"{mask} does not apply to this kind")
    if value is None or mask is Mask.HIDDEN:
        return None
    if mask is Mask.FULL:
        return value
    if mask is Mask.YEAR_ONLY:
        return year_only(value)
    if mask is Mask.NAME_PARTIAL:
        return name_partial(_text(value, kind))
    if mask is Mask.ID_PARTIAL:
        if kind == "credit_code":
            return credit_code_partial(_text(value, kind))
        return id_number_partial(_text(value, kind))
    # PSEUDONYM
    if kind == "credit_code":
        return pseudonymiser.organisation(_text(value, kind))
    if kind == "name":
        _text(value, kind)
        if subject is None:
            raise MaskError(kind, "a name is pseudonymised by its holder's ID number (subject)")
        return pseudonymiser.person(subject)
    return pseudonymiser.person(_text(value, kind))
