import contextlib
import json
import sqlite3

import psycopg
import pytest

from simulators.archive import ARCHIVE_TABLES, load_archive
from simulators.dataset import DatasetError
from tests.support import id_number


def write_archive(dataset, tables):
    folder = dataset / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (folder / f"{name}.jsonl").write_text(text, encoding="utf-8")


PEOPLE = [
    {
        "person_id": "P-1",
        "id_number": id_number(1),
        "name": "欧阳明",
        "gender": "M",
        "birth_date": "1985-03-12",
        "unit_code": "11210000MB0000001X",
        "status": "ACTIVE",
        "updated_at": "2024-01-02T09:00:00+08:00",
        "ignored_extra_key": True,
    },
    {"person_id": "P-2", "id_number": id_number(2), "name": "李娜"},
]
SANCTIONS = [
    {
        "sanction_id": "S-1",
        "person_id": "P-1",
        "kind": "GOV_DEMERIT",
        "decision_date": "2024-05-01",
        "period_months": None,
        "disclosure": "CONDITIONAL",
        "revoked_date": "",
    }
]


def rows(dsn_connection, query):
    return [tuple(row) for row in dsn_connection.execute(query).fetchall()]


def test_sqlite_archive_has_every_table_and_a_derived_change_log(tmp_path):
    write_archive(tmp_path, {"cs_person": PEOPLE, "cs_sanction": SANCTIONS})
    target = tmp_path / "out" / "archive.db"
    load = load_archive(tmp_path, f"sqlite:///{target}")
    assert load.counts["cs_person"] == 2
    assert load.counts["cs_assessment"] == 0  # a missing file means no rows
    assert load.counts["cs_change_log"] == 3
    with contextlib.closing(sqlite3.connect(target)) as db:
        tables = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert tables == {table.name for table in ARCHIVE_TABLES}
        assert rows(db, "SELECT name, unit_code FROM cs_person ORDER BY person_id") == [
            ("欧阳明", "11210000MB0000001X"),
            ("李娜", None),
        ]
        assert rows(db, "SELECT kind, decision_date, revoked_date FROM cs_sanction") == [
            ("GOV_DEMERIT", "2024-05-01", None)
        ]
        assert rows(
            db, "SELECT seq, table_name, person_id, op FROM cs_change_log ORDER BY seq"
        ) == [
            (1, "cs_person", "P-1", "INSERT"),
            (2, "cs_person", "P-2", "INSERT"),
            (3, "cs_sanction", "P-1", "INSERT"),
        ]


def test_a_change_log_in_the_dataset_is_loaded_as_is(tmp_path):
    log = [
        {
            "seq": 10,
            "table_name": "cs_person",
            "person_id": "P-1",
            "op": "UPDATE",
            "at": "2024-01-01T00:00:00+08:00",
        }
    ]
    write_archive(tmp_path, {"cs_person": PEOPLE, "cs_change_log": log})
    target = tmp_path / "a.db"
    load_archive(tmp_path, f"sqlite:///{target}")
    with contextlib.closing(sqlite3.connect(target)) as db:
        assert rows(db, "SELECT seq, op FROM cs_change_log") == [(10, "UPDATE")]


def test_reloading_replaces_the_archive(tmp_path):
    write_archive(tmp_path, {"cs_person": PEOPLE})
    target = tmp_path / "a.db"
    load_archive(tmp_path, f"sqlite:///{target}")
    write_archive(tmp_path, {"cs_person": PEOPLE[:1]})
    load_archive(tmp_path, f"sqlite:///{target}")
    with contextlib.closing(sqlite3.connect(target)) as db:
        assert rows(db, "SELECT count(*) FROM cs_person") == [(1,)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            {"person_id": "P-9", "id_number": "110105194912310021", "name": "x"},
            "resident ID number",
        ),
        ({"person_id": "P-9", "name": "no id"}, r"missing required key\(s\) id_number"),
    ],
)
def test_a_bad_row_stops_the_load_with_file_and_line(tmp_path, row, reason):
    write_archive(tmp_path, {"cs_person": [*PEOPLE, row]})
    target = tmp_path / "a.db"
    with pytest.raises(DatasetError, match=rf"cs_person\.jsonl:3: .*{reason}"):
        load_archive(tmp_path, f"sqlite:///{target}")
    assert not target.exists()  # nothing half-loaded is left behind


def test_unknown_dsn_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sqlite:///"):
        load_archive(tmp_path, "mysql://somewhere/db")


def test_postgres_archive(tmp_path, postgres_dsn):
    write_archive(tmp_path, {"cs_person": PEOPLE, "cs_sanction": SANCTIONS})
    load = load_archive(tmp_path, postgres_dsn)
    assert load.counts["cs_change_log"] == 3
    with psycopg.connect(postgres_dsn) as db:
        assert rows(db, "SELECT name FROM cs_person ORDER BY person_id") == [("欧阳明",), ("李娜",)]
        assert rows(db, "SELECT decision_date::text FROM cs_sanction") == [("2024-05-01",)]
    # A second load replaces the tables instead of failing on them.
    load_archive(tmp_path, postgres_dsn)
    with psycopg.connect(postgres_dsn) as db:
        assert rows(db, "SELECT count(*) FROM cs_person") == [(2,)]
