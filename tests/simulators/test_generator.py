"""The synthetic dataset generator: determinism, validity, consistency, golden cases.

Small datasets (1,500 persons, 400 organisations) are generated once per module;
one default-size dataset checks the proportions. `_Oracle` is an independent,
deliberately plain reading of the DOMAIN.md rules table, applied to the
generated files: every golden case must come out as golden.jsonl says.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.identifiers import is_valid_credit_code, is_valid_id_number
from simulators.generator import GeneratorOptions, generate
from simulators.generator.people import random_person
from simulators.generator.world import Sizes, build_world

SMALL = GeneratorOptions(persons=1500, orgs=400)
AS_OF = SMALL.as_of

# rule id -> (has an until, rests on credit-platform records), read off DOMAIN.md.
DOMAIN_RULES = {
    "CS-00": (False, False),
    "CS-01": (True, False),
    "CS-02": (True, False),
    "CS-03": (True, False),
    "CS-04": (False, False),
    "CS-05": (True, False),
    "CS-06": (False, False),
    "CS-07": (True, False),
    "CS-08": (True, False),
    "CS-09": (True, True),
    "CS-10": (False, True),
    "CS-11": (False, False),
    "CS-12": (True, True),
    "HN-01": (True, False),
    "HO-01": (True, True),
    "HO-02": (True, False),
    "HO-03": (False, False),
    "PE-01": (True, False),
    "PE-02": (False, False),
    "PE-03": (True, True),
    "PE-04": (True, False),
    "PE-05": (True, True),
    "PE-06": (False, True),
    "ME-01": (True, True),
    "ME-02": (True, False),
    "ME-03": (True, False),
}
MERITS = {"ME-01", "ME-02", "ME-03"}  # never change a verdict
ARCHIVE = (
    "cs_person",
    "cs_position_history",
    "cs_assessment",
    "cs_sanction",
    "cs_investigation",
    "cs_matters_report_check",
    "cs_honour",
    "cs_change_log",
)
FILES = (
    "credit_platform/records.jsonl",
    "credit_platform/subjects.jsonl",
    "procurement/suppliers.jsonl",
    "procurement/purchaser_issues.jsonl",
    "procurement/awards.jsonl",
    "court/entries.jsonl",
    "court/restrictions.jsonl",
    *(f"archive/{table}.jsonl" for table in ARCHIVE),
    "golden.jsonl",
)


def rows(dataset: Path, name: str) -> list[dict[str, Any]]:
    """Every row of one dataset file."""
    with (dataset / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def archive(dataset: Path, table: str) -> list[dict[str, Any]]:
    return rows(dataset, f"archive/{table}.jsonl")


def file_hashes(dataset: Path) -> dict[str, str]:
    return {
        str(path.relative_to(dataset)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(dataset.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(out, SMALL)
    return out


@pytest.fixture(scope="module")
def default_size(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("default")
    messages: list[str] = []
    generate(out, GeneratorOptions(), messages.append)
    assert messages, "the generator reports progress"
    return out


# -- determinism -------------------------------------------------------------------


def test_same_options_give_the_same_bytes(small: Path, tmp_path: Path) -> None:
    counts = generate(tmp_path, SMALL)
    assert file_hashes(tmp_path) == file_hashes(small)
    assert set(file_hashes(small)) == {*FILES, "manifest.json"}
    assert counts == json.loads((small / "manifest.json").read_text())["counts"]


def test_bytes_do_not_depend_on_the_process_or_the_clock(small: Path, tmp_path: Path) -> None:
    # Another hash seed and another time zone, in a fresh interpreter.
    script = (
        "import sys; from pathlib import Path; from simulators.generator import *; "
        "generate(Path(sys.argv[1]), GeneratorOptions(persons=1500, orgs=400))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242", "TZ": "America/Los_Angeles"}
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", script, str(tmp_path)]
    subprocess.run(command, check=True, env=env, cwd=root)  # noqa: S603 - our own interpreter
    assert file_hashes(tmp_path) == file_hashes(small)


def test_another_seed_gives_other_data(small: Path, tmp_path: Path) -> None:
    generate(tmp_path, GeneratorOptions(persons=1500, orgs=400, seed=2))
    ours, theirs = file_hashes(small), file_hashes(tmp_path)
    assert all(ours[name] != theirs[name] for name in FILES)
    codes = {row["code"] for row in rows(small, "credit_platform/subjects.jsonl")}
    other = {row["code"] for row in rows(tmp_path, "credit_platform/subjects.jsonl")}
    assert not codes & other


def test_an_entity_is_regenerated_from_its_index(small: Path) -> None:
    registry = rows(small, "credit_platform/subjects.jsonl")
    world = build_world(SMALL)
    for index in (0, 1, 777, SMALL.persons - 1):
        person = random_person(world, index)
        assert registry[index] == {"type": "PERSON", "code": person.id_number, "name": person.name}


def test_dates_are_anchored_at_the_as_of_date(tmp_path: Path) -> None:
    as_of = dt.date(2021, 3, 31)
    generate(tmp_path, GeneratorOptions(persons=600, orgs=120, as_of=as_of))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["generated_at"] == "2021-03-31T00:00:00+08:00"
    assert manifest["as_of"] == "2021-03-31"
    started = {
        "credit_platform/records.jsonl": ("decision_date",),
        "court/entries.jsonl": ("filingDate", "publishDate", "removedDate"),
        "court/restrictions.jsonl": ("issuedDate",),
        "procurement/awards.jsonl": ("award_date",),
        "archive/cs_sanction.jsonl": ("decision_date", "revoked_date"),
        "archive/cs_investigation.jsonl": ("opened_date", "closed_date"),
        "archive/cs_matters_report_check.jsonl": ("check_date",),
    }
    golden_subjects = golden_codes(tmp_path, 600 + 120)
    for name, keys in started.items():
        for row in rows(tmp_path, name):
            if not golden_subjects & set(map(str, row.values())):
                for key in keys:
                    assert row[key] is None or row[key] < "2021-03-31", (name, key)
    decided = [row["decision_date"] for row in rows(tmp_path, "credit_platform/records.jsonl")]
    assert min(decided) >= "2015-03-31"
    for name in FILES:
        for row in rows(tmp_path, name):
            for value in walk(row):
                if isinstance(value, str) and "T" in value and value.endswith("+08:00"):
                    assert value <= manifest["generated_at"], (name, value)


# -- validity ---------------------------------------------------------------------


def walk(value: Any) -> Iterator[Any]:
    """Every scalar inside a JSON value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def identifiers(dataset: Path) -> Iterator[tuple[str, str, str]]:
    """(file, kind, value) of every identifier in the dataset; kind "ID" or "CODE"."""
    person_or_org = {"PERSON": "ID", "ORG": "CODE"}
    for row in rows(dataset, "credit_platform/records.jsonl"):
        yield "records", person_or_org[row["subject_type"]], row["subject_code"]
        yield "records", "CODE", row["authority_code"]
    for row in rows(dataset, "credit_platform/subjects.jsonl"):
        yield "subjects", person_or_org[row["type"]], row["code"]
    for row in rows(dataset, "procurement/suppliers.jsonl"):
        yield "suppliers", "CODE", row["credit_code"]
        yield "suppliers", "ID", row["legal_representative"]["id_number"]
        for holder in row["shareholders"]:
            yield "suppliers", "ID", holder["id_number"]
    for row in rows(dataset, "procurement/purchaser_issues.jsonl"):
        yield "issues", "CODE", row["purchaser_code"]
    for row in rows(dataset, "procurement/awards.jsonl"):
        yield "awards", "CODE", row["purchaser_code"]
        yield "awards", "CODE", row["supplier_code"]
    for row in rows(dataset, "court/entries.jsonl"):
        yield "entries", person_or_org[row["partyType"]], row["idCode"]
    for row in rows(dataset, "court/restrictions.jsonl"):
        yield (
            "restrictions",
            "ID" if row["idCode"][:2] not in ("11", "91") else "CODE",
            row["idCode"],
        )
    for row in archive(dataset, "cs_person"):
        yield "cs_person", "ID", row["id_number"]
        yield "cs_person", "CODE", row["unit_code"]
    for row in archive(dataset, "cs_position_history"):
        yield "cs_position_history", "CODE", row["unit_code"]
    for row in rows(dataset, "golden.jsonl"):
        for key, value in row["subject"].items():
            yield "golden", "ID" if key == "idNumber" else "CODE", value


def test_every_identifier_passes_its_check_digit(small: Path) -> None:
    seen: dict[str, int] = defaultdict(int)
    for name, kind, value in identifiers(small):
        valid = is_valid_id_number(value) if kind == "ID" else is_valid_credit_code(value)
        assert valid, (name, kind)
        seen[kind] += 1
    assert seen["ID"] > 2000
    assert seen["CODE"] > 1000


def test_identifiers_look_real(default_size: Path) -> None:
    registry = rows(default_size, "credit_platform/subjects.jsonl")
    ids = [row["code"] for row in registry if row["type"] == "PERSON"]
    assert len(set(ids)) == len(ids)
    assert sum(code.endswith("X") for code in ids) > len(ids) // 20  # about one in eleven
    assert sum(code.startswith("21") for code in ids) > len(ids) * 0.85  # born in Liaoning
    for code in ids:
        age = AS_OF.year - int(code[6:10])
        assert 21 <= age <= 64
    codes = [row["code"] for row in registry if row["type"] == "ORG"]
    assert len(set(codes)) == len(codes)
    assert {code[:2] for code in codes} == {"11", "91"}


def test_names_look_real(default_size: Path) -> None:
    registry = rows(default_size, "credit_platform/subjects.jsonl")
    names = [row["name"] for row in registry if row["type"] == "PERSON"]
    compound = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "尉迟")
    assert any(name.startswith(compound) for name in names)
    assert sum(len(name) == 2 for name in names) > len(names) // 20
    assert all(2 <= len(name) <= 4 for name in names)
    assert sum(name[0] in "王李张刘" for name in names) > len(names) // 5
    orgs = [row["name"] for row in registry if row["type"] == "ORG"]
    assert any(re.fullmatch(r"辽宁省.+(厅|局|委员会)", name) for name in orgs)
    assert any(re.fullmatch(r"沈阳.+有限公司", name) for name in orgs)
    decisions = [row["decision_no"] for row in rows(default_size, "credit_platform/records.jsonl")]
    assert any(re.fullmatch(r"沈市监处罚〔20\d\d〕\d+号", no) for no in decisions)
    cases = [row["caseCode"] for row in rows(default_size, "court/entries.jsonl")]
    assert all(re.fullmatch(r"\(20\d\d\)辽\d{4}执\d+号", code) for code in cases)
    courts = {row["court"] for row in rows(default_size, "court/entries.jsonl")}
    assert "沈阳市和平区人民法院" in courts


RECORDS = "credit_platform/records.jsonl"
ENUMS: dict[str, dict[str, tuple[Any, ...]]] = {
    RECORDS: {
        "category": (
            "ADMIN_PENALTY",
            "SERIOUS_DISHONESTY",
            "TAX_VIOLATION",
            "GOV_DISHONESTY",
            "BROKEN_COMMITMENT",
            "RED_LIST",
        ),
        "subject_type": ("PERSON", "ORG"),
        "severity": ("GENERAL", "SERIOUS", None),
        "disclosure": ("PUBLIC", "CONDITIONAL", "RESTRICTED"),
        "status": ("EFFECTIVE", "OBJECTION_PENDING", "REPAIRED", "REVOKED"),
    },
    "court/entries.jsonl": {
        "partyType": ("PERSON", "ORG"),
        "performance": ("NONE", "PARTIAL"),
        "behaviour": (1, 2, 3, 4, 5, 6),
        "status": ("LISTED", "REMOVED"),
    },
    "court/restrictions.jsonl": {"status": ("ACTIVE", "LIFTED")},
    "procurement/suppliers.jsonl": {
        "registration_status": ("ACTIVE", "SUSPENDED", "CANCELLED", "NOT_REGISTERED")
    },
    "procurement/purchaser_issues.jsonl": {"type": ("LATE_PAYMENT", "ACCEPTANCE_DELAY", "BREACH")},
    "archive/cs_person.jsonl": {
        "gender": ("M", "F"),
        "status": ("ACTIVE", "RETIRED", "DISMISSED"),
    },
    "archive/cs_assessment.jsonl": {
        "grade": ("EXCELLENT", "COMPETENT", "BASICALLY_COMPETENT", "INCOMPETENT", "NOT_GRADED")
    },
    "archive/cs_sanction.jsonl": {
        "kind": (
            "GOV_WARNING",
            "GOV_DEMERIT",
            "GOV_MAJOR_DEMERIT",
            "GOV_DEMOTION",
            "GOV_REMOVAL",
            "GOV_DISMISSAL",
            "PARTY_WARNING",
            "PARTY_SERIOUS_WARNING",
            "PARTY_POST_REMOVAL",
            "PARTY_PROBATION",
            "PARTY_EXPULSION",
            "ADMONISHMENT",
            "ORG_POST_ADJUSTED",
            "ORG_RESIGNATION_ORDERED",
            "ORG_DISMISSED",
        ),
        "disclosure": ("PUBLIC", "CONDITIONAL", "RESTRICTED"),
    },
    "archive/cs_investigation.jsonl": {"disclosure": ("PUBLIC", "CONDITIONAL", "RESTRICTED")},
    "archive/cs_matters_report_check.jsonl": {
        "result": ("CONSISTENT", "MINOR_OMISSION", "CONCEALMENT")
    },
    "archive/cs_change_log.jsonl": {"op": ("INSERT",)},
    "golden.jsonl": {
        "purpose": ("CADRE_SELECTION", "HONOURS", "PROCUREMENT_ELIGIBILITY"),
        "expected_verdict": ("INELIGIBLE", "FLAGGED", "CLEAR"),
    },
}
DATE_KEYS = re.compile(r".*(_date|Date|_end|End)$|^(asOf|expected_eligible_from)$")
MONEY_KEYS = ("fine_amount", "unperformedAmount", "amount")
RECORD_KEYS = (
    "record_id",
    "category",
    "subject_type",
    "subject_code",
    "subject_name",
    "decision_no",
    "violation_type",
    "penalty_types",
    "penalty_content",
    "fine_amount",
    "decision_date",
    "authority_name",
    "authority_code",
    "severity",
    "publicity_end",
    "disclosure",
    "share_scope",
    "status",
    "updated_at",
)
ENTRY_KEYS = (
    "entryId",
    "caseCode",
    "court",
    "province",
    "partyType",
    "partyName",
    "idCode",
    "legalRepName",
    "basisDocNo",
    "basisIssuer",
    "obligation",
    "performance",
    "unperformedAmount",
    "behaviour",
    "filingDate",
    "publishDate",
    "listingEnd",
    "status",
    "removedDate",
    "removalReason",
    "updated_at",
)
PENALTY_TYPES = (
    "WARNING",
    "FINE",
    "CONFISCATION",
    "SUSPENSION",
    "LICENCE_REVOCATION",
    "DETENTION",
    "OTHER",
)


def test_values_follow_the_spec(small: Path) -> None:
    for name in FILES:
        for row in rows(small, name):
            for key, allowed in ENUMS.get(name, {}).items():
                assert row[key] in allowed, (name, key, row[key])
            for key, value in row.items():
                if DATE_KEYS.match(key) and value is not None:
                    assert dt.date.fromisoformat(value).isoformat() == value, (name, key)
                if key in ("updated_at", "at"):
                    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", value)
                    dt.datetime.fromisoformat(value)
                if key in MONEY_KEYS and value is not None:
                    assert re.fullmatch(r"\d+\.\d\d", value), (name, key, value)
    for row in rows(small, "credit_platform/records.jsonl"):
        assert set(row["penalty_types"]) <= set(PENALTY_TYPES)
        assert row["share_scope"]
        assert set(row["share_scope"]) <= {"ORG_HR", "PROCUREMENT", "AUDIT", "CREDIT_OFFICE"}
        assert row["decision_date"] <= row["publicity_end"]
    for row in rows(small, "procurement/suppliers.jsonl"):
        for item in row["debarments"]:
            assert item["start_date"] <= item["end_date"]
            assert dt.date.fromisoformat(item["published_date"])
        for item in row["violations"]:
            assert dt.date.fromisoformat(item["penalty_date"])
    for row in rows(small, "court/entries.jsonl"):
        assert (row["status"] == "REMOVED") == (row["removedDate"] is not None)
        assert (row["partyType"] == "ORG") == (row["legalRepName"] is not None)


def test_records_carry_every_key_of_the_spec(small: Path) -> None:
    record_keys = [*RECORD_KEYS]
    entry_keys = [*ENTRY_KEYS]
    columns = {
        "cs_person": "person_id id_number name gender birth_date unit_code unit_name position"
        " rank_level status updated_at",
        "cs_position_history": "person_id position rank_level unit_code start_date end_date",
        "cs_assessment": "person_id year grade",
        "cs_sanction": "sanction_id person_id kind decision_no authority decision_date"
        " period_months reason disclosure revoked_date updated_at",
        "cs_investigation": "case_id person_id authority opened_date closed_date disclosure",
        "cs_matters_report_check": "person_id year check_date result",
        "cs_honour": "person_id year title level",
        "cs_change_log": "seq table_name person_id op at",
    }
    assert all(list(row) == record_keys for row in rows(small, "credit_platform/records.jsonl"))
    assert all(list(row) == entry_keys for row in rows(small, "court/entries.jsonl"))
    for table, names in columns.items():
        assert all(set(row) == set(names.split()) for row in archive(small, table)), table
    unique = {
        "credit_platform/records.jsonl": "record_id",
        "court/entries.jsonl": "entryId",
        "court/restrictions.jsonl": "orderId",
        "archive/cs_person.jsonl": "person_id",
        "archive/cs_sanction.jsonl": "sanction_id",
        "archive/cs_investigation.jsonl": "case_id",
        "procurement/suppliers.jsonl": "credit_code",
        "procurement/awards.jsonl": "contract_no",
        "golden.jsonl": "case",
    }
    for name, key in unique.items():
        values = [row[key] for row in rows(small, name)]
        assert len(values) == len(set(values)), name


def test_the_manifest_counts_the_files(small: Path) -> None:
    manifest = json.loads((small / "manifest.json").read_text())
    assert manifest["generated_at"] == "2025-06-30T00:00:00+08:00"
    assert (manifest["seed"], manifest["as_of"]) == (1, "2025-06-30")
    assert manifest["counts"] == {name: len(rows(small, name)) for name in FILES}


def test_the_change_log_has_one_insert_per_archive_row(small: Path) -> None:
    log = archive(small, "cs_change_log")
    assert [entry["seq"] for entry in log] == list(range(1, len(log) + 1))
    assert [entry["at"] for entry in log] == sorted(entry["at"] for entry in log)
    expected = [
        (table, row["person_id"]) for table in ARCHIVE[:-1] for row in archive(small, table)
    ]
    assert sorted((e["table_name"], e["person_id"]) for e in log) == sorted(expected)


# -- consistency across platforms ----------------------------------------------------


def test_a_subject_has_one_name_everywhere(small: Path) -> None:
    names = {row["code"]: row["name"] for row in rows(small, "credit_platform/subjects.jsonl")}
    mentions: list[tuple[str, str]] = []
    for row in rows(small, "credit_platform/records.jsonl"):
        mentions += [(row["subject_code"], row["subject_name"])]
        mentions += [(row["authority_code"], row["authority_name"])]
    for row in rows(small, "procurement/suppliers.jsonl"):
        mentions += [(row["credit_code"], row["name"])]
        people = [row["legal_representative"], *row["shareholders"]]
        mentions += [(person["id_number"], person["name"]) for person in people]
    for row in rows(small, "procurement/awards.jsonl"):
        mentions += [(row["supplier_code"], row["supplier_name"])]
    for name in ("court/entries.jsonl", "court/restrictions.jsonl"):
        mentions += [(row["idCode"], row["partyName"]) for row in rows(small, name)]
    for row in archive(small, "cs_person"):
        mentions += [(row["id_number"], row["name"]), (row["unit_code"], row["unit_name"])]
    assert len(mentions) > 2000
    for code, name in mentions:
        assert names[code] == name


def test_references_point_at_the_right_kind_of_subject(small: Path) -> None:
    registry = rows(small, "credit_platform/subjects.jsonl")
    units = {row["code"] for row in registry if row["code"].startswith("11")}
    suppliers = {row["credit_code"]: row for row in rows(small, "procurement/suppliers.jsonl")}
    for row in archive(small, "cs_person"):
        assert row["unit_code"] in units
    for row in archive(small, "cs_position_history"):
        assert row["unit_code"] in units
    for row in rows(small, "procurement/awards.jsonl"):
        assert row["purchaser_code"] in units
        assert row["supplier_code"] in suppliers
    for row in rows(small, "procurement/purchaser_issues.jsonl"):
        assert row["purchaser_code"] in units
    for row in rows(small, "credit_platform/records.jsonl"):
        assert row["authority_code"] in units
        if row["category"] == "GOV_DISHONESTY" and row["subject_type"] == "ORG":
            assert row["subject_code"] in units
    people = {row["person_id"] for row in archive(small, "cs_person")}
    for table in ARCHIVE[1:]:
        assert {row["person_id"] for row in archive(small, table)} <= people


def test_government_units_appear_on_every_platform(default_size: Path) -> None:
    units = {row["unit_code"] for row in archive(default_size, "cs_person")}
    assert len(units) > 300  # the 300 generated units plus the planted employer
    court = {row["idCode"] for row in rows(default_size, "court/entries.jsonl")}
    dishonest = {
        row["subject_code"]
        for row in rows(default_size, "credit_platform/records.jsonl")
        if row["category"] == "GOV_DISHONESTY"
    }
    buyers = {row["purchaser_code"] for row in rows(default_size, "procurement/awards.jsonl")}
    owing = {
        row["purchaser_code"] for row in rows(default_size, "procurement/purchaser_issues.jsonl")
    }
    assert units & court
    assert units & dishonest
    assert len(units & buyers) > 250
    assert units & owing


def test_civil_servants_tied_to_suppliers_of_their_own_unit(default_size: Path) -> None:
    servants = {row["id_number"]: row for row in archive(default_size, "cs_person")}
    ties = []
    for supplier in rows(default_size, "procurement/suppliers.jsonl"):
        people = [supplier["legal_representative"], *supplier["shareholders"]]
        ties += [
            (p["id_number"], supplier["credit_code"]) for p in people if p["id_number"] in servants
        ]
    assert len(ties) > 20
    awards = {
        (a["purchaser_code"], a["supplier_code"])
        for a in rows(default_size, "procurement/awards.jsonl")
    }
    own_unit = [tie for tie in ties if (servants[tie[0]]["unit_code"], tie[1]) in awards]
    assert len(own_unit) > 5
    people_in_court = {row["idCode"] for row in rows(default_size, "court/entries.jsonl")}
    people_in_credit = {
        row["subject_code"] for row in rows(default_size, "credit_platform/records.jsonl")
    }
    assert servants.keys() & people_in_court
    assert servants.keys() & people_in_credit


# -- proportions and variety ----------------------------------------------------------


def test_sizes_scale_with_the_options() -> None:
    assert Sizes.plan(GeneratorOptions()) == Sizes(20_000, 5_000, 5_000, 300, 3_000, 1_700)
    big = Sizes.plan(GeneratorOptions(persons=1_000_000, orgs=50_000))
    assert (big.civil_servants, big.units, big.suppliers, big.enterprises) == (
        250_000,
        3_000,
        30_000,
        17_000,
    )
    with pytest.raises(ValueError, match="persons"):
        Sizes.plan(GeneratorOptions(persons=0))


def test_default_proportions(default_size: Path) -> None:
    manifest = json.loads((default_size / "manifest.json").read_text())
    golden = golden_codes(default_size, 25_000)
    registry = rows(default_size, "credit_platform/subjects.jsonl")
    random_rows = registry[:25_000]
    assert sum(row["type"] == "PERSON" for row in random_rows) == 20_000
    orgs = random_rows[20_000:]
    assert sum(row["code"].startswith("11") for row in orgs) == 300
    servants = [row for row in archive(default_size, "cs_person") if row["id_number"] not in golden]
    assert len(servants) == 5_000
    assert len({row["unit_code"] for row in servants}) == 300
    suppliers = [
        row
        for row in rows(default_size, "procurement/suppliers.jsonl")
        if row["credit_code"] not in golden
    ]
    assert len(suppliers) == 3_000
    statuses = [row["registration_status"] for row in suppliers]
    assert statuses.count("ACTIVE") > 0.8 * len(statuses)
    # Mostly clean: few subjects have any credit record or court entry.
    records = rows(default_size, "credit_platform/records.jsonl")
    with_records = {row["subject_code"] for row in records}
    assert 0.02 < len(with_records - golden) / 25_000 < 0.12
    assert manifest["counts"]["court/entries.jsonl"] < 0.04 * 25_000
    grades = [row["grade"] for row in archive(default_size, "cs_assessment")]
    assert (grades.count("COMPETENT") + grades.count("EXCELLENT")) / len(grades) > 0.9


def test_records_show_every_status_over_six_years(default_size: Path) -> None:
    records = rows(default_size, "credit_platform/records.jsonl")
    assert {row["status"] for row in records} == set(ENUMS[RECORDS]["status"])
    assert {row["disclosure"] for row in records} == {"PUBLIC", "CONDITIONAL", "RESTRICTED"}
    assert any(row["publicity_end"] < "2025-06-30" for row in records)  # expired
    assert any(row["publicity_end"] > "2026-06-30" for row in records)  # running on
    years = {row["decision_date"][:4] for row in records}
    assert {"2019", "2020", "2021", "2022", "2023", "2024", "2025"} <= years
    entries = rows(default_size, "court/entries.jsonl")
    assert {row["status"] for row in entries} == {"LISTED", "REMOVED"}
    assert all(row["removalReason"] for row in entries if row["status"] == "REMOVED")
    assert any(row["listingEnd"] is None for row in entries)
    debarments = [
        d for s in rows(default_size, "procurement/suppliers.jsonl") for d in s["debarments"]
    ]
    assert any(d["end_date"] < "2025-06-30" for d in debarments)
    assert any(d["start_date"] <= "2025-06-30" <= d["end_date"] for d in debarments)
    sanctions = archive(default_size, "cs_sanction")
    assert any(row["revoked_date"] for row in sanctions)
    assert any(row["revoked_date"] is None for row in sanctions)
    investigations = archive(default_size, "cs_investigation")
    assert {row["closed_date"] is None for row in investigations} == {True, False}
    history = defaultdict(list)
    for row in archive(default_size, "cs_position_history"):
        history[row["person_id"]].append(row)
    promoted = [rows_ for rows_ in history.values() if len({r["rank_level"] for r in rows_}) > 2]
    assert len(promoted) > 1000
    for rows_ in history.values():
        assert sum(row["end_date"] is None for row in rows_) <= 1


# -- golden cases -----------------------------------------------------------------


def golden_codes(dataset: Path, random_subjects: int) -> set[str]:
    """The planted subjects: the registry lines after the random persons and orgs."""
    registry = rows(dataset, "credit_platform/subjects.jsonl")
    return {row["code"] for row in registry[random_subjects:]}


def test_every_rule_has_its_golden_cases(small: Path) -> None:
    cases = rows(small, "golden.jsonl")
    for rule, (has_until, on_credit) in DOMAIN_RULES.items():
        own = [c for c in cases if c["case"].startswith(f"{rule}/")]
        kinds = {c["case"].rsplit("/", 1)[1] for c in own if rule in c["expected_rules"]}
        assert "inside" in kinds, rule
        outside = [c for c in own if c["case"].endswith("/outside")]
        if has_until:
            assert outside, rule
            assert all(rule not in c["expected_rules"] for c in outside), rule
        if on_credit:
            disputed = [c for c in own if c["case"].endswith("/disputed")]
            assert disputed, rule
            assert all(rule in c["expected_rules"] for c in disputed)
            # A disputed BAR or FLAG flags; a disputed MERIT changes nothing.
            verdict = "CLEAR" if rule in MERITS else "FLAGGED"
            assert any(c["expected_verdict"] == verdict for c in disputed)
    verdicts = {(c["purpose"], c["expected_verdict"]) for c in cases}
    for purpose in ("CADRE_SELECTION", "HONOURS", "PROCUREMENT_ELIGIBILITY"):
        assert {(purpose, v) for v in ("INELIGIBLE", "FLAGGED", "CLEAR")} <= verdicts
    for case in cases:
        assert case["expected_rules"] == sorted(set(case["expected_rules"]))
        assert set(case["expected_rules"]) <= set(DOMAIN_RULES)
        if case["expected_verdict"] != "INELIGIBLE":
            assert case["expected_eligible_from"] is None


def test_golden_subjects_exist_where_their_cases_need_them(small: Path) -> None:
    registry = {row["code"] for row in rows(small, "credit_platform/subjects.jsonl")}
    servants = {row["id_number"] for row in archive(small, "cs_person")}
    suppliers = {row["credit_code"] for row in rows(small, "procurement/suppliers.jsonl")}
    for case in rows(small, "golden.jsonl"):
        (code,) = case["subject"].values()
        assert code in registry
        if "idNumber" in case["subject"] and "not-civil-servant" not in case["case"]:
            assert code in servants, case["case"]
        if case["purpose"] == "PROCUREMENT_ELIGIBILITY" and "NOT_REGISTERED" not in case["case"]:
            assert code in suppliers, case["case"]
        if "creditCode" in case["subject"] and case["purpose"] == "HONOURS":
            assert code.startswith("11")


def test_random_data_never_touches_golden_subjects(small: Path) -> None:
    golden = golden_codes(small, SMALL.persons + SMALL.orgs)
    planted_id = re.compile(r"[A-Z]+9\d{7}\d\d")

    def touches(row: dict[str, Any]) -> bool:
        return any(value in golden for value in walk(row))

    for name, key in (
        ("credit_platform/records.jsonl", "record_id"),
        ("court/entries.jsonl", "entryId"),
        ("court/restrictions.jsonl", "orderId"),
    ):
        for row in rows(small, name):
            assert touches(row) == bool(planted_id.fullmatch(row[key])), (name, row[key])
    planted_people = {row["person_id"] for row in archive(small, "cs_person") if touches(row)}
    assert planted_people
    assert all(pid.startswith("CS9") for pid in planted_people)
    for table in ARCHIVE:
        for row in archive(small, table):
            assert (row["person_id"] in planted_people) == row["person_id"].startswith("CS9")
    for row in rows(small, "procurement/suppliers.jsonl"):
        assert touches(row) == (row["credit_code"] in golden)
    for row in rows(small, "procurement/awards.jsonl"):
        assert not touches(row)
    # Planted rows come after the random ones, so the random prefix of a file is
    # untouched whatever the generator's sizes: compare with another size.
    planted = [row for row in rows(small, "credit_platform/records.jsonl") if touches(row)]
    assert planted == rows(small, "credit_platform/records.jsonl")[-len(planted) :]


def test_golden_expectations_follow_the_rules(small: Path) -> None:
    oracle = _Oracle(small)
    cases = rows(small, "golden.jsonl")
    assert len(cases) > 150
    for case in cases:
        assert oracle.vet(case) == (
            case["expected_verdict"],
            case["expected_rules"],
            case["expected_eligible_from"],
        ), case["case"]


def test_golden_expectations_hold_for_any_as_of_date(tmp_path: Path) -> None:
    # A leap day and a month end move every planted date; the expectations move with them.
    for as_of in (dt.date(2024, 2, 29), dt.date(2023, 1, 31)):
        out = tmp_path / as_of.isoformat()
        generate(out, GeneratorOptions(persons=50, orgs=20, as_of=as_of))
        oracle = _Oracle(out)
        for case in rows(out, "golden.jsonl"):
            expected = (
                case["expected_verdict"],
                case["expected_rules"],
                case["expected_eligible_from"],
            )
            assert oracle.vet(case) == expected, (as_of, case["case"])


# -- an independent reading of the rules table -----------------------------------------

_SANCTION_MONTHS = {
    "GOV_WARNING": ("CS-01", 6),
    "GOV_DEMERIT": ("CS-01", 12),
    "GOV_MAJOR_DEMERIT": ("CS-01", 18),
    "GOV_DEMOTION": ("CS-01", 24),
    "GOV_REMOVAL": ("CS-01", 24),
    "GOV_DISMISSAL": ("CS-01", None),
    "PARTY_WARNING": ("CS-02", 12),
    "PARTY_SERIOUS_WARNING": ("CS-02", 18),
    "PARTY_POST_REMOVAL": ("CS-02", 24),
    "PARTY_PROBATION": ("CS-02", 24),  # plus period_months
    "PARTY_EXPULSION": ("CS-02", None),
    "ADMONISHMENT": ("CS-03", 6),
    "ORG_POST_ADJUSTED": ("CS-03", 12),
    "ORG_RESIGNATION_ORDERED": ("CS-03", 24),
    "ORG_DISMISSED": ("CS-03", 24),
}
_HONOURS_PERSON = {
    *("CS-00", "CS-01", "CS-02", "CS-03", "CS-04", "CS-08", "CS-09", "CS-10", "CS-12", "HN-01"),
    *MERITS,
}
_SECTOR = {
    "CADRE_SELECTION": "ORG_HR",
    "HONOURS": "ORG_HR",
    "PROCUREMENT_ELIGIBILITY": "PROCUREMENT",
}


def _months(day: dt.date, n: int) -> dt.date:
    year, month = divmod(day.month - 1 + n, 12)
    year += day.year
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _maybe(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass
class _Finding:
    rule: str
    bar: bool
    until: dt.date | None
    disputed: bool = False
    merit: bool = False


@dataclass
class _Oracle:
    """Vets a subject on the generated files, rule by rule, as DOMAIN.md words it."""

    dataset: Path
    by: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def index(name: str, key: str) -> None:
            table: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in rows(self.dataset, name):
                table[row[key]].append(row)
            self.by[name] = table

        index("credit_platform/records.jsonl", "subject_code")
        index("court/entries.jsonl", "idCode")
        index("court/restrictions.jsonl", "idCode")
        index("procurement/suppliers.jsonl", "credit_code")
        index("procurement/purchaser_issues.jsonl", "purchaser_code")
        index("archive/cs_person.jsonl", "id_number")
        for table in ARCHIVE[1:]:
            index(f"archive/{table}.jsonl", "person_id")
        roles: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for supplier in rows(self.dataset, "procurement/suppliers.jsonl"):
            for person in [supplier["legal_representative"], *supplier["shareholders"]]:
                roles[person["id_number"]].append(supplier)
        self.by["roles"] = roles

    def vet(self, case: dict[str, Any]) -> tuple[str, list[str], str | None]:
        (code,) = case["subject"].values()
        on = dt.date.fromisoformat(case["asOf"])
        purpose = case["purpose"]
        findings = self._court(code, on, "CS-08" if "idNumber" in case["subject"] else "")
        if purpose == "PROCUREMENT_ELIGIBILITY":
            findings = self._supplier(code, on) + self._rename(findings, "PE-04")
        elif "creditCode" in case["subject"]:
            findings = self._unit(code, on) + self._rename(findings, "HO-02")
        else:
            findings += self._person(code, on, purpose)
            if purpose == "HONOURS":
                findings = [f for f in findings if f.rule in _HONOURS_PERSON]
        weighed = [f for f in findings if not f.merit]
        bars = [f for f in weighed if f.bar and not f.disputed]
        if bars:
            untils = [f.until for f in bars]
            latest = None if None in untils else max(u for u in untils if u is not None)
            verdict, eligible = "INELIGIBLE", latest.isoformat() if latest else None
        else:
            verdict, eligible = ("FLAGGED" if weighed else "CLEAR"), None
        return verdict, sorted({f.rule for f in findings}), eligible

    def _red_list(self, code: str, on: dt.date, sector: str) -> list[_Finding]:
        return [
            _Finding(
                "ME-01",
                False,
                _day(record["publicity_end"]) + dt.timedelta(days=1),
                record["status"] == "OBJECTION_PENDING",
                merit=True,
            )
            for record in self._credit(code, on, sector)
            if record["category"] == "RED_LIST"
        ]

    @staticmethod
    def _rename(findings: list[_Finding], rule: str) -> list[_Finding]:
        return [_Finding(rule, f.bar, f.until, f.disputed) for f in findings]

    def _credit(self, code: str, on: dt.date, sector: str) -> list[dict[str, Any]]:
        shown = []
        for record in self.by["credit_platform/records.jsonl"].get(code, []):
            start, end = _day(record["decision_date"]), _day(record["publicity_end"])
            assert end
            visible = record["disclosure"] == "PUBLIC" or sector in record["share_scope"]
            if start <= on <= end and record["status"] not in ("REPAIRED", "REVOKED") and visible:
                shown.append(record)
        return shown

    def _court(self, code: str, on: dt.date, rule: str) -> list[_Finding]:
        found = []
        for entry in self.by["court/entries.jsonl"].get(code, []):
            published, end = _day(entry["publishDate"]), _maybe(entry["listingEnd"])
            removed = _maybe(entry["removedDate"])
            if published <= on and (end is None or on <= end) and (removed is None or removed > on):
                until = end + dt.timedelta(days=1) if end else None
                if removed is not None:
                    until = min(until, removed) if until else removed
                found.append(_Finding(rule, True, until))
        return found

    def _person(self, code: str, on: dt.date, purpose: str) -> list[_Finding]:
        found = []
        until: dt.date | None
        sector = _SECTOR[purpose]
        for record in self._credit(code, on, sector):
            disputed = record["status"] == "OBJECTION_PENDING"
            free = _day(record["publicity_end"]) + dt.timedelta(days=1)
            if record["severity"] == "SERIOUS":
                found.append(_Finding("CS-09", True, free, disputed))
            elif record["severity"] == "GENERAL":
                found.append(_Finding("CS-10", False, None, disputed))
            if record["category"] == "GOV_DISHONESTY":
                found.append(_Finding("CS-12", True, free, disputed))
        found += self._red_list(code, on, sector)
        for order in self.by["court/restrictions.jsonl"].get(code, []):
            if order["status"] == "ACTIVE" and _day(order["issuedDate"]) <= on:
                found.append(_Finding("CS-10", False, None))
        for supplier in self.by["roles"].get(code, []):
            if supplier["registration_status"] == "ACTIVE":
                found.append(_Finding("CS-11", False, None))
        people = self.by["archive/cs_person.jsonl"].get(code, [])
        if not people:  # the archive answered and does not know the person
            return [*found, _Finding("CS-00", False, None)]
        pid = people[0]["person_id"]
        for sanction in self.by["archive/cs_sanction.jsonl"].get(pid, []):
            rule, months = _SANCTION_MONTHS[sanction["kind"]]
            if sanction["kind"] == "PARTY_PROBATION":
                months = (months or 0) + sanction["period_months"]
            elif sanction["kind"].startswith("ORG_") and sanction["period_months"] is not None:
                months = sanction["period_months"]
            decided, revoked = _day(sanction["decision_date"]), _maybe(sanction["revoked_date"])
            until = _months(decided, months) if months is not None else None
            if (
                decided <= on
                and (until is None or on < until)
                and (revoked is None or on < revoked)
            ):
                if revoked is not None:
                    until = min(until, revoked) if until else revoked
                found.append(_Finding(rule, True, until))
        for probe in self.by["archive/cs_investigation.jsonl"].get(pid, []):
            opened, closed = _day(probe["opened_date"]), _maybe(probe["closed_date"])
            if opened <= on and (closed is None or closed > on):
                found.append(_Finding("CS-04", True, closed))
        grades = {
            row["year"]: row["grade"] for row in self.by["archive/cs_assessment.jsonl"].get(pid, [])
        }
        last = grades.get(on.year - 1)
        poor = ("BASICALLY_COMPETENT", "INCOMPETENT")
        if last in poor:
            found.append(_Finding("CS-05", True, dt.date(on.year + 1, 1, 1)))
        if last in poor:
            found.append(_Finding("HN-01", True, dt.date(on.year + 1, 1, 1)))
        if last == "NOT_GRADED":
            found.append(_Finding("HN-01", False, None))
        if all(grades.get(on.year - n) == "EXCELLENT" for n in (1, 2, 3)):
            found.append(_Finding("ME-03", False, dt.date(on.year + 1, 1, 1), merit=True))
        honoured = [
            row["year"]
            for row in self.by["archive/cs_honour.jsonl"].get(pid, [])
            if on.year - 3 <= row["year"] <= on.year
        ]
        if honoured:
            found.append(_Finding("ME-02", False, dt.date(max(honoured) + 4, 1, 1), merit=True))
        earlier = [grades.get(on.year - 2), grades.get(on.year - 3)]
        if last == "NOT_GRADED" or any(g in (*poor, "NOT_GRADED") for g in earlier):
            found.append(_Finding("CS-06", False, None))
        for check in self.by["archive/cs_matters_report_check.jsonl"].get(pid, []):
            checked = _day(check["check_date"])
            if checked <= on < _months(checked, 12) and check["result"] != "CONSISTENT":
                bar = check["result"] == "CONCEALMENT"
                found.append(_Finding("CS-07", bar, _months(checked, 12)))
        if purpose == "CADRE_SELECTION":
            found = [f for f in found if f.rule != "HN-01"]
        return found

    def _unit(self, code: str, on: dt.date) -> list[_Finding]:
        found = []
        for record in self._credit(code, on, "ORG_HR"):
            if record["category"] == "GOV_DISHONESTY" and record["decision_date"][:4] == str(
                on.year
            ):
                disputed = record["status"] == "OBJECTION_PENDING"
                found.append(_Finding("HO-01", True, dt.date(on.year + 1, 1, 1), disputed))
        for issue in self.by["procurement/purchaser_issues.jsonl"].get(code, []):
            due, resolved = _day(issue["due_date"]), _maybe(issue["resolved_date"])
            if (
                issue["type"] in ("LATE_PAYMENT", "BREACH")
                and due <= on
                and (resolved is None or resolved > on)
            ):
                found.append(_Finding("HO-03", False, None))
        return found + self._red_list(code, on, "ORG_HR")

    def _supplier(self, code: str, on: dt.date) -> list[_Finding]:
        found = []
        registered = self.by["procurement/suppliers.jsonl"].get(code, [])
        # Not registered is no finding (财库〔2019〕38号); suspended or cancelled flags.
        if registered and registered[0]["registration_status"] in ("SUSPENDED", "CANCELLED"):
            found.append(_Finding("PE-02", False, None))
        for supplier in registered:
            for bar in supplier["debarments"]:
                start, end = _day(bar["start_date"]), _day(bar["end_date"])
                assert end
                if start <= on <= end:
                    found.append(_Finding("PE-01", True, end + dt.timedelta(days=1)))
            for violation in supplier["violations"]:
                penalised = _day(violation["penalty_date"])
                if penalised <= on < _months(penalised, 36):
                    found.append(_Finding("PE-03", True, _months(penalised, 36)))
        for record in self._credit(code, on, "PROCUREMENT"):
            disputed = record["status"] == "OBJECTION_PENDING"
            decided, end = _day(record["decision_date"]), _day(record["publicity_end"])
            assert end
            fired = False
            heavy = {"SUSPENSION", "LICENCE_REVOCATION"} & set(record["penalty_types"])
            fine = Decimal(record["fine_amount"] or "0")
            serious = heavy or fine >= Decimal("2000000.00")
            if record["category"] == "ADMIN_PENALTY" and serious and on < _months(decided, 36):
                until = min(_months(decided, 36), end + dt.timedelta(days=1))
                found.append(_Finding("PE-03", True, until, disputed))
                fired = True
            if record["category"] in ("SERIOUS_DISHONESTY", "TAX_VIOLATION"):
                found.append(_Finding("PE-05", True, end + dt.timedelta(days=1), disputed))
                fired = True
            if not fired and record["category"] != "RED_LIST":
                found.append(_Finding("PE-06", False, None, disputed))
        return found + self._red_list(code, on, "PROCUREMENT")
