"""Start-up: refusals with clear messages, and the embedded default."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.http import request
from tests.support.redis_server import RedisServer
from tests.support.service_process import REPO_ROOT, ServiceProcess

from .conftest import SECRET, _env


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(env),
        cwd=REPO_ROOT,
        timeout=30,
        check=False,
    )


def test_missing_secret_outside_dev_mode_refuses_to_start() -> None:
    result = run_serve({"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr


def test_weak_secret_refuses_to_start() -> None:
    result = run_serve({"REDIS_URL": "redis://127.0.0.1:1/0", "JWT_SECRET": "x" * 40})
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr


def test_bad_setting_is_named() -> None:
    result = run_serve(
        {"REDIS_URL": "redis://127.0.0.1:1/0", "JWT_SECRET": SECRET, "PORT": "many"}
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_evicting_redis_is_refused(tmp_path: Path) -> None:
    server = RedisServer(
        tmp_path / "redis", extra_args=["--maxmemory-policy", "allkeys-lru"]
    )
    server.start()
    try:
        result = run_serve({"REDIS_URL": server.url, "JWT_SECRET": SECRET})
    finally:
        server.stop()
    assert result.returncode != 0
    assert "noeviction" in result.stderr


def test_embedded_default_serves_a_demo_user_and_warns(tmp_path: Path) -> None:
    instance = ServiceProcess({}, log_path=tmp_path / "embedded.log")
    instance.start()
    try:
        log = instance.log_text()
        assert "NOT shared with other instances" in log
        match = re.search(r"(\S+@\S+)\s+password: (\S+)", log)
        assert match, log
        response = request(
            "POST",
            f"{instance.url}/auth/login",
            json={"email": match.group(1), "password": match.group(2)},
        )
        assert response.status == 200
        token = response.json()["access_token"]
        assert token not in instance.log_text()
    finally:
        instance.stop()
