import pytest

from auth.principal import Purpose, Role
from auth.visibility import Access, Viewer, archive_access, credit_access

HR = Viewer(Role.HR_OFFICER, Purpose.CADRE_SELECTION)
BUYER = Viewer(Role.PROCUREMENT_OFFICER, Purpose.PROCUREMENT_ELIGIBILITY)
AUDITOR = Viewer(Role.AUDITOR, Purpose.AUDIT)
ADMIN = Viewer(Role.CREDIT_ADMIN, Purpose.HONOURS)
SELF = Viewer(Role.DATA_SUBJECT, Purpose.SELF_CHECK, is_self=True)
OFF = Viewer.unrestricted(Purpose.CADRE_SELECTION)


@pytest.mark.parametrize(
    ("disclosure", "scope", "viewer", "expected"),
    [
        ("PUBLIC", [], BUYER, Access.SHOW),
        ("CONDITIONAL", ["ORG_HR"], HR, Access.SHOW),
        ("CONDITIONAL", ["ORG_HR"], BUYER, Access.NONE),
        ("CONDITIONAL", ["PROCUREMENT", "AUDIT"], AUDITOR, Access.SHOW),
        ("RESTRICTED", ["ORG_HR"], HR, Access.DECIDE_ONLY),
        ("RESTRICTED", ["PROCUREMENT"], HR, Access.NONE),
        ("RESTRICTED", [], ADMIN, Access.SHOW),
        ("RESTRICTED", [], SELF, Access.SHOW),
        ("RESTRICTED", [], OFF, Access.SHOW),
    ],
)
def test_credit_record_visibility(disclosure, scope, viewer, expected):
    assert credit_access(disclosure, scope, viewer) is expected


@pytest.mark.parametrize(
    ("disclosure", "viewer", "expected"),
    [
        ("PUBLIC", HR, Access.SHOW),
        ("PUBLIC", AUDITOR, Access.SHOW),
        ("PUBLIC", BUYER, Access.NONE),  # archive rows: ORG_HR, AUDIT, CREDIT_OFFICE only
        ("CONDITIONAL", BUYER, Access.NONE),
        ("RESTRICTED", HR, Access.DECIDE_ONLY),
        ("RESTRICTED", AUDITOR, Access.DECIDE_ONLY),
        ("RESTRICTED", ADMIN, Access.SHOW),
        ("RESTRICTED", SELF, Access.SHOW),
        (None, HR, Access.SHOW),
    ],
)
def test_archive_row_visibility(disclosure, viewer, expected):
    assert archive_access(disclosure, viewer) is expected


def test_a_data_subject_about_someone_else_has_no_sector():
    other = Viewer(Role.DATA_SUBJECT, Purpose.SELF_CHECK, is_self=False)
    assert credit_access("CONDITIONAL", ["ORG_HR", "AUDIT"], other) is Access.NONE
    assert archive_access("PUBLIC", other) is Access.NONE
    assert credit_access("PUBLIC", [], other) is Access.SHOW
