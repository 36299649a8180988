"""The exported schema file matches the code, and the code keeps the GraphQL contract."""

from pathlib import Path

import graphql
import pytest

import schema as schema_package
from gateway.cli import main
from schema import build_schema

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "design" / "schema.graphql"
COMMITTED = Path(schema_package.__file__).parent / "schema.graphql"


def test_committed_schema_file_matches_the_code():
    assert COMMITTED.read_text(encoding="utf-8") == build_schema().as_str() + "\n", (
        "schema/schema.graphql is out of date: run `credgate export-schema`"
    )


def test_export_schema_writes_the_file(monkeypatch, tmp_path, capsys):
    before = COMMITTED.read_text(encoding="utf-8")
    COMMITTED.write_text("stale", encoding="utf-8")
    try:
        assert main(["export-schema"]) == 0
        assert COMMITTED.read_text(encoding="utf-8") == build_schema().as_str() + "\n"
    finally:
        COMMITTED.write_text(before, encoding="utf-8")
    assert "schema written" in capsys.readouterr().out


def ours_and_contract():
    if not CONTRACT.exists():
        pytest.skip(f"the design contract is not beside this checkout ({CONTRACT})")
    return (
        graphql.build_schema(build_schema().as_str()),
        graphql.build_schema(CONTRACT.read_text(encoding="utf-8")),
    )


def test_every_field_we_serve_has_the_contracts_type_and_arguments():
    ours, contract = ours_and_contract()
    checked = 0
    for name, wanted in contract.type_map.items():
        have = ours.type_map.get(name)
        if have is None or name.startswith("__") or not hasattr(wanted, "fields"):
            continue
        for field_name, wanted_field in wanted.fields.items():
            field = have.fields.get(field_name)
            if field is None:
                continue
            checked += 1
            assert str(field.type) == str(wanted_field.type), f"{name}.{field_name}"
            wanted_args = getattr(wanted_field, "args", {})
            for arg_name, wanted_arg in wanted_args.items():
                assert arg_name in field.args, f"{name}.{field_name}({arg_name})"
                assert str(field.args[arg_name].type) == str(wanted_arg.type), (
                    f"{name}.{field_name}({arg_name})"
                )
    assert checked > 100


@pytest.mark.parametrize(
    "type_name",
    [
        "Person", "Organization", "CivilServant", "SourceStatus", "SubjectRef", "CreditRecord",
        "EnforcementEntry", "ConsumptionRestriction", "BusinessRole", "Debarment", "Violation",
        "PurchaserIssue", "Award", "PositionChange", "Assessment", "Sanction", "Investigation",
        "MattersReportCheck", "Honour",
    ],
)  # fmt: skip
def test_record_types_have_every_contract_field(type_name):
    ours, contract = ours_and_contract()
    assert set(contract.type_map[type_name].fields) - {"accessHistory"} <= set(
        ours.type_map[type_name].fields
    )


def test_root_lookups_are_served():
    ours, _ = ours_and_contract()
    assert {"person", "organization", "sources"} <= set(ours.query_type.fields)
