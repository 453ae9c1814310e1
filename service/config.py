"""Settings: defaults from ``config/``, an optional TOML file, then environment.

Everything is validated once, at start-up, into a frozen :class:`Settings`;
a bad value stops the start with a message naming the setting.
"""

from __future__ import annotations

import logging
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigurationError

__all__ = [
    "MIN_SECRET_BYTES",
    "RevocationAck",
    "RevocationCache",
    "Settings",
    "load_settings",
]

logger = logging.getLogger(__name__)

DEFAULTS_PATH = Path(__file__).resolve().parent.parent / "config" / "defaults.toml"

MIN_SECRET_BYTES = 32

_E = TypeVar("_E", bound=StrEnum)

_WEAK_SECRETS = frozenset({"secret", "changeme", "change-me", "password", "dev"})


class RevocationCache(StrEnum):
    """Where revocation checks are answered."""

    REPLICA = "replica"
    OFF = "off"


class RevocationAck(StrEnum):
    """When a revoking endpoint answers."""

    LOCAL = "local"
    EVERYWHERE = "everywhere"


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration of one instance. Durations in seconds."""

    host: str
    port: int
    max_body_bytes: int
    shutdown_timeout: float
    log_level: str
    dev_mode: bool
    redis_url: str | None
    redis_timeout: float
    redis_pool_size: int
    jwt_secret: bytes
    jwt_secret_generated: bool
    token_issuer: str
    token_audience: str
    token_lifetime: int
    token_leeway: int
    token_cache_size: int
    revocation_cache: RevocationCache
    replica_max_staleness: float
    replica_heartbeat_interval: float
    revocation_ack: RevocationAck
    revocation_fail_open: bool
    signin_max_failures_per_email: int
    signin_max_failures_per_address: int
    signin_failure_window: int
    trusted_proxy_hops: int

    @property
    def embedded(self) -> bool:
        """Tell whether this instance runs on the in-process store."""
        return self.redis_url is None

    @property
    def revocation_horizon(self) -> int:
        """Seconds a revocation must outlive its token's issue: lifetime plus leeway."""
        return self.token_lifetime + self.token_leeway

    def public_view(self) -> dict[str, object]:
        """Return the settings with secrets masked, for logging."""
        view: dict[str, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "jwt_secret":
                value = "***"
            elif field.name == "redis_url" and value:
                value = _mask_url(value)
            view[field.name] = value
        return view


# Each setting: (section, key in TOML, environment variable, parser).
_Parser = Callable[[str, Any], Any]


def _parse_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an integer, got {value!r}") from None


def _parse_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {value!r}")


def _parse_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, got {value!r}")
    return value


_SETTINGS: dict[str, tuple[str, str, str, _Parser]] = {
    "host": ("server", "host", "HOST", _parse_str),
    "port": ("server", "port", "PORT", _parse_int),
    "max_body_bytes": ("server", "max_body_bytes", "MAX_BODY_BYTES", _parse_int),
    "shutdown_timeout": (
        "server",
        "shutdown_timeout",
        "SHUTDOWN_TIMEOUT",
        _parse_float,
    ),
    "log_level": ("server", "log_level", "LOG_LEVEL", _parse_str),
    "dev_mode": ("server", "dev_mode", "DEV_MODE", _parse_bool),
    "redis_url": ("redis", "url", "REDIS_URL", _parse_str),
    "redis_timeout": ("redis", "timeout", "REDIS_TIMEOUT", _parse_float),
    "redis_pool_size": ("redis", "pool_size", "REDIS_POOL_SIZE", _parse_int),
    "token_issuer": ("tokens", "issuer", "JWT_ISSUER", _parse_str),
    "token_audience": ("tokens", "audience", "JWT_AUDIENCE", _parse_str),
    "token_lifetime": ("tokens", "lifetime", "TOKEN_LIFETIME", _parse_int),
    "token_leeway": ("tokens", "leeway", "TOKEN_LEEWAY", _parse_int),
    "token_cache_size": ("tokens", "cache_size", "TOKEN_CACHE_SIZE", _parse_int),
    "revocation_cache": ("replica", "cache", "REVOCATION_CACHE", _parse_str),
    "replica_max_staleness": (
        "replica",
        "max_staleness",
        "REPLICA_MAX_STALENESS",
        _parse_float,
    ),
    "replica_heartbeat_interval": (
        "replica",
        "heartbeat_interval",
        "REPLICA_HEARTBEAT_INTERVAL",
        _parse_float,
    ),
    "revocation_ack": ("replica", "ack", "REVOCATION_ACK", _parse_str),
    "revocation_fail_open": (
        "replica",
        "fail_open",
        "REVOCATION_FAIL_OPEN",
        _parse_bool,
    ),
    "signin_max_failures_per_email": (
        "signin",
        "max_failures_per_email",
        "SIGNIN_MAX_FAILURES_PER_EMAIL",
        _parse_int,
    ),
    "signin_max_failures_per_address": (
        "signin",
        "max_failures_per_address",
        "SIGNIN_MAX_FAILURES_PER_ADDRESS",
        _parse_int,
    ),
    "signin_failure_window": (
        "signin",
        "failure_window",
        "SIGNIN_FAILURE_WINDOW",
        _parse_int,
    ),
    "trusted_proxy_hops": (
        "server",
        "trusted_proxy_hops",
        "TRUSTED_PROXY_HOPS",
        _parse_int,
    ),
}


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    require_secret: bool = True,
) -> Settings:
    """Load, merge and validate the settings of this instance.

    ``overrides`` (from command-line flags) win over everything else.
    ``require_secret=False`` serves commands that sign nothing (user admin).
    """
    environ = os.environ if environ is None else environ
    layered = _read_toml(DEFAULTS_PATH)

    path = config_file or _config_path(environ)
    if path is not None:
        _merge(layered, _read_toml(path))

    values = _resolve(layered, environ)
    values.update(overrides or {})

    return _validate(values, environ, require_secret=require_secret)


def _config_path(environ: Mapping[str, str]) -> Path | None:
    name = environ.get("SERVICE_CONFIG", "").strip()
    return Path(name) if name else None


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not TOML: {exc}") from exc


def _merge(base: dict[str, dict[str, Any]], extra: dict[str, Any]) -> None:
    for section, table in extra.items():
        if not isinstance(table, dict):
            raise ConfigurationError(f"config section [{section}] must be a table")
        base.setdefault(section, {}).update(table)


def _resolve(
    layered: dict[str, dict[str, Any]], environ: Mapping[str, str]
) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, (section, key, env_name, parse) in _SETTINGS.items():
        raw = environ.get(env_name)
        source = env_name
        if raw is None:
            raw = layered.get(section, {}).get(key)
            source = f"[{section}] {key}"
        if raw is None:
            raise ConfigurationError(f"setting {source} is missing")
        values[name] = parse(source, raw)
    return values


def _validate(
    values: dict[str, object], environ: Mapping[str, str], *, require_secret: bool
) -> Settings:
    redis_url = str(values["redis_url"]).strip() or None
    dev_mode = bool(values["dev_mode"]) or redis_url is None
    secret, generated = _load_secret(environ, dev_mode=dev_mode or not require_secret)

    settings = Settings(
        host=str(values["host"]),
        port=_check_range("PORT", values["port"], 0, 65535),
        max_body_bytes=_check_range(
            "MAX_BODY_BYTES", values["max_body_bytes"], 256, 1 << 24
        ),
        shutdown_timeout=_check_positive(
            "SHUTDOWN_TIMEOUT", values["shutdown_timeout"]
        ),
        log_level=_check_log_level(str(values["log_level"])),
        dev_mode=dev_mode,
        redis_url=_check_redis_url(redis_url),
        redis_timeout=_check_positive("REDIS_TIMEOUT", values["redis_timeout"]),
        redis_pool_size=_check_range(
            "REDIS_POOL_SIZE", values["redis_pool_size"], 1, 10_000
        ),
        jwt_secret=secret,
        jwt_secret_generated=generated,
        token_issuer=_check_nonempty("JWT_ISSUER", values["token_issuer"]),
        token_audience=_check_nonempty("JWT_AUDIENCE", values["token_audience"]),
        token_lifetime=_check_range(
            "TOKEN_LIFETIME", values["token_lifetime"], 1, 86400
        ),
        token_leeway=_check_range("TOKEN_LEEWAY", values["token_leeway"], 0, 300),
        token_cache_size=_check_range(
            "TOKEN_CACHE_SIZE", values["token_cache_size"], 0, 10_000_000
        ),
        revocation_cache=_check_choice(
            "REVOCATION_CACHE", values["revocation_cache"], RevocationCache
        ),
        replica_max_staleness=_check_positive(
            "REPLICA_MAX_STALENESS", values["replica_max_staleness"]
        ),
        replica_heartbeat_interval=_check_positive(
            "REPLICA_HEARTBEAT_INTERVAL", values["replica_heartbeat_interval"]
        ),
        revocation_ack=_check_choice(
            "REVOCATION_ACK", values["revocation_ack"], RevocationAck
        ),
        revocation_fail_open=bool(values["revocation_fail_open"]),
        signin_max_failures_per_email=_check_range(
            "SIGNIN_MAX_FAILURES_PER_EMAIL",
            values["signin_max_failures_per_email"],
            1,
            1_000_000,
        ),
        signin_max_failures_per_address=_check_range(
            "SIGNIN_MAX_FAILURES_PER_ADDRESS",
            values["signin_max_failures_per_address"],
            1,
            1_000_000,
        ),
        signin_failure_window=_check_range(
            "SIGNIN_FAILURE_WINDOW", values["signin_failure_window"], 1, 86400
        ),
        trusted_proxy_hops=_check_range(
            "TRUSTED_PROXY_HOPS", values["trusted_proxy_hops"], 0, 16
        ),
    )
    _check_heartbeat(settings)
    return settings


def _load_secret(environ: Mapping[str, str], *, dev_mode: bool) -> tuple[bytes, bool]:
    secret = _read_secret(environ)
    if secret is None:
        if not dev_mode:
            raise ConfigurationError(
                "JWT_SECRET (or JWT_SECRET_FILE) is required outside dev mode"
            )
        return secrets.token_bytes(MIN_SECRET_BYTES), True

    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}"
        )
    if _looks_weak(secret):
        raise ConfigurationError("JWT_SECRET is a weak or placeholder value")
    return secret, False


def _read_secret(environ: Mapping[str, str]) -> bytes | None:
    value = environ.get("JWT_SECRET")
    if value:
        return value.encode()

    path = environ.get("JWT_SECRET_FILE")
    if not path:
        return None
    try:
        return Path(path).read_bytes().strip()
    except OSError as exc:
        raise ConfigurationError(f"cannot read JWT_SECRET_FILE {path}: {exc}") from exc


def _looks_weak(secret: bytes) -> bool:
    text = secret.decode("utf-8", errors="replace").lower()
    if len(set(secret)) < 8:
        return True
    return any(text.startswith(weak) and len(set(text)) < 12 for weak in _WEAK_SECRETS)


def _check_range(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an integer")
    number = value
    if not low <= number <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}")
    return number


def _check_positive(name: str, value: object) -> float:
    if not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number")
    number = float(value)
    if number <= 0:
        raise ConfigurationError(f"{name} must be greater than 0")
    return number


def _check_nonempty(name: str, value: object) -> str:
    text = str(value).strip()
    if not text:
        raise ConfigurationError(f"{name} must not be empty")
    return text


def _check_log_level(level: str) -> str:
    name = level.strip().upper()
    if name not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigurationError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    return name


def _check_redis_url(url: str | None) -> str | None:
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            "REDIS_URL must start with redis://, rediss:// or unix://"
        )
    return url


def _check_choice(name: str, value: object, choices: type[_E]) -> _E:
    try:
        return choices(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise ConfigurationError(f"{name} must be one of: {allowed}") from None


def _check_heartbeat(settings: Settings) -> None:
    if settings.replica_heartbeat_interval * 2 > settings.replica_max_staleness:
        raise ConfigurationError(
            "REPLICA_HEARTBEAT_INTERVAL must be at most half of "
            "REPLICA_MAX_STALENESS, or the lease could never be renewed in time"
        )


def _mask_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
