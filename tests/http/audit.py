"""graphql-http's GraphQL-over-HTTP server audits against a gateway over the stand-ins.

`python -m tests.http.audit` prints the counts (ok / failed per MUST, SHOULD, MAY)
and every audit that did not pass; tests/http/test_audit.py requires them.
"""

from __future__ import annotations

import asyncio
import collections
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.schema import dataset as known
from tests.stack import running_stack

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "audit.mjs"


def node_missing() -> str | None:
    """Why the audit cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed: the GraphQL-over-HTTP audit needs it"
    if not (HERE / "node_modules" / "graphql-http").is_dir():
        return "tests/http/node_modules is missing: `make test` installs it with npm ci"
    return None


async def run_audits(url: str, token: str) -> list[dict[str, Any]]:
    """Every audit's result (id, name, status, reason) against the endpoint at `url`."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        url,
        token,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the audit did not run: {err.decode()}")
    results: list[dict[str, Any]] = json.loads(out)
    return results


def counts(results: list[dict[str, Any]]) -> dict[str, collections.Counter[str]]:
    """Per requirement level (MUST, SHOULD, MAY): how many were ok, warned or failed."""
    tally: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for result in results:
        tally[result["name"].split(" ", 1)[0]][result["status"]] += 1
    return dict(tally)


async def audit_a_stack(work: Path) -> list[dict[str, Any]]:
    dataset = known.write_dataset(work / "dataset")
    async with running_stack(dataset, work) as stack:
        url = str(stack.client.base_url.join("/graphql"))
        return await run_audits(url, stack.token("hr_officer"))


def main() -> int:
    reason = node_missing()
    if reason is not None:
        print(reason)
        return 1
    with tempfile.TemporaryDirectory() as work:
        results = asyncio.run(audit_a_stack(Path(work)))
    for level, tally in sorted(counts(results).items()):
        print(f"{level}: " + ", ".join(f"{n} {status}" for status, n in sorted(tally.items())))
    for result in results:
        if result["status"] != "ok":
            print(f"  {result['status']} {result['id']} {result['name']}: {result.get('reason')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
