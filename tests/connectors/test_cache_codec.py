"""The cache codec: every record type round-trips exactly; nothing else gets in or out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import types
import typing
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import SHANGHAI
from connectors.cache_codec import RECORD_TYPES, Codec, CodecError
from connectors.records import CreditSubject

CODEC = Codec()


def sample(hint: object, variant: int) -> object:
    """A value of type `hint` with every optional field filled (variant 0) or empty (1)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        return None if variant == 1 else sample(present[0], variant)
    if origin is tuple:
        return () if variant == 1 else (sample(args[0], 0), sample(args[0], 0))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[variant % len(hint)]
    if dataclasses.is_dataclass(hint):
        assert isinstance(hint, type)
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: sample(hints[f.name], variant) for f in dataclasses.fields(hint)})
    return {
        str: '文本 ·text\u2028"quoted"',
        int: 2025,
        Decimal: Decimal("12345678901234567890.01"),
        dt.date: dt.date(2025, 2, 28),
        dt.datetime: dt.datetime(2025, 1, 10, 9, 30, 15, 123456, tzinfo=SHANGHAI),
    }[hint]  # type: ignore[index]


RECORD_CLASSES = [cls for cls in RECORD_TYPES if dataclasses.is_dataclass(cls)]


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("variant", [0, 1], ids=["filled", "empty"])
def test_every_record_type_round_trips_exactly(cls, variant):
    value = sample(cls, variant)
    decoded = CODEC.decode(CODEC.encode(value))
    assert decoded == value
    # Equal is not enough: Decimal("1.0") == 1 and a list is not a tuple.
    assert repr(decoded) == repr(value)


def test_a_whole_answer_round_trips_with_its_types():
    subject = sample(CreditSubject, 0)
    decoded = CODEC.decode(CODEC.encode((subject, (subject,), None)))
    record = decoded[0].records[0]
    assert type(record.fine_amount) is Decimal
    assert str(record.fine_amount) == "12345678901234567890.01"
    assert type(record.decision_date) is dt.date
    assert record.updated_at.utcoffset() == dt.timedelta(hours=8)
    assert isinstance(record.penalty_types, tuple)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text()
        | st.decimals(allow_nan=False, allow_infinity=False)
        | st.dates()
        | st.datetimes(timezones=st.timezones())
        | st.floats(allow_nan=False, allow_infinity=False),
        lambda inner: st.lists(inner) | st.lists(inner).map(tuple),
        max_leaves=20,
    )
)
def test_plain_values_round_trip(value):
    assert repr(CODEC.decode(CODEC.encode(value))) == repr(value)


class Colour(enum.Enum):
    RED = "RED"


@dataclasses.dataclass(frozen=True)
class Extra:
    colour: Colour
    tags: frozenset[str]


def test_other_types_can_be_registered_for_the_report_level():
    codec = Codec([*RECORD_TYPES, Colour, Extra])
    value = Extra(Colour.RED, frozenset({"a", "b"}))
    assert codec.decode(codec.encode(value)) == value
    assert codec.fingerprint != CODEC.fingerprint


@pytest.mark.parametrize(
    "value",
    [{"a": 1}, Extra(Colour.RED, frozenset()), Colour.RED, float("nan"), Decimal("NaN"), object()],
    ids=["dict", "unregistered class", "unregistered enum", "nan", "decimal nan", "object"],
)
def test_what_is_not_registered_or_not_exact_is_refused_on_the_way_in(value):
    with pytest.raises(CodecError):
        CODEC.encode(value)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        json.dumps({"$c": "Popen", "v": ["rm -rf /"]}).encode(),
        json.dumps({"$c": "CreditSubject", "v": [1]}).encode(),
        json.dumps({"$e": "SubjectType", "v": "MARTIAN"}).encode(),
        json.dumps({"$D": "2025-02-30"}).encode(),
        json.dumps({"$x": 1}).encode(),
        json.dumps({"a": 1, "b": 2}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "garbage",
        "foreign class",
        "field count",
        "enum value",
        "bad date",
        "tag",
        "dict",
        "deep",
    ],
)
def test_bytes_that_are_no_cached_value_are_refused(data):
    with pytest.raises(CodecError):
        CODEC.decode(data)


def test_the_fingerprint_follows_the_record_model():
    @dataclasses.dataclass(frozen=True)
    class Extra:  # same name, one more field: a newer model
        colour: Colour
        tags: frozenset[str]
        more: int

    older = Codec([Colour, globals()["Extra"]])
    newer = Codec([Colour, Extra])
    assert older.fingerprint != newer.fingerprint
    assert Codec().fingerprint == CODEC.fingerprint  # stable for the same model


def test_two_types_of_one_name_are_refused():
    @dataclasses.dataclass(frozen=True)
    class Colour:
        pass

    with pytest.raises(ValueError, match="two registered types"):
        Codec([globals()["Colour"], Colour])
