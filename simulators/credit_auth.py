"""How the credit platform authenticates a call: HMAC-SHA256 request signing.

Every /api/v2 request carries X-App-Key, X-Timestamp (unix ms), X-Nonce and
X-Signature, the lowercase hex HMAC-SHA256 under the app secret of

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n sha256hex(BODY)

where PATH is the URL path as sent, without the query string. `SignatureGuard`
runs the checks in the order the platform's interface fixes — key, timestamp,
nonce length, signature, replay, rate — and raises the `ApiError` of the first
that fails. A nonce is used up only once its signature has verified, so a
forged request cannot burn a nonce a genuine client is about to send.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .credit_envelope import ApiError

__all__ = [
    "NONCE_LENGTHS",
    "NONCE_TTL_S",
    "TIMESTAMP_SKEW_S",
    "CreditCredentials",
    "NonceLedger",
    "RateWindow",
    "SignatureGuard",
    "signature",
]

TIMESTAMP_SKEW_S = 300
NONCE_TTL_S = 600
NONCE_LENGTHS = range(16, 65)
_HEADERS = ("x-app-key", "x-timestamp", "x-nonce", "x-signature")


@dataclass(frozen=True)
class CreditCredentials:
    """The one app key the stand-in accepts, and its secret."""

    app_key: str
    app_secret: str


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The lowercase hex signature of one request."""
    digest = hashlib.sha256(body).hexdigest()
    text = "\n".join((method.upper(), path, timestamp, nonce, digest))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class NonceLedger:
    """Nonces seen in the last `ttl_s` seconds.

    Entries older than the TTL are pruned on every use, so memory is bounded by
    the request rate times the TTL. Forgetting an old nonce is safe: a request
    replayed after the TTL carries a timestamp older than the allowed skew.
    """

    def __init__(self, ttl_s: float = NONCE_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, nonce: str, now: float) -> bool:
        """True when `nonce` was used within the TTL before `now`."""
        self._prune(now)
        return nonce in self._seen

    def use(self, nonce: str, now: float) -> None:
        """Remember `nonce` as used at `now`."""
        self._prune(now)
        self._seen[nonce] = now
        self._seen.move_to_end(nonce)

    def _prune(self, now: float) -> None:
        # Insertion order is time order while the clock moves forward; should it
        # step back, pruning merely stops early and catches up later.
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self.ttl_s:
                break
            del self._seen[oldest]


class RateWindow:
    """A sliding one-second window admitting at most `per_second` calls."""

    def __init__(self, per_second: int) -> None:
        if per_second < 0:
            raise ValueError("the rate limit must not be negative")
        self.per_second = per_second
        self._admitted: deque[float] = deque()

    def admit(self, now: float) -> int | None:
        """None when the call is admitted, else the seconds to wait (Retry-After)."""
        if self.per_second == 0:
            return None
        while self._admitted and now - self._admitted[0] >= 1.0:
            self._admitted.popleft()
        if len(self._admitted) < self.per_second:
            self._admitted.append(now)
            return None
        return max(1, math.ceil(self._admitted[0] + 1.0 - now))


class SignatureGuard:
    """Checks the signing headers of a request; raises `ApiError` when it fails."""

    def __init__(
        self,
        credentials: CreditCredentials,
        clock: Callable[[], float],
        rate_limit_per_s: int = 0,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.nonces = NonceLedger()
        self.rate = RateWindow(rate_limit_per_s)

    def check(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Pass a well-signed, fresh, unreplayed, admitted request; raise otherwise."""
        values = [headers.get(name, "") for name in _HEADERS]
        if not all(values):
            raise _unauthorised("missing authentication headers")
        app_key, timestamp, nonce, given = values
        if not hmac.compare_digest(app_key.encode(), self.credentials.app_key.encode()):
            raise _unauthorised("unknown app key")
        now = self.clock()
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise ApiError(401, "E4011", "timestamp is not unix milliseconds")
        if abs(int(timestamp) - now * 1000) > TIMESTAMP_SKEW_S * 1000:
            raise ApiError(401, "E4011", "timestamp is more than 300 s off")
        if len(nonce) not in NONCE_LENGTHS:
            raise _unauthorised("nonce must be 16 to 64 characters")
        expected = signature(self.credentials.app_secret, method, path, timestamp, nonce, body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise _unauthorised("signature does not match")
        if self.nonces.seen(nonce, now):
            raise ApiError(401, "E4012", "nonce was already used")
        self.nonces.use(nonce, now)
        wait = self.rate.admit(now)
        if wait is not None:
            raise ApiError(429, "E4290", "rate limit exceeded", {"Retry-After": str(wait)})


def _unauthorised(message: str) -> ApiError:
    return ApiError(401, "E4010", message)
