"""Development signing keys and tokens, for `credgate token` and `credgate demo`.

A keys directory (by convention `data/dev-keys/`, git-ignored) holds

    signing-key.pem   the ES256 (P-256) private key, PKCS#8 PEM, mode 0600
    jwks.json         its public key as a JWK set; kid = RFC 7638 thumbprint

Both are created on first use and reused afterwards. Two processes starting at
once (the demo's gateway and a `credgate token`) end up with the same key: the
private key file appears only complete (a hard link to a finished temporary
file, which fails if the name is taken), and the loser reads the winner's key.
`jwks.json` is derived from the private key, so rewriting it is harmless.

This module knows nothing of production mode: the command line checks the mode
before calling `mint_token`, and a production gateway trusts only its configured
key set, never this one.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from jwt.algorithms import ECAlgorithm

from connectors.identifiers import normalise_credit_code, normalise_id_number

from .principal import Role

__all__ = [
    "DEFAULT_KEYS_DIR",
    "DEFAULT_TTL_S",
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "DevKeys",
    "ensure_dev_keys",
    "mint_token",
]

DEFAULT_KEYS_DIR = Path("data/dev-keys")
DEV_ISSUER = "credgate-dev"
DEV_AUDIENCE = "credgate"
DEFAULT_TTL_S = 8 * 3600  # a working day

_PRIVATE_KEY_FILE = "signing-key.pem"
_JWKS_FILE = "jwks.json"


@dataclass(frozen=True, slots=True)
class DevKeys:
    """The development key pair: where its files are, and the key id tokens name."""

    private_key_path: Path
    jwks_path: Path
    kid: str


def ensure_dev_keys(keys_dir: Path) -> DevKeys:
    """Create the key pair in `keys_dir` unless it is there; return where it is."""
    private_key = _load_or_create_private_key(keys_dir)
    public_jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    kid = _thumbprint(public_jwk)
    jwks = {"keys": [{**public_jwk, "kid": kid, "use": "sig", "alg": "ES256"}]}
    jwks_path = keys_dir / _JWKS_FILE
    _write_if_changed(jwks_path, (json.dumps(jwks, indent=2) + "\n").encode())
    return DevKeys(private_key_path=keys_dir / _PRIVATE_KEY_FILE, jwks_path=jwks_path, kid=kid)


def mint_token(
    keys_dir: Path,
    role: Role | str,
    sub: str,
    *,
    unit: str | None = None,
    id_number: str | None = None,
    name: str | None = None,
    ttl_s: int = DEFAULT_TTL_S,
    issuer: str = DEV_ISSUER,
    audience: str = DEV_AUDIENCE,
    now: float | None = None,
) -> str:
    """A development token for one role, signed with the key pair in `keys_dir`.

    Raises `ValueError` for an unknown role or an empty subject, and
    `connectors.identifiers.InvalidIdentifier` for a bad unit or ID number, so the
    token it returns is one the verifier accepts. `now` (POSIX seconds) is for tests.
    """
    try:
        granted = Role(role)
    except ValueError:
        known_roles = ", ".join(known.value for known in Role)
        raise ValueError(f"unknown role {role!r}; one of: {known_roles}") from None
    if not sub.strip():
        raise ValueError("the subject (sub) must not be empty")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    keys = ensure_dev_keys(keys_dir)
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "roles": [granted.value],
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
    }
    if name is not None:
        claims["name"] = name
    if unit is not None:
        claims["unit"] = normalise_credit_code(unit, "unit")
    if id_number is not None:
        claims["id_number"] = normalise_id_number(id_number, "id_number")
    private_key = load_pem_private_key(keys.private_key_path.read_bytes(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{keys.private_key_path} is not an EC private key")
    return jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": keys.kid})


def _load_or_create_private_key(keys_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = keys_dir / _PRIVATE_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fresh = ec.generate_private_key(ec.SECP256R1())
        pem = fresh.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _publish_once(path, pem)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} is not a P-256 private key; remove it to make a new one")
    return key


def _publish_once(path: Path, content: bytes) -> None:
    """Create `path` with `content` and mode 0600, unless another process did first."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        # A hard link never replaces: whoever links first wins, everyone reads that key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _write_if_changed(path: Path, content: bytes) -> None:
    """Replace `path` atomically (mode 0644: public keys) when its content differs."""
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == content:
            return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _thumbprint(public_jwk: dict[str, object]) -> str:
    """RFC 7638 JWK thumbprint of an EC public key: a stable key id."""
    required = {member: public_jwk[member] for member in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
