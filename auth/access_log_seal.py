"""What the database holder cannot forge: the chain key and the signed checkpoints.

Chain key. Entry hashes are HMAC-SHA256 under a key kept outside the database
(`[access_log] chain_key_file`): whoever can write the tables cannot make a
valid hash for an entry they edited, inserted or re-chained.

Checkpoints. Now and then (`checkpoint_interval_s`, and when the log closes)
the writer appends a line to a separate append-only store naming each of its
chains' head — chain id, seq, hash, time — signed with an Ed25519 private key
(`checkpoint_key_file`) that the database administrator does not hold.
`verify-log` needs only the public key: every chain a valid checkpoint names
must still reach that seq with that hash. So cutting a chain's tail (and
moving its head record back), restoring an older copy of the database, or
deleting a chain with its head is seen, back to the last checkpoint. A line
whose signature does not hold is itself reported.

    CheckpointFile(path).append(checkpoint)    # one line, O_APPEND, synced
    CheckpointFile(path).read()                # every line, in order
    Checkpoint.sign(key) / .signed_by(public)  # Ed25519 over the canonical text

Key files: the chain key is at least 32 bytes (hex or raw); the checkpoint key
a PEM Ed25519 private key, its public half a PEM public key. In development
each is made once in the development key folder, like the other keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

__all__ = [
    "CHAIN_KEY_MIN_BYTES",
    "BadCheckpoint",
    "Checkpoint",
    "CheckpointFile",
    "development_chain_key",
    "development_checkpoint_key",
    "load_chain_key",
    "load_private_key",
    "load_public_key",
    "public_pem",
]

CHAIN_KEY_MIN_BYTES = 32


@dataclass(frozen=True)
class Checkpoint:
    """A chain's head as the writer committed it, signed (base64) or not yet."""

    chain_id: str
    seq: int
    hash: str
    at: str
    signature: str = ""

    def _message(self) -> bytes:
        return f"credgate-checkpoint\n{self.chain_id}\n{self.seq}\n{self.hash}\n{self.at}".encode()

    def sign(self, key: Ed25519PrivateKey) -> Checkpoint:
        return replace(self, signature=base64.b64encode(key.sign(self._message())).decode())

    def signed_by(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self._message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def line(self) -> str:
        fields = {
            "chain_id": self.chain_id,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "signature": self.signature,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class BadCheckpoint:
    """A line of the checkpoint store that is not a checkpoint at all."""

    number: int
    reason: str


class CheckpointFile:
    """An append-only file of checkpoints, one JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoints: list[Checkpoint]) -> None:
        """Append and sync (blocking: run it in a thread)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, "".join(c.line() for c in checkpoints).encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def read(self) -> Iterator[Checkpoint | BadCheckpoint]:
        """Every line in order; an absent file has none."""
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                try:
                    fields = json.loads(text)
                    yield Checkpoint(
                        chain_id=str(fields["chain_id"]),
                        seq=int(fields["seq"]),
                        hash=str(fields["hash"]),
                        at=str(fields["at"]),
                        signature=str(fields["signature"]),
                    )
                except (ValueError, KeyError, TypeError) as error:
                    yield BadCheckpoint(number, f"not a checkpoint ({type(error).__name__})")


def load_chain_key(path: Path) -> bytes:
    """The chain key in `path`; ValueError when missing or short."""
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    key = path.read_bytes().strip()
    if len(key) < CHAIN_KEY_MIN_BYTES:
        raise ValueError(f"a chain key is at least {CHAIN_KEY_MIN_BYTES} bytes")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def development_chain_key(folder: Path) -> Path:
    """The development chain key file, made once."""
    return _made_once(folder / "access-log-chain.key", lambda: secrets.token_hex(32).encode())


def development_checkpoint_key(folder: Path) -> tuple[Path, Path]:
    """The development checkpoint key pair (private, public), made once."""
    private = _made_once(
        folder / "access-log-checkpoint.pem",
        lambda: Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        ),
    )
    public = folder / "access-log-checkpoint.pub.pem"
    if not public.exists():
        public.write_bytes(public_pem(load_private_key(private)))
    return private, public


def _made_once(path: Path, make: Callable[[], bytes]) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path  # another process made it first: use theirs
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
    return path
