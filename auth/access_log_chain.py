"""The access log's hash chains: how an entry is hashed, and how a log is verified.

Every writer process keeps its own chain (`chain_id`, random per `AccessLog`),
numbered 1, 2, 3, ... without gaps. An entry's `hash` is HMAC-SHA256, under
the chain key kept outside the database (`access_log_seal`), of the canonical
serialisation of everything stored for it — its fields, its report rows,
`chain_id`, `seq` and `prev_hash` (the previous entry's hash, or `GENESIS` for
seq 1) — as sorted-key compact JSON in UTF-8.

Each chain also has a head record (last seq and hash) updated in the same
commit as its entries, and signed checkpoints outside the database. What
verification sees:

- an edited field or report row, or an inserted entry: its hash does not
  match (EDITED) — and without the key no hash can be recomputed to match;
- a deleted entry in the middle or at the start: a seq gap (MISSING);
- deleted entries at the end of a chain: the head record names a later seq
  (MISSING); with the head record moved back too, or an older copy of the
  database restored, the last checkpoint names a later seq (MISSING);
- a chain deleted with its head record: its checkpoint names it (MISSING);
- two entries swapped (or one moved): the entry's hash is valid only for
  another seq (REORDERED, naming the seq it was written as);
- an entry whose hash is the unkeyed SHA-256 of earlier releases: refused
  as EDITED, saying so (see docs/decisions.md, "Security hardening").
What is NOT seen: anything after the last checkpoint that is cut together
with the head record; checkpoints bound that window.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .access_log_entry import Entry, ReportRow
from .access_log_seal import Checkpoint

__all__ = [
    "GENESIS",
    "BreakKind",
    "BrokenLink",
    "ChainHead",
    "ChainedEntry",
    "UnreadableEntry",
    "VerifyReport",
    "chain_entries",
    "entry_hash",
    "verify_chains",
]

GENESIS = "0" * 64
"""The `prev_hash` of every chain's first entry."""


@dataclass(frozen=True)
class ChainedEntry:
    """An entry with its place in a chain, as stored."""

    chain_id: str
    seq: int
    prev_hash: str
    hash: str
    entry: Entry


@dataclass(frozen=True)
class UnreadableEntry:
    """A stored row whose fields cannot even be decoded (so: tampered with)."""

    chain_id: str
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainHead:
    """A chain's head record: its last committed seq and that entry's hash."""

    chain_id: str
    seq: int
    hash: str


class BreakKind(enum.StrEnum):
    EDITED = "edited"
    MISSING = "missing"
    REORDERED = "reordered"
    FORGED = "forged checkpoint"


@dataclass(frozen=True)
class BrokenLink:
    """The first place where a chain does not hold."""

    chain_id: str
    seq: int
    kind: BreakKind
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of walking every chain, stopping at the first broken link.

    `entries` counts the entries checked (all of them when the log is intact);
    `heads` lists each intact chain's head, to be kept elsewhere as an anchor.
    """

    chains: int
    entries: int
    broken: BrokenLink | None
    heads: tuple[ChainHead, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None

    def summary(self) -> str:
        """One line for a person: intact, or where the first broken link is."""
        if self.broken is None:
            chains = f"{self.chains} chain{'s' if self.chains != 1 else ''}"
            entries = f"{self.entries} entr{'ies' if self.entries != 1 else 'y'}"
            return f"access log intact: {chains}, {entries} verified"
        link = self.broken
        return f"access log BROKEN: chain {link.chain_id} seq {link.seq} {link.kind}: {link.detail}"


def _report_payload(report: ReportRow) -> dict[str, object]:
    return {
        "report_id": report.report_id,
        "actor": report.actor,
        "subject": report.subject,
        "purpose": report.purpose,
        "as_of": report.as_of.isoformat(),
        "verdict": report.verdict,
        "credit_record_ids": list(report.credit_record_ids),
    }


def entry_hash(key: bytes, chain_id: str, seq: int, prev_hash: str, entry: Entry) -> str:
    """HMAC-SHA256 (hex) under `key` of the canonical serialisation of an entry."""
    return hmac.new(key, _canonical(chain_id, seq, prev_hash, entry), hashlib.sha256).hexdigest()


def _unkeyed_hash(chain_id: str, seq: int, prev_hash: str, entry: Entry) -> str:
    """The plain SHA-256 earlier releases stored, recognised only to name it."""
    return hashlib.sha256(_canonical(chain_id, seq, prev_hash, entry)).hexdigest()


def _canonical(chain_id: str, seq: int, prev_hash: str, entry: Entry) -> bytes:
    payload = {
        "chain_id": chain_id,
        "seq": seq,
        "prev_hash": prev_hash,
        "time": entry.time.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "role": entry.role,
        "unit": entry.unit,
        "purpose": entry.purpose,
        "subjects": list(entry.subjects),
        "fields": list(entry.fields),
        "verdicts": list(entry.verdicts),
        "policy_version": entry.policy_version,
        "rule_set_version": entry.rule_set_version,
        "request_id": entry.request_id,
        "outcome": entry.outcome,
        # Sorted, so the hash does not depend on the order rows are read back in.
        "reports": [
            _report_payload(report)
            for report in sorted(entry.reports, key=lambda report: report.report_id)
        ],
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode("utf-8")


def chain_entries(
    key: bytes, chain_id: str, first_seq: int, prev_hash: str, entries: Sequence[Entry]
) -> list[ChainedEntry]:
    """`entries` linked onto a chain whose next seq is `first_seq`."""
    chained: list[ChainedEntry] = []
    for seq, entry in enumerate(entries, start=first_seq):
        digest = entry_hash(key, chain_id, seq, prev_hash, entry)
        chained.append(ChainedEntry(chain_id, seq, prev_hash, digest, entry))
        prev_hash = digest
    return chained


def verify_chains(
    rows: Iterable[ChainedEntry | UnreadableEntry],
    heads: Mapping[str, ChainHead],
    key: bytes,
    checkpoints: Mapping[str, Checkpoint],
) -> VerifyReport:
    """Walk `rows` (ordered by chain_id, seq) against the head records and the
    last signed checkpoint of each chain.

    Chains are checked in chain_id order, including chains that have a head
    record or a checkpoint but no entries left; the walk stops at the first
    broken link.
    """
    by_chain: Iterator[tuple[str, Iterator[ChainedEntry | UnreadableEntry]]] = itertools.groupby(
        rows, key=lambda row: row.chain_id
    )
    # Chains with a head or a checkpoint but no rows are reported in their chain_id turn too.
    known_ids = iter(sorted({*heads, *checkpoints}))
    next_known = next(known_ids, None)
    chains = entries = 0
    intact: list[ChainHead] = []

    def check(
        chain_id: str, chain_rows: Iterable[ChainedEntry | UnreadableEntry]
    ) -> BrokenLink | None:
        nonlocal chains, entries
        chains += 1
        checked, broken = _Chain(
            chain_id, key, heads.get(chain_id), checkpoints.get(chain_id)
        ).check(chain_rows)
        entries += checked
        if broken is None and chain_id in heads:
            intact.append(heads[chain_id])
        return broken

    for chain_id, chain_rows in by_chain:
        while next_known is not None and next_known <= chain_id:
            if next_known < chain_id and (broken := check(next_known, ())):
                return VerifyReport(chains, entries, broken)
            next_known = next(known_ids, None)
        if broken := check(chain_id, chain_rows):
            return VerifyReport(chains, entries, broken)
    while next_known is not None:
        if broken := check(next_known, ()):
            return VerifyReport(chains, entries, broken)
        next_known = next(known_ids, None)
    return VerifyReport(chains, entries, None, tuple(intact))


class _Chain:
    """One chain's walk: its rows against its head record and its last checkpoint."""

    def __init__(
        self, chain_id: str, key: bytes, head: ChainHead | None, checkpoint: Checkpoint | None
    ) -> None:
        self.chain_id = chain_id
        self.key = key
        self.head = head
        self.checkpoint = checkpoint
        self.checked = 0

    def broken(self, seq: int, kind: BreakKind, detail: str) -> tuple[int, BrokenLink]:
        return self.checked, BrokenLink(self.chain_id, seq, kind, detail)

    def check(
        self, rows: Iterable[ChainedEntry | UnreadableEntry]
    ) -> tuple[int, BrokenLink | None]:
        """(entries checked, the first broken link or None)."""
        expected_seq, expected_prev = 1, GENESIS
        checkpoint = self.checkpoint
        for row in rows:
            # The primary key (chain_id, seq) and the ORDER BY make seq strictly
            # increasing: a larger seq than expected is a gap, a smaller one can
            # only be a row numbered outside the chain (0 or negative).
            if row.seq > expected_seq:
                return self.broken(expected_seq, BreakKind.MISSING, _gap(expected_seq, row.seq - 1))
            if isinstance(row, UnreadableEntry):
                detail = f"its stored fields cannot be read ({row.reason})"
                return self.broken(row.seq, BreakKind.EDITED, detail)
            if row.seq < expected_seq:
                detail = f"seq {row.seq} is outside the chain's numbering"
                return self.broken(row.seq, BreakKind.EDITED, detail)
            if entry_hash(self.key, self.chain_id, row.seq, row.prev_hash, row.entry) != row.hash:
                return self.broken(row.seq, *self._mismatch(row))
            if row.prev_hash != expected_prev:
                detail = (
                    "its prev_hash is not the chain's start"
                    if row.seq == 1
                    else f"its prev_hash does not match the hash of seq {row.seq - 1}"
                )
                return self.broken(row.seq, BreakKind.EDITED, detail)
            if checkpoint is not None and row.seq == checkpoint.seq and row.hash != checkpoint.hash:
                detail = "its hash is not the one its signed checkpoint names"
                return self.broken(row.seq, BreakKind.EDITED, detail)
            self.checked += 1
            expected_seq, expected_prev = row.seq + 1, row.hash
        last = expected_seq - 1
        if checkpoint is not None and checkpoint.seq > last:
            if last == 0 and self.head is None:
                detail = (
                    f"the chain, checkpointed at seq {checkpoint.seq} on {checkpoint.at}, "
                    "is gone with its head record"
                )
            else:
                detail = (
                    f"{_gap(last + 1, checkpoint.seq)}: the chain ends before its "
                    f"checkpoint of {checkpoint.at}"
                )
            return self.checked, BrokenLink(self.chain_id, last + 1, BreakKind.MISSING, detail)
        return self.checked, _check_head(self.chain_id, last, expected_prev, self.head)

    def _mismatch(self, row: ChainedEntry) -> tuple[BreakKind, str]:
        if _unkeyed_hash(self.chain_id, row.seq, row.prev_hash, row.entry) == row.hash:
            return BreakKind.EDITED, (
                "its hash has no chain key (written before keyed chains, or recomputed "
                "without the key): verify such a log with the release that wrote it"
            )
        last_seq = max(self.head.seq if self.head else 0, row.seq)
        written_as = _written_as(self.key, row, last_seq)
        if written_as is not None:
            detail = f"the entry stored at seq {row.seq} was written as seq {written_as}"
            return BreakKind.REORDERED, detail
        return BreakKind.EDITED, "its content does not match its hash"


def _check_head(
    chain_id: str, last_seq: int, last_hash: str, head: ChainHead | None
) -> BrokenLink | None:
    if head is None:
        detail = "the chain's head record is missing"
        return BrokenLink(chain_id, last_seq, BreakKind.MISSING, detail)
    if head.seq > last_seq:
        return BrokenLink(chain_id, last_seq + 1, BreakKind.MISSING, _gap(last_seq + 1, head.seq))
    if head.seq < last_seq:
        detail = f"the chain's head record ends at seq {head.seq}, before its last entry"
        return BrokenLink(chain_id, head.seq + 1, BreakKind.EDITED, detail)
    if head.hash != last_hash:
        detail = "its hash does not match the chain's head record"
        return BrokenLink(chain_id, last_seq, BreakKind.EDITED, detail)
    return None


def _gap(first: int, last: int) -> str:
    if first == last:
        return f"entry seq {first} is absent"
    return f"entries seq {first}..{last} are absent"


def _written_as(key: bytes, row: ChainedEntry, last_seq: int) -> int | None:
    """The seq under which the row's content hashes to its stored hash, if any.

    Searched outwards from the row's own place, since moved rows usually sit
    near where they were written; this runs once per verify, at the first break.
    """
    for distance in range(1, last_seq):
        for seq in (row.seq - distance, row.seq + distance):
            if (
                1 <= seq <= last_seq
                and entry_hash(key, row.chain_id, seq, row.prev_hash, row.entry) == row.hash
            ):
                return seq
    return None
