"""Memory of the local (level-1) cache at its cap, filled with the default dataset's records.

    python -m benchmarks.cache_memory [--dataset DIR] [--cap N]

Without --dataset, the default dataset (`credgate generate` defaults: 20,000
persons, 5,000 organisations) is generated into a temporary directory. Every
subject's answers are read from the dataset files into the normalised record
types — by the connectors' own parsers where the platform speaks JSON or rows
(credit, court, archive), field by field for procurement (whose parser reads
SOAP XML) — and stored as level-1 entries, subject after subject with all its
operations, the way vetting reads them: credit `subjects`; court `entries` and
`restrictions`; archive `files` (persons) and `unit_members` (government
units); procurement `representatives` (persons), `suppliers`, `purchasers`
and one year of `awards` (organisations).

The raw rows are grouped by subject before measuring starts; what is measured
(tracemalloc, after a garbage collection) is everything the filled cache holds:
the records, the aiocache store, the LRU order, the tag index and the expiry
structures. The same run at a cap holding every entry shows the whole dataset's
footprint. Also printed: the encoded (Redis) size of the entries. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import secrets
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors import archive_parse, court_items, credit_parse
from connectors.base import SHANGHAI
from connectors.cache import CacheKeys, RecordCache, RecordKey, ttl_by_platform
from connectors.cache_backends import DEFAULT_MAX_ENTRIES, MemoryCache
from connectors.cache_codec import Codec
from connectors.procurement import AwardQuery
from connectors.records import (
    Award,
    BusinessRole,
    Debarment,
    PersonRef,
    PurchaserIssue,
    PurchaserPerformance,
    Representative,
    SubjectKey,
    SubjectType,
    SupplierStatus,
    Violation,
)
from connectors.settings import PlatformsSettings
from simulators.generator import GeneratorOptions, generate

Rows = list[dict[str, Any]]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


class Dataset:
    """The dataset's rows, grouped by the subject they are about."""

    def __init__(self, root: Path) -> None:
        self.as_of = dt.date.fromisoformat(
            json.loads((root / "manifest.json").read_text(encoding="utf-8"))["as_of"]
        )
        self.subjects = [
            (SubjectKey(SubjectType(row["type"]), row["code"]), row.get("name"))
            for row in _jsonl(root / "credit_platform" / "subjects.jsonl")
        ]
        self.credit = self._by(root / "credit_platform" / "records.jsonl", "subject_code")
        self.entries = self._by(root / "court" / "entries.jsonl", "idCode")
        self.restrictions = self._by(root / "court" / "restrictions.jsonl", "idCode")
        self.suppliers = {
            row["credit_code"]: row for row in _jsonl(root / "procurement" / "suppliers.jsonl")
        }
        self.issues = self._by(root / "procurement" / "purchaser_issues.jsonl", "purchaser_code")
        self.awards = self._by(root / "procurement" / "awards.jsonl", "purchaser_code")
        self.roles: dict[str, list[BusinessRole]] = defaultdict(list)
        for row in self.suppliers.values():
            people = [(row.get("legal_representative") or {}, "LEGAL_REPRESENTATIVE")]
            people += [(holder, "SHAREHOLDER") for holder in row.get("shareholders") or []]
            for person, role in people:
                if person.get("id_number"):
                    self.roles[person["id_number"]].append(
                        BusinessRole(
                            row["credit_code"], row.get("name"), row["registration_status"], role
                        )
                    )
        archive = root / "archive"
        self.persons = {row["id_number"]: row for row in _jsonl(archive / "cs_person.jsonl")}
        self.children = {
            table.name: self._by(archive / f"{table.name}.jsonl", "person_id")
            for table in archive_parse.CHILD_TABLES
        }
        self.members: dict[str, list[str]] = defaultdict(list)
        for number, row in sorted(self.persons.items()):
            self.members[row["unit_code"]].append(number)

    @staticmethod
    def _by(path: Path, column: str) -> dict[str, Rows]:
        grouped: dict[str, Rows] = defaultdict(list)
        for row in _jsonl(path):
            grouped[row[column]].append(row)
        return grouped

    def answers(self, key: SubjectKey, name: str | None) -> dict[RecordKey, object]:
        """Every level-1 entry vetting this subject reads, as the connectors would return it."""
        code = key.code
        values: dict[RecordKey, object] = {}
        data = {
            "asOf": "2025-06-30T12:00:00+08:00",
            "results": [
                {
                    "type": key.type.value,
                    "code": code,
                    "name": name,
                    "records": self.credit.get(code, []),
                }
            ],
        }
        credit, _ = credit_parse.parse_batch_answer("credit", [key], data)
        values[RecordKey("credit", "subjects", key)] = credit[key]
        values[RecordKey("court", "entries", code)] = tuple(
            court_items.parse_entry("court", row) for row in self.entries.get(code, [])
        )
        values[RecordKey("court", "restrictions", code)] = tuple(
            court_items.parse_restriction("court", row) for row in self.restrictions.get(code, [])
        )
        if key.type is SubjectType.PERSON:
            values[RecordKey("archive", "files", code)] = self._file(code)
            values[RecordKey("procurement", "representatives", code)] = Representative(
                code, tuple(self.roles.get(code, ()))
            )
            return values
        if code in self.members:
            values[RecordKey("archive", "unit_members", code)] = tuple(self.members[code])
        values[RecordKey("procurement", "suppliers", code)] = self._supplier(code)
        values[RecordKey("procurement", "purchasers", code)] = PurchaserPerformance(
            code, tuple(_issue(row) for row in self.issues.get(code, []))
        )
        year = AwardQuery(code, self.as_of - dt.timedelta(days=365), self.as_of)
        values[RecordKey("procurement", "awards", year)] = tuple(
            _award(row)
            for row in self.awards.get(code, [])
            if year.start <= dt.date.fromisoformat(row["award_date"]) <= year.end
        )
        return values

    def _file(self, id_number: str) -> object:
        row = self.persons.get(id_number)
        if row is None:
            return None
        columns = ("person_id", *archive_parse.PERSON_COLUMNS)
        persons = archive_parse.read_persons(
            "archive", [id_number], [{c: row.get(c) for c in columns}]
        )
        children = {
            table.field: archive_parse.read_children(
                "archive",
                table,
                persons,
                [
                    {c: child.get(c) for c in ("person_id", *table.columns)}
                    for child in self.children[table.name].get(row["person_id"], [])
                ],
            )
            for table in archive_parse.CHILD_TABLES
        }
        return archive_parse.assemble([id_number], persons, children)[id_number]

    def _supplier(self, code: str) -> SupplierStatus:
        row = self.suppliers.get(code)
        if row is None:
            return SupplierStatus(code, None, "NOT_REGISTERED", None, (), ())
        legal = row.get("legal_representative")
        return SupplierStatus(
            credit_code=code,
            name=row.get("name"),
            registration_status=row["registration_status"],
            legal_representative=PersonRef(legal.get("name"), legal.get("id_number"))
            if legal
            else None,
            debarments=tuple(
                Debarment(
                    d["record_no"],
                    d.get("reason"),
                    d.get("legal_basis"),
                    d.get("authority"),
                    _date(d.get("start_date")),
                    _date(d.get("end_date")),
                    _date(d.get("published_date")),
                )
                for d in row.get("debarments") or []
            ),
            violations=tuple(
                Violation(
                    v["record_no"],
                    v.get("circumstance"),
                    v.get("penalty"),
                    v.get("legal_basis"),
                    _date(v.get("penalty_date")),
                    v.get("authority"),
                )
                for v in row.get("violations") or []
            ),
        )


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _money(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _issue(row: dict[str, Any]) -> PurchaserIssue:
    return PurchaserIssue(
        row["contract_no"],
        row["type"],
        _money(row.get("amount")),
        _date(row.get("due_date")),
        _date(row.get("resolved_date")),
    )


def _award(row: dict[str, Any]) -> Award:
    return Award(
        row["purchaser_code"],
        row["contract_no"],
        row["supplier_code"],
        row.get("supplier_name"),
        dt.date.fromisoformat(row["award_date"]),
        _money(row.get("amount")),
    )


async def _fill(dataset: Dataset, cap: int) -> tuple[MemoryCache, int, int, float]:
    """A cache of `cap` entries filled subject after subject: (cache, entries offered,
    their encoded bytes, seconds)."""
    backend = MemoryCache(max_entries=cap)
    clock = lambda: dt.datetime.combine(dataset.as_of, dt.time(12), SHANGHAI)  # noqa: E731
    codec = Codec()
    cache = RecordCache(
        backend,
        CacheKeys(secrets.token_bytes(32), version=codec.fingerprint),
        ttl_s=ttl_by_platform(PlatformsSettings()),
        clock=clock,
    )
    offered = encoded = 0
    seconds = 0.0
    for key, name in dataset.subjects:
        values = dataset.answers(key, name)
        offered += len(values)
        encoded += sum(len(codec.encode(value)) for value in values.values())
        started = time.perf_counter()
        await cache.store_records(values)
        seconds += time.perf_counter() - started
    return backend, offered, encoded, seconds


def _measure(dataset: Dataset, cap: int) -> None:
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    backend, offered, encoded, seconds = asyncio.run(_fill(dataset, cap))
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - baseline
    tracemalloc.stop()
    held = len(backend)
    evicted = backend.lru_evictions
    print(f"cap {cap:>9,} entries: {offered:,} offered, {held:,} held, {evicted:,} evicted")
    print(
        f"  memory used      {used / 2**20:8.1f} MiB  ({used / max(held, 1):,.0f} bytes per entry)"
    )
    per_entry = encoded / max(offered, 1)
    print(
        f"  encoded size     {held * per_entry / 2**20:8.1f} MiB  ({per_entry:,.0f} bytes per entry"
        " on average: what Redis holds, before encryption and its own overhead)"
    )
    print(f"  storing          {seconds:8.1f} s for {offered:,} puts (under tracemalloc)")
    del backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="a generated dataset (default: generate one)")
    parser.add_argument(
        "--cap", type=int, default=DEFAULT_MAX_ENTRIES, help="the cache's entry cap"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credgate-cache-") as folder:
        root = args.dataset
        if root is None:
            root = Path(folder) / "dataset"
            generate(root, GeneratorOptions())
        dataset = Dataset(root)
        print(f"dataset {root}: {len(dataset.subjects):,} subjects, as of {dataset.as_of}")
        _measure(dataset, args.cap)
        _measure(dataset, 10_000_000)  # no eviction: the whole dataset


if __name__ == "__main__":
    main()
