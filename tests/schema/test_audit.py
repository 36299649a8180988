"""`audit { ... }` through the real endpoint, over the real stand-ins and a generated dataset.

Every query must find exactly what the dataset holds: the planted audit cases
(`simulators/generator/audit_cases.py`, rebuilt here from the generator's
options) where a query can be narrowed to them, and otherwise the full set an
independent reading of the dataset's files gives (`audit_oracle`), which must
contain every planted case and none of the planted non-cases.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.masks import Pseudonymiser
from connectors.base import SHANGHAI
from gateway.keys import pseudonym_key
from simulators.generator import GeneratorOptions, generate
from simulators.generator.golden import build_golden
from simulators.generator.world import build_world
from tests.gateway.served import patient
from tests.schema.audit_oracle import AuditOracle
from tests.stack import Stack, running_stack, stack_reset

OPTIONS = GeneratorOptions(persons=1_500, orgs=400, seed=7)
GOLDEN = build_golden(build_world(OPTIONS)).audit.row()
AUDIT_UNIT = GOLDEN["conflictsOfInterest"]["unitCode"]
PLANTED_CONFLICTS = GOLDEN["conflictsOfInterest"]["expected"]
ROLES = ("auditor", "credit_admin")
EVER = ("1970-01-01", OPTIONS.as_of.isoformat())
EVER_DATES = (dt.date(1970, 1, 1), OPTIONS.as_of)

REF = "{ kind idNumber creditCode name }"
FINDING = "{ ruleId effect until disputed restricted source summary recordRef }"


def _query(text: str) -> str:
    """A query with its subject references and findings spelt out."""
    return text.replace("@REF", REF).replace("@FINDING", FINDING)


CONFLICTS = _query(
    "query ($u: String) { audit { conflictsOfInterest(unitCode: $u) { civilServant @REF"
    " unit @REF supplier @REF role awardsFromOwnUnit { contractNo awardDate } } } }"
)
PROMOTIONS = _query(
    "query ($f: Date!, $t: Date!) { audit { promotionsDuringBars(from: $f, to: $t) {"
    " civilServant @REF change { position rankLevel startDate endDate unit { creditCode } }"
    " bars @FINDING } } }"
)
DEBTORS = _query(
    "{ audit { governmentDebtors { unit @REF enforcement { entryId status inForce }"
    " openIssues { contractNo type open } } } }"
)
AWARDS = _query(
    "query ($p: String, $f: Date!, $t: Date!) { audit {"
    " awardsToIneligibleSuppliers(purchaserCode: $p, from: $f, to: $t) {"
    " award { contractNo awardDate supplier { creditCode } } purchaser @REF findings @FINDING"
    " } } }"
)
ACCESS_LOG = _query(
    "query ($s: SubjectInput, $a: String, $f: DateTime) { audit {"
    " accessLog(subject: $s, actor: $a, from: $f) {"
    " at actor role unit purpose subjects @REF fields outcome requestId } } }"
)


@pytest.fixture(autouse=True)
def patient_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines no busy machine reaches: the gateway and the stand-ins share this
    process's event loop, and an auditor's scan of every page is asked of them at
    once; these tests are about what the answers say, not about deadlines."""
    for name, value in patient(30).items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    generate(out, OPTIONS)
    return out


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


async def audit(stack: Stack, query: str, role: str, **variables: Any) -> Any:
    answer = await stack.query(query, stack.token(role, f"{role}-1"), **variables)
    assert "errors" not in answer, answer["errors"]
    (field,) = answer["data"]["audit"].values()
    return field


def identity(ref: dict[str, Any], pseudonyms: dict[str, str]) -> str:
    """The ID number behind a person reference, whether shown in full or as a pseudonym."""
    shown: str = ref["idNumber"]
    return pseudonyms.get(shown, shown)


def pseudonyms_of(stack: Stack, dataset: Path) -> dict[str, str]:
    """Pseudonym -> ID number of every civil servant, with the gateway's key."""
    tokens = Pseudonymiser(pseudonym_key(stack.settings))
    people = (json.loads(line) for line in (dataset / "archive/cs_person.jsonl").open())
    return {tokens.person(row["id_number"]): row["id_number"] for row in people}


async def test_conflicts_of_interest(dataset, tmp_path):
    oracle = AuditOracle(dataset, today())
    none: frozenset[str] = frozenset()  # the audit unit buys nothing
    planted = {(c["idNumber"], c["supplier"], c["role"], none) for c in PLANTED_CONFLICTS}
    async with running_stack(dataset, tmp_path) as stack:
        pseudonyms = pseudonyms_of(stack, dataset)
        for role in ROLES:
            unit = await audit(stack, CONFLICTS, role, u=AUDIT_UNIT)
            everyone = await audit(stack, CONFLICTS, role)
            assert _conflicts(unit, pseudonyms) == planted
            assert _conflicts(everyone, pseudonyms) == oracle.conflicts()
    assert planted < oracle.conflicts()
    assert any(contracts for *_, contracts in oracle.conflicts())  # own-unit awards exist


async def test_promotions_during_bars(dataset, tmp_path):
    oracle = AuditOracle(dataset, today())
    window = GOLDEN["promotionsDuringBars"]
    first, last = (dt.date.fromisoformat(window[end]) for end in ("from", "to"))
    planted_people = {p["idNumber"] for p in [*window["expected"], *window["notExpected"]]}
    async with running_stack(dataset, tmp_path) as stack:
        pseudonyms = pseudonyms_of(stack, dataset)
        for role in ROLES:
            found = await audit(stack, PROMOTIONS, role, f=window["from"], t=window["to"])
            shown = _promotions(found, pseudonyms)
            planted = {
                (p["idNumber"], p["startDate"], frozenset(p["rules"]))
                for p in window["expected"]
                if role in p["roles"]
            }
            assert {p for p in shown if p[0] in planted_people} == planted
            assert shown == oracle.promotions(first, last, role)
            restricted = [b for p in found for b in p["bars"] if b["restricted"]]
            assert len(restricted) == (1 if role == "auditor" else 0)
            assert all(b["summary"] is None and b["recordRef"] is None for b in restricted)
            # The whole archive, the random data's own cases with the planted ones.
            ever = await audit(stack, PROMOTIONS, role, f=EVER[0], t=EVER[1])
            whole = oracle.promotions(*EVER_DATES, role)
            assert _promotions(ever, pseudonyms) == whole
            assert planted < whole


async def test_government_debtors(dataset, tmp_path):
    expected = AuditOracle(dataset, today()).debtors()
    planted = GOLDEN["governmentDebtors"]
    units = {d["creditCode"] for d in planted["expected"]} | set(planted["notExpected"])
    async with running_stack(dataset, tmp_path) as stack:
        for role in ROLES:
            found = await audit(stack, DEBTORS, role)
            shown = {
                d["unit"]["creditCode"]: (
                    frozenset(e["entryId"] for e in d["enforcement"]),
                    frozenset(i["contractNo"] for i in d["openIssues"]),
                )
                for d in found
            }
            assert {unit: debts for unit, debts in shown.items() if unit in units} == {
                d["creditCode"]: (frozenset(d["entries"]), frozenset(d["openIssues"]))
                for d in planted["expected"]
            }
            assert shown == expected
    assert len(expected) > len(planted["expected"])  # random units owe too


async def test_awards_to_ineligible_suppliers(dataset, tmp_path):
    oracle = AuditOracle(dataset, today())
    planted = GOLDEN["awardsToIneligibleSuppliers"]
    contracts = {a["contractNo"] for a in [*planted["expected"], *planted["notExpected"]]}
    buyer = planted["expected"][0]["purchaserCode"]
    checked = {  # suppliers whose registration alone would fire PE-02 (a FLAG now)
        row["credit_code"]
        for row in map(json.loads, (dataset / "procurement/suppliers.jsonl").open(encoding="utf-8"))
        if row["registration_status"] in ("SUSPENDED", "CANCELLED")
    }
    async with running_stack(dataset, tmp_path) as stack:
        for role in ROLES:
            answer = await audit(stack, AWARDS, role, f=EVER[0], t=EVER[1])
            found = _awards(answer)
            assert found == oracle.awards(*EVER_DATES, role)
            # PE-02 rests on a status with no date: never reported for an award day,
            # also for the barred suppliers whose registration is suspended or cancelled.
            assert any(a["award"]["supplier"]["creditCode"] in checked for a in answer)
            assert all("PE-02" not in rules for _, rules in found)
            ours = {contract: rules for contract, rules in found if contract in contracts}
            assert ours.keys() == {a["contractNo"] for a in planted["expected"]}
            assert all(a["rule"] in ours[a["contractNo"]] for a in planted["expected"])
            one = await audit(stack, AWARDS, role, p=buyer, f=EVER[0], t=EVER[1])
            assert _awards(one) == oracle.awards(*EVER_DATES, role, buyer)
            assert {a["purchaser"]["creditCode"] for a in one} == {buyer}
    assert {a["case"] for a in planted["expected"]} == {"PE-01", "PE-03"}
    assert {a["case"] for a in planted["notExpected"]} == {"clean", "over", "later"}


async def test_the_auditor_sees_pseudonyms_only(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        seen = {}
        for role in ROLES:
            token = stack.token(role, f"{role}-1")
            seen[role] = [
                await stack.query(CONFLICTS, token),
                await stack.query(PROMOTIONS, token, f=EVER[0], t=EVER[1]),
            ]
    people = {role: _servants(answers) for role, answers in seen.items()}
    assert len(people["credit_admin"]) > 20
    body = json.dumps(seen["auditor"], ensure_ascii=False)
    for person in people["credit_admin"]:
        assert person["idNumber"] not in body
        assert person["name"] not in body
    for person in people["auditor"]:
        assert person["idNumber"].startswith("P-")
        assert person["name"] == person["idNumber"]  # a name's token is its holder's
    privacy = {entry["action"] for entry in seen["auditor"][0]["extensions"]["privacy"]}
    assert "PSEUDONYM" in privacy


async def test_upstream_calls_are_batched(dataset, tmp_path):
    servants = _lines(dataset / "archive/cs_person.jsonl")
    async with running_stack(dataset, tmp_path) as stack:
        conflicts = await audit(stack, CONFLICTS, "auditor")
        counts = await stack.upstream_counts()
        # One QuerySuppliersByRepresentative per 50 servants; one QueryAwards per unit.
        units = {c["unit"]["creditCode"] for c in conflicts}
        assert counts["procurement"] == math.ceil(servants / 50) + len(units)
        assert counts["archive"] == servants // 500 + 1  # the scan's pages
        assert counts["credit"] == counts["court"] == 0

        await stack_reset(stack)
        stack.app.state.connectors.archive.statements = 0
        promoted = await audit(stack, PROMOTIONS, "auditor", f=EVER[0], t=EVER[1])
        counts = await stack.upstream_counts()
    assert len(promoted) > 10
    # Pages of 500 changes, each one batched call per platform (split by its limit).
    pages = _lines(dataset / "archive/cs_position_history.jsonl") // 500 + 1
    assert counts["credit"] <= math.ceil(servants / 100) + pages
    assert counts["procurement"] <= math.ceil(servants / 50) + pages
    assert all(count < servants / 5 for count in counts.values()), counts


async def test_only_auditors_and_credit_admin_may_audit(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        for role in ("hr_officer", "procurement_officer"):
            answer = await stack.query(DEBTORS, stack.token(role, f"{role}-1"))
            assert answer["data"] == {"audit": None}
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"
        subject = stack.token("data_subject", "self", id_number=PLANTED_CONFLICTS[0]["idNumber"])
        answer = await stack.query(DEBTORS, subject)
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN_PURPOSE"
        log = await audit(stack, ACCESS_LOG, "credit_admin", a="hr_officer-1")
    assert [(e["outcome"], e["purpose"]) for e in log] == [("DENIED", "AUDIT")]


async def test_the_access_log(dataset, tmp_path):
    person = PLANTED_CONFLICTS[0]["idNumber"]
    vet = "query ($s: SubjectInput!) { vet(subject: $s, purpose: CADRE_SELECTION) { verdict } }"
    async with running_stack(dataset, tmp_path) as stack:
        started = dt.datetime.now(SHANGHAI).isoformat()
        hr = stack.token("hr_officer", "hr-7", unit=AUDIT_UNIT)
        assert "errors" not in await stack.query(vet, hr, s={"idNumber": person})
        token = Pseudonymiser(pseudonym_key(stack.settings)).person(person)
        for role in ROLES:
            entries = await audit(
                stack, ACCESS_LOG, role, s={"idNumber": person}, a="hr-7", f=started
            )
            assert [(e["role"], e["purpose"], e["outcome"]) for e in entries] == [
                ("hr_officer", "CADRE_SELECTION", "OK")
            ]
            (entry,) = entries
            ref = {"kind": "PERSON", "idNumber": token, "creditCode": None, "name": None}
            assert entry["subjects"] == [ref]
            assert "vet.verdict" in entry["fields"]
            assert person not in json.dumps(entries)
        # Looking a subject up in the log is itself logged, about that subject.
        lookups = await audit(
            stack, ACCESS_LOG, "credit_admin", s={"idNumber": person}, a="auditor-1"
        )
    assert [(e["purpose"], e["outcome"]) for e in lookups] == [("AUDIT", "OK")]


async def test_a_failed_platform_fails_the_whole_query(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack, httpx.AsyncClient() as admin:
        await admin.post(f"{stack.urls['procurement']}/_sim/down")
        answer = await stack.query(CONFLICTS, stack.token("auditor", "a"))
    assert answer["data"] == {"audit": None}
    assert answer["errors"][0]["extensions"] == {
        "code": "SOURCE_UNAVAILABLE",
        "source": "PROCUREMENT",
    }


async def test_arguments_are_checked(dataset, tmp_path):
    async with running_stack(dataset, tmp_path) as stack:
        bad_unit = await stack.query(CONFLICTS, u="11210000000000000X")
        backwards = await stack.query(PROMOTIONS, f="2025-01-02", t="2025-01-01")
    assert bad_unit["errors"][0]["extensions"]["code"] == "INVALID_IDENTIFIER"
    assert bad_unit["errors"][0]["extensions"]["field"] == "unitCode"
    assert backwards["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def _conflicts(found: list[dict[str, Any]], pseudonyms: dict[str, str]) -> set[Any]:
    return {
        (
            identity(c["civilServant"], pseudonyms),
            c["supplier"]["creditCode"],
            c["role"],
            frozenset(a["contractNo"] for a in c["awardsFromOwnUnit"]),
        )
        for c in found
    }


def _promotions(found: list[dict[str, Any]], pseudonyms: dict[str, str]) -> set[Any]:
    return {
        (
            identity(p["civilServant"], pseudonyms),
            p["change"]["startDate"],
            frozenset(b["ruleId"] for b in p["bars"]),
        )
        for p in found
    }


def _awards(found: list[dict[str, Any]]) -> set[tuple[str, frozenset[str]]]:
    return {
        (a["award"]["contractNo"], frozenset(f["ruleId"] for f in a["findings"])) for a in found
    }


def _servants(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The civil servants named in audit answers."""
    return [
        item["civilServant"]
        for answer in answers
        for found in answer["data"]["audit"].values()
        for item in found
    ]


def _lines(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for _ in lines)
