"""The gateway passes graphql-http's GraphQL-over-HTTP server audits: every MUST and SHOULD."""

import pytest

from tests.http.audit import counts, node_missing, run_audits
from tests.schema import dataset as known
from tests.stack import running_stack


@pytest.fixture
def dataset(tmp_path_factory):
    return known.write_dataset(tmp_path_factory.mktemp("known"))


async def test_every_must_and_should_audit_passes(dataset, tmp_path):
    reason = node_missing()
    if reason is not None:
        pytest.skip(reason)
    async with running_stack(dataset, tmp_path) as stack:
        url = str(stack.client.base_url.join("/graphql"))
        results = await run_audits(url, stack.token("hr_officer"))
    tally = counts(results)
    assert tally["MUST"]["ok"] >= 13
    assert tally["SHOULD"]["ok"] >= 23
    failed = [
        f"{r['id']} {r['name']}: {r.get('reason')}"
        for r in results
        if r["status"] != "ok" and not r["name"].startswith("MAY")
    ]
    assert failed == []
