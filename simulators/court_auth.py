"""OAuth 2.0 client credentials and the per-client rate limit of the court stand-in.

Tokens are random opaque strings that live `ttl_s` seconds on an injected clock,
so tests can move time instead of waiting; expired tokens are pruned whenever a
new one is issued. The rate limit is a sliding one-second window per client:
a call takes a slot when it passes authentication, and gives it back when it is
rejected afterwards (a malformed body), so only answered calls count. Token
requests never reach the limiter.
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CourtCredentials", "RateLimiter", "TokenStore"]


@dataclass(frozen=True)
class CourtCredentials:
    """The one client the stand-in knows (`client_id`, `client_secret`)."""

    client_id: str
    client_secret: str

    def match(self, client_id: str, client_secret: str) -> bool:
        """True for this client's id and secret (compared in constant time)."""
        same_id = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        same_secret = secrets.compare_digest(client_secret.encode(), self.client_secret.encode())
        return same_id and same_secret


class TokenStore:
    """Bearer tokens issued to clients, each valid for `ttl_s` seconds."""

    def __init__(self, ttl_s: int, clock: Callable[[], float]) -> None:
        if ttl_s < 1:
            raise ValueError("token lifetime must be at least one second")
        self.ttl_s = ttl_s
        self._clock = clock
        self._expiry: dict[str, tuple[str, float]] = {}

    def issue(self, client_id: str) -> str:
        """A fresh token for `client_id`."""
        now = self._clock()
        self._expiry = {token: held for token, held in self._expiry.items() if held[1] > now}
        token = secrets.token_urlsafe(32)
        self._expiry[token] = (client_id, now + self.ttl_s)
        return token

    def client_of(self, token: str) -> str | None:
        """The client holding `token`, or None when it is unknown or expired."""
        held = self._expiry.get(token)
        if held is None or held[1] <= self._clock():
            return None
        return held[0]


class RateLimiter:
    """At most `per_s` calls per client in any one-second window; 0 turns it off."""

    WINDOW_S = 1.0

    def __init__(self, per_s: int, clock: Callable[[], float]) -> None:
        if per_s < 0:
            raise ValueError("rate limit must not be negative")
        self.per_s = per_s
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}

    def acquire(self, client_id: str) -> float | None:
        """Take a slot and return its time, or None when the window is full."""
        now = self._clock()
        if not self.per_s:
            return now
        calls = self._calls.setdefault(client_id, deque())
        while calls and calls[0] <= now - self.WINDOW_S:
            calls.popleft()
        if len(calls) >= self.per_s:
            return None
        calls.append(now)
        return now

    def release(self, client_id: str, slot: float) -> None:
        """Give back a slot taken by a call that was rejected after all."""
        calls = self._calls.get(client_id)
        if calls is not None and slot in calls:
            calls.remove(slot)

    def retry_after_s(self, client_id: str) -> int:
        """Whole seconds until the oldest call in the window leaves it (at least 1)."""
        calls = self._calls.get(client_id)
        if not calls:
            return 1
        return max(1, math.ceil(calls[0] + self.WINDOW_S - self._clock()))
