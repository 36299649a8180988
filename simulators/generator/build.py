"""One generation run: persons, then organisations, then the planted golden cases.

Each entity's rows go to every platform as it is generated (a person's archive,
credit and court rows; an organisation's registry, supplier, award, issue,
credit and court rows), so a file's rows are in entity order and nothing but
the current entity is held in memory. Each platform draws from its own
generator per entity (f"{seed}:person:{i}:credit"), so an entity's rows on one
platform can be regenerated without the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .archive import random_servant_rows
from .court import random_court
from .credit import random_records
from .golden import build_golden
from .organisations import random_org
from .people import random_person
from .places import home_district
from .procurement import random_awards, random_issues, random_supplier
from .world import GeneratorOptions, World, build_world
from .writer import (
    AWARDS,
    ENTRIES,
    GOLDEN,
    ISSUES,
    RECORDS,
    RESTRICTIONS,
    SUBJECTS,
    SUPPLIERS,
    DatasetWriter,
    archive_file,
)

__all__ = ["generate"]

_REPORT_EVERY = 100_000


def _persons(world: World, writer: DatasetWriter, progress: Callable[[str], None]) -> None:
    total = world.sizes.persons
    for index in range(total):
        person = random_person(world, index)
        writer.write(SUBJECTS, person.registry_row())
        servant = world.service.servant_of(index)
        if servant is not None:
            rng = world.rng("person", index, "archive")
            for table, row in random_servant_rows(world, rng, person, servant):
                writer.write(archive_file(table), row)
        profile = "servant" if servant is not None else "person"
        subject = person.subject
        rng = world.rng("person", index, "credit")
        for row in random_records(world, rng, subject, profile):
            writer.write(RECORDS, row)
        rng = world.rng("person", index, "court")
        home = home_district(person.id_number[:6])
        entries, orders = random_court(world, rng, subject, home, None, profile)
        for row in entries:
            writer.write(ENTRIES, row)
        for row in orders:
            writer.write(RESTRICTIONS, row)
        if (index + 1) % _REPORT_EVERY == 0:
            progress(f"persons {index + 1:,}/{total:,}")


def _organisations(world: World, writer: DatasetWriter, progress: Callable[[str], None]) -> None:
    total = world.sizes.orgs
    for index in range(total):
        org = random_org(world, index)
        writer.write(SUBJECTS, org.registry_row())
        profile = org.kind.lower()
        if org.unit is not None:
            for row in random_issues(world, world.rng("org", index, "issues"), org.unit):
                writer.write(ISSUES, row)
        elif org.kind == "SUPPLIER":
            rng = world.rng("org", index, "procurement")
            row, status, stopped = random_supplier(world, rng, org)
            writer.write(SUPPLIERS, row)
            for row in random_awards(world, rng, org, status, stopped):
                writer.write(AWARDS, row)
        subject = org.subject
        for row in random_records(world, world.rng("org", index, "credit"), subject, profile):
            writer.write(RECORDS, row)
        rep = org.representative.name if org.representative else None
        rng = world.rng("org", index, "court")
        entries, orders = random_court(world, rng, subject, org.district, rep, profile)
        for row in entries:
            writer.write(ENTRIES, row)
        for row in orders:
            writer.write(RESTRICTIONS, row)
        if (index + 1) % _REPORT_EVERY == 0:
            progress(f"organisations {index + 1:,}/{total:,}")


def generate(
    out: Path, options: GeneratorOptions, progress: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Write the dataset for `options` to `out`; returns the row counts of the manifest.

    `progress` receives a short line now and then (every 100,000 entities and
    at each phase). Existing dataset files in `out` are overwritten.
    """
    report = progress or (lambda _message: None)
    world = build_world(options)
    sizes = world.sizes
    report(
        f"generating {sizes.persons:,} persons ({sizes.civil_servants:,} civil servants"
        f" in {sizes.units:,} units) and {sizes.orgs:,} organisations"
        f" ({sizes.suppliers:,} suppliers), seed {options.seed}, as of {options.as_of}"
    )
    out.mkdir(parents=True, exist_ok=True)
    with DatasetWriter(out, options.as_of) as writer:
        _persons(world, writer, report)
        _organisations(world, writer, report)
        golden = build_golden(world)
        for name, row in golden.rows:
            writer.write(name, row)
        for case in golden.cases:
            writer.write(GOLDEN, case.row())
        report(f"planted {len(golden.cases):,} golden cases")
        writer.write_manifest(options.seed, options.as_of)
    return dict(writer.counts)
