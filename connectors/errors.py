"""The connectors' error hierarchy: every upstream failure, translated once.

    SourceError                 a platform gave no trustworthy answer
    ├── SourceUnavailable       it could not be asked (connect error, 5xx, down)
    │   ├── SourceTimeout       the call's deadline passed
    │   ├── SourceRateLimited   429 after the retries the deadline allowed
    │   ├── CircuitOpen         the breaker is open: the platform was not asked
    │   └── GatewayBusy         the gateway itself was too busy: no free upstream
    │                           slot in time, or its event loop too far behind
    │                           to hear the answer (never the platform's fault)
    ├── SourceAuthError         it refused our credentials
    └── SourceProtocolError     it answered, but the answer cannot be trusted
        │                       (malformed, wrong count, a subject not asked for,
        │                       a failed check digit, hostile XML)
        └── SourceRefused       it refused what was asked as such (an unknown
                                record, another subject's): asking again won't help

Messages are safe to show to a caller: they name the platform and the kind of
failure, never an upstream URL, credential, SQL statement or personal identifier.
"""

from __future__ import annotations

__all__ = [
    "CircuitOpen",
    "GatewayBusy",
    "SourceAuthError",
    "SourceError",
    "SourceProtocolError",
    "SourceRateLimited",
    "SourceRefused",
    "SourceTimeout",
    "SourceUnavailable",
]


class SourceError(Exception):
    """A platform gave no trustworthy answer."""

    def __init__(self, platform: str, message: str) -> None:
        super().__init__(f"{platform}: {message}")
        self.platform = platform
        self.message = message


class SourceUnavailable(SourceError):
    """The platform could not be asked: connect error, server error, down."""


class SourceTimeout(SourceUnavailable):
    """The call's deadline passed before an answer came."""


class SourceRateLimited(SourceUnavailable):
    """The platform kept answering 429 for as long as the deadline allowed."""

    def __init__(self, platform: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(platform, message)
        self.retry_after_s = retry_after_s


class CircuitOpen(SourceUnavailable):
    """Recent calls failed; the platform is left alone until the breaker half-opens."""


class GatewayBusy(SourceUnavailable):
    """The gateway's own backlog, not the platform, kept the answer from coming in time."""


class SourceAuthError(SourceError):
    """The platform refused our credentials."""


class SourceProtocolError(SourceError):
    """The platform answered, but its answer cannot be trusted."""


class SourceRefused(SourceProtocolError):
    """The platform refused the request itself (e.g. the credit platform's E4000)."""
