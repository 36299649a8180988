"""The generator's golden cases, judged by the engine on what the real connectors return.

A small generated dataset is served by the real stand-ins; the real connectors
fetch every golden subject in batched calls, exactly as the gateway will, and
record visibility rule 3 is applied for the role that asks for each purpose
(hr_officer: ORG_HR; procurement_officer: PROCUREMENT). Every case of
golden.jsonl must agree on verdict, rule ids and eligibleFrom; each
disagreement is printed with its case name.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from connectors.base import SourceResult
from connectors.bundle import build_connectors
from connectors.records import (
    CivilServantFile,
    CreditRecord,
    CreditSubject,
    SubjectKey,
    SubjectType,
)
from gateway.settings import load_settings
from schema.types import Purpose, SubjectKind
from schema.vetting import (
    CourtRecords,
    Evidence,
    ProcurementRecords,
    Report,
    evaluate,
    load_rule_set,
    record_ref,
)
from tests.stack import platforms

RULE_SET = load_rule_set()
SECTOR = {
    Purpose.CADRE_SELECTION: "ORG_HR",
    Purpose.HONOURS: "ORG_HR",
    Purpose.PROCUREMENT_ELIGIBILITY: "PROCUREMENT",
}


@dataclass(frozen=True)
class Fetched:
    """Every golden subject's answers, by identifier."""

    credit: dict[str, CreditSubject]
    court: dict[str, CourtRecords]
    archive: dict[str, CivilServantFile | None]
    procurement: dict[str, ProcurementRecords]


def read_cases(dataset: Path) -> list[dict[str, Any]]:
    with (dataset / "golden.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def answered(result: SourceResult[Any, Any]) -> dict[Any, Any]:
    assert not result.errors, f"{result.status.platform}: {result.errors}"
    return dict(result.values)


async def fetch(dataset: Path, tmp_path: Path, persons: list[str], orgs: list[str]) -> Fetched:
    keys = [SubjectKey(SubjectType.PERSON, p) for p in persons]
    keys += [SubjectKey(SubjectType.ORG, o) for o in orgs]
    async with platforms(dataset, tmp_path) as (_standins, _urls, config):
        settings = load_settings(config)
        async with httpx.AsyncClient() as client:
            connectors = build_connectors(settings.platforms, client)
            try:
                credit = answered(await connectors.credit.subjects(keys))
                entries = answered(await connectors.court.entries(persons + orgs))
                restrictions = answered(await connectors.court.restrictions(persons))
                files = answered(await connectors.archive.files(persons))
                roles = answered(await connectors.procurement.representatives(persons))
                suppliers = answered(await connectors.procurement.suppliers(orgs))
                purchasers = answered(await connectors.procurement.purchasers(orgs))
            finally:
                await connectors.close()
    procurement = {p: ProcurementRecords(representative=roles[p]) for p in persons}
    for o in orgs:
        procurement[o] = ProcurementRecords(supplier=suppliers[o], purchaser=purchasers[o])
    return Fetched(
        credit={key.code: subject for key, subject in credit.items()},
        court={c: CourtRecords(entries[c], restrictions.get(c, ())) for c in persons + orgs},
        archive=files,
        procurement=procurement,
    )


def visible(
    records: tuple[CreditRecord, ...], sector: str
) -> tuple[tuple[CreditRecord, ...], set[str]]:
    """Visibility rule 3 for a role of `sector`: the usable records, and the decide-only ones."""
    usable = tuple(r for r in records if r.disclosure == "PUBLIC" or sector in r.share_scope)
    return usable, {record_ref(r) for r in usable if r.disclosure == "RESTRICTED"}


def evidence_for(fetched: Fetched, code: str, purpose: Purpose) -> Evidence:
    credit, restricted = visible(fetched.credit[code].records, SECTOR[purpose])
    file = fetched.archive.get(code)
    if file is not None:  # archive rows: every ORG_HR row is usable; RESTRICTED ones decide only
        restricted |= {record_ref(s) for s in file.sanctions if s.disclosure == "RESTRICTED"}
        restricted |= {record_ref(i) for i in file.investigations if i.disclosure == "RESTRICTED"}
    return Evidence(
        credit=credit,
        court=fetched.court[code],
        archive=file,
        procurement=fetched.procurement[code],
        restricted=frozenset(restricted),
    )


def judge(case: dict[str, Any], fetched: Fetched) -> Report:
    ((field, code),) = case["subject"].items()
    kind = SubjectKind.PERSON if field == "idNumber" else SubjectKind.ORGANIZATION
    purpose = Purpose[case["purpose"]]
    as_of = dt.date.fromisoformat(case["asOf"])
    return evaluate(RULE_SET, purpose, kind, as_of, evidence_for(fetched, code, purpose))


def disagreement(case: dict[str, Any], report: Report) -> str | None:
    expected = (
        case["expected_verdict"],
        sorted(case["expected_rules"]),
        case["expected_eligible_from"],
    )
    eligible_from = report.eligible_from.isoformat() if report.eligible_from else None
    got = (report.verdict.value, list(report.rule_ids), eligible_from)
    if got == expected:
        return None
    return f"{case['case']} ({case['purpose']} on {case['asOf']}): expected {expected}, got {got}"


async def test_every_golden_case_agrees(small_dataset: Path, tmp_path: Path) -> None:
    cases = read_cases(small_dataset)
    assert len(cases) > 150
    persons = sorted({c["subject"]["idNumber"] for c in cases if "idNumber" in c["subject"]})
    orgs = sorted({c["subject"]["creditCode"] for c in cases if "creditCode" in c["subject"]})
    fetched = await fetch(small_dataset, tmp_path, persons, orgs)
    problems = [p for case in cases if (p := disagreement(case, judge(case, fetched)))]
    for problem in problems:
        print(problem)
    assert not problems, f"{len(problems)} of {len(cases)} golden cases disagree:\n" + "\n".join(
        problems
    )
    # The decide-only record is used to decide, and its finding says so.
    (restricted,) = [c for c in cases if c["case"] == "CS-09/RESTRICTED-ORG_HR/inside"]
    report = judge(restricted, fetched)
    assert [f.restricted for f in report.findings] == [True]
