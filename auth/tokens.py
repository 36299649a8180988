"""Bearer-token verification: a signed JWT in, a `Principal` out.

Errors: every failure is one exception, `Unauthenticated(reason)`. The reason is
safe to return to the caller: it never echoes the token or a claim's value.

Keys come from a JWK set, read from a URL (`JwksUrl`) or a file (`JwksFile`) and
parsed by PyJWT's `PyJWK`; only RS256 and ES256 public signing keys with a `kid`
are kept. A token is verified with the key its header names, so several keys
may be published at once (rotation). The set is re-read when it is older than
`cache_s`, and when a token names a `kid` the set lacks — at most once per
`refetch_interval_s`, so tokens with made-up key ids cannot make us hammer the
key server. A URL is fetched with httpx rather than `PyJWKClient`, whose urllib
fetch would block the event loop. When a re-read fails, the keys already held
stay in use (an unreachable key server does not lock everyone out); with no keys
at all, verification fails.

Checks, in order: size and shape; the header's `alg` (RS256/ES256 only: never
"none", never HS*) and `kid`; the signature (PyJWT); `iss`, `aud` and presence of
`exp`, `sub`, `roles` (PyJWT); `exp` and `nbf` against our clock with `leeway_s`
of skew (done here, since PyJWT reads the system clock and tests need another);
then the claims that become the `Principal`: unknown role names are ignored, but
at least one known role is required; `unit` and `id_number` must be valid
identifiers.

Lifetime: a token may live at most `max_lifetime_s` (`[auth]
max_token_lifetime_s`, 12 h by default): `exp - iat` when it has an `iat`,
and in every case `exp - now` (within `leeway_s`), so neither a far `exp`
nor a future `iat` makes a token that never ends.

Duplicate names: JSON lets a name appear twice and parsers disagree on which
one wins (PyJWT keeps the last). A token whose header or claims name anything
twice (`roles` above all) is refused, whichever copy would have won.

A verified token is remembered (at most `VERIFIED_TOKENS`, the oldest forgotten
first), so a caller's next request skips the signature check — that check is
most of the cost of a cached answer. A remembered token is still refused once
it expires (its `exp`/`nbf` are checked on every use) and as soon as its key
leaves the set or the set is due for a re-read (`cache_s`): then it is checked
in full again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt

from connectors.identifiers import InvalidIdentifier, normalise_credit_code, normalise_id_number

from .principal import Principal, Role

__all__ = [
    "ALGORITHMS",
    "JwksFile",
    "JwksUnavailable",
    "JwksUrl",
    "KeySource",
    "TokenVerifier",
    "Unauthenticated",
    "bearer_token",
    "parse_jwks",
    "principal_from_claims",
]

ALGORITHMS = ("RS256", "ES256")
MAX_TOKEN_CHARS = 8_192
VERIFIED_TOKENS = 10_000  # tokens remembered as verified, oldest forgotten first
MAX_LIFETIME_S = 12 * 3600.0
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "roles"]
_ROLE_NAMES = frozenset(role.value for role in Role)

_log = logging.getLogger(__name__)


class Unauthenticated(Exception):
    """The caller is not authenticated; `reason` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(Exception):
    """A JWK set could not be read or held no usable key (logged, never shown)."""


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value."""
    if not authorization:
        raise Unauthenticated("a bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


# ---------------------------------------------------------------- key sources


class KeySource(Protocol):
    """Where a JWK set is read from."""

    async def read(self) -> bytes:
        """The JWK set document; raises `JwksUnavailable`."""
        ...


class JwksUrl:
    """A JWK set served over HTTP(S); redirects are not followed."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            parsed = httpx.URL()
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("auth.jwks_url must be an http or https URL")
        self._url = url
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"JwksUrl({self._url!r})"

    async def read(self) -> bytes:
        """Fetch the document; any transport error or non-2xx answer is `JwksUnavailable`."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.get(self._url, headers={"Accept": "application/json"})
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise JwksUnavailable(f"fetching {self._url} failed: {exc}") from exc
        return response.content


class JwksFile:
    """A JWK set in a local file, re-read like a URL (so a rotated file is picked up)."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)

    def __repr__(self) -> str:
        return f"JwksFile({str(self._path)!r})"

    async def read(self) -> bytes:
        """Read the file (in a thread: the event loop never waits on the disk)."""
        try:
            return await asyncio.to_thread(self._path.read_bytes)
        except OSError as exc:
            raise JwksUnavailable(f"reading {self._path} failed: {exc.strerror}") from exc


def parse_jwks(document: bytes) -> dict[str, jwt.PyJWK]:
    """The usable verification keys of a JWK set, by `kid`; raises `JwksUnavailable`.

    Skipped: entries without a `kid` (a token must name its key), repeated kids
    (the first wins), keys for encryption, private keys (they do not belong in a
    published set), and keys of any algorithm other than RS256 / ES256.
    """
    try:
        parsed = json.loads(document)
    except ValueError as exc:
        raise JwksUnavailable(f"the JWK set is not JSON: {exc}") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
        raise JwksUnavailable("the JWK set has no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in parsed["keys"]:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or kid in keys:
            continue
        if entry.get("use", "sig") != "sig" or "d" in entry:
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue  # one malformed entry must not discard the others
        if key.algorithm_name in ALGORITHMS:
            keys[kid] = key
    if not keys:
        raise JwksUnavailable("the JWK set holds no usable RS256/ES256 signing key")
    return keys


class _KeyRing:
    """The current keys by `kid`, re-read when stale or asked for an unknown kid."""

    def __init__(
        self,
        source: KeySource,
        clock: Callable[[], float],
        cache_s: float,
        refetch_interval_s: float,
    ) -> None:
        self._source = source
        self._clock = clock
        self._cache_s = cache_s
        self._refetch_interval_s = refetch_interval_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None
        # One reader at a time: concurrent requests with the same new kid share a fetch.
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named `kid`, or None; raises `Unauthenticated` when no set was ever read."""
        # While one request re-reads a stale set, the others go on with the keys held
        # instead of queueing behind a slow key server.
        if kid in self._keys and (self._fresh(self._clock()) or self._lock.locked()):
            return self._keys[kid]
        async with self._lock:
            now = self._clock()
            if not self._fresh(now) and self._may_read(now):
                await self._load(now)
            if kid not in self._keys and self._may_read(now):
                await self._load(now)
        if self._loaded_at is None:
            raise Unauthenticated("the signing keys are unavailable; try again later")
        return self._keys.get(kid)

    def holds(self, kid: str) -> bool:
        """Whether `kid` is in a set read within `cache_s` (no read is started)."""
        return kid in self._keys and self._fresh(self._clock())

    async def reload(self) -> bool:
        """Read the set now, whatever its age; False (and logged) when that failed."""
        async with self._lock:
            return await self._load(self._clock())

    async def _load(self, now: float) -> bool:
        # On failure the keys already held stay in use; the reason goes to the log.
        self._attempted_at = now
        try:
            self._keys = parse_jwks(await self._source.read())
        except JwksUnavailable as exc:
            _log.warning("JWK set %r not loaded: %s", self._source, exc)
            return False
        self._loaded_at = now
        return True

    def _fresh(self, now: float) -> bool:
        return self._loaded_at is not None and 0 <= now - self._loaded_at < self._cache_s

    def _may_read(self, now: float) -> bool:
        # A clock that went backwards counts as "long enough ago".
        return self._attempted_at is None or not (
            0 <= now - self._attempted_at < self._refetch_interval_s
        )


# ------------------------------------------------------------------- verifier

# PyJWT's errors, most specific first, and what the caller is told.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "the token's signature is invalid"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidKeyError, "the token's signing key is not acceptable"),
    (jwt.InvalidIssuerError, "the token's issuer is not trusted"),
    (jwt.InvalidAudienceError, "the token is not meant for this service"),
    (jwt.exceptions.InvalidSubjectError, "the token's 'sub' claim is not a string"),
    (jwt.DecodeError, "the token is malformed"),
)


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token whose signature and claims were checked: its times are checked again on
    every use, and its key must still be in a fresh key set."""

    principal: Principal
    kid: str
    times: Mapping[str, Any]


class TokenVerifier:
    """Verifies bearer JWTs against a JWK set; see the module docstring for the checks."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway_s: float = 30.0,
        clock: Callable[[], float] | None = None,
        cache_s: float = 300.0,
        refetch_interval_s: float = 10.0,
        max_lifetime_s: float = MAX_LIFETIME_S,
    ) -> None:
        """`clock` returns POSIX seconds (default `time.time`); tests pass their own."""
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._max_lifetime_s = max_lifetime_s
        self._clock = clock or time.time
        self._ring = _KeyRing(keys, self._clock, cache_s, refetch_interval_s)
        self._verified: dict[str, _Verified] = {}

    @classmethod
    def from_settings(
        cls,
        *,
        jwks_url: str = "",
        jwks_file: str = "",
        issuer: str,
        audience: str,
        leeway_s: float = 30.0,
        max_lifetime_s: float = MAX_LIFETIME_S,
        clock: Callable[[], float] | None = None,
    ) -> TokenVerifier:
        """Build from the `[auth]` values; exactly one of `jwks_url`, `jwks_file` is needed."""
        if bool(jwks_url) == bool(jwks_file):
            raise ValueError("set exactly one of auth.jwks_url and auth.jwks_file")
        source: KeySource = JwksUrl(jwks_url) if jwks_url else JwksFile(jwks_file)
        return cls(
            source,
            issuer=issuer,
            audience=audience,
            leeway_s=leeway_s,
            max_lifetime_s=max_lifetime_s,
            clock=clock,
        )

    async def load_keys(self) -> bool:
        """Read the JWK set now (e.g. at start-up, to report a bad one early).

        False when it could not be read or held no usable key (the reason is logged).
        """
        return await self._ring.reload()

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises `Unauthenticated` otherwise."""
        known = self._verified.get(token)
        if known is not None and self._ring.holds(known.kid):
            self._check_times(known.times)
            return known.principal
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("the token is too long")
        # Non-ASCII text cannot be a JWT, and PyJWT would fail on it with a UnicodeError.
        if not token.isascii() or token.count(".") != 2:
            raise Unauthenticated("the token is malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is malformed") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated("the token's algorithm is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key ('kid')")
        key = await self._ring.key(kid)
        if key is None:
            raise Unauthenticated("the token's signing key is unknown")
        claims = self._decode(token, key)
        _refuse_repeated_names(token)
        self._check_times(claims)
        self._check_lifetime(claims)
        principal = principal_from_claims(claims)
        self._remember(token, kid, claims, principal)
        return principal

    def _remember(
        self, token: str, kid: str, claims: Mapping[str, Any], principal: Principal
    ) -> None:
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest remembered
        times = {name: claims[name] for name in ("exp", "nbf") if name in claims}
        self._verified[token] = _Verified(principal, kid, times)

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            reason = next(
                (text for kind, text in _REASONS if isinstance(exc, kind)),
                "the token is invalid",
            )
            raise Unauthenticated(reason) from exc
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if _numeric_date(claims, "exp") <= now - self._leeway_s:
            raise Unauthenticated("the token has expired")
        if "nbf" in claims and _numeric_date(claims, "nbf") > now + self._leeway_s:
            raise Unauthenticated("the token is not valid yet")

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        exp = _numeric_date(claims, "exp")
        issued = _numeric_date(claims, "iat") if "iat" in claims else None
        too_long = (issued is not None and exp - issued > self._max_lifetime_s) or (
            exp - self._clock() > self._max_lifetime_s + self._leeway_s
        )
        if too_long:
            raise Unauthenticated("the token lives longer than this service accepts")


def _refuse_repeated_names(token: str) -> None:
    """Unauthenticated when the token's header or claims name anything twice."""
    for segment in token.split(".")[:2]:
        text = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        try:
            json.loads(text, object_pairs_hook=_distinct_names)
        except _RepeatedName:
            raise Unauthenticated("the token names a claim or header field twice") from None


class _RepeatedName(ValueError):
    pass


def _distinct_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = dict(pairs)
    if len(names) != len(pairs):
        raise _RepeatedName
    return names


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    # bool is an int to Python; NaN and infinity are accepted by the JSON parser.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthenticated(f"the token's {name!r} claim is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise Unauthenticated(f"the token's {name!r} claim is not a number")
    return value


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The `Principal` of verified claims; raises `Unauthenticated` on a bad claim."""
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("the token's 'sub' claim is empty")
    return Principal(
        subject=subject,
        name=_optional_text(claims, "name"),
        roles=_roles(claims["roles"]),
        unit=_identifier(claims, "unit", normalise_credit_code, "a credit code"),
        id_number=_identifier(claims, "id_number", normalise_id_number, "an ID number"),
    )


def _roles(value: object) -> tuple[Role, ...]:
    if not isinstance(value, list):
        raise Unauthenticated("the token's 'roles' claim is not a list")
    roles: list[Role] = []
    for name in value:
        if not isinstance(name, str):
            raise Unauthenticated("the token's 'roles' claim holds a non-string")
        # Roles of other services may share the token: skip them, they grant nothing here.
        if name in _ROLE_NAMES and Role(name) not in roles:
            roles.append(Role(name))
    if not roles:
        raise Unauthenticated("the token grants no role known to this service")
    return tuple(roles)


def _optional_text(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise Unauthenticated(f"the token's {name!r} claim is not a string")
    return value


def _identifier(
    claims: Mapping[str, Any], name: str, normalise: Callable[[str, str], str], kind: str
) -> str | None:
    value = _optional_text(claims, name)
    if value is None:
        return None
    try:
        return normalise(value, name)
    except InvalidIdentifier:
        raise Unauthenticated(f"the token's {name!r} claim is not {kind}") from None
