"""Encryption of cache entries that leave the process: AES-256-GCM, keys from files.

Entries in Redis hold personal data, so they are sealed before they are sent:

    0x01 | key id (8 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag

- A key file (`[cache] encryption_key_file`) holds at least 32 bytes of secret,
  for example 64 hex characters; the AES key is derived from it with
  HKDF-SHA256 under a label of its own, so the file's format does not matter
  and no other use of the same secret yields the same key.
- Rotation: entries are sealed with the current key; `previous_key_files` are
  kept only to open entries sealed before the rotation. The key id (derived
  from the key, not secret) says which key sealed an entry.
- The cache key is the associated data: an entry copied under another key
  does not open.
- `open` never raises: an unknown key id (a key rotated out, another
  deployment's key), a wrong key or a tampered entry all give None, which the
  cache reads as a miss — never as garbage, never as an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["KEY_MIN_BYTES", "EncryptionKeys", "read_key_file"]

KEY_MIN_BYTES = 32
_VERSION = b"\x01"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_HEADER_BYTES = 1 + _KEY_ID_BYTES + _NONCE_BYTES


def read_key_file(path: Path) -> bytes:
    """A key file's secret; `ValueError` naming the file (never its content)."""
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the key file ({exc.strerror})") from None
    if len(secret) < KEY_MIN_BYTES:
        raise ValueError(f"{path}: a cache encryption key is at least {KEY_MIN_BYTES} bytes")
    return secret


def _derive(secret: bytes, label: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(secret)


class _Key:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < KEY_MIN_BYTES:
            raise ValueError(f"a cache encryption key is at least {KEY_MIN_BYTES} bytes")
        self.aead = AESGCM(_derive(secret, b"credgate cache entries v1", 32))
        self.key_id = _derive(secret, b"credgate cache key id v1", _KEY_ID_BYTES)


class EncryptionKeys:
    """The current key (seals and opens) and previous ones (open only)."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self._current = _Key(current)
        self._by_id = {key.key_id: key for key in (*(_Key(s) for s in previous), self._current)}

    @classmethod
    def from_files(cls, current: Path, previous: Sequence[Path] = ()) -> EncryptionKeys:
        return cls(read_key_file(current), [read_key_file(path) for path in previous])

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext, associated)
        return _VERSION + self._current.key_id + nonce + sealed

    def open(self, sealed: bytes, associated: bytes) -> bytes | None:
        """The plaintext, or None when this keyring cannot open it."""
        if len(sealed) <= _HEADER_BYTES or sealed[:1] != _VERSION:
            return None
        key = self._by_id.get(sealed[1 : 1 + _KEY_ID_BYTES])
        if key is None:
            return None
        nonce = sealed[1 + _KEY_ID_BYTES : _HEADER_BYTES]
        try:
            return key.aead.decrypt(nonce, sealed[_HEADER_BYTES:], associated)
        except InvalidTag:
            return None
