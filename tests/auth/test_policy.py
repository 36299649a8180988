import builtins
import datetime as dt
import importlib.resources
import pathlib

import pytest

from auth.masks import Mask, MaskError, Pseudonymiser
from auth.policy import (
    FIELD_CLASSES,
    PURPOSES,
    ROLES,
    PolicyError,
    PolicyLookupError,
    load_policy,
    parse_policy,
)

KEY = bytes(range(32))
KNOWN_ID = "11010519491231002X"
SHIPPED = importlib.resources.files("auth").joinpath("policy.toml").read_text("utf-8")

F, IDP, NP, YO, PS, H = (
    Mask.FULL,
    Mask.ID_PARTIAL,
    Mask.NAME_PARTIAL,
    Mask.YEAR_ONLY,
    Mask.PSEUDONYM,
    Mask.HIDDEN,
)

# The DOMAIN.md table, written out again by hand, one row per field class:
#              hr_officer procurement auditor credit_admin data_subject
TABLE = {
    "person_id_number": (IDP, IDP, PS, F, F),
    "person_name": (F, NP, PS, F, F),
    "birth_date": (YO, H, YO, F, F),
    "legal_rep_name": (NP, F, PS, F, F),
    "legal_rep_id": (H, IDP, PS, F, F),
    "civil_servant": (F, H, F, F, F),  # auditor: "FULL (ids pseudonymised)"
    "investigations": (F, H, H, F, H),  # hr_officer: "FULL (CADRE_SELECTION only)"
    "free_text": (F, F, F, F, F),
    "organisation": (F, F, F, F, F),
}
KINDS = {
    "person_id_number": {"id_number"},
    "person_name": {"name"},
    "birth_date": {"date"},
    "legal_rep_name": {"name"},
    "legal_rep_id": {"id_number"},
    "civil_servant": {"id_number", "name", "date", "text"},
    "investigations": {"id_number", "name", "date", "text"},
    "free_text": {"text"},
    "organisation": {"credit_code", "name", "date", "text"},
}
ALL_KINDS = {"id_number", "credit_code", "name", "date", "text"}


def expected(role, field_class, purpose, kind):
    """What DOMAIN.md says, read cell by cell.

    A person's ID number or name inside a record shown in full follows the
    person's own row ("a row applies to the value wherever it appears").
    """
    mask = TABLE[field_class][ROLES.index(role)]
    if field_class == "investigations" and role == "hr_officer" and purpose != "CADRE_SELECTION":
        return H
    if mask is F and kind == "id_number" and field_class != "person_id_number":
        return TABLE["person_id_number"][ROLES.index(role)]
    if mask is F and kind == "name" and field_class in {"civil_servant", "investigations"}:
        return TABLE["person_name"][ROLES.index(role)]
    return mask


@pytest.fixture(scope="module")
def policy():
    return load_policy(KEY)


def test_the_shipped_policy_names_its_version(policy):
    assert policy.version == "2026-12-07.1"
    assert "2026-12-07.1" in repr(policy)


def test_the_vocabulary_is_the_domains():
    assert set(ROLES) == {
        "hr_officer",
        "procurement_officer",
        "auditor",
        "credit_admin",
        "data_subject",
    }
    assert set(FIELD_CLASSES) == set(TABLE)
    assert set(PURPOSES) == {
        "CADRE_SELECTION",
        "HONOURS",
        "PROCUREMENT_ELIGIBILITY",
        "AUDIT",
        "SELF_CHECK",
    }


@pytest.mark.parametrize("field_class", FIELD_CLASSES)
@pytest.mark.parametrize("role", ROLES)
def test_every_cell_matches_the_domain_table(policy, role, field_class):
    for purpose in PURPOSES:
        for kind in KINDS[field_class]:
            got = policy.mask_for(role, field_class, purpose, kind)
            assert got is expected(role, field_class, purpose, kind), (purpose, kind)


@pytest.mark.parametrize("field_class", FIELD_CLASSES)
def test_a_kind_a_class_does_not_carry_is_no_answer(policy, field_class):
    for kind in ALL_KINDS - KINDS[field_class]:
        with pytest.raises(PolicyLookupError, match=f"carries no '{kind}'"):
            policy.mask_for("credit_admin", field_class, "AUDIT", kind)


def test_the_special_cases_of_the_table(policy):
    # investigations: hr_officer sees them for cadre selection only
    assert policy.mask_for("hr_officer", "investigations", "CADRE_SELECTION", "text") is F
    assert policy.mask_for("hr_officer", "investigations", "HONOURS", "text") is H
    assert policy.hides("hr_officer", "investigations", "HONOURS")
    assert not policy.hides("hr_officer", "investigations", "CADRE_SELECTION")
    # the auditor's civil-servant rows are full, the ids and names in them pseudonyms
    assert policy.mask_for("auditor", "civil_servant", "AUDIT", "text") is F
    assert policy.mask_for("auditor", "civil_servant", "AUDIT", "id_number") is PS
    assert policy.mask_for("auditor", "civil_servant", "AUDIT", "name") is PS
    # legal representative: name and id are two classes
    assert policy.mask_for("hr_officer", "legal_rep_name", "HONOURS") is NP
    assert policy.mask_for("hr_officer", "legal_rep_id", "HONOURS") is H


def test_a_class_with_one_mask_answers_without_a_kind(policy):
    assert policy.mask_for("hr_officer", "person_id_number", "HONOURS") is IDP
    assert policy.mask_for("procurement_officer", "civil_servant", "HONOURS") is H
    assert policy.mask_for("auditor", "organisation", "AUDIT") is F


def test_a_class_masked_by_kind_needs_the_kind(policy):
    # Answering FULL here would hand the hr_officer the raw ID numbers inside.
    with pytest.raises(PolicyLookupError, match="masked by kind"):
        policy.mask_for("hr_officer", "civil_servant", "CADRE_SELECTION")


def test_no_role_but_credit_admin_and_the_subject_ever_gets_a_raw_id_number(policy):
    for role in ("hr_officer", "procurement_officer", "auditor"):
        for field_class in FIELD_CLASSES:
            if "id_number" in KINDS[field_class]:
                for purpose in PURPOSES:
                    assert policy.mask_for(role, field_class, purpose, "id_number") is not F


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("janitor", "person_name", "AUDIT"), "unknown role 'janitor'"),
        (("auditor", "salary", "AUDIT"), "unknown field class 'salary'"),
        (("auditor", "person_name", "GOSSIP"), "unknown purpose 'GOSSIP'"),
    ],
)
def test_unknown_names_are_no_answer(policy, args, message):
    with pytest.raises(PolicyLookupError, match=message):
        policy.mask_for(*args)
    with pytest.raises(PolicyLookupError, match=message):
        policy.hides(*args)


def test_restricted_records_only_decide_except_for_credit_admin_and_the_subject(policy):
    # The data subject sees its own RESTRICTED records in full (PIPL art. 45), except
    # investigations, which its row keeps HIDDEN.
    shown = {"credit_admin", "data_subject"}
    assert policy.shows_restricted_details("credit_admin")
    assert policy.shows_restricted_details("data_subject")
    assert policy.mask_for("data_subject", "investigations", "SELF_CHECK", "text") is H
    for role in ROLES:
        if role not in shown:
            assert not policy.shows_restricted_details(role)
        for field_class in FIELD_CLASSES:
            for kind in KINDS[field_class]:
                for purpose in PURPOSES:
                    got = policy.mask_for(role, field_class, purpose, kind, restricted=True)
                    if role in shown:
                        assert got is policy.mask_for(role, field_class, purpose, kind)
                    else:
                        assert got is H
    with pytest.raises(PolicyLookupError, match="unknown role"):
        policy.shows_restricted_details("janitor")


def test_apply_uses_the_configured_key(policy):
    pseudonyms = Pseudonymiser(KEY)
    assert policy.apply(PS, KNOWN_ID.lower(), "id_number") == pseudonyms.person(KNOWN_ID)
    assert policy.apply(PS, "张三", "name", subject=KNOWN_ID) == pseudonyms.person(KNOWN_ID)
    assert load_policy(bytes(range(1, 33))).apply(PS, KNOWN_ID, "id_number") != (
        pseudonyms.person(KNOWN_ID)
    )
    assert policy.apply(IDP, KNOWN_ID, "id_number") == "110105********002X"
    assert policy.apply(NP, "欧阳娜娜", "name") == "欧阳**"
    assert policy.apply(YO, dt.date(1949, 12, 31), "date") == "1949"
    assert policy.apply(H, "reason", "text") is None
    assert policy.apply(F, "reason", "text") == "reason"
    with pytest.raises(MaskError):
        policy.apply(YO, "张三", "name")


def test_a_role_sees_one_person_the_same_way_in_every_field(policy):
    """Wherever a role sees a person's ID number, it sees it alike (so records join)."""
    for role in ROLES:
        for purpose in PURPOSES:
            shown = {
                policy.apply(
                    policy.mask_for(role, field_class, purpose, "id_number"), KNOWN_ID, "id_number"
                )
                for field_class in ("person_id_number", "civil_servant", "investigations")
            }
            assert len(shown - {None}) == 1, (role, purpose)


def test_asking_needs_no_io_after_loading(monkeypatch):
    policy = load_policy(KEY)

    def no_io(*args, **kwargs):
        raise AssertionError("I/O while masking")

    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(pathlib.Path, "read_text", no_io)
    monkeypatch.setattr(importlib.resources, "files", no_io)
    mask = policy.mask_for("auditor", "person_id_number", "AUDIT", "id_number")
    token = policy.apply(mask, KNOWN_ID, "id_number")
    assert token is not None
    assert token.startswith("P-")


def test_a_policy_file_is_loaded_from_a_path(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(SHIPPED.replace('"2026-12-07.1"', '"2027-01-15.3"'), "utf-8")
    assert load_policy(KEY, path).version == "2027-01-15.3"


def test_an_unreadable_policy_file_is_named(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(PolicyError, match=r"missing\.toml: cannot be read"):
        load_policy(KEY, path)


def test_a_weak_key_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_policy(b"short")


# --- malformed policies -----------------------------------------------------


def edited(old: str, new: str, section: str | None = None) -> str:
    """The shipped policy with one edit, inside `[fields.<section>]` when given."""
    start, end = 0, len(SHIPPED)
    if section is not None:
        start = SHIPPED.index(f"[fields.{section}]\n")
        following = SHIPPED.find("\n[", start)
        end = len(SHIPPED) if following == -1 else following
    block = SHIPPED[start:end]
    assert block.count(old) == 1, old
    return SHIPPED[:start] + block.replace(old, new) + SHIPPED[end:]


def refused(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, KEY, source="test.toml")
    assert str(caught.value).startswith("test.toml: ")
    return caught.value


def test_the_shipped_text_parses():
    assert parse_policy(SHIPPED, KEY).version == "2026-12-07.1"


@pytest.mark.parametrize(
    ("text", "entry", "reason"),
    [
        (
            edited('auditor = "YEAR_ONLY"', 'auditor = "YEARS"', "birth_date"),
            "fields.birth_date.auditor",
            "unknown mask 'YEARS'",
        ),
        (
            edited('auditor = "YEAR_ONLY"', "auditor = 3", "birth_date"),
            "fields.birth_date.auditor",
            "expected a mask name or a table",
        ),
        (
            edited('data_subject = "FULL"\n', "", "free_text"),
            "fields.free_text.data_subject",
            "missing cell",
        ),
        (
            edited('auditor = "FULL"\n', 'auditor = "FULL"\njanitor = "FULL"\n', "organisation"),
            "fields.organisation.janitor",
            "unknown role",
        ),
        (
            SHIPPED + '\n[fields.salary]\nkinds = ["text"]\n',
            "fields.salary",
            "unknown field class",
        ),
        (
            SHIPPED[: SHIPPED.index("# Organisation fields")],
            "fields.organisation",
            "missing field class",
        ),
        (
            edited('hr_officer = "YEAR_ONLY"', 'hr_officer = "NAME_PARTIAL"', "birth_date"),
            "fields.birth_date.hr_officer",
            "NAME_PARTIAL cannot mask date values",
        ),
        (
            edited('hr_officer = "ID_PARTIAL"', 'hr_officer = "FULL"', "person_id_number"),
            "fields.person_id_number.hr_officer",
            "would give hr_officer raw ID numbers",
        ),
        (
            # a civil-servant row in full would carry the raw ID number inside it
            edited(
                'hr_officer = { mask = "FULL", id_number = "ID_PARTIAL" }',
                'hr_officer = "FULL"',
                "civil_servant",
            ),
            "fields.civil_servant.hr_officer",
            "would give hr_officer raw ID numbers",
        ),
        (
            edited('otherwise = "HIDDEN"', 'otherwise = "FULL"', "investigations"),
            "fields.investigations.hr_officer",
            "would give hr_officer raw ID numbers",
        ),
        (
            edited('["CADRE_SELECTION"]', '["CADRE"]', "investigations"),
            "fields.investigations.hr_officer.purposes",
            "unknown purpose 'CADRE'",
        ),
        (
            edited('["CADRE_SELECTION"]', "[]", "investigations"),
            "fields.investigations.hr_officer.purposes",
            "expected a non-empty list",
        ),
        (
            edited(
                'auditor = "FULL"',
                'auditor = { mask = "FULL", id_number = "PSEUDONYM" }',
                "organisation",
            ),
            "fields.organisation.auditor.id_number",
            "carries no id_number values",
        ),
        (
            edited(
                'auditor = "FULL"',
                'auditor = { mask = "FULL", otherwise = "HIDDEN" }',
                "organisation",
            ),
            "fields.organisation.auditor.otherwise",
            "only meaningful with purposes",
        ),
        (
            edited(
                'auditor = { mask = "FULL", id_number = "PSEUDONYM", name = "PSEUDONYM" }',
                'auditor = { id_number = "PSEUDONYM" }',
                "civil_servant",
            ),
            "fields.civil_servant.auditor.mask",
            "missing",
        ),
        (
            edited(
                'auditor = "FULL"', 'auditor = { mask = "FULL", colour = "red" }', "organisation"
            ),
            "fields.organisation.auditor.colour",
            "unknown key",
        ),
        (
            edited('name = "PSEUDONYM"', 'name = "YEAR_ONLY"', "civil_servant"),
            "fields.civil_servant.auditor.name",
            "YEAR_ONLY cannot mask name values",
        ),
        (
            edited('kinds = ["text"]', 'kinds = ["txt"]', "free_text"),
            "fields.free_text.kinds",
            "unknown kind 'txt'",
        ),
        (
            edited('kinds = ["text"]\n', "", "free_text"),
            "fields.free_text.kinds",
            "missing",
        ),
        (
            edited(
                'raw_id_numbers = ["credit_admin", "data_subject"]', 'raw_id_numbers = ["root"]'
            ),
            "raw_id_numbers",
            "unknown role 'root'",
        ),
        (
            edited(
                'restricted_details = ["credit_admin", "data_subject"]',
                'restricted_details = "credit_admin"',
            ),
            "restricted_details",
            "expected a list",
        ),
        (
            edited(
                'restricted_details = ["credit_admin", "data_subject"]',
                'restricted_details = ["credit_admin", "credit_admin"]',
            ),
            "restricted_details",
            "twice",
        ),
        ('owner = "me"\n' + SHIPPED, "owner", "unknown entry"),
    ],
)
def test_a_malformed_policy_is_refused_naming_the_entry(text, entry, reason):
    error = refused(text)
    assert error.entry == entry
    assert reason in error.reason
    assert f"test.toml: {entry}: " in str(error)


@pytest.mark.parametrize(
    "version",
    [
        '"2026-12-01"',
        '"２０２６-12-01.1"',
        '"2026-13-01.1"',
        '"2026-02-30.1"',
        '"v1"',
        "1",
        '"2026-12-01.0"',
        '""',
    ],
)
def test_a_bad_version_is_refused(version):
    error = refused(edited('version = "2026-12-07.1"', f"version = {version}"))
    assert error.entry == "version"


def test_a_missing_version_is_refused():
    assert refused(edited('version = "2026-12-07.1"\n', "")).entry == "version"


def test_text_that_is_not_toml_is_refused():
    error = refused(SHIPPED + "\n[fields.organisation\n")
    assert error.entry == ""
    assert "not valid TOML" in error.reason
