"""Settings: layering, validation, and refusing weak secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import RevocationAck, RevocationCache, load_settings
from service.errors import ConfigurationError

STRONG = "q8Vd2mZ7rT1xK4pL9sN6bH3wJ0cF5gY8uE2aR7tM"
REDIS = "redis://127.0.0.1:6379/0"


def test_defaults_come_from_config_defaults_toml() -> None:
    settings = load_settings({"JWT_SECRET": STRONG, "REDIS_URL": REDIS})
    assert settings.token_lifetime == 900
    assert settings.replica_max_staleness == 2.0
    assert settings.revocation_cache is RevocationCache.REPLICA
    assert settings.revocation_ack is RevocationAck.LOCAL
    assert settings.revocation_fail_open is False
    assert not settings.dev_mode


def test_environment_overrides_the_file_which_overrides_defaults(
    tmp_path: Path,
) -> None:
    config = tmp_path / "service.toml"
    config.write_text("[tokens]\nlifetime = 600\nleeway = 7\n")
    settings = load_settings(
        {"JWT_SECRET": STRONG, "REDIS_URL": REDIS, "TOKEN_LIFETIME": "300"},
        config_file=config,
    )
    assert settings.token_lifetime == 300
    assert settings.token_leeway == 7


def test_missing_secret_stops_the_start_outside_dev_mode() -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        load_settings({"REDIS_URL": REDIS})


@pytest.mark.parametrize(
    "secret", ["short", "a" * 40, "secret" * 8, "changeme" * 5, "ab" * 20]
)
def test_weak_secrets_stop_the_start(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        load_settings({"JWT_SECRET": secret, "REDIS_URL": REDIS})


def test_secret_is_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(STRONG + "\n")
    settings = load_settings({"JWT_SECRET_FILE": str(path), "REDIS_URL": REDIS})
    assert settings.jwt_secret == STRONG.encode()


def test_embedded_store_implies_dev_mode_with_a_generated_secret() -> None:
    settings = load_settings({})
    assert settings.embedded
    assert settings.dev_mode
    assert settings.jwt_secret_generated
    assert len(settings.jwt_secret) >= 32


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "70000"),
        ("REPLICA_MAX_STALENESS", "-1"),
        ("REVOCATION_CACHE", "sometimes"),
        ("REVOCATION_ACK", "never"),
        ("REVOCATION_FAIL_OPEN", "maybe"),
        ("REDIS_URL", "http://x"),
        ("LOG_LEVEL", "LOUD"),
        ("TOKEN_CACHE_SIZE", "-5"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    environ = {"JWT_SECRET": STRONG, "REDIS_URL": REDIS, name: value}
    with pytest.raises(ConfigurationError, match=name):
        load_settings(environ)


def test_heartbeat_must_fit_twice_into_the_staleness_bound() -> None:
    environ = {
        "JWT_SECRET": STRONG,
        "REDIS_URL": REDIS,
        "REPLICA_MAX_STALENESS": "1",
        "REPLICA_HEARTBEAT_INTERVAL": "0.8",
    }
    with pytest.raises(ConfigurationError, match="REPLICA_HEARTBEAT_INTERVAL"):
        load_settings(environ)


def test_public_view_masks_secrets() -> None:
    settings = load_settings(
        {"JWT_SECRET": STRONG, "REDIS_URL": "redis://user:pw@host:6379/0"}
    )
    view = settings.public_view()
    assert STRONG not in repr(view)
    assert "pw" not in str(view["redis_url"])
