"""Shutdown with requests in flight, and sign-in under parallel pressure."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.http import Response
from tests.support.redis_server import RedisServer
from tests.support.waiting import wait_until

from .conftest import ALICE, Fleet, login, post

pytestmark = pytest.mark.usefixtures("users")

SEQUENCE_KEY = "revocation:{revocation}:seq"


def test_sigterm_lets_an_in_flight_revocation_finish_then_exits(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    """A logout waiting out REVOCATION_ACK=everywhere still answers 200."""
    instance = fleet.start(
        redis_server.url, REVOCATION_ACK="everywhere", SHUTDOWN_TIMEOUT="10"
    )
    token = login(instance, *ALICE)
    answers: list[Response] = []
    worker = threading.Thread(
        target=lambda: answers.append(post(instance, "/auth/logout", token))
    )
    worker.start()
    wait_until(
        lambda: redis_server.command("EXISTS", SEQUENCE_KEY).startswith(b":1"),
        timeout=5.0,
        message="logout never reached redis",
    )

    stopping = time.monotonic()
    os.kill(instance.pid, signal.SIGTERM)
    worker.join(timeout=10)
    wait_until(
        lambda: instance.returncode is not None,
        timeout=12.0,
        message="instance did not exit after SIGTERM",
    )

    assert answers
    assert answers[0].status == 200
    assert instance.returncode == 0
    assert time.monotonic() - stopping < 12
    assert "Traceback" not in instance.log_text()


def test_sign_in_limit_holds_under_parallel_attempts_across_instances(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    env = {"SIGNIN_MAX_FAILURES_PER_EMAIL": "5"}
    instances = [fleet.start(redis_server.url, **env) for _ in range(2)]
    body = {"email": ALICE[0], "password": "wrong-password"}

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(
                lambda n: post(instances[n % 2], "/auth/login", json=body).status,
                range(24),
            )
        )
    assert statuses.count(401) == 5
    assert statuses.count(429) == 19


def test_unknown_and_known_emails_answer_alike_and_in_similar_time(
    redis_server: RedisServer, fleet: Fleet
) -> None:
    instance = fleet.start(
        redis_server.url,
        SIGNIN_MAX_FAILURES_PER_EMAIL="100",
        SIGNIN_MAX_FAILURES_PER_ADDRESS="1000",
    )

    def attempt(email: str) -> tuple[float, Response]:
        started = time.monotonic()
        response = post(
            instance, "/auth/login", json={"email": email, "password": "not-it-1"}
        )
        return time.monotonic() - started, response

    known = [attempt(ALICE[0]) for _ in range(7)]
    unknown = [attempt(f"nobody{n}@example.com") for n in range(7)]

    assert {r.body for _, r in known} == {r.body for _, r in unknown}
    assert {r.status for _, r in known + unknown} == {401}
    ratio = statistics.median(t for t, _ in known) / statistics.median(
        t for t, _ in unknown
    )
    assert 0.5 < ratio < 2.0, ratio
