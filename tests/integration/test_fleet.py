"""Several real service processes on one real Redis, as a fleet runs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from tests.support.redis_server import RedisServer
from tests.support.waiting import wait_until

from .conftest import ADMIN, ALICE, Fleet, get, login, post

pytestmark = pytest.mark.usefixtures("users")

MAX_STALENESS = 2.0


def test_walkthrough_logout_on_one_instance_is_401_on_the_other(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    """Log in on A, read on B, log out on A, read on B: 401 within the bound."""
    first = fleet.start(redis_server.url)
    second = fleet.start(redis_server.url)
    token = login(first, *ALICE)
    assert get(second, "/api/profile", token).status == 200

    assert post(first, "/auth/logout", token).status == 200
    acknowledged = time.monotonic()

    wait_until(
        lambda: get(second, "/api/profile", token).status == 401,
        timeout=MAX_STALENESS,
        message="the other instance still accepts the logged-out token",
    )
    assert time.monotonic() - acknowledged < MAX_STALENESS
    assert get(second, "/api/profile", token).json()["error"] == "token_revoked"


def test_ack_everywhere_means_rejected_on_every_instance_once_answered(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    first = fleet.start(redis_server.url, REVOCATION_ACK="everywhere")
    second = fleet.start(redis_server.url, REVOCATION_ACK="everywhere")
    token = login(first, *ALICE)

    started = time.monotonic()
    assert post(first, "/auth/logout", token).status == 200
    assert time.monotonic() - started >= MAX_STALENESS * 0.99
    assert get(second, "/api/profile", token).status == 401


def test_admin_revocation_and_revoke_all_reach_the_other_instance(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    first = fleet.start(redis_server.url)
    second = fleet.start(redis_server.url)
    admin = login(first, *ADMIN)
    victim = login(first, *ALICE)
    jti = jwt.decode(victim, options={"verify_signature": False})["jti"]

    assert post(first, "/admin/revocations", admin, {"jti": jti}).status == 201
    wait_until(
        lambda: get(second, "/api/profile", victim).status == 401,
        timeout=MAX_STALENESS,
        message="admin revocation did not reach the other instance",
    )
    assert get(second, f"/admin/revocations/{jti}", admin).status == 200

    other = login(first, *ALICE)
    subject = get(second, "/api/profile", other).json()["sub"]
    assert post(second, f"/admin/subjects/{subject}/revoke-all", admin).status == 200
    wait_until(
        lambda: get(first, "/api/profile", other).status == 401,
        timeout=MAX_STALENESS,
        message="revoke-all did not reach the other instance",
    )
    assert get(first, "/api/profile", login(second, *ALICE)).status == 200


def test_the_replica_off_mode_checks_redis_on_every_request(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    first = fleet.start(redis_server.url, REVOCATION_CACHE="off")
    second = fleet.start(redis_server.url, REVOCATION_CACHE="off")
    token = login(first, *ALICE)
    assert get(second, "/ready").json()["replica"] == "off"

    assert post(first, "/auth/logout", token).status == 200
    assert get(second, "/api/profile", token).status == 401


def test_a_burst_wider_than_the_redis_pool_queues_instead_of_failing(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    """Forty parallel Redis-checked requests share two connections: all 200."""
    instance = fleet.start(
        redis_server.url, REVOCATION_CACHE="off", REDIS_POOL_SIZE="2", REDIS_TIMEOUT="2"
    )
    token = login(instance, *ALICE)

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(
            pool.map(lambda _: get(instance, "/api/profile", token).status, range(40))
        )

    assert statuses == [200] * 40
    clients = redis_server.command("CLIENT", "LIST").decode()
    assert clients.count("name=jwt-revocation:commands") <= 2


def test_sign_in_failures_are_counted_across_instances(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    instances = [
        fleet.start(redis_server.url, SIGNIN_MAX_FAILURES_PER_EMAIL="4")
        for _ in range(2)
    ]
    for attempt in range(4):
        response = post(
            instances[attempt % 2],
            "/auth/login",
            json={"email": ALICE[0], "password": "wrong-password"},
        )
        assert response.status == 401

    blocked = post(
        instances[0],
        "/auth/login",
        json=dict(zip(("email", "password"), ALICE, strict=True)),
    )
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
