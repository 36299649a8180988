"""Bearer-token verification, key rotation, and the development keys.

Tokens are signed with real keys (cryptography) and verified against a JWK set
in a file or served by a real HTTP server. Time is a `FakeClock` the verifier is
given, so expiry, skew, cache age and the refetch rate limit are moved, not waited.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from auth.devkeys import ensure_dev_keys, mint_token
from auth.principal import Principal, Role
from auth.tokens import (
    JwksFile,
    JwksUrl,
    TokenVerifier,
    Unauthenticated,
    bearer_token,
    parse_jwks,
)
from connectors.identifiers import InvalidIdentifier
from tests.support import credit_code, id_number, serve

NOW = 1_750_000_000.0
ISSUER = "https://idp.example.test"
AUDIENCE = "credgate"


# ------------------------------------------------------------------ helpers


class FakeClock:
    """POSIX seconds that move only when a test says so."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class SigningKey:
    """A private key with its kid, and the public JWK a key server would publish."""

    kid: str
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    alg: str

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **header}
        )


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(ec.SECP256R1()), "ES256")


def rsa_key(kid: str, bits: int = 2048) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits), "RS256")


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.jwk() for key in keys]}


async def publish(path: Path, *keys: SigningKey) -> None:
    """Write a JWK set file as a key-management job would."""
    await asyncio.to_thread(path.write_text, json.dumps(jwks(*keys)))


def wrong_check(identifier: str) -> str:
    """The identifier with a different, hence wrong, check character."""
    return identifier[:-1] + ("1" if identifier[-1] != "1" else "2")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Any, payload: Any, signature: bytes = b"") -> str:
    """A token with any header and payload, as an attacker would write it."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims at NOW; a change of None removes the claim."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "officer-17",
        "name": "张三",
        "roles": ["hr_officer"],
        "unit": credit_code(42),
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 600,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


@dataclass
class KeyServer:
    """What the stand-in key server answers, and how often it was asked."""

    document: dict[str, Any]
    status: int = 200
    requests: int = 0
    base_url: str = field(default="")
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None  # when set, answers wait for it

    @property
    def url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    def app(self) -> Starlette:
        async def jwks_endpoint(request: Request) -> JSONResponse:
            self.requests += 1
            self.asked.set()
            if self.hold is not None:
                await self.hold.wait()
            return JSONResponse(self.document, status_code=self.status)

        return Starlette(routes=[Route("/.well-known/jwks.json", jwks_endpoint)])


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def old_key() -> SigningKey:
    return ec_key("key-2024")


@pytest.fixture(scope="module")
def new_key() -> SigningKey:
    return rsa_key("key-2025")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_path(tmp_path: Path, old_key: SigningKey, new_key: SigningKey) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(old_key, new_key)))
    return path


@pytest.fixture
def make_verifier(clock: FakeClock) -> Callable[..., TokenVerifier]:
    def build(source: JwksFile | JwksUrl, **options: Any) -> TokenVerifier:
        return TokenVerifier(source, issuer=ISSUER, audience=AUDIENCE, clock=clock, **options)

    return build


@pytest.fixture
def verifier(make_verifier: Callable[..., TokenVerifier], jwks_path: Path) -> TokenVerifier:
    return make_verifier(JwksFile(jwks_path))


@pytest.fixture
async def key_server(old_key: SigningKey) -> AsyncIterator[KeyServer]:
    server = KeyServer(jwks(old_key))
    async with serve(server.app()) as base_url:
        server.base_url = base_url
        yield server


async def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value.reason


# ------------------------------------------------------------ valid tokens


@pytest.mark.parametrize("which", ["old_key", "new_key"])
async def test_a_valid_token_gives_its_principal(
    verifier: TokenVerifier, which: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(which)

    principal = await verifier.verify(key.sign(claims()))

    assert principal == Principal(
        subject="officer-17", name="张三", roles=(Role.HR_OFFICER,), unit=credit_code(42)
    )


async def test_claims_become_canonical_identifiers_and_ordered_known_roles(
    verifier: TokenVerifier, old_key: SigningKey
) -> None:
    number = next(id_number(n) for n in range(1000) if id_number(n).endswith("X"))
    token = old_key.sign(
        claims(
            roles=["sso_user", "data_subject", "auditor", "data_subject"],
            unit=credit_code(42).lower(),
            id_number=number.lower(),
            name=None,
        )
    )

    principal = await verifier.verify(token)

    assert principal.roles == (Role.DATA_SUBJECT, Role.AUDITOR)
    assert principal.unit == credit_code(42)
    assert principal.id_number == number
    assert principal.name is None


async def test_an_audience_list_naming_us_is_accepted(
    verifier: TokenVerifier, old_key: SigningKey
) -> None:
    principal = await verifier.verify(old_key.sign(claims(aud=["other-api", AUDIENCE])))

    assert principal.subject == "officer-17"


# ------------------------------------------------------- signature and alg


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(
    verifier: TokenVerifier, old_key: SigningKey
) -> None:
    impostor = SigningKey(old_key.kid, ec.generate_private_key(ec.SECP256R1()), "ES256")

    assert await refused(verifier, impostor.sign(claims())) == "the token's signature is invalid"


async def test_a_tampered_payload_is_refused(verifier: TokenVerifier, old_key: SigningKey) -> None:
    header, _, signature = old_key.sign(claims()).split(".")
    payload = b64(json.dumps(claims(roles=["credit_admin"])).encode())

    assert await refused(verifier, f"{header}.{payload}.{signature}") == (
        "the token's signature is invalid"
    )


async def test_alg_none_is_refused(verifier: TokenVerifier, old_key: SigningKey) -> None:
    token = forge({"alg": "none", "typ": "JWT", "kid": old_key.kid}, claims())

    assert await refused(verifier, token) == "the token's algorithm is not accepted"


@pytest.mark.parametrize("secret", ["pem", "jwk"])
async def test_hs256_with_the_public_key_as_secret_is_refused(
    verifier: TokenVerifier, new_key: SigningKey, secret: str
) -> None:
    # The classic confusion attack: the public key is public, so anyone can "sign" with it.
    key_bytes = new_key.public_pem() if secret == "pem" else json.dumps(new_key.jwk()).encode()
    header = {"alg": "HS256", "typ": "JWT", "kid": new_key.kid}
    unsigned = forge(header, claims()).rsplit(".", 1)[0]
    mac = hmac.new(key_bytes, unsigned.encode(), hashlib.sha256).digest()

    assert await refused(verifier, f"{unsigned}.{b64(mac)}") == (
        "the token's algorithm is not accepted"
    )


async def test_an_alg_other_than_the_keys_own_is_refused(
    verifier: TokenVerifier, old_key: SigningKey, new_key: SigningKey
) -> None:
    # An RSA signature presented under the EC key's kid.
    token = jwt.encode(claims(), new_key.private, algorithm="RS256", headers={"kid": old_key.kid})

    assert await refused(verifier, token) == "the token's algorithm is not accepted"


async def test_other_asymmetric_algorithms_are_refused(
    verifier: TokenVerifier, new_key: SigningKey
) -> None:
    token = jwt.encode(claims(), new_key.private, algorithm="RS512", headers={"kid": new_key.kid})

    assert await refused(verifier, token) == "the token's algorithm is not accepted"


async def test_a_short_rsa_key_is_refused(
    make_verifier: Callable[..., TokenVerifier], tmp_path: Path
) -> None:
    weak = rsa_key("weak", bits=1024)
    path = tmp_path / "weak.json"
    await publish(path, weak)

    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        token = weak.sign(claims())

    assert await refused(make_verifier(JwksFile(path)), token) == (
        "the token's signing key is not acceptable"
    )


# --------------------------------------------------------------- key ids


async def test_an_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    stranger = ec_key("never-published")

    assert await refused(verifier, stranger.sign(claims())) == "the token's signing key is unknown"


@pytest.mark.parametrize("kid", [None, "", 7])
async def test_a_token_must_name_its_key(
    verifier: TokenVerifier, old_key: SigningKey, kid: Any
) -> None:
    header = {"alg": "ES256", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    token = forge(header, claims(), b"x" * 64)

    assert await refused(verifier, token) in {
        "the token names no signing key ('kid')",
        "the token is malformed",
    }


async def test_rotation_by_kid_in_a_file(
    verifier: TokenVerifier,
    jwks_path: Path,
    clock: FakeClock,
    old_key: SigningKey,
    new_key: SigningKey,
) -> None:
    old_token = old_key.sign(claims(exp=int(NOW) + 3600))
    new_token = new_key.sign(claims(exp=int(NOW) + 3600))
    assert (await verifier.verify(old_token)).subject == "officer-17"
    assert (await verifier.verify(new_token)).subject == "officer-17"

    # The old key is withdrawn; once the cached set is older than cache_s it is re-read.
    await publish(jwks_path, new_key)
    clock.advance(301)

    assert await refused(verifier, old_token) == "the token's signing key is unknown"
    assert (await verifier.verify(new_token)).subject == "officer-17"


async def test_a_key_added_to_the_file_is_found_by_its_kid(
    verifier: TokenVerifier, jwks_path: Path, clock: FakeClock, old_key: SigningKey
) -> None:
    assert (await verifier.verify(old_key.sign(claims()))).subject == "officer-17"
    newest = ec_key("key-2026")
    await publish(jwks_path, old_key, newest)
    clock.advance(11)  # past the refetch interval, well within the cache lifetime

    assert (await verifier.verify(newest.sign(claims()))).subject == "officer-17"


async def test_a_verified_token_is_not_checked_in_full_again(
    verifier: TokenVerifier, old_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = old_key.sign(claims())
    decoded: list[str] = []
    decode = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        decoded.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    other = old_key.sign(claims(exp=int(NOW) + 60))
    for _ in range(3):
        assert (await verifier.verify(token)).subject == "officer-17"
    assert (await verifier.verify(other)).subject == "officer-17"

    assert decoded == [token, other]  # the same token once; another one in full


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_set(
    verifier: TokenVerifier, jwks_path: Path, clock: FakeClock, old_key: SigningKey
) -> None:
    remembered = old_key.sign(claims(exp=int(NOW) + 3600))
    assert (await verifier.verify(remembered)).subject == "officer-17"
    newest = ec_key("key-2026")
    await publish(jwks_path, newest)  # the old key withdrawn, a new one published
    clock.advance(11)  # within the set's lifetime: read again only for the new kid

    assert (await verifier.verify(newest.sign(claims()))).subject == "officer-17"
    assert await refused(verifier, remembered) == "the token's signing key is unknown"


# ------------------------------------------------------- JWKS over HTTP


async def test_jwks_from_a_url_is_fetched_once_and_cached(
    make_verifier: Callable[..., TokenVerifier], key_server: KeyServer, old_key: SigningKey
) -> None:
    verifier = make_verifier(JwksUrl(key_server.url))

    for _ in range(3):
        assert (await verifier.verify(old_key.sign(claims()))).roles == (Role.HR_OFFICER,)

    assert key_server.requests == 1


async def test_an_unknown_kid_refetches_the_url_at_most_once_per_interval(
    make_verifier: Callable[..., TokenVerifier],
    key_server: KeyServer,
    clock: FakeClock,
    old_key: SigningKey,
    new_key: SigningKey,
) -> None:
    verifier = make_verifier(JwksUrl(key_server.url))
    assert (await verifier.verify(old_key.sign(claims()))).subject == "officer-17"
    key_server.document = jwks(old_key, new_key)  # the identity provider rotates
    new_token = new_key.sign(claims(exp=int(NOW) + 3600))

    # The set was read a moment ago: an unknown kid does not trigger another read yet.
    assert await refused(verifier, new_token) == "the token's signing key is unknown"
    assert key_server.requests == 1

    clock.advance(11)
    assert (await verifier.verify(new_token)).subject == "officer-17"
    assert key_server.requests == 2

    # Made-up kids cannot make us hammer the key server.
    for n in range(5):
        assert await refused(verifier, ec_key(f"bogus-{n}").sign(claims())) == (
            "the token's signing key is unknown"
        )
    assert key_server.requests == 2
    clock.advance(11)
    await refused(verifier, ec_key("bogus-late").sign(claims(exp=int(NOW) + 3600)))
    assert key_server.requests == 3


async def test_concurrent_requests_with_a_new_kid_share_one_fetch(
    make_verifier: Callable[..., TokenVerifier], key_server: KeyServer, new_key: SigningKey
) -> None:
    key_server.document = jwks(new_key)
    verifier = make_verifier(JwksUrl(key_server.url))

    principals = await asyncio.gather(*(verifier.verify(new_key.sign(claims())) for _ in range(10)))

    assert {principal.subject for principal in principals} == {"officer-17"}
    assert key_server.requests == 1


async def test_held_keys_stay_in_use_while_the_key_server_fails(
    make_verifier: Callable[..., TokenVerifier],
    key_server: KeyServer,
    clock: FakeClock,
    old_key: SigningKey,
) -> None:
    verifier = make_verifier(JwksUrl(key_server.url))
    assert await verifier.load_keys()
    key_server.status = 503
    clock.advance(301)

    token = old_key.sign(claims(iat=int(clock.now), nbf=int(clock.now), exp=int(clock.now) + 60))
    assert (await verifier.verify(token)).subject == "officer-17"
    assert key_server.requests == 2  # it did try


async def test_a_slow_refresh_does_not_hold_up_requests_with_known_keys(
    make_verifier: Callable[..., TokenVerifier],
    key_server: KeyServer,
    clock: FakeClock,
    old_key: SigningKey,
) -> None:
    verifier = make_verifier(JwksUrl(key_server.url))
    assert await verifier.load_keys()
    key_server.asked.clear()
    key_server.hold = asyncio.Event()
    clock.advance(301)
    token = old_key.sign(claims(iat=int(clock.now), nbf=int(clock.now), exp=int(clock.now) + 60))

    refreshing = asyncio.create_task(verifier.verify(token))
    try:
        await key_server.asked.wait()  # the re-read is at the key server, which holds its answer
        async with asyncio.timeout(5):  # a failure here would otherwise hang
            assert (await verifier.verify(token)).subject == "officer-17"
    finally:
        key_server.hold.set()  # the server can only shut down once its answer is out

    assert (await refreshing).subject == "officer-17"
    assert key_server.requests == 2


async def test_no_keys_at_all_means_unauthenticated(
    make_verifier: Callable[..., TokenVerifier], key_server: KeyServer, old_key: SigningKey
) -> None:
    key_server.status = 500
    verifier = make_verifier(JwksUrl(key_server.url))

    assert not await verifier.load_keys()
    assert await refused(verifier, old_key.sign(claims())) == (
        "the signing keys are unavailable; try again later"
    )


async def test_a_missing_jwks_file_means_unauthenticated(
    make_verifier: Callable[..., TokenVerifier], tmp_path: Path, old_key: SigningKey
) -> None:
    verifier = make_verifier(JwksFile(tmp_path / "absent.json"))

    assert not await verifier.load_keys()
    assert "unavailable" in await refused(verifier, old_key.sign(claims()))


def test_parse_jwks_keeps_only_public_rs256_and_es256_signing_keys(
    old_key: SigningKey, new_key: SigningKey
) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    private_jwk = {**ECAlgorithm.to_jwk(private, as_dict=True), "kid": "private"}
    document = {
        "keys": [
            old_key.jwk(),
            {**new_key.jwk(), "kid": old_key.kid},  # a repeated kid: the first wins
            {**new_key.jwk(), "kid": "for-encryption", "use": "enc"},
            {**new_key.jwk(), "kid": "rs512", "alg": "RS512"},
            {k: v for k, v in new_key.jwk().items() if k != "kid"},
            {"kty": "oct", "k": b64(b"secret"), "kid": "hmac"},
            {"kty": "EC", "crv": "P-256", "kid": "broken"},
            private_jwk,
            "not a key",
            new_key.jwk(),
        ]
    }

    keys = parse_jwks(json.dumps(document).encode())

    assert set(keys) == {old_key.kid, new_key.kid}
    assert keys[old_key.kid].algorithm_name == "ES256"
    assert keys[new_key.kid].algorithm_name == "RS256"


# ------------------------------------------------------------ time claims


@pytest.mark.parametrize(("offset", "valid"), [(-29, True), (-31, False)])
async def test_expiry_allows_the_clock_skew(
    verifier: TokenVerifier, old_key: SigningKey, offset: int, valid: bool
) -> None:
    token = old_key.sign(claims(nbf=int(NOW) - 600, exp=int(NOW) + offset))

    if valid:
        assert (await verifier.verify(token)).subject == "officer-17"
    else:
        assert await refused(verifier, token) == "the token has expired"


@pytest.mark.parametrize(("offset", "valid"), [(29, True), (31, False)])
async def test_not_before_allows_the_clock_skew(
    verifier: TokenVerifier, old_key: SigningKey, offset: int, valid: bool
) -> None:
    token = old_key.sign(claims(nbf=int(NOW) + offset))

    if valid:
        assert (await verifier.verify(token)).subject == "officer-17"
    else:
        assert await refused(verifier, token) == "the token is not valid yet"


async def test_the_skew_is_configurable(
    make_verifier: Callable[..., TokenVerifier], jwks_path: Path, old_key: SigningKey
) -> None:
    strict = make_verifier(JwksFile(jwks_path), leeway_s=0)

    assert await refused(strict, old_key.sign(claims(exp=int(NOW)))) == "the token has expired"


async def test_a_token_expires_as_the_clock_moves(
    verifier: TokenVerifier, clock: FakeClock, old_key: SigningKey
) -> None:
    token = old_key.sign(claims())
    assert (await verifier.verify(token)).subject == "officer-17"

    clock.advance(600 + 30)

    assert await refused(verifier, token) == "the token has expired"


@pytest.mark.parametrize("exp", ["tomorrow", True, float("nan"), float("inf"), None])
async def test_exp_must_be_a_number_and_present(
    verifier: TokenVerifier, old_key: SigningKey, exp: Any
) -> None:
    token = old_key.sign(claims(exp=exp))

    assert await refused(verifier, token) in {
        "the token's 'exp' claim is not a number",
        "the token lacks the 'exp' claim",
    }


HOUR = 3600


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        pytest.param({"exp": 1e308}, False, id="exp 1e308"),
        pytest.param({"exp": int(NOW) + 12 * HOUR}, True, id="exactly 12 h after iat"),
        pytest.param({"exp": int(NOW) + 12 * HOUR + 1}, False, id="a second over 12 h"),
        pytest.param({"iat": None, "exp": int(NOW) + 11 * HOUR}, True, id="no iat, 11 h left"),
        pytest.param({"iat": None, "exp": int(NOW) + 13 * HOUR}, False, id="no iat, 13 h left"),
        pytest.param(
            {"iat": int(NOW) + 100 * 24 * HOUR, "exp": int(NOW) + 100 * 24 * HOUR + HOUR},
            False,
            id="iat in the future",
        ),
        pytest.param({"iat": "yesterday"}, False, id="iat not a number"),
    ],
)
async def test_a_token_lives_at_most_the_maximum_lifetime(
    verifier: TokenVerifier, old_key: SigningKey, changes: dict[str, Any], valid: bool
) -> None:
    token = old_key.sign(claims(**changes))

    if valid:
        assert (await verifier.verify(token)).subject == "officer-17"
    else:
        assert await refused(verifier, token) in {
            "the token lives longer than this service accepts",
            "the token's 'iat' claim is not a number",
        }


async def test_the_maximum_lifetime_is_configurable(
    make_verifier: Callable[..., TokenVerifier], jwks_path: Path, old_key: SigningKey
) -> None:
    short = make_verifier(JwksFile(jwks_path), max_lifetime_s=300)

    reason = await refused(short, old_key.sign(claims()))  # 600 s
    assert reason == "the token lives longer than this service accepts"


def sign_json(key: SigningKey, payload: str, header: str | None = None) -> str:
    """A validly signed token over exactly this JSON text (names may repeat)."""
    head = header or json.dumps({"alg": key.alg, "typ": "JWT", "kid": key.kid})
    signing_input = f"{b64(head.encode())}.{b64(payload.encode())}".encode()
    algorithm = jwt.get_algorithm_by_name(key.alg)
    signature = algorithm.sign(signing_input, algorithm.prepare_key(key.private))
    return f"{signing_input.decode()}.{b64(signature)}"


async def test_a_repeated_roles_claim_is_refused(
    verifier: TokenVerifier, old_key: SigningKey, new_key: SigningKey
) -> None:
    base = json.dumps(claims(roles=["data_subject"]))[:-1]
    repeated = base + ', "roles": ["credit_admin"]}'
    assert json.loads(repeated)["roles"] == ["credit_admin"]  # what a last-wins parser sees
    for key in (old_key, new_key):
        assert (await verifier.verify(sign_json(key, json.dumps(claims())))).roles == (
            Role.HR_OFFICER,
        )
        assert await refused(verifier, sign_json(key, repeated)) == (
            "the token names a claim or header field twice"
        )
    nested = base + ', "extra": {"a": 1, "a": 2}}'
    assert await refused(verifier, sign_json(old_key, nested)) == (
        "the token names a claim or header field twice"
    )
    header = json.dumps({"alg": "ES256", "kid": old_key.kid})[:-1] + ', "kid": "key-2024"}'
    assert await refused(verifier, sign_json(old_key, json.dumps(claims()), header)) == (
        "the token names a claim or header field twice"
    )


# ---------------------------------------------------------- issuer, audience


async def test_a_wrong_issuer_is_refused(verifier: TokenVerifier, old_key: SigningKey) -> None:
    token = old_key.sign(claims(iss="https://evil.example.test"))

    assert await refused(verifier, token) == "the token's issuer is not trusted"


async def test_a_wrong_audience_is_refused(verifier: TokenVerifier, old_key: SigningKey) -> None:
    token = old_key.sign(claims(aud="another-service"))

    assert await refused(verifier, token) == "the token is not meant for this service"


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "roles", "exp"])
async def test_required_claims(verifier: TokenVerifier, old_key: SigningKey, claim: str) -> None:
    token = old_key.sign(claims(**{claim: None}))

    assert await refused(verifier, token) == f"the token lacks the {claim!r} claim"


# ------------------------------------------------------ the principal's claims


@pytest.mark.parametrize(
    ("roles", "reason"),
    [
        (["janitor", "superuser"], "the token grants no role known to this service"),
        ([], "the token grants no role known to this service"),
        ("hr_officer", "the token's 'roles' claim is not a list"),
        (["hr_officer", 3], "the token's 'roles' claim holds a non-string"),
    ],
)
async def test_the_roles_claim(
    verifier: TokenVerifier, old_key: SigningKey, roles: Any, reason: str
) -> None:
    assert await refused(verifier, old_key.sign(claims(roles=roles))) == reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"unit": wrong_check(credit_code(42))}, "the token's 'unit' claim is not a credit code"),
        ({"unit": "ACME"}, "the token's 'unit' claim is not a credit code"),
        ({"unit": 91210102}, "the token's 'unit' claim is not a string"),
        (
            {"id_number": wrong_check(id_number(1))},
            "the token's 'id_number' claim is not an ID number",
        ),
        ({"id_number": "110101199902300011"}, "the token's 'id_number' claim is not an ID number"),
        ({"name": ["张", "三"]}, "the token's 'name' claim is not a string"),
        ({"sub": ""}, "the token's 'sub' claim is empty"),
        ({"sub": 17}, "the token's 'sub' claim is not a string"),
    ],
)
async def test_invalid_claims_are_refused_without_echoing_them(
    verifier: TokenVerifier, old_key: SigningKey, change: dict[str, Any], reason: str
) -> None:
    got = await refused(verifier, old_key.sign(claims(**change)))

    assert got == reason
    assert not any(isinstance(value, str) and value and value in got for value in change.values())


# ----------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "two.segments",
        "a.b.c.d",
        "!!!.???.###",
        "eyJhbGciOiJFUzI1NiJ9.e30",
        forge(["not", "an", "object"], {}),
        forge({"alg": "ES256", "kid": "key-2024"}, ["payload", "list"], b"sig"),
        "é.é.é",
        "x" * 9000,
    ],
)
async def test_malformed_tokens_are_refused(verifier: TokenVerifier, token: str) -> None:
    reason = await refused(verifier, token)

    assert reason in {
        "the token is malformed",
        "the token is too long",
        "the token's signature is invalid",
    }
    if token:
        assert token not in reason


def test_bearer_token_reads_the_authorization_header() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("  bearer   abc.def.ghi ") == "abc.def.ghi"
    for header in (None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "):
        with pytest.raises(Unauthenticated):
            bearer_token(header)


# ------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=400))
async def test_arbitrary_strings_only_ever_raise_unauthenticated(
    verifier: TokenVerifier, token: str
) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    alg=st.sampled_from(["ES256", "RS256", "none", "HS256", "ES384", "", None]) | _json,
    kid=st.sampled_from(["key-2024", "key-2025", "", None]) | _json,
    payload=st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "roles", "exp", "nbf", "unit", "id_number"]),
        _json,
    )
    | _json,
    signature=st.binary(max_size=300),
)
async def test_forged_tokens_only_ever_raise_unauthenticated(
    verifier: TokenVerifier, alg: Any, kid: Any, payload: Any, signature: bytes
) -> None:
    token = forge({"alg": alg, "kid": kid}, payload, signature)

    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


# --------------------------------------------------------- construction


def test_from_settings_needs_exactly_one_key_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier.from_settings(issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier.from_settings(
            jwks_url="https://idp.example.test/jwks",
            jwks_file="j.json",
            issuer=ISSUER,
            audience=AUDIENCE,
        )
    for url in ("file:///etc/passwd", "idp.example.test/jwks", "http://[::1"):
        with pytest.raises(ValueError, match="http or https"):
            TokenVerifier.from_settings(jwks_url=url, issuer=ISSUER, audience=AUDIENCE)


async def test_from_settings_with_a_file(jwks_path: Path, old_key: SigningKey) -> None:
    verifier = TokenVerifier.from_settings(
        jwks_file=str(jwks_path),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_s=5,
        clock=FakeClock(),
    )

    assert (await verifier.verify(old_key.sign(claims()))).subject == "officer-17"


# ------------------------------------------------- development keys and tokens


def test_dev_keys_are_created_once_with_a_private_key_only_we_can_read(tmp_path: Path) -> None:
    keys_dir = tmp_path / "data" / "dev-keys"

    first = ensure_dev_keys(keys_dir)
    pem = first.private_key_path.read_bytes()
    jwks_text = first.jwks_path.read_text()
    second = ensure_dev_keys(keys_dir)

    assert second == first
    assert first.private_key_path.read_bytes() == pem
    assert first.jwks_path.read_text() == jwks_text
    assert stat.S_IMODE(first.private_key_path.stat().st_mode) == 0o600
    assert sorted(path.name for path in keys_dir.iterdir()) == ["jwks.json", "signing-key.pem"]
    published = json.loads(jwks_text)["keys"]
    assert [key["kid"] for key in published] == [first.kid]
    assert "d" not in published[0]


def test_a_lost_jwks_file_is_rebuilt_from_the_private_key(tmp_path: Path) -> None:
    first = ensure_dev_keys(tmp_path)
    expected = first.jwks_path.read_text()
    first.jwks_path.unlink()

    assert ensure_dev_keys(tmp_path) == first
    assert first.jwks_path.read_text() == expected


async def test_a_minted_token_verifies_against_the_dev_jwks(tmp_path: Path) -> None:
    number = id_number(11)
    token = mint_token(
        tmp_path,
        "data_subject",
        "citizen-1",
        id_number=number,
        unit=credit_code(9).lower(),
        name="李四",
        now=NOW,
    )
    verifier = TokenVerifier.from_settings(
        jwks_file=str(ensure_dev_keys(tmp_path).jwks_path),
        issuer="credgate-dev",
        audience="credgate",
        clock=FakeClock(),
    )

    principal = await verifier.verify(token)

    assert principal == Principal(
        subject="citizen-1",
        name="李四",
        roles=(Role.DATA_SUBJECT,),
        unit=credit_code(9),
        id_number=number,
    )
    assert jwt.get_unverified_header(token)["alg"] == "ES256"


async def test_a_minted_token_expires_after_its_ttl(tmp_path: Path) -> None:
    clock = FakeClock()
    token = mint_token(tmp_path, Role.AUDITOR, "auditor-1", ttl_s=60, now=NOW)
    verifier = TokenVerifier(
        JwksFile(ensure_dev_keys(tmp_path).jwks_path),
        issuer="credgate-dev",
        audience="credgate",
        clock=clock,
    )
    assert (await verifier.verify(token)).roles == (Role.AUDITOR,)

    clock.advance(60 + 30)

    assert await refused(verifier, token) == "the token has expired"


def test_mint_token_refuses_what_the_verifier_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown role 'root'"):
        mint_token(tmp_path, "root", "someone")
    with pytest.raises(ValueError, match="subject"):
        mint_token(tmp_path, "auditor", " ")
    with pytest.raises(InvalidIdentifier, match="unit"):
        mint_token(tmp_path, "hr_officer", "officer", unit="NOT-A-CODE")
    with pytest.raises(InvalidIdentifier, match="id_number"):
        mint_token(tmp_path, "data_subject", "citizen", id_number="123")
