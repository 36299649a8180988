"""Look-alike digits (full-width, Arabic-Indic) are INVALID_IDENTIFIER through the endpoint,
before any platform is asked or any access-log entry is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.schema import dataset as known
from tests.stack import Stack, running_stack

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

PERSON = "query ($id: String!) { person(idNumber: $id, purpose: HONOURS) { name } }"
ORGANIZATION = (
    "query ($code: String!) "
    "{ organization(creditCode: $code, purpose: PROCUREMENT_ELIGIBILITY) { name } }"
)
VET = "query ($s: SubjectInput!, $p: Purpose!) { vet(subject: $s, purpose: $p) { verdict } }"
BATCH = (
    "query ($s: [SubjectInput!]!) "
    "{ vetBatch(subjects: $s, purpose: PROCUREMENT_ELIGIBILITY) { verdict } }"
)

QUIET = {"poll_interval_s": 3600.0}  # change feeds read at start only: counts are ours


@pytest.fixture
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return known.write_dataset(tmp_path_factory.mktemp("known"))


def log_entries(stack: Stack) -> int:
    path = stack.settings.access_log.dsn.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT count(*) FROM access_log").fetchone()
    return int(count)


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
async def test_look_alike_identifiers_are_refused_before_anything_runs(
    dataset: Path, tmp_path: Path, digits: dict[int, str]
) -> None:
    person = known.PERSON.translate(digits)
    supplier = known.SUPPLIER.translate(digits)
    async with running_stack(dataset, tmp_path, cache=QUIET) as stack:
        answers = [
            await stack.query(PERSON, id=person),
            await stack.query(ORGANIZATION, code=supplier),
            await stack.query(VET, s={"idNumber": person}, p="HONOURS"),
            await stack.query(VET, s={"creditCode": supplier}, p="PROCUREMENT_ELIGIBILITY"),
            await stack.query(BATCH, s=[{"creditCode": supplier}, {"idNumber": person}]),
        ]
        assert set((await stack.upstream_counts()).values()) == {0}
        assert log_entries(stack) == 0
    for answer in answers:
        codes = [error["extensions"]["code"] for error in answer["errors"]]
        assert codes
        assert set(codes) == {"INVALID_IDENTIFIER"}
        assert person not in str(answer)
        assert supplier not in str(answer)
    assert answers[-1]["data"] == {"vetBatch": [None, None]}
