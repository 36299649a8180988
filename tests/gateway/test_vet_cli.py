"""`credgate vet` against the real gateway over the real stand-ins.

The command runs in a worker thread (it is a blocking HTTP client) while the
stack serves on this test's event loop.
"""

import argparse
import asyncio
import csv
import io
import json
import math
import re
import socket
import sqlite3

import pytest

from gateway.vet_cli import Progress, add_vet_parser
from schema.vetting import load_rule_set
from tests.schema import dataset as known
from tests.schema.test_vet import README_ID, unknown_everywhere
from tests.stack import running_stack

ALL_OK = {"CREDIT_PLATFORM": "ok", "PROCUREMENT": "ok", "COURT": "ok", "ARCHIVE": "ok"}
PERSON_RULES = ["CS-01", "CS-04", "CS-07", "CS-08", "CS-09", "CS-10", "CS-11"]


class _AnySubject:
    """Matches one logged subject (a pseudonym, whatever its value)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str | dict)


ANY_SUBJECT = _AnySubject()
BAD_CHECK_DIGIT = known.OTHERS[0][:17] + ("0" if known.OTHERS[0][17] != "0" else "1")


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="credgate")
    add_vet_parser(parser.add_subparsers())
    return parser.parse_args(["vet", *argv])


async def vet(*argv: str, **keywords: object) -> int:
    """`credgate vet ARGV`, as the command line runs it; its exit status."""
    args = parse(*argv)
    code: int = await asyncio.to_thread(args.command, args, **keywords)
    return code


def endpoint(stack) -> str:
    return f"{stack.client.base_url}/graphql"


def read_report(path):
    """The report's rows as dicts, CSV cells read into the JSON shapes so both compare alike."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        assert raw.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        for row in rows:
            row["rule_ids"] = row["rule_ids"].split(";") if row["rule_ids"] else []
            row["findings"] = row["findings"].split(" | ") if row["findings"] else []
            pairs = [item.split(":") for item in row["sources"].split(";") if item]
            row["sources"] = dict(pairs)
            row["eligible_from"] = row["eligible_from"] or None
            row["error"] = row["error"] or None
        return rows
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return json.loads(text)


def logged_vet_batches(tmp_path) -> list[list[str]]:
    """The subjects of each access-log entry of the stack in `tmp_path`."""
    with sqlite3.connect(tmp_path / "access.db") as db:
        rows = db.execute("SELECT subjects FROM access_log ORDER BY at, seq").fetchall()
    return [json.loads(subjects) for (subjects,) in rows]


@pytest.mark.parametrize(
    ("encoding", "suffix"),
    [("utf-8-sig", ".csv"), ("gbk", ".csv"), ("utf-8", ".json"), ("gbk", ".jsonl")],
)
async def test_an_excel_export_is_vetted_row_by_row(dataset, tmp_path, encoding, suffix):
    source = tmp_path / "candidates.csv"
    lines = [
        " id_number ,姓名,部门",
        f"  {known.PERSON}  ,{known.PERSON_NAME},组织部",
        "",
        f"{known.OTHERS[0].lower()},张三,人事处",  # ends in x: the gateway reads it as X
        " , , ",
        f"{BAD_CHECK_DIGIT},李四,人事处",
        ",王五,",  # the name without its identifier
        f"{known.OTHERS[1]},赵六",  # a short row, as Excel writes them
        "",
    ]
    source.write_bytes("\r\n".join(lines).encode(encoding))
    out = tmp_path / f"report{suffix}"
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "cadre_selection", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
    assert code == 3  # every row answered, but two could not be vetted
    rows = read_report(out)
    got = [
        (r["id_number"], r["姓名"], r["部门"], r["verdict"], r["rule_ids"], r["eligible_from"],
         r["error"])
        for r in rows
    ]  # fmt: skip
    assert got == [
        (known.PERSON, known.PERSON_NAME, "组织部", "INELIGIBLE", PERSON_RULES, "open-ended", None),
        (known.OTHERS[0].lower(), "张三", "人事处", "FLAGGED", ["CS-00", "CS-10"], None, None),
        (BAD_CHECK_DIGIT, "李四", "人事处", "ERROR", [], None, "INVALID_IDENTIFIER"),
        ("", "王五", "", "ERROR", [], None, "INVALID_SUBJECT"),
        (known.OTHERS[1], "赵六", "", "FLAGGED", ["CS-00", "CS-10"], None, None),
    ]
    assert [r["sources"] for r in rows] == [ALL_OK, ALL_OK, {}, {}, ALL_OK]
    assert "check character" in rows[2]["error_detail"]
    assert known.OTHERS[0] not in rows[2]["error_detail"]
    # Each report the file names is the one stored with the access-log entry.
    with sqlite3.connect(tmp_path / "access.db") as db:
        stored = dict(db.execute("SELECT report_id, verdict FROM access_log_reports"))
    assert {r["report_id"]: r["verdict"] for r in rows if r["report_id"]} == stored


async def test_every_chunk_is_one_logged_vet_batch(dataset, tmp_path, capsys):
    subjects = known.OTHERS[:10]
    source = tmp_path / "candidates.csv"
    source.write_text("id_number\n" + "\n".join(subjects) + "\n", encoding="utf-8")
    out = tmp_path / "report.jsonl"
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack), "--token", hr, "--chunk-size", "3",
        )  # fmt: skip
    assert code == 0
    batches = logged_vet_batches(tmp_path)
    assert len(batches) == math.ceil(10 / 3)
    assert [len(batch) for batch in batches] == [3, 3, 3, 1]
    assert [row["verdict"] for row in read_report(out)] == ["FLAGGED"] * 10
    stderr = capsys.readouterr().err
    assert "vetted 10/10 subjects" in stderr  # stderr is no terminal: plain lines
    assert re.search(r"^FLAGGED +10$", stderr, re.MULTILINE)
    assert re.search(r"^vetBatch calls +4$", stderr, re.MULTILINE)


async def test_the_golden_subjects_get_their_verdicts(small_dataset, tmp_path):
    cases = [json.loads(line) for line in (small_dataset / "golden.jsonl").open(encoding="utf-8")]
    honours = [c for c in cases if c["purpose"] == "HONOURS" and c["asOf"] == "2025-06-30"]
    assert {tuple(c["subject"]) for c in honours} == {("idNumber",), ("creditCode",)}
    source = tmp_path / "honours.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["case", "credit_code", "id_number"])
        for case in honours:
            subject = case["subject"]
            writer.writerow(
                [case["case"], subject.get("creditCode", ""), subject.get("idNumber", "")]
            )
    out = tmp_path / "honours.json"
    async with running_stack(small_dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr")
        code = await vet(
            str(source), "--purpose", "Honours", "--as-of", "2025-06-30", "--out", str(out),
            "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
    assert code == 0
    got = [(r["case"], r["verdict"], r["rule_ids"], r["eligible_from"]) for r in read_report(out)]
    assert got == [
        (c["case"], c["expected_verdict"], c["expected_rules"], expected_eligible_from(c))
        for c in honours
    ]


def expected_eligible_from(case):
    if case["expected_verdict"] == "INELIGIBLE" and case["expected_eligible_from"] is None:
        return "open-ended"
    return case["expected_eligible_from"]


async def test_the_report_goes_to_stdout_by_default(dataset, tmp_path, capsysbinary):
    source = tmp_path / "suppliers.csv"
    source.write_text(f"credit_code,verdict\n{known.SUPPLIER},CLEAR\n", encoding="utf-8")
    async with running_stack(dataset, tmp_path) as stack:
        buyer = stack.token("procurement_officer", "buyer")
        code = await vet(
            str(source), "--purpose", "procurement_eligibility", "--as-of", known.AS_OF,
            "--url", endpoint(stack), "--token", buyer,
        )  # fmt: skip
    assert code == 0
    captured = capsysbinary.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out.decode("utf-8-sig"), newline="")))
    # The stale verdict of an earlier report is replaced, not repeated.
    assert rows[0] == [
        "credit_code", "verdict", "eligible_from", "rule_ids", "findings", "rule_set_version",
        "sources", "error", "error_detail", "report_id",
    ]  # fmt: skip
    # Debarment D-1 to 2025-12-31; the violation of 2024-06-01 bars for 36 months.
    assert rows[1][:4] == [known.SUPPLIER, "INELIGIBLE", "2027-06-01", "PE-01;PE-03"]
    assert rows[1][5] == load_rule_set().version
    assert rows[1][6] == "CREDIT_PLATFORM:ok;PROCUREMENT:ok;COURT:ok"
    assert captured.out.startswith("\ufeff".encode())


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"


async def test_a_run_that_cannot_be_made_fails_in_one_line(dataset, tmp_path, capsys):
    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{known.PERSON}\n", encoding="utf-8")
    out = tmp_path / "report.csv"
    common = ["--purpose", "CADRE_SELECTION", "--out", str(out)]

    def said():
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        return lines[0]

    assert await vet(str(source), *common, "--url", closed_port_url(), "--token", "t") == 1
    unreachable = said()
    assert "did not answer" in unreachable
    assert "--url" in unreachable
    async with running_stack(dataset, tmp_path) as stack:
        url = endpoint(stack)
        assert await vet(str(source), *common, "--url", url, "--token", "not-a-token") == 1
        refused = said()
        assert "HTTP 401" in refused
        assert "--token or CREDGATE_TOKEN" in refused
        # The gateway's address without /graphql: not an endpoint, said before any row.
        assert (
            await vet(str(source), *common, "--url", url[: -len("/graphql")], "--token", "t") == 1
        )
        wrong = said()
        assert "HTTP 404" in wrong
        assert "--url" in wrong
        buyer = stack.token("procurement_officer", "buyer")
        assert await vet(str(source), *common, "--url", url, "--token", buyer) == 1
        assert "FORBIDDEN_PURPOSE" in said()
    assert not out.exists()  # never half a report
    assert list(tmp_path.glob(".report.csv.*")) == []


def test_unusable_input_is_refused_before_any_call(tmp_path, capsys):
    headerless = tmp_path / "headerless.csv"
    headerless.write_text(f"{known.PERSON},张三\n", encoding="utf-8")
    nowhere = closed_port_url()  # were the gateway asked, the run would fail with 1
    args = parse(str(headerless), "--purpose", "HONOURS", "--url", nowhere, "--token", "t")
    assert args.command(args) == 2
    err = capsys.readouterr().err
    assert "id_number" in err
    assert known.PERSON not in err  # without a header the first row is someone's identifier
    args = parse(
        str(tmp_path / "missing.csv"), "--purpose", "HONOURS", "--url", nowhere, "--token", "t"
    )
    assert args.command(args) == 2
    assert "cannot read" in capsys.readouterr().err
    for wrong in (["--out", "report.xlsx"], ["--purpose", "AUDIT"], ["--chunk-size", "1001"]):
        with pytest.raises(SystemExit) as refused:
            parse(str(headerless), "--purpose", "HONOURS", *wrong)
        assert refused.value.code == 2


def test_a_terminal_gets_a_bar_redrawn_in_place():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(10_000, screen)
    progress.advance(5_000)
    progress.advance(5_000)
    progress.done()
    assert screen.getvalue() == (
        "\r[###############               ] 5,000/10,000 subjects"
        "\r[##############################] 10,000/10,000 subjects\n"
    )


async def test_a_rate_limited_run_waits_as_told_then_gives_up(dataset, tmp_path, capsys):
    source = tmp_path / "candidates.csv"
    source.write_text("id_number\n" + "\n".join(known.OTHERS[:4]) + "\n", encoding="utf-8")
    waits: list[float] = []
    async with running_stack(dataset, tmp_path, limits={"requests_per_minute": 1}) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--out", str(tmp_path / "r.csv"),
            "--url", endpoint(stack), "--token", hr, "--chunk-size", "2", sleep=waits.append,
        )  # fmt: skip
    assert code == 1
    assert len(waits) == 5
    assert all(1 <= wait <= 60 for wait in waits)
    assert "HTTP 429" in capsys.readouterr().err.splitlines()[-1]


async def test_no_token_is_found_out_before_any_row(dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CREDGATE_TOKEN", raising=False)
    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{known.PERSON}\n", encoding="utf-8")
    out = tmp_path / "report.csv"
    async with running_stack(dataset, tmp_path) as stack:
        code = await vet(
            str(source), "--purpose", "HONOURS", "--out", str(out), "--url", endpoint(stack)
        )
    assert code == 2
    said = capsys.readouterr().err
    assert "no token" in said
    assert "--token" in said
    assert "CREDGATE_TOKEN" in said
    assert logged_vet_batches(tmp_path) == []  # no row was sent
    assert not out.exists()


async def test_a_gateway_without_access_control_needs_no_token(dataset, tmp_path, monkeypatch):
    monkeypatch.delenv("CREDGATE_TOKEN", raising=False)
    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{known.OTHERS[0]}\n", encoding="utf-8")
    out = tmp_path / "report.csv"
    async with running_stack(dataset, tmp_path, auth={"enforce": False}) as stack:
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack),
        )  # fmt: skip
    assert code == 0
    assert [row["verdict"] for row in read_report(out)] == ["FLAGGED"]


def test_help_names_the_accepted_headers_and_encodings(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    shown = capsys.readouterr().out
    for name in ("id_number", "身份证号", "公民身份号码", "credit_code", "统一社会信用代码"):
        assert name in shown
    for encoding in ("UTF-8", "byte-order mark", "GBK", "GB18030"):
        assert encoding in shown
    assert "2.10904E+17" in shown
    assert "exit status" in shown


async def test_findings_are_spelled_out_and_an_endless_bar_is_open_ended(dataset, tmp_path):
    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{known.PERSON}\n", encoding="utf-8")
    out = tmp_path / "report.json"
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
        answer = await stack.query(
            "query ($id: String!) { vet(subject: {idNumber: $id}, purpose: CADRE_SELECTION,"
            ' asOf: "2025-06-30") { findings { ruleId title effect until legalBasis } } }',
            hr,
            id=known.PERSON,
        )
    assert code == 0
    (row,) = read_report(out)
    assert row["eligible_from"] == "open-ended"
    expected = [
        {
            "rule": f["ruleId"],
            "title": f["title"],
            "effect": f["effect"],
            "until": f["until"] or "open-ended",
            "legal_basis": f["legalBasis"],
        }
        for f in answer["data"]["vet"]["findings"]
    ]
    assert row["findings"] == expected
    assert all(f["title"] and f["legal_basis"] for f in row["findings"])
    assert any(f["until"] == "open-ended" and f["effect"] == "BAR" for f in row["findings"])


async def test_rows_that_could_not_be_vetted_make_the_run_fail_and_say_so(
    dataset, tmp_path, capsys
):
    source = tmp_path / "candidates.csv"
    # 2.10904E+17: an ID number Excel stored as a number (its last digits are gone).
    source.write_text(f"id_number\n2.10904E+17\n{known.PERSON}\n", encoding="utf-8")
    out = tmp_path / "report.csv"
    async with running_stack(dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
        # A purpose that does not apply to persons: every row is an error.
        buyer = stack.token("procurement_officer", "buyer")
        all_failed = await vet(
            str(source), "--purpose", "PROCUREMENT_ELIGIBILITY", "--as-of", known.AS_OF,
            "--out", str(tmp_path / "all.csv"), "--url", endpoint(stack), "--token", buyer,
        )  # fmt: skip
    assert code == 3
    excel, person = read_report(out)
    assert excel["verdict"] == "ERROR"
    assert "Excel" in excel["error_detail"]
    assert "scientific notation" in excel["error_detail"]
    assert "Text" in excel["error_detail"]
    assert person["verdict"] == "INELIGIBLE"
    assert logged_vet_batches(tmp_path)[0] == [ANY_SUBJECT]  # the mangled one was not sent
    said = capsys.readouterr().err
    assert "NOT ALL VETTED: 1 of 2 subjects could not be vetted" in said
    assert "turned into numbers by Excel" in said
    assert all_failed == 3
    assert [row["verdict"] for row in read_report(tmp_path / "all.csv")] == ["ERROR", "ERROR"]
    assert "NOT ALL VETTED: 2 of 2" in said


async def test_a_gateway_running_trusted_documents_only_vets_the_listed_batch(dataset, tmp_path):
    from gateway.vet_cli import VET_BATCH
    from tests.gateway.test_trusted_documents import listing, production

    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{known.OTHERS[0]}\n", encoding="utf-8")
    out = tmp_path / "report.json"
    settings = production(tmp_path, listing(tmp_path, VET_BATCH))  # the check is not listed
    async with running_stack(dataset, tmp_path, **settings) as stack:
        hr = stack.token("hr_officer", "hr", unit=known.UNIT)
        code = await vet(
            str(source), "--purpose", "CADRE_SELECTION", "--as-of", known.AS_OF,
            "--out", str(out), "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
    assert code == 0
    assert [row["verdict"] for row in read_report(out)] == ["FLAGGED"]


async def test_the_readme_example_is_flagged_by_credgate_vet(small_dataset, tmp_path):
    # The README's ID is valid but known to no platform: FLAGGED by CS-00, never CLEAR.
    assert unknown_everywhere(small_dataset, README_ID)
    source = tmp_path / "candidates.csv"
    source.write_text(f"id_number\n{README_ID}\n", encoding="utf-8")
    out = tmp_path / "report.json"
    async with running_stack(small_dataset, tmp_path) as stack:
        hr = stack.token("hr_officer", "hr")
        code = await vet(
            str(source), "--purpose", "cadre_selection", "--as-of", "2025-06-30",
            "--out", str(out), "--url", endpoint(stack), "--token", hr,
        )  # fmt: skip
    assert code == 0
    (row,) = read_report(out)
    assert (row["verdict"], row["rule_ids"]) == ("FLAGGED", ["CS-00"])
    # The version that explains the rule ids (`credgate rules --version ...`).
    assert row["rule_set_version"] == load_rule_set().version
