"""The role table and the acting role of a principal with several roles."""

from __future__ import annotations

import dataclasses

import pytest

from auth.principal import Principal, Purpose, Role, Sector
from connectors.credit_parse import SECTORS
from schema.types import Purpose as SchemaPurpose
from tests.support import credit_code, id_number


def principal(*roles: Role) -> Principal:
    return Principal(subject="u-1", name="张三", roles=roles)


@pytest.mark.parametrize(
    ("role", "purposes", "sector"),
    [
        (Role.HR_OFFICER, {"CADRE_SELECTION", "HONOURS"}, "ORG_HR"),
        (Role.PROCUREMENT_OFFICER, {"PROCUREMENT_ELIGIBILITY"}, "PROCUREMENT"),
        (Role.AUDITOR, {"AUDIT"}, "AUDIT"),
        (
            Role.CREDIT_ADMIN,
            {"CADRE_SELECTION", "HONOURS", "PROCUREMENT_ELIGIBILITY", "AUDIT", "SELF_CHECK"},
            "CREDIT_OFFICE",
        ),
        (Role.DATA_SUBJECT, {"SELF_CHECK"}, None),
    ],
)
def test_role_table_is_domain_table(role: Role, purposes: set[str], sector: str | None) -> None:
    assert role.purposes == purposes
    assert role.sector == sector
    assert all(role.grants(purpose) for purpose in purposes)
    assert not any(role.grants(purpose) for purpose in set(Purpose) - purposes)


def test_role_values_are_the_token_claim_spelling() -> None:
    assert {role.value for role in Role} == {
        "hr_officer",
        "procurement_officer",
        "auditor",
        "credit_admin",
        "data_subject",
    }


def test_purposes_and_sectors_match_the_schema_and_the_record_model() -> None:
    assert {purpose.value for purpose in SchemaPurpose} == {purpose.value for purpose in Purpose}
    assert {sector.value for sector in Sector} == SECTORS


def test_acting_role_is_the_first_role_that_grants_the_purpose() -> None:
    caller = principal(Role.AUDITOR, Role.CREDIT_ADMIN, Role.HR_OFFICER)

    assert caller.acting_role("AUDIT") is Role.AUDITOR
    # credit_admin comes before hr_officer in the token, so it acts, with its own sector.
    assert caller.acting_role("CADRE_SELECTION") is Role.CREDIT_ADMIN
    assert principal(Role.HR_OFFICER, Role.CREDIT_ADMIN).acting_role("HONOURS") is Role.HR_OFFICER


def test_acting_role_accepts_the_enum_and_its_plain_name() -> None:
    caller = principal(Role.PROCUREMENT_OFFICER)

    assert caller.acting_role(Purpose.PROCUREMENT_ELIGIBILITY) is Role.PROCUREMENT_OFFICER
    assert caller.acting_role("PROCUREMENT_ELIGIBILITY") is Role.PROCUREMENT_OFFICER


@pytest.mark.parametrize("purpose", ["AUDIT", "SELF_CHECK", "procurement_eligibility", "", "ANY"])
def test_no_acting_role_for_a_purpose_no_role_grants(purpose: str) -> None:
    assert principal(Role.HR_OFFICER, Role.PROCUREMENT_OFFICER).acting_role(purpose) is None


def test_has_role() -> None:
    caller = principal(Role.DATA_SUBJECT)

    assert caller.has_role(Role.DATA_SUBJECT)
    assert not caller.has_role(Role.CREDIT_ADMIN)


def test_principal_is_frozen() -> None:
    caller = principal(Role.AUDITOR)

    with pytest.raises(dataclasses.FrozenInstanceError):
        caller.roles = (Role.CREDIT_ADMIN,)  # type: ignore[misc]


def test_repr_leaves_out_name_and_id_number() -> None:
    number = id_number(7)
    caller = Principal(
        subject="u-9",
        name="欧阳娜娜",
        roles=(Role.DATA_SUBJECT,),
        unit=credit_code(3),
        id_number=number,
    )

    text = repr(caller)
    assert "u-9" in text
    assert "欧阳娜娜" not in text
    assert number not in text
