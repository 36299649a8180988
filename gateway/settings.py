"""The gateway's configuration: one TOML file plus `CREDGATE_*` environment overrides.

Precedence, highest first: values given by the command line, the environment
(`CREDGATE_PLATFORMS__COURT__URL`, `__` between levels), the TOML file
(`--config`, else `CREDGATE_CONFIG`), the embedded defaults (in-memory cache,
SQLite access log, stand-ins on loopback). Unknown keys are refused, so a typo
stops the start instead of being ignored; every problem is reported as
`ConfigError` naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from connectors.settings import PlatformsSettings

__all__ = [
    "AccessLogSettings",
    "AuthSettings",
    "CacheSettings",
    "ConfigError",
    "GatewaySettings",
    "LimitsSettings",
    "Settings",
    "TelemetrySettings",
    "load_settings",
]


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


class ConfigError(ValueError):
    """The configuration is invalid; the message names each offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GatewaySettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65_535)
    mode: Literal["development", "production"] = "development"
    trusted_documents: str = ""
    # Browser origins allowed to call /graphql from their pages (CORS); none by default.
    cors_origins: tuple[str, ...] = ()

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], no path, no wildcard"
                )
        return origins


class AuthSettings(_Section):
    jwks_url: str = ""
    jwks_file: str = ""
    issuer: str = "credgate-dev"
    audience: str = "credgate"
    leeway_s: float = Field(30.0, ge=0, le=300)
    max_token_lifetime_s: float = Field(43_200.0, gt=0)  # exp - iat (and exp - now)
    enforce: bool = True
    pseudonym_key_file: str = ""
    policy_file: str = ""  # empty: the policy shipped with the package
    # Development only: key pair for `credgate token` and a pseudonym key, made on first use.
    dev_keys_dir: str = "data/dev-keys"


class LimitsSettings(_Section):
    """Abuse limits, checked before anything is executed."""

    max_depth: int = Field(12, ge=1)
    max_aliases: int = Field(600, ge=1)
    max_tokens: int = Field(20_000, ge=1)
    max_cost: int = Field(1_000_000, ge=1)  # a 500-person query with records costs ~340,000
    max_body_bytes: int = Field(1_048_576, ge=1_024)
    requests_per_minute: int = Field(600, ge=1, description="per principal")
    # Admission control per worker (gateway/admission.py): beyond these a request is
    # answered 503 OVERLOADED at once instead of waiting past platform deadlines.
    max_in_flight: int = Field(32, ge=1, description="GraphQL requests running at once")
    max_in_flight_per_principal: int = Field(8, ge=1, description="one caller's share")
    max_queue_ms: int = Field(250, ge=0, description="longest wait for a slot")
    # Slow clients (gateway/serving.py): a request's headers and its body must each
    # arrive within these; an idle kept-alive connection is closed after keep_alive_s.
    header_timeout_s: float = Field(10.0, gt=0)
    body_timeout_s: float = Field(30.0, gt=0)
    keep_alive_s: int = Field(5, ge=1)
    max_connections: int = Field(1_000, ge=1, description="open connections per worker")


class CacheSettings(_Section):
    """The record and report cache (gateway/caching.py builds it from these)."""

    backend: Literal["none", "memory", "redis"] = "memory"
    redis_url: str = ""
    # Redis entries are sealed with this key; `previous_key_files` only open older ones.
    # Development without a file: a key derived from the pseudonym key.
    encryption_key_file: str = ""
    previous_key_files: tuple[str, ...] = ()
    # Each Redis call's bound; past it the cache degrades for a second. Above the event
    # loop's lag under a burst, or a busy replica would give up on a healthy Redis.
    redis_timeout_s: float = Field(1.0, gt=0, le=30)
    max_entries: int = Field(50_000, ge=1, description="this process's tier, LRU beyond it")
    # Level 3 (kept final answers, a few KiB each) under its own bound; 0 turns it off.
    max_answers: int = Field(5_000, ge=0, description="kept answers in this process, LRU")
    max_answer_bytes: int = Field(64 * 2**20, ge=1_024, description="kept answers, in all")
    max_answer_entry_bytes: int = Field(2**20, ge=1_024, description="a larger answer is not kept")
    poll_interval_s: float = Field(1.0, gt=0, description="how often each change feed is read")
    cursor_dir: str = "data/cache"  # memory backend: where change-feed cursors are kept
    # How long past its time to live an entry may still be shown (marked stale) while
    # its platform is down; never to a verdict, never past a record's end.
    stale_grace_s: float = Field(3_600.0, ge=0)

    @model_validator(mode="after")
    def _redis_needs_url(self) -> CacheSettings:
        if self.backend == "redis" and not self.redis_url:
            raise ValueError("redis_url is required when backend = 'redis'")
        return self


class TelemetrySettings(_Section):
    """OpenTelemetry export (OTLP over HTTP); off while `otlp_endpoint` is empty."""

    otlp_endpoint: str = ""  # the collector's base URL, e.g. http://otel-collector:4318
    service_name: str = "credgate"


class AccessLogSettings(_Section):
    """The access log and what seals it (auth/access_log_seal.py)."""

    dsn: str = "sqlite:///data/access.db"
    # Development without these: keys made once in `[auth] dev_keys_dir`.
    chain_key_file: str = ""  # the HMAC key of the hash chains
    checkpoint_key_file: str = ""  # Ed25519 private key (PEM) signing the checkpoints
    checkpoint_public_key_file: str = ""  # its public half, all verify-log needs
    # Append-only. Development without one: beside a SQLite log, else in dev_keys_dir.
    checkpoint_file: str = ""
    checkpoint_interval_s: float = Field(60.0, gt=0)


class OutboxSettings(_Section):
    """The delivery worker of the outbox (usage feedback and objections to the credit platform)."""

    lease_s: float = Field(30.0, ge=1, le=3_600, description="how long a claimed item is held")
    poll_interval_s: float = Field(2.0, gt=0, le=60, description="how often due items are sought")
    retry_base_s: float = Field(1.0, gt=0, description="first retry delay, doubled each time")
    retry_max_s: float = Field(300.0, gt=0, description="longest retry delay")
    batch: int = Field(32, ge=1, le=1_000, description="items claimed at once")

    @model_validator(mode="after")
    def _base_below_max(self) -> OutboxSettings:
        if self.retry_base_s > self.retry_max_s:
            raise ValueError("retry_base_s must not exceed retry_max_s")
        return self


class Settings(BaseSettings):
    """The whole configuration; see ARCHITECTURE.md for the contract."""

    model_config = SettingsConfigDict(
        env_prefix="CREDGATE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    platforms: PlatformsSettings = Field(default_factory=PlatformsSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    access_log: AccessLogSettings = Field(default_factory=AccessLogSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.gateway.mode == "production":
            if not (self.auth.jwks_url or self.auth.jwks_file):
                raise ValueError("auth.jwks_url or auth.jwks_file is required in production mode")
            if not self.auth.enforce:
                raise ValueError("auth.enforce = false is refused in production mode")
            if not self.auth.pseudonym_key_file:
                raise ValueError("auth.pseudonym_key_file is required in production mode")
            for key in ("chain_key_file", "checkpoint_key_file", "checkpoint_file"):
                if not getattr(self.access_log, key):
                    raise ValueError(f"access_log.{key} is required in production mode")
            if self.cache.backend == "redis" and not self.cache.encryption_key_file:
                raise ValueError(
                    "cache.encryption_key_file is required with the Redis cache in production mode"
                )
        return self

    @model_validator(mode="after")
    def _lease_outlives_a_delivery(self) -> Settings:
        # A delivery is bounded by the credit platform's call deadline; a lease
        # shorter than twice that could run out while its item is still being sent.
        if self.outbox.lease_s < 2 * self.platforms.credit.timeout_s:
            raise ValueError("outbox.lease_s must be at least twice platforms.credit.timeout_s")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the configuration, or raise `ConfigError`.

    `overrides` are sections given by the command line, e.g.
    `gateway={"port": 8001}`; they win over the environment and the file.
    """
    path = config_file or (
        Path(os.environ["CREDGATE_CONFIG"]) if os.environ.get("CREDGATE_CONFIG") else None
    )
    if path is not None and not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FromFile(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'configuration'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    except ValueError as exc:  # a TOML syntax error
        raise ConfigError(f"configuration file {path}: {exc}") from None
