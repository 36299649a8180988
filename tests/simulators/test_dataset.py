import json

import pytest

from simulators.dataset import DatasetError, read_jsonl, read_manifest


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_read_and_blank_lines_skipped(tmp_path):
    path = write(tmp_path / "a.jsonl", '{"id": "1", "x": 2}\n\n{"id": "2"}\n')
    assert list(read_jsonl(path, ("id",))) == [{"id": "1", "x": 2}, {"id": "2"}]


def test_missing_file_has_no_rows(tmp_path):
    assert list(read_jsonl(tmp_path / "absent.jsonl", ("id",))) == []


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('{"id": "1"}\n{"id": \n', 2, "not valid JSON"),
        ('{"id": "1"}\n\n[1, 2]\n', 3, "one JSON object"),
        ('{"id": ""}\n', 1, "missing required key(s) id"),
        ('{"other": 1}\n', 1, "missing required key(s) id"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, reason):
    path = write(tmp_path / "bad.jsonl", text)
    with pytest.raises(DatasetError) as caught:
        list(read_jsonl(path, ("id",)))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert reason in str(caught.value)


def test_check_function_refuses_rows(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"id": "ok"}\n{"id": "bad"}\n')
    rows = read_jsonl(path, ("id",), check=lambda row: "bad id" if row["id"] == "bad" else None)
    with pytest.raises(DatasetError, match=r"c\.jsonl:2: bad id"):
        list(rows)


def test_manifest_is_optional_and_validated(tmp_path):
    assert read_manifest(tmp_path).as_of is None
    write(
        tmp_path / "manifest.json",
        json.dumps({"as_of": "2025-06-30", "seed": 7, "counts": {"a": 1}}),
    )
    manifest = read_manifest(tmp_path)
    assert (str(manifest.as_of), manifest.seed, manifest.counts) == ("2025-06-30", 7, {"a": 1})
    write(tmp_path / "manifest.json", '{"as_of": "June"}')
    with pytest.raises(DatasetError, match="manifest"):
        read_manifest(tmp_path)
