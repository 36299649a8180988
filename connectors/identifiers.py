"""The two national identifiers every platform keys its subjects by.

- Resident ID number (GB 11643-1999): 17 digits and a check character; positions
  7..14 are the holder's birth date. A legacy 15-digit number is normalised by
  inserting the century "19" and computing the check character.
- Unified social credit code (GB 32100-2015): 18 characters over a 31-symbol
  alphabet (no I, O, S, V, Z), the last one a check character.

`normalise_*` return the canonical form or raise `InvalidIdentifier`, whose message
names the field but never echoes the value (it may be a real person's number).
Both are ASCII only: Python's `str.isdigit` and `int` also take full-width
(０-９) and Arabic-Indic (٠-٩) digits, and `str.upper` turns some letters into
ASCII ones (ﬀ into FF), none of which any platform knows.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "InvalidIdentifier",
    "credit_code_check_char",
    "id_number_birth_date",
    "id_number_check_char",
    "is_valid_credit_code",
    "is_valid_id_number",
    "normalise_credit_code",
    "normalise_id_number",
]

_DIGITS = frozenset("0123456789")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_VALUE = {symbol: value for value, symbol in enumerate(CREDIT_CODE_ALPHABET)}
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidIdentifier(ValueError):
    """An identifier failed its format or check digit; `field` names the input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _ascii(value: str, field: str) -> str:
    """`value` without surrounding spaces; InvalidIdentifier when anything else is not ASCII."""
    text = value.strip()
    if not text.isascii():
        raise InvalidIdentifier(field, "an identifier is written in ASCII digits and letters")
    return text


def _digits(text: str) -> bool:
    return all(symbol in _DIGITS for symbol in text)


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 leading digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_birth_date(id_number: str) -> dt.date | None:
    """The birth date encoded in positions 7..14, or None when it is no real date."""
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def normalise_id_number(value: str, field: str = "idNumber") -> str:
    """Canonical 18-character ID number (upper-case X), or `InvalidIdentifier`."""
    text = _ascii(value, field).upper()
    if len(text) == 15 and _digits(text):
        first17 = text[:6] + "19" + text[6:]
        text = first17 + id_number_check_char(first17)
    if len(text) != 18 or not _digits(text[:17]) or not (_digits(text[17]) or text[17] == "X"):
        raise InvalidIdentifier(field, "a resident ID number has 17 digits and a check character")
    if id_number_birth_date(text) is None:
        raise InvalidIdentifier(field, "positions 7-14 of a resident ID number are not a date")
    if id_number_check_char(text[:17]) != text[17]:
        raise InvalidIdentifier(field, "the check character of the resident ID number is wrong")
    return text


def is_valid_id_number(value: str) -> bool:
    """True when `value` is already a canonical, valid 18-character ID number."""
    try:
        return normalise_id_number(value) == value
    except InvalidIdentifier:
        return False


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for 17 leading symbols."""
    total = sum(
        _CODE_VALUE[symbol] * weight for symbol, weight in zip(first17, _CODE_WEIGHTS, strict=True)
    )
    check = 31 - total % 31
    return CREDIT_CODE_ALPHABET[0 if check == 31 else check]


def normalise_credit_code(value: str, field: str = "creditCode") -> str:
    """Canonical unified social credit code, or `InvalidIdentifier`."""
    text = _ascii(value, field).upper()
    if len(text) != 18 or any(symbol not in _CODE_VALUE for symbol in text):
        raise InvalidIdentifier(
            field, "a unified social credit code has 18 characters from its 31-symbol alphabet"
        )
    if credit_code_check_char(text[:17]) != text[17]:
        raise InvalidIdentifier(field, "the check character of the credit code is wrong")
    return text


def is_valid_credit_code(value: str) -> bool:
    """True when `value` is already a canonical, valid credit code."""
    try:
        return normalise_credit_code(value) == value
    except InvalidIdentifier:
        return False
