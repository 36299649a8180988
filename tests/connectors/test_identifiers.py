import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.identifiers import (
    CREDIT_CODE_ALPHABET,
    InvalidIdentifier,
    credit_code_check_char,
    id_number_check_char,
    is_valid_credit_code,
    is_valid_id_number,
    normalise_credit_code,
    normalise_id_number,
)

# Published examples of each standard.
KNOWN_ID = "11010519491231002X"
KNOWN_CODE = "91350100M000100Y43"


def test_known_examples_pass():
    assert normalise_id_number(KNOWN_ID) == KNOWN_ID
    assert normalise_credit_code(KNOWN_CODE) == KNOWN_CODE


def test_lower_case_is_normalised():
    assert normalise_id_number(KNOWN_ID.lower()) == KNOWN_ID
    assert normalise_credit_code(KNOWN_CODE.lower()) == KNOWN_CODE


def test_legacy_fifteen_digit_number_gets_century_and_check():
    # 15-digit form of 110105 491231 002 -> 110105 19491231 002 + check
    assert normalise_id_number("110105491231002") == KNOWN_ID


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002Y",  # check char not a digit or X
        "110105194912310021",  # wrong check digit
        "11010519491331002X",  # month 13
        "1101051949123100",  # too short
        "",
    ],
)
def test_bad_id_numbers_are_refused_without_echoing_them(value):
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_id_number(value, field="subjects[3].idNumber")
    assert caught.value.field == "subjects[3].idNumber"
    assert str(caught.value).startswith("subjects[3].idNumber: ")
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    ["91350100M000100Y44", "91350100M000100I43", "91350100M000100Y4", "91350100O000100Y43"],
)
def test_bad_credit_codes_are_refused(value):
    with pytest.raises(InvalidIdentifier):
        normalise_credit_code(value)


def test_check_value_31_maps_to_zero():
    # Find a body whose weighted sum is a multiple of 31: its check symbol must be "0".
    for n in range(10_000):
        body = f"9121010200{n:07d}"
        if credit_code_check_char(body) == "0":
            assert is_valid_credit_code(body + "0")
            return
    pytest.fail("no body with check symbol 0 found")


@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
)
def test_every_computed_id_number_is_valid_and_any_digit_change_is_caught(digits, birth):
    first17 = digits[:6] + birth.strftime("%Y%m%d") + digits[6:]
    number = first17 + id_number_check_char(first17)
    assert is_valid_id_number(number)
    changed = str((int(number[16]) + 1) % 10)
    assert not is_valid_id_number(number[:16] + changed + number[17])


@given(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17))
def test_every_computed_credit_code_is_valid_and_a_symbol_change_is_caught(body):
    code = body + credit_code_check_char(body)
    assert is_valid_credit_code(code)
    other = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(code[5]) + 1) % 31]
    assert not is_valid_credit_code(code[:5] + other + code[6:])


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
LIGATURE_CODE = "91350100MA0FF01005"  # valid, with "FF" that U+FB00 (ﬀ) upper-cases to


@pytest.mark.parametrize(
    "value",
    [
        KNOWN_ID.translate(FULL_WIDTH),
        KNOWN_ID.translate(ARABIC_INDIC),
        KNOWN_ID[:10].translate(ARABIC_INDIC) + KNOWN_ID[10:],  # a few look-alikes
        "110105491231002".translate(FULL_WIDTH),  # the legacy form
        KNOWN_ID[:17] + "Ｘ",
        "\u3000" + KNOWN_ID[:5] + "\u0661" + KNOWN_ID[6:],
    ],
    ids=["full-width", "arabic-indic", "mixed", "legacy full-width", "full-width X", "one digit"],
)
def test_look_alike_digits_are_not_an_id_number(value):
    assert value.strip().upper() != KNOWN_ID  # not ASCII: nothing to normalise
    with pytest.raises(InvalidIdentifier, match="ASCII") as caught:
        normalise_id_number(value, field="idNumber")
    assert value not in str(caught.value)
    assert not is_valid_id_number(value)


@pytest.mark.parametrize(
    "value",
    [
        KNOWN_CODE.translate(FULL_WIDTH),
        KNOWN_CODE.translate(ARABIC_INDIC),
        LIGATURE_CODE.replace("FF", "\ufb00"),
        LIGATURE_CODE.replace("F", "Ｆ"),
    ],
    ids=["full-width", "arabic-indic", "ligature", "full-width letters"],
)
def test_look_alike_symbols_are_not_a_credit_code(value):
    assert normalise_credit_code(LIGATURE_CODE) == LIGATURE_CODE
    with pytest.raises(InvalidIdentifier, match="ASCII"):
        normalise_credit_code(value, field="creditCode")
    assert not is_valid_credit_code(value)
