import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.masks import (
    COMPOUND_SURNAMES,
    Mask,
    MaskError,
    Pseudonymiser,
    apply_mask,
    credit_code_partial,
    id_number_partial,
    name_partial,
    year_only,
)
from connectors.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    id_number_check_char,
    normalise_credit_code,
    normalise_id_number,
)

KNOWN_ID = "11010519491231002X"
KNOWN_ID_15 = "110105491231002"  # the same person's legacy number
OTHER_ID = "110101198503040017"
KNOWN_CODE = "91350100M000100Y43"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
TOKEN = re.compile(r"[PO]-[A-Z2-7]{16}")


@pytest.fixture
def pseudonyms():
    return Pseudonymiser(KEY)


def with_check(first17: str) -> str:
    return first17 + id_number_check_char(first17)


# --- ID_PARTIAL -------------------------------------------------------------


def test_the_sample_identifiers_are_valid():
    assert normalise_id_number(KNOWN_ID) == KNOWN_ID
    assert normalise_id_number(OTHER_ID) == OTHER_ID
    assert normalise_credit_code(KNOWN_CODE) == KNOWN_CODE


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (KNOWN_ID, "110105********002X"),
        (KNOWN_ID.lower(), "110105********002X"),  # lower-case x is normalised
        (f"  {KNOWN_ID} ", "110105********002X"),
        (KNOWN_ID_15, "110105********002X"),  # legacy numbers are normalised first
        (OTHER_ID, "110101********0017"),
    ],
)
def test_id_number_keeps_first_six_and_last_four(value, masked):
    assert id_number_partial(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [(KNOWN_CODE, "91350100********43"), (KNOWN_CODE.lower(), "91350100********43")],
)
def test_credit_code_keeps_first_eight_and_last_two(value, masked):
    assert credit_code_partial(value) == masked


@pytest.mark.parametrize(
    "value",
    [
        "",
        "110105194912310021",  # wrong check character
        "11010519491331002X",  # month 13
        "1101051949123100",  # too short
        KNOWN_CODE,  # a credit code is no ID number
    ],
)
def test_a_value_that_is_no_id_number_is_refused_without_echoing_it(value):
    with pytest.raises(MaskError) as caught:
        id_number_partial(value)
    assert caught.value.kind == "id_number"
    if value:
        assert value not in str(caught.value)
        assert value[-4:] not in str(caught.value)


@pytest.mark.parametrize("value", ["", "91350100M000100Y44", "91350100O000100Y43", KNOWN_ID])
def test_a_value_that_is_no_credit_code_is_refused(value):
    with pytest.raises(MaskError) as caught:
        credit_code_partial(value)
    assert caught.value.kind == "credit_code"
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize("value", [11010519491231002, None, b"11010519491231002X", ["x"]])
def test_non_strings_are_refused_as_identifiers(value):
    with pytest.raises(MaskError, match="expected a string"):
        id_number_partial(value)
    with pytest.raises(MaskError, match="expected a string"):
        credit_code_partial(value)


# --- NAME_PARTIAL -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("司马光", "司马*"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官**"),
        # A name that is only a compound surname is read as surname + given name:
        # showing both characters would show the whole name.
        ("欧阳", "欧*"),
        ("司马", "司*"),
        ("张", "*"),  # a one-character name is all surname: nothing is shown
        ("", ""),
        ("   ", ""),
        ("  张三 ", "张*"),
        ("梁丘明", "梁**"),  # not on the list: one character shown, never more
        ("买买提·艾力", "买*****"),
        ("John Smith", "J*********"),
    ],
)
def test_name_keeps_the_surname_only(value, masked):
    assert name_partial(value) == masked


@pytest.mark.parametrize("value", [None, 3, dt.date(1985, 3, 4)])
def test_non_strings_are_refused_as_names(value):
    with pytest.raises(MaskError, match="expected a string"):
        name_partial(value)


def test_the_compound_surnames_named_in_the_domain_are_listed():
    named = "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离"
    assert set(named.split()) <= COMPOUND_SURNAMES
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)


# --- YEAR_ONLY --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.date(1985, 3, 4),
        dt.datetime(1985, 3, 4, 23, 59, tzinfo=dt.UTC),
        "1985-03-04",
        "1985-12-31",
    ],
)
def test_year_only_keeps_the_year(value):
    assert year_only(value) == "1985"


@pytest.mark.parametrize(
    "value", ["", "1985", "19850304", "1985/03/04", "1985-02-30", "1985-03-04T00:00", "1985-W10-1"]
)
def test_year_only_refuses_what_is_no_yyyy_mm_dd_date(value):
    with pytest.raises(MaskError) as caught:
        year_only(value)
    assert caught.value.kind == "date"


@pytest.mark.parametrize("value", [1985, None, 1985.0])
def test_year_only_refuses_non_dates(value):
    with pytest.raises(MaskError, match="expected a string"):
        year_only(value)


# --- PSEUDONYM --------------------------------------------------------------


def test_a_pseudonym_is_stable_and_readable(pseudonyms):
    token = pseudonyms.person(KNOWN_ID)
    assert TOKEN.fullmatch(token)
    assert token.startswith("P-")
    assert pseudonyms.person(KNOWN_ID) == token
    assert Pseudonymiser(bytes(KEY)).person(KNOWN_ID) == token  # another replica, same key
    assert pseudonyms.organisation(KNOWN_CODE).startswith("O-")
    assert TOKEN.fullmatch(pseudonyms.organisation(KNOWN_CODE))


@pytest.mark.parametrize(
    "spelling", [KNOWN_ID.lower(), f" {KNOWN_ID}\n", KNOWN_ID_15], ids=["lower", "spaced", "15"]
)
def test_one_subject_has_one_pseudonym_however_a_source_spells_it(pseudonyms, spelling):
    assert pseudonyms.person(spelling) == pseudonyms.person(KNOWN_ID)


def test_an_organisation_has_one_pseudonym_in_any_case(pseudonyms):
    assert pseudonyms.organisation(KNOWN_CODE.lower()) == pseudonyms.organisation(KNOWN_CODE)


def test_pseudonyms_differ_across_subjects_and_keys(pseudonyms):
    assert pseudonyms.person(KNOWN_ID) != pseudonyms.person(OTHER_ID)
    assert pseudonyms.person(KNOWN_ID) != Pseudonymiser(OTHER_KEY).person(KNOWN_ID)
    assert pseudonyms.organisation(KNOWN_CODE) != Pseudonymiser(OTHER_KEY).organisation(KNOWN_CODE)


def test_a_pseudonym_holds_nothing_of_the_identifier(pseudonyms):
    token = pseudonyms.person(KNOWN_ID)
    digits = KNOWN_ID[:6], KNOWN_ID[6:14], KNOWN_ID[14:]
    assert not any(part in token for part in digits)


def test_the_key_is_never_printed():
    assert repr(KEY) not in repr(Pseudonymiser(KEY))
    assert KEY.hex() not in repr(Pseudonymiser(KEY))


@pytest.mark.parametrize("key", [b"", b"short", bytes(31), "x" * 32])
def test_a_weak_or_textual_key_is_refused(key):
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Pseudonymiser(key)


def test_a_pseudonym_of_an_invalid_identifier_is_refused(pseudonyms):
    with pytest.raises(MaskError):
        pseudonyms.person("110105194912310021")
    with pytest.raises(MaskError):
        pseudonyms.organisation("91350100M000100Y44")


# --- apply_mask -------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "kind"),
    [
        (Mask.FULL, "text"),
        (Mask.HIDDEN, "text"),
        (Mask.ID_PARTIAL, "id_number"),
        (Mask.NAME_PARTIAL, "name"),
        (Mask.YEAR_ONLY, "date"),
        (Mask.PSEUDONYM, "credit_code"),
    ],
)
def test_nothing_stays_nothing(pseudonyms, mask, kind):
    assert apply_mask(mask, None, kind, pseudonyms) is None


def test_apply_dispatches_by_mask_and_kind(pseudonyms):
    born = dt.date(1949, 12, 31)
    assert apply_mask(Mask.FULL, born, "date", pseudonyms) is born
    assert apply_mask(Mask.FULL, KNOWN_ID, "id_number", pseudonyms) == KNOWN_ID
    assert apply_mask(Mask.HIDDEN, KNOWN_ID, "id_number", pseudonyms) is None
    assert apply_mask(Mask.HIDDEN, "reason", "text", pseudonyms) is None
    assert apply_mask(Mask.YEAR_ONLY, born, "date", pseudonyms) == "1949"
    assert apply_mask(Mask.YEAR_ONLY, "1949-12-31", "date", pseudonyms) == "1949"
    assert apply_mask(Mask.NAME_PARTIAL, "欧阳娜娜", "name", pseudonyms) == "欧阳**"
    assert apply_mask(Mask.ID_PARTIAL, KNOWN_ID, "id_number", pseudonyms) == "110105********002X"
    assert apply_mask(Mask.ID_PARTIAL, KNOWN_CODE, "credit_code", pseudonyms) == (
        "91350100********43"
    )
    assert apply_mask(Mask.PSEUDONYM, KNOWN_ID, "id_number", pseudonyms) == pseudonyms.person(
        KNOWN_ID
    )
    assert apply_mask(Mask.PSEUDONYM, KNOWN_CODE, "credit_code", pseudonyms) == (
        pseudonyms.organisation(KNOWN_CODE)
    )


def test_a_pseudonymised_name_is_its_holders_token(pseudonyms):
    token = apply_mask(Mask.PSEUDONYM, "张三", "name", pseudonyms, subject=KNOWN_ID_15)
    assert token == pseudonyms.person(KNOWN_ID)
    with pytest.raises(MaskError, match="subject"):
        apply_mask(Mask.PSEUDONYM, "张三", "name", pseudonyms)


@pytest.mark.parametrize(
    ("mask", "kind"),
    [
        (Mask.YEAR_ONLY, "name"),
        (Mask.NAME_PARTIAL, "id_number"),
        (Mask.ID_PARTIAL, "date"),
        (Mask.ID_PARTIAL, "name"),
        (Mask.PSEUDONYM, "date"),
        (Mask.PSEUDONYM, "text"),
        (Mask.YEAR_ONLY, "text"),
    ],
)
def test_a_mask_that_does_not_fit_the_kind_is_refused(pseudonyms, mask, kind):
    with pytest.raises(MaskError, match="does not apply"):
        apply_mask(mask, "张三", kind, pseudonyms)


def test_an_unknown_kind_is_refused(pseudonyms):
    with pytest.raises(MaskError, match="unknown kind"):
        apply_mask(Mask.FULL, "x", "salary", pseudonyms)  # type: ignore[arg-type]


def test_a_wrong_type_is_refused_before_any_character_is_shown(pseudonyms):
    with pytest.raises(MaskError, match="expected a string"):
        apply_mask(Mask.ID_PARTIAL, dt.date(1985, 3, 4), "id_number", pseudonyms)
    with pytest.raises(MaskError, match="expected a string"):
        apply_mask(Mask.PSEUDONYM, dt.date(1985, 3, 4), "name", pseudonyms, subject=KNOWN_ID)


# --- properties: never more than the allowed characters ---------------------

digits = st.integers(min_value=0, max_value=9).map(str)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = "".join(draw(st.lists(digits, min_size=6, max_size=6)))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    sequence = "".join(draw(st.lists(digits, min_size=3, max_size=3)))
    return with_check(f"{region}{born:%Y%m%d}{sequence}")


@st.composite
def legacy_id_numbers(draw: st.DrawFn) -> str:
    number = draw(id_numbers().filter(lambda n: n[6:8] == "19"))
    return number[:6] + number[8:17]


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    first17 = draw(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17))
    return first17 + credit_code_check_char(first17)


def assert_reveals_only(masked: str, canonical: str, positions: range | set[int]) -> None:
    assert len(masked) == len(canonical) == 18
    shown = {i for i, char in enumerate(masked) if char != "*"}
    assert shown == set(positions)
    assert all(masked[i] == canonical[i] for i in shown)


ID_SHOWN = set(range(6)) | set(range(14, 18))
CODE_SHOWN = set(range(8)) | {16, 17}


@given(
    st.one_of(
        id_numbers(),
        id_numbers().map(str.lower),
        legacy_id_numbers(),
        st.text(max_size=20),
        st.text(alphabet="0123456789Xx", min_size=15, max_size=18),
    )
)
def test_id_partial_never_shows_more_than_ten_characters(value):
    try:
        masked = id_number_partial(value)
    except MaskError:
        return
    assert_reveals_only(masked, normalise_id_number(value), ID_SHOWN)


@given(st.one_of(credit_codes(), credit_codes().map(str.lower), st.text(max_size=20)))
def test_credit_code_partial_never_shows_more_than_ten_characters(value):
    try:
        masked = credit_code_partial(value)
    except MaskError:
        return
    assert_reveals_only(masked, normalise_credit_code(value), CODE_SHOWN)


han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
names = st.one_of(
    st.text(max_size=8),
    st.text(alphabet=han, max_size=5),
    st.tuples(st.sampled_from(sorted(COMPOUND_SURNAMES)), st.text(alphabet=han, max_size=3)).map(
        "".join
    ),
)


@given(names)
def test_name_partial_shows_a_prefix_of_at_most_two_characters_and_hides_one(value):
    name = value.strip()
    masked = name_partial(value)
    assert len(masked) == len(name)
    if not name:
        return
    kept = next(k for k in (0, 1, 2) if masked == name[:k] + "*" * (len(name) - k))
    assert kept < len(name)  # at least one character is always hidden
    assert kept <= 2
    if kept == 2:
        assert name[:2] in COMPOUND_SURNAMES


@given(id_numbers(), id_numbers())
def test_pseudonyms_of_two_numbers_agree_exactly_when_the_numbers_do(first, second):
    pseudonyms = Pseudonymiser(KEY)
    assert (pseudonyms.person(first) == pseudonyms.person(second)) == (first == second)
