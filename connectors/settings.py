"""How to reach each platform: the `[platforms.*]` sections of the configuration.

Connectors are configured only through these values, so the same code talks to
the stand-ins or to the real platforms. Secrets are `SecretStr`: they never show
in a repr, a log line or an error message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = [
    "ArchiveSettings",
    "CourtSettings",
    "CreditSettings",
    "PlatformSettings",
    "PlatformsSettings",
    "ProcurementSettings",
]


class PlatformSettings(BaseModel):
    """What every platform takes: deadlines, cache lifetime, freshness limit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(2.0, gt=0, description="whole-call deadline shared by all attempts")
    attempt_timeout_s: float = Field(1.0, gt=0, description="bound on one attempt")
    cache_ttl_s: float = Field(300.0, ge=0)
    freshness_s: float = Field(86_400.0, gt=0)
    merge_window_ms: float = Field(
        5.0, ge=0, le=100, description="concurrent callers' keys merged into one call; 0: off"
    )
    # Calls in flight to the platform from one worker; more wait their turn in the
    # gateway. The three HTTP platforms' together stay below the client's pool (200).
    max_in_flight: int = Field(48, ge=1, description="concurrent calls per worker")

    @model_validator(mode="after")
    def _attempt_within_deadline(self) -> PlatformSettings:
        if self.attempt_timeout_s > self.timeout_s:
            raise ValueError("attempt_timeout_s must not exceed timeout_s")
        return self


class CreditSettings(PlatformSettings):
    url: str = "http://127.0.0.1:9101"
    app_key: str = ""
    app_secret: SecretStr = SecretStr("")


class ProcurementSettings(PlatformSettings):
    url: str = "http://127.0.0.1:9102/ws/SupplierCreditService"
    username: str = ""
    password: SecretStr = SecretStr("")


class CourtSettings(PlatformSettings):
    url: str = "http://127.0.0.1:9103"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    freshness_s: float = Field(3_600.0, gt=0)


class ArchiveSettings(PlatformSettings):
    dsn: str = "sqlite:///data/archive.db"
    # Its statements run in worker threads (SQLite) or on a few connections
    # (PostgreSQL: four): beyond those, a call would wait inside its own deadline.
    max_in_flight: int = Field(4, ge=1, description="concurrent calls per worker")

    @model_validator(mode="after")
    def _known_scheme(self) -> ArchiveSettings:
        if not self.dsn.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("dsn must start with sqlite:/// or postgresql://")
        return self


class PlatformsSettings(BaseModel):
    """The four platforms, each with its own section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credit: CreditSettings = Field(default_factory=CreditSettings)
    procurement: ProcurementSettings = Field(default_factory=ProcurementSettings)
    court: CourtSettings = Field(default_factory=CourtSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
