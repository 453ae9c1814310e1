"""One instance's Redis link blackholed or slowed while another revokes.

Instance B reaches Redis through a TCP proxy the test controls; instance A
reaches it directly and performs the revocation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.probe import TokenProbe
from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until

from .conftest import ALICE, Fleet, get, login, post

pytestmark = pytest.mark.usefixtures("users")

MAX_STALENESS = 1.0
ENV = {"REPLICA_MAX_STALENESS": str(MAX_STALENESS), "REPLICA_HEARTBEAT_INTERVAL": "0.2"}


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[TcpProxy]:
    link = TcpProxy("127.0.0.1", redis_server.port)
    link.start()
    yield link
    link.stop()


def test_blackholed_instance_accepts_no_revoked_token_after_the_bound(
    redis_server: RedisServer, fleet: Fleet, proxy: TcpProxy
) -> None:
    revoker = fleet.start(redis_server.url, **ENV)
    cut_off = fleet.start(proxy.url_for_redis, **ENV)
    token = login(revoker, *ALICE)
    assert get(cut_off, "/api/profile", token).status == 200

    with TokenProbe(cut_off.url, token) as probe:
        proxy.set_mode("blackhole")
        assert post(revoker, "/auth/logout", token).status == 200
        acknowledged = time.monotonic()
        wait_until(
            lambda: get(cut_off, "/api/profile", token).status == 503,
            timeout=MAX_STALENESS + 2.0,
            message="cut-off instance does not fail closed",
        )
        ready = get(cut_off, "/ready")
        assert ready.status == 503
        assert ready.json()["store"] == "unreachable"

        proxy.set_mode("pass")
        wait_until(
            lambda: get(cut_off, "/ready").json().get("replica") == "live",
            timeout=15.0,
            message="cut-off instance did not return to live",
        )

        probe.wait_past(time.monotonic())
    assert probe.accepted_after(acknowledged + MAX_STALENESS) == []
    assert get(cut_off, "/api/profile", token).status == 401
    rejected = get(cut_off, "/api/profile", token).json()["error"]
    assert rejected == "token_revoked"
    assert 503 in probe.statuses_after(acknowledged + MAX_STALENESS)


def test_slow_link_keeps_the_bound(
    redis_server: RedisServer, fleet: Fleet, proxy: TcpProxy
) -> None:
    revoker = fleet.start(redis_server.url, **ENV)
    slowed = fleet.start(proxy.url_for_redis, **ENV)
    token = login(revoker, *ALICE)

    proxy.set_delay(0.15)
    with TokenProbe(slowed.url, token) as probe:
        assert post(revoker, "/auth/logout", token).status == 200
        acknowledged = time.monotonic()
        wait_until(
            lambda: get(slowed, "/api/profile", token).status == 401,
            timeout=MAX_STALENESS + 1.0,
            message="slowed instance never rejected the token",
        )
        probe.wait_past(acknowledged + MAX_STALENESS)
    assert probe.accepted_after(acknowledged + MAX_STALENESS) == []


def test_ack_everywhere_holds_even_for_a_blackholed_instance(
    redis_server: RedisServer, fleet: Fleet, proxy: TcpProxy
) -> None:
    env = {**ENV, "REVOCATION_ACK": "everywhere"}
    revoker = fleet.start(redis_server.url, **env)
    cut_off = fleet.start(proxy.url_for_redis, **env)
    token = login(revoker, *ALICE)

    with TokenProbe(cut_off.url, token) as probe:
        proxy.set_mode("blackhole")
        assert post(revoker, "/auth/logout", token).status == 200
        acknowledged = time.monotonic()
        probe.wait_past(acknowledged + MAX_STALENESS)
    assert probe.accepted_after(acknowledged) == []
