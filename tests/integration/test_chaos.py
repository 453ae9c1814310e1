"""The chaos run: no revoked token accepted past the bound, nothing lost.

Three real instances on one real redis-server, each behind its own TCP
proxy, under a steady mix of requests, logouts and admin revocations, while
faults are injected at random. ``--chaos-duration`` sets how long it runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chaos import Cluster, Driver, Record
from tests.support.http import request
from tests.support.waiting import wait_until

from .conftest import SECRET, add_user

MAX_STALENESS = 1.0
USERS = [(f"user{n}@example.com", f"user-password-{n}") for n in range(4)]
ADMIN = ("chaos-admin@example.com", "chaos-admin-password")


def add_users(redis_url: str) -> None:
    for email, password in [*USERS, ADMIN]:
        add_user(redis_url, email, password, admin=email == ADMIN[0])


@pytest.mark.parametrize("ack", ["local", "everywhere"])
def test_chaos_keeps_the_freshness_bound(
    tmp_path: Path,
    request_duration: float,
    ack: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "JWT_SECRET": SECRET,
        "REPLICA_MAX_STALENESS": str(MAX_STALENESS),
        "REPLICA_HEARTBEAT_INTERVAL": "0.2",
        "REVOCATION_ACK": ack,
        "SIGNIN_MAX_FAILURES_PER_ADDRESS": "100000",
        "LOG_LEVEL": "INFO",
    }
    cluster = Cluster(tmp_path, env, size=3)
    record = Record()
    cluster.start()
    try:
        add_users(cluster.redis.url)
        driver = Driver(cluster, record, users=USERS, admin=ADMIN, seed=20261204)
        driver.run(request_duration)
        lost = count_lost(cluster, record)
    finally:
        cluster.stop()

    figures = summarize(record, ack)
    with capsys.disabled():
        print(figures["text"])  # the run's figures are its report

    assert figures["late_accepts"] == 0, figures["text"]
    if ack == "everywhere":
        assert figures["accepted_after_ack"] == 0, figures["text"]
    assert lost == 0
    assert figures["server_errors"] == 0, figures["text"]
    assert len(record.acknowledged) >= 5, figures["text"]
    assert sum(record.faults.values()) >= 3, figures["text"]
    assert_clean_logs(cluster.logs())


def count_lost(cluster: Cluster, record: Record) -> int:
    """Count acknowledged revocations that Redis no longer holds."""
    lost = 0
    for token in record.acknowledged:
        jti = record.jtis[token]
        reply = cluster.redis.command("EXISTS", f"revocation:{{revocation}}:jti:{jti}")
        if reply.strip() != b":1":
            lost += 1
    return lost


def summarize(record: Record, ack: str) -> dict[str, object]:
    late: list[float] = []
    inside: list[float] = []
    for sample in record.samples:
        acked = record.acknowledged.get(sample.token)
        if acked is None or not 200 <= sample.status < 300 or sample.sent_at <= acked:
            continue
        (late if sample.sent_at > acked + MAX_STALENESS else inside).append(
            sample.sent_at - acked
        )
    statuses: dict[int, int] = {}
    for sample in record.samples:
        statuses[sample.status] = statuses.get(sample.status, 0) + 1
    codes_503 = {s.code for s in record.samples if s.status == 503}
    recoveries = sorted(record.recoveries)
    text = "\n".join(
        [
            f"chaos run, REVOCATION_ACK={ack}",
            f"  requests: {len(record.samples)}, "
            f"by status {dict(sorted(statuses.items()))}",
            f"  revocations acknowledged: {len(record.acknowledged)}, "
            f"not acknowledged: {record.revoke_failures}",
            f"  faults injected: {dict(record.faults)}",
            f"  2xx after ack, inside the {MAX_STALENESS} s window: {len(inside)}"
            + (f", latest {max(inside) * 1000:.0f} ms after ack" if inside else ""),
            f"  2xx later than the window: {len(late)}",
            f"  503 codes: {sorted(codes_503)}",
            "  recovery after each fault (s): "
            + (
                f"median {recoveries[len(recoveries) // 2]:.2f}, "
                f"max {recoveries[-1]:.2f}"
                if recoveries
                else "none"
            ),
        ]
    )
    return {
        "text": text,
        "late_accepts": len(late),
        "accepted_after_ack": len(late) + len(inside),
        "server_errors": sum(
            n for status, n in statuses.items() if status >= 500 and status != 503
        ),
    }


def assert_clean_logs(logs: list[str]) -> None:
    for log in logs:
        assert "Traceback" not in log, log[-3000:]
        assert "unhandled error" not in log, log[-3000:]
        assert "Task exception was never retrieved" not in log, log[-3000:]


@pytest.fixture
def request_duration(pytestconfig: pytest.Config) -> float:
    return float(pytestconfig.getoption("--chaos-duration"))


def test_ready_explains_why_while_redis_is_down(tmp_path: Path) -> None:
    """While Redis is unreachable, protected requests fail closed, /ready says why."""
    env = {
        "JWT_SECRET": SECRET,
        "REPLICA_MAX_STALENESS": "1.0",
        "REPLICA_HEARTBEAT_INTERVAL": "0.2",
    }
    cluster = Cluster(tmp_path, env, size=1)
    cluster.start()
    try:
        add_users(cluster.redis.url)
        url = cluster.url(0)
        login = request(
            "POST",
            f"{url}/auth/login",
            json=dict(zip(("email", "password"), USERS[0], strict=True)),
        )
        token = login.json()["access_token"]
        cluster.proxies[0].set_mode("refuse")
        wait_until(
            lambda: request("GET", f"{url}/ready").status == 503,
            timeout=5.0,
            message="/ready still 200 with redis unreachable",
        )
        ready = request("GET", f"{url}/ready").json()
        assert ready["store"] == "unreachable"
        assert ready["reason"]
        profile = request(
            "GET", f"{url}/api/profile", headers={"Authorization": f"Bearer {token}"}
        )
        assert profile.status == 503
        assert profile.json()["error"] == "revocation_unavailable"

        cluster.proxies[0].set_mode("pass")
        wait_until(
            lambda: request("GET", f"{url}/ready").json().get("replica") == "live",
            timeout=15.0,
            message="instance did not recover by itself",
        )
    finally:
        cluster.stop()
