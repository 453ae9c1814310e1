"""Fixtures for tests on real processes: redis-server and service instances."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import Response, request
from tests.support.redis_server import RedisServer
from tests.support.service_process import REPO_ROOT, ServiceProcess

SECRET = "integration-secret-4f9a1c7e2b8d6f3a0e5c9b7d1a2f4e6c8b0d"
ALICE = ("alice@example.com", "alice-password-1")
ADMIN = ("admin@example.com", "admin-password-1")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of this test's own, on a free port."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One instance on the embedded store, shared by a module's tests."""
    log = tmp_path_factory.mktemp("embedded") / "service.log"
    instance = ServiceProcess({"REDIS_URL": ""}, log_path=log)
    instance.start()
    yield instance
    instance.stop()


def sign_in_as_demo(service: ServiceProcess) -> str:
    """Sign in as the embedded demo admin with the password the process printed."""
    passwords = re.findall(r"demo@example\.com\s+password: (\S+)", service.log_text())
    assert passwords, "the service printed no demo credentials"
    response = request(
        "POST",
        f"{service.url}/auth/login",
        json={"email": "demo@example.com", "password": passwords[-1]},
    )
    assert response.status == 200, response.text()
    token: str = response.json()["access_token"]
    return token


def add_user(redis_url: str, email: str, password: str, *, admin: bool) -> None:
    """Add a user through the real command line, password on standard input."""
    argv = [sys.executable, "-m", "service", "users", "add", email, "--password-stdin"]
    if admin:
        argv.append("--admin")
    result = subprocess.run(
        argv,
        input=password + "\n",
        capture_output=True,
        text=True,
        env=_env({"REDIS_URL": redis_url}),
        cwd=REPO_ROOT,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "JWT"))}
    env.update(extra)
    return env


class Fleet:
    """Service instances started by one test, all stopped when it ends."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self.instances: list[ServiceProcess] = []

    def start(self, redis_url: str, **env: str) -> ServiceProcess:
        """Start one more instance on ``redis_url``, ready to serve."""
        settings = {
            "REDIS_URL": redis_url,
            "JWT_SECRET": SECRET,
            "LOG_LEVEL": "INFO",
            **env,
        }
        log = self._directory / f"instance-{len(self.instances)}.log"
        instance = ServiceProcess(settings, log_path=log)
        self.instances.append(instance)
        instance.start()
        instance.wait_ready()
        return instance

    def stop_all(self) -> None:
        for instance in self.instances:
            instance.stop()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    started = Fleet(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def users(redis_server: RedisServer) -> None:
    """Alice and an admin, in the test's Redis."""
    add_user(redis_server.url, *ALICE, admin=False)
    add_user(redis_server.url, *ADMIN, admin=True)


def login(instance: ServiceProcess, email: str, password: str) -> str:
    response = request(
        "POST",
        f"{instance.url}/auth/login",
        json={"email": email, "password": password},
    )
    assert response.status == 200, response.text()
    return str(response.json()["access_token"])


def get(instance: ServiceProcess, path: str, token: str | None = None) -> Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return request("GET", f"{instance.url}{path}", headers=headers)


def post(
    instance: ServiceProcess,
    path: str,
    token: str | None = None,
    json: object | None = None,
) -> Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return request("POST", f"{instance.url}{path}", headers=headers, json=json)
