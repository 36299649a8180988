"""Whoever filled the cache, each role gets exactly what it gets with no cache at all.

The same person and supplier are asked by credit_admin (who sees everything),
then hr_officer, then procurement_officer, then auditor — each with purposes
its role may declare, credit_admin with the others' — first on a gateway
without a cache, then on one with it (the memory backend, and the Redis one),
three times over (the third time from kept answers, level 3). Records visible
to some sectors only, and RESTRICTED ones that only decide, are added first,
so a role served another role's view (a record, a finding, a detail) would
show. Answers are compared as bytes, without what differs by nature: request
and report ids, generation times, fetch times and cache ages.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.connectors.test_cache_fixtures import require_redis
from tests.gateway.test_caching import gateway_on
from tests.schema import dataset as known
from tests.stack import Stack, platforms

QUERY = """query ($id: String!, $org: String!, $pp: Purpose!, $po: Purpose!, $d: Date) {
  person(idNumber: $id, purpose: $pp, asOf: $d) {
    idNumber name birthDate
    civilServant { position sanctions { sanctionId kind reason inForce } investigations { caseId } }
    creditRecords {
      recordId category disclosure status severity publicityEnd disputed inForce
    }
    enforcement { entryId idCode partyName }
    businessRoles { supplier { creditCode name } role }
    sources { source ok stale asOf cacheAgeSeconds error }
  }
  organization(creditCode: $org, purpose: $po, asOf: $d) {
    creditCode name kind legalRepresentative { idNumber name }
    creditRecords { recordId disclosure severity }
    debarments { recordNo inForce } violations { recordNo }
    sources { source ok stale asOf cacheAgeSeconds error }
  }
  vetPerson: vet(subject: {idNumber: $id}, purpose: $pp, asOf: $d) { ...Report }
  vetOrg: vet(subject: {creditCode: $org}, purpose: $po, asOf: $d) { ...Report }
}
fragment Report on VettingReport {
  reportId verdict eligibleFrom generatedAt ruleSetVersion policyVersion
  subject { kind idNumber creditCode name }
  findings { ruleId effect source until disputed restricted summary recordRef }
  sources { source ok stale asOf cacheAgeSeconds error }
}"""
PURPOSES = {  # role: (purpose for the person, for the supplier), in the order asked
    "credit_admin": ("CADRE_SELECTION", "PROCUREMENT_ELIGIBILITY"),
    "hr_officer": ("CADRE_SELECTION", "HONOURS"),
    "procurement_officer": ("PROCUREMENT_ELIGIBILITY", "PROCUREMENT_ELIGIBILITY"),
    "auditor": ("AUDIT", "AUDIT"),
}
VOLATILE = frozenset({"requestId", "reportId", "generatedAt", "cacheAgeSeconds"})


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def sector_records() -> list[dict[str, Any]]:
    """Credit records only some sectors may use, some of them only to decide."""
    row = known._credit
    return [
        row("CR-HR", known.PERSON, "PERSON", disclosure="CONDITIONAL", share_scope=["ORG_HR"]),
        row("CR-HR-R", known.PERSON, "PERSON", disclosure="RESTRICTED",
            share_scope=["ORG_HR", "AUDIT"], category="SERIOUS_DISHONESTY", severity="SERIOUS"),
        row("CR-BUY", known.SUPPLIER, "ORG", disclosure="CONDITIONAL",
            share_scope=["PROCUREMENT"]),
        row("CR-BUY-R", known.SUPPLIER, "ORG", disclosure="RESTRICTED",
            share_scope=["PROCUREMENT", "ORG_HR"], category="SERIOUS_DISHONESTY",
            severity="SERIOUS"),
        row("CR-NOT-HR", known.PERSON, "PERSON", disclosure="CONDITIONAL",
            share_scope=["PROCUREMENT"], category="SERIOUS_DISHONESTY", severity="SERIOUS"),
        row("CR-NOT-BUY", known.SUPPLIER, "ORG", disclosure="CONDITIONAL",
            share_scope=["ORG_HR"], category="SERIOUS_DISHONESTY", severity="SERIOUS"),
    ]  # fmt: skip


def comparable(value: Any, in_sources: bool = False) -> Any:
    """The answer without what differs by nature (ids, times, ages)."""
    if isinstance(value, dict):
        return {
            key: comparable(item, key == "sources")
            for key, item in value.items()
            if key not in VOLATILE and not (in_sources and key == "asOf")
        }
    if isinstance(value, list):
        return [comparable(item, in_sources) for item in value]
    return value


async def answers(stack: Stack) -> dict[str, str]:
    """Each role's answer, asked in the order of PURPOSES."""
    got = {}
    for role, (person_purpose, org_purpose) in PURPOSES.items():
        token = stack.token(role, f"{role}-caller", unit=known.UNIT)
        answer = await stack.query(
            QUERY, token, id=known.PERSON, org=known.SUPPLIER,
            pp=person_purpose, po=org_purpose, d=known.AS_OF,
        )  # fmt: skip
        got[role] = json.dumps(comparable(answer), ensure_ascii=False)
    return got


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_each_role_gets_what_it_gets_without_a_cache(dataset, tmp_path, backend):
    cache: dict[str, Any] = {"backend": backend, "poll_interval_s": 3600.0}
    if backend == "redis":
        cache["redis_url"] = require_redis()
    async with platforms(dataset, tmp_path) as running:
        async with httpx.AsyncClient() as admin:
            for row in sector_records():
                answer = await admin.post(f"{running[1]['credit']}/_sim/records", json=row)
                answer.raise_for_status()
        async with gateway_on(running, tmp_path, cache={"backend": "none"}) as cold:
            expected = await answers(cold)
        async with gateway_on(running, tmp_path, cache=cache) as warm:
            filled = await answers(warm)
            again = await answers(warm)  # levels 1 and 2 warm: each answer kept (level 3)
            reissued = await answers(warm)  # each a kept answer, re-issued
            hits = warm.app.state.caching.counters()["hits"]
            kept_hits = warm.app.state.answers.hits

    assert hits > 0
    # The roles really do see different things, so a leak would show.
    assert len(set(expected.values())) == len(PURPOSES)
    assert '"CR-HR"' in expected["hr_officer"]
    assert '"CR-HR"' not in expected["auditor"]
    assert '"CR-BUY"' in expected["procurement_officer"]
    assert '"CR-BUY"' not in expected["hr_officer"]
    assert '"CR-NOT-HR"' in expected["credit_admin"]
    assert "CR-NOT-HR" not in expected["hr_officer"]
    for role in PURPOSES:
        assert filled[role] == expected[role], role
        assert again[role] == expected[role], role
        assert reissued[role] == expected[role], role
    # All but the auditor's: `vet` does not apply to AUDIT, and answers with errors are not kept.
    assert kept_hits == len(PURPOSES) - 1
