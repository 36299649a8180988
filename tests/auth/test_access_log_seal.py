"""What the database holder cannot do unseen: cut a chain's tail, restore an older copy,
delete a chain with its head, re-chain with recomputed hashes, or forge a checkpoint.

Each log is written by the real writer with a chain key and signed checkpoints
(after every commit here: `interval_s = 0`); each tamperer works with plain SQL
and everything the database holds, but neither key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from auth.access_log import BreakKind, Seal, VerifyReport, open_access_log, verify
from auth.access_log_chain import entry_hash
from auth.access_log_seal import Checkpoint, CheckpointFile
from tests.conftest import POSTGRES_ADMIN_DSN

from .test_access_log import KEY, Database, make_entry, make_report

SIGNING = Ed25519PrivateKey.generate()


@dataclasses.dataclass
class Sealed:
    dsn: str
    checkpoints: CheckpointFile
    chain_id: str = ""

    def seal(self, interval_s: float = 0.0) -> Seal:
        return Seal(KEY, self.checkpoints, SIGNING, interval_s)

    def verify(self, dsn: str | None = None) -> VerifyReport:
        return verify(dsn or self.dsn, KEY, self.checkpoints, SIGNING.public_key())


@pytest.fixture
async def sealed(dsn: str, tmp_path: Path) -> Sealed:
    """Six entries on one chain (seq 2 with a report), a checkpoint after each, guards dropped."""
    log = Sealed(dsn, CheckpointFile(tmp_path / "checkpoints.jsonl"))
    async with await open_access_log(dsn, log.seal()) as writer:
        for n in range(1, 7):
            await writer.append(make_entry(n, reports=(make_report(n),) if n == 2 else ()))
    log.chain_id = writer.chain_id
    assert log.verify().ok
    Database(dsn).drop_guards()
    return log


def assert_broken(report: VerifyReport, chain_id: str, seq: int, kind: BreakKind, detail: str):
    assert report.broken is not None, report.summary()
    assert (report.broken.chain_id, report.broken.seq, report.broken.kind) == (chain_id, seq, kind)
    assert detail in report.broken.detail


def head_back_to(db: Database, seq: int) -> None:
    """Cut the chain after `seq` and point its head record there: one UPDATE, no key."""
    [(digest,)] = db.rows("SELECT hash FROM access_log WHERE seq = ?", seq)
    db.execute("DELETE FROM access_log WHERE seq > ?", params=(seq,))
    db.execute("UPDATE access_log_chains SET head_seq = ?, head_hash = ?", params=(seq, digest))


async def test_checkpoints_are_written_and_signed(sealed: Sealed) -> None:
    lines = list(sealed.checkpoints.read())
    assert [line.seq for line in lines if isinstance(line, Checkpoint)] == [1, 2, 3, 4, 5, 6]
    assert all(
        isinstance(line, Checkpoint) and line.signed_by(SIGNING.public_key()) for line in lines
    )
    assert {line.chain_id for line in lines if isinstance(line, Checkpoint)} == {sealed.chain_id}


async def test_without_checkpoints_a_cut_tail_with_its_head_passes(sealed: Sealed) -> None:
    """What the checkpoints are for: the database alone cannot show this."""
    head_back_to(Database(sealed.dsn), 4)
    assert verify(sealed.dsn, KEY).ok


async def test_a_cut_tail_with_its_head_moved_back_is_seen(sealed: Sealed) -> None:
    head_back_to(Database(sealed.dsn), 4)
    assert_broken(sealed.verify(), sealed.chain_id, 5, BreakKind.MISSING, "entries seq 5..6")


async def test_a_chain_deleted_with_its_head_is_seen(sealed: Sealed) -> None:
    db = Database(sealed.dsn)
    for table in ("access_log_reports", "access_log", "access_log_chains"):
        db.execute(f"DELETE FROM {table}")  # noqa: S608
    assert_broken(
        sealed.verify(), sealed.chain_id, 1, BreakKind.MISSING, "is gone with its head record"
    )


async def test_a_chain_recomputed_from_an_edit_is_seen(sealed: Sealed) -> None:
    """Edit seq 3 and re-chain 3..6 and the head, as a tamperer without the key can."""
    db = Database(sealed.dsn)
    rows = db.rows("SELECT seq, prev_hash FROM access_log WHERE seq >= 3 ORDER BY seq")
    prev = rows[0][1]
    for seq, _ in rows:
        entry = make_entry(seq)
        if seq == 3:
            entry = dataclasses.replace(entry, actor="mallory")
        digest = entry_hash(b"a key that is not the chain key", sealed.chain_id, seq, prev, entry)
        db.execute(
            "UPDATE access_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            params=(entry.actor, prev, digest, seq),
        )
        prev = digest
    db.execute("UPDATE access_log_chains SET head_hash = ?", params=(prev,))
    assert_broken(sealed.verify(), sealed.chain_id, 3, BreakKind.EDITED, "does not match its hash")


async def test_an_unkeyed_log_is_refused_clearly(sealed: Sealed) -> None:
    """Hashes of earlier releases (plain SHA-256, or recomputed without the key)."""
    db = Database(sealed.dsn)
    [(prev,)] = db.rows("SELECT prev_hash FROM access_log WHERE seq = 1")
    canonical = {
        "chain_id": sealed.chain_id, "seq": 1, "prev_hash": prev,
        "time": make_entry(1).time.isoformat(timespec="microseconds"), "actor": "alice",
        "role": "hr_officer", "unit": "UNIT-A", "purpose": "CADRE_SELECTION",
        "subjects": ["person:1"], "fields": ["person.name", "person.idNumber"],
        "verdicts": ["CLEAR"], "policy_version": "policy-1", "rule_set_version": "rules-1",
        "request_id": "req-1", "outcome": "OK", "reports": [],
    }  # fmt: skip
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    db.execute(
        "UPDATE access_log SET hash = ? WHERE seq = 1",
        params=(hashlib.sha256(text.encode()).hexdigest(),),
    )
    assert_broken(sealed.verify(), sealed.chain_id, 1, BreakKind.EDITED, "has no chain key")


@pytest.mark.parametrize("forger", ["another key", "not a line"])
async def test_a_forged_checkpoint_is_seen(sealed: Sealed, forger: str) -> None:
    """A tamperer who can write the store too still cannot sign: moving the
    checkpoint back with the tail does not pass."""
    head_back_to(Database(sealed.dsn), 4)
    [(digest,)] = Database(sealed.dsn).rows("SELECT hash FROM access_log WHERE seq = 4")
    if forger == "another key":
        forged = Checkpoint(sealed.chain_id, 4, digest, "2099-01-01T00:00:00+00:00")
        sealed.checkpoints.append([forged.sign(Ed25519PrivateKey.generate())])
        report = sealed.verify()
        assert_broken(report, sealed.chain_id, 4, BreakKind.FORGED, "not signed by")
    else:
        with sealed.checkpoints.path.open("a", encoding="utf-8") as store:
            store.write('{"chain_id": "x"\n')
        assert_broken(sealed.verify(), "-", 0, BreakKind.FORGED, "line 7")


@contextlib.contextmanager
def copy_of(dsn: str, tmp_path: Path) -> Iterator[str]:
    """A copy of the log's database as it is now (a backup to restore later)."""
    if dsn.startswith("sqlite:///"):
        target = tmp_path / "backup.db"
        with (
            sqlite3.connect(dsn.removeprefix("sqlite:///")) as source,
            sqlite3.connect(target) as copy,
        ):
            source.backup(copy)
        yield f"sqlite:///{target}"
        return
    name = dsn.rsplit("/", 1)[1]
    copy_name = f"{name}_backup"
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy_name), sql.Identifier(name)
            )
        )
        try:
            yield dsn.rsplit("/", 1)[0] + f"/{copy_name}"
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy_name))
            )


async def test_an_older_copy_restored_is_seen(dsn: str, tmp_path: Path) -> None:
    log = Sealed(dsn, CheckpointFile(tmp_path / "checkpoints.jsonl"))
    async with await open_access_log(dsn, log.seal()) as writer:
        for n in range(1, 5):
            await writer.append(make_entry(n))
    with copy_of(dsn, tmp_path) as backup:
        async with await open_access_log(dsn, log.seal()) as later:
            await later.append(make_entry(5))
        assert log.verify().ok
        assert log.verify(backup).ok is False
        # The backup lacks the later writer's whole chain, and seq 5 of none other.
        assert_broken(
            log.verify(backup), later.chain_id, 1, BreakKind.MISSING, "gone with its head"
        )


async def test_checkpoints_follow_the_interval_and_the_close(dsn: str, tmp_path: Path) -> None:
    log = Sealed(dsn, CheckpointFile(tmp_path / "checkpoints.jsonl"))
    async with await open_access_log(dsn, log.seal(interval_s=3600)) as writer:
        for n in range(1, 6):
            await writer.append(make_entry(n))
    lines = [line for line in log.checkpoints.read() if isinstance(line, Checkpoint)]
    assert [line.seq for line in lines] == [1, 5]  # the first commit, then the close
    assert log.verify().ok


GRANTS = Path(__file__).resolve().parents[2] / "docker" / "access_log_grants.sql"


async def test_the_gateway_role_may_append_but_not_rewrite(
    postgres_dsn: str, tmp_path: Path
) -> None:
    role = f"gateway_{postgres_dsn.rsplit('_', 1)[1]}"
    async with await open_access_log(
        postgres_dsn, Sealed(postgres_dsn, CheckpointFile(tmp_path / "c")).seal()
    ):
        pass  # the tables exist, owned by the administrator
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:
            script = GRANTS.read_text(encoding="utf-8").replace(
                ':"gateway_role"', sql.Identifier(role).as_string(admin)
            )
            lines = [line for line in script.splitlines() if not line.startswith("--")]
            for statement in "\n".join(lines).split(";"):
                if statement.strip():
                    admin.execute(statement)  # psql would run the file as it is
            as_gateway = postgres_dsn.replace("postgres@", f"{role}@")
            log = Sealed(as_gateway, CheckpointFile(tmp_path / "checkpoints.jsonl"))
            async with await open_access_log(as_gateway, log.seal()) as writer:
                for n in range(1, 4):
                    await writer.append(make_entry(n, reports=(make_report(n),)))
            for statement in (
                "UPDATE access_log SET actor = 'mallory'",
                "DELETE FROM access_log",
                "DELETE FROM access_log_reports",
                "DELETE FROM access_log_chains",
                "TRUNCATE access_log",
                "DROP TRIGGER access_log_append_only ON access_log",
            ):
                with pytest.raises(psycopg.Error, match=r"permission denied|must be owner"):
                    Database(as_gateway).execute(statement)
            assert log.verify().ok
        finally:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
