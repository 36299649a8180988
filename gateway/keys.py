"""Key material the gateway reads at start: the pseudonym key.

In production the key comes from `[auth] pseudonym_key_file` (every replica the
same file). In development a random key is made once in the development key
folder (git-ignored), so pseudonyms stay stable across restarts of a checkout.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from auth.masks import PSEUDONYM_KEY_MIN_BYTES

from .settings import ConfigError, Settings

__all__ = ["pseudonym_key"]

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
