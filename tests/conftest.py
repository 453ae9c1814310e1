"""Fixtures shared by every test: settings, an in-process app, users."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import fakeredis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from service.accounts.passwords import Passwords
from service.app import create_app
from service.appkeys import USERS
from service.config import Settings, load_settings
from service.storage.connection import RedisClients
from service.storage.users import StoredUser
from service.tokens.claims import ADMIN_ROLE

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
ALICE_PASSWORD = "alice-password-1"
ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    """Hash cheaply: the argon2 cost is not what these tests are about."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_settings(**overrides: Any) -> Settings:
    """Return validated settings for a test, with a fixed secret."""
    environ = {"JWT_SECRET": TEST_SECRET, "REDIS_URL": "redis://127.0.0.1:1/0"}
    return replace(load_settings(environ), **overrides)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@dataclass
class Accounts:
    """The users every app test starts with."""

    alice: StoredUser
    admin: StoredUser


@pytest.fixture
def fake_clients() -> RedisClients:
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return RedisClients(commands=client, replica=client, embedded=True)


@pytest.fixture
async def make_client(
    aiohttp_client: Any, fake_clients: RedisClients, passwords: Passwords
) -> Callable[..., Any]:
    """Return a factory of test clients for apps built from these settings."""

    async def build(settings: Settings | None = None) -> TestClient[Any, Any]:
        app = create_app(
            settings or make_settings(), clients=fake_clients, passwords=passwords
        )
        client: TestClient[Any, Any] = await aiohttp_client(app)
        return client

    return build


async def add_user(
    app: web.Application,
    passwords: Passwords,
    email: str,
    password: str,
    *,
    admin: bool = False,
) -> StoredUser:
    user = StoredUser(
        subject=str(uuid.uuid4()),
        email=email,
        name=email.split("@")[0].title(),
        roles=(ADMIN_ROLE,) if admin else (),
        password_hash=passwords.hash(password),
    )
    await app[USERS].add(user)
    return user


@pytest.fixture
async def client(
    make_client: Callable[..., Any], passwords: Passwords
) -> TestClient[Any, Any]:
    """A client of an app on fakeredis with alice and an admin."""
    test_client: TestClient[Any, Any] = await make_client()
    app = app_of(test_client)
    await add_user(app, passwords, "alice@example.com", ALICE_PASSWORD)
    await add_user(app, passwords, "admin@example.com", ADMIN_PASSWORD, admin=True)
    return test_client


async def login(client: TestClient[Any, Any], email: str, password: str) -> str:
    """Sign in and return the access token."""
    response = await client.post(
        "/auth/login", json={"email": email, "password": password}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    return str(body["access_token"])


def app_of(client: TestClient[Any, Any]) -> web.Application:
    """Return the application a test client serves."""
    app: web.Application | None = client.app
    assert app is not None
    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-duration",
        type=float,
        default=15.0,
        help="seconds of fault injection per chaos run (CI runs the default)",
    )
    parser.addoption(
        "--soak-duration",
        type=float,
        default=0.0,
        help="seconds of soak load (0, the default, skips the soak test)",
    )


# Set-up and teardown of a chaos or soak run besides its load, in seconds.
_RUN_OVERHEAD = 90.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    """Give on-demand long runs a timeout that grows with their duration."""
    durations = {
        "request_duration": float(config.getoption("--chaos-duration")),
        "soak_duration": float(config.getoption("--soak-duration")),
    }
    for item in items:
        for fixture, duration in durations.items():
            if fixture in getattr(item, "fixturenames", ()):
                timeout = max(60.0, duration + _RUN_OVERHEAD)
                item.add_marker(pytest.mark.timeout(timeout))
