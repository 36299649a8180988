"""Key material the gateway reads at start: the pseudonym key, the access log's seal.

In production the key comes from `[auth] pseudonym_key_file` (every replica the
same file). In development a random key is made once in the development key
folder (git-ignored), so pseudonyms stay stable across restarts of a checkout.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auth.access_log import Seal
from auth.access_log_seal import (
    CheckpointFile,
    development_chain_key,
    development_checkpoint_key,
    load_chain_key,
    load_private_key,
    load_public_key,
)
from auth.masks import PSEUDONYM_KEY_MIN_BYTES

from .settings import ConfigError, Settings

__all__ = ["log_seal", "log_verification", "pseudonym_key"]

_DEV_KEY_NAME = "pseudonym.key"


def pseudonym_key(settings: Settings) -> bytes:
    """The keyed-HMAC key for pseudonyms and cache keys; ConfigError when unusable."""
    if settings.auth.pseudonym_key_file:
        path = Path(settings.auth.pseudonym_key_file)
        if not path.is_file():
            raise ConfigError(f"auth.pseudonym_key_file: {path} does not exist")
        key = path.read_bytes().strip()
    else:
        key = _development_key(Path(settings.auth.dev_keys_dir))
    if len(key) < PSEUDONYM_KEY_MIN_BYTES:
        raise ConfigError(
            f"auth.pseudonym_key_file: a pseudonym key is at least {PSEUDONYM_KEY_MIN_BYTES} bytes"
        )
    return key


def _development_key(folder: Path) -> bytes:
    path = folder / _DEV_KEY_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def log_seal(settings: Settings) -> Seal:
    """The writer's chain key and signed checkpoints; ConfigError when unusable."""
    log, dev = settings.access_log, Path(settings.auth.dev_keys_dir)
    private = (
        Path(log.checkpoint_key_file)
        if log.checkpoint_key_file
        else development_checkpoint_key(dev)[0]
    )
    try:
        signing_key = load_private_key(private)
    except (OSError, ValueError) as error:
        raise ConfigError(f"access_log.checkpoint_key_file: {error}") from None
    return Seal(
        chain_key=_chain_key(settings),
        checkpoints=_checkpoints(settings),
        signing_key=signing_key,
        interval_s=log.checkpoint_interval_s,
    )


def log_verification(settings: Settings) -> tuple[bytes, CheckpointFile, Ed25519PublicKey]:
    """What verify-log needs: the chain key, the checkpoints and their public key."""
    log, dev = settings.access_log, Path(settings.auth.dev_keys_dir)
    if log.checkpoint_public_key_file:
        public = Path(log.checkpoint_public_key_file)
    elif log.checkpoint_key_file:
        raise ConfigError("access_log.checkpoint_public_key_file is needed to verify the log")
    else:
        public = development_checkpoint_key(dev)[1]
    try:
        public_key = load_public_key(public)
    except (OSError, ValueError) as error:
        raise ConfigError(f"access_log.checkpoint_public_key_file: {error}") from None
    return _chain_key(settings), _checkpoints(settings), public_key


def _chain_key(settings: Settings) -> bytes:
    log = settings.access_log
    path = (
        Path(log.chain_key_file)
        if log.chain_key_file
        else development_chain_key(Path(settings.auth.dev_keys_dir))
    )
    try:
        return load_chain_key(path)
    except ValueError as error:
        raise ConfigError(f"access_log.chain_key_file: {error}") from None


def _checkpoints(settings: Settings) -> CheckpointFile:
    log = settings.access_log
    if log.checkpoint_file:
        return CheckpointFile(Path(log.checkpoint_file))
    if log.dsn.startswith("sqlite:///"):
        return CheckpointFile(Path(log.dsn.removeprefix("sqlite:///") + ".checkpoints"))
    return CheckpointFile(Path(settings.auth.dev_keys_dir) / "access-checkpoints.jsonl")
