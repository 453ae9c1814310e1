"""The freshness bound under faults, on a real redis-server.

Each test revokes a token while something is wrong and asserts that no
replica accepts it later than ``max_staleness`` after the acknowledgement,
and that the replica returns to LIVE by itself.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from service.config import load_settings
from service.storage.connection import RedisClients, connect_clients
from service.storage.revocations import RevocationStore
from tests.support.redis_server import RedisServer
from tests.support.replica_harness import (
    HORIZON,
    AcceptanceWatch,
    ReplicaHarness,
    RevokingDuringStartup,
    running_replica,
)
from tests.support.waiting import wait_until_async

from .conftest import SECRET

MAX_STALENESS = 1.0
HEARTBEAT = 0.1


@pytest.fixture
async def clients(redis_server: RedisServer) -> AsyncIterator[RedisClients]:
    settings = load_settings({"REDIS_URL": redis_server.url, "JWT_SECRET": SECRET})
    made = connect_clients(settings)
    yield made
    await made.close()


def replica_of(
    clients: RedisClients, store: RevocationStore | None = None
) -> contextlib.AbstractAsyncContextManager[ReplicaHarness]:
    return running_replica(
        clients.replica,
        store_redis=clients.commands,
        store=store,
        max_staleness=MAX_STALENESS,
        heartbeat_interval=HEARTBEAT,
    )


async def revoke_and_watch(
    harness: ReplicaHarness,
    jti: str,
    *,
    publish: bool = True,
) -> tuple[AcceptanceWatch, float]:
    """Revoke ``jti`` while watching the replica; return the watch and the ack."""
    async with AcceptanceWatch(harness, jti) as watch:
        await harness.store.revoke_jti(jti, publish=publish)
        acknowledged = time.monotonic()
        await wait_until_async(
            lambda: harness.replica.may_reject(jti, "s", 1.0),
            timeout=10.0,
            message=f"{jti} never reached the replica",
        )
    return watch, acknowledged


async def test_killed_subscription_resyncs_and_keeps_the_bound(
    redis_server: RedisServer, clients: RedisClients
) -> None:
    async with replica_of(clients) as harness:
        await harness.wait_live()
        async with AcceptanceWatch(harness, "during-outage") as watch:
            redis_server.command("CLIENT", "KILL", "TYPE", "pubsub")
            await harness.store.revoke_jti("during-outage")
            acknowledged = time.monotonic()
            await harness.wait_live(within=5.0)
            await wait_until_async(
                lambda: harness.replica.may_reject("during-outage", "s", 1.0),
                timeout=5.0,
                message="revocation made while the subscription was down is missing",
            )
        assert watch.last_accepted < acknowledged + MAX_STALENESS
        resyncs = harness.replica.counters.resyncs
        assert sum(resyncs.values()) >= 1


async def test_redis_restart_keeps_acknowledged_revocations_and_recovers(
    redis_server: RedisServer, clients: RedisClients
) -> None:
    async with replica_of(clients) as harness:
        await harness.wait_live()
        await revoke_and_watch(harness, "before-restart")

        redis_server.restart()
        await wait_until_async(
            lambda: sum(harness.replica.counters.resyncs.values()) >= 1,
            timeout=5.0,
            message="restart not noticed",
        )
        await harness.wait_live(within=10.0)
        assert harness.replica.may_reject("before-restart", "s", 1.0)
        assert (await harness.store.lookup("before-restart", "s")).jti_revoked

        watch, acknowledged = await revoke_and_watch(harness, "after-restart")
        assert watch.last_accepted < acknowledged + MAX_STALENESS


async def test_a_dropped_event_and_a_dropped_last_event_are_both_caught(
    clients: RedisClients,
) -> None:
    async with replica_of(clients) as harness:
        await harness.wait_live()
        watch, acknowledged = await revoke_and_watch(harness, "dropped", publish=False)
        assert watch.last_accepted < acknowledged + MAX_STALENESS

        await harness.store.revoke_jti("dropped-too", publish=False)
        watch, acknowledged = await revoke_and_watch(harness, "published")
        assert watch.last_accepted < acknowledged + MAX_STALENESS
        assert harness.replica.may_reject("dropped-too", "s", 1.0)


async def test_a_revocation_between_subscribe_and_snapshot_is_kept(
    clients: RedisClients,
) -> None:
    """The event lands in the subscription buffer and in the snapshot: once."""
    store = RevokingDuringStartup(clients.commands, horizon=HORIZON)
    async with replica_of(clients, store) as harness:
        await harness.wait_live()

        assert store.fired
        assert harness.replica.may_reject("racing", "s", 1.0)
        assert harness.replica.applied_seq == 1
        assert harness.replica.counters.events_skipped == 1


async def test_paused_redis_lets_the_lease_lapse_then_recovers(
    redis_server: RedisServer, clients: RedisClients
) -> None:
    async with replica_of(clients) as harness:
        await harness.wait_live()
        redis_server.pause()
        try:
            paused = time.monotonic()
            await wait_until_async(
                lambda: not harness.replica.is_fresh(),
                timeout=MAX_STALENESS + 1.0,
                message="lease still runs while redis is paused",
            )
            assert time.monotonic() - paused <= MAX_STALENESS + 0.2
        finally:
            redis_server.resume()
        await harness.wait_live(within=10.0)


async def test_a_replica_on_a_fresh_redis_after_data_loss_resyncs(
    tmp_path: Path,
) -> None:
    """Redis without persistence restarts empty: the sequence goes back."""
    server = RedisServer(tmp_path / "volatile", appendonly=False)
    server.start()
    settings = load_settings({"REDIS_URL": server.url, "JWT_SECRET": SECRET})
    clients = connect_clients(settings)
    try:
        async with replica_of(clients) as harness:
            await harness.wait_live()
            await revoke_and_watch(harness, "lost-with-redis")
            server.restart()
            await wait_until_async(
                lambda: harness.replica.applied_seq == 0,
                timeout=5.0,
                message="the replica kept state that redis lost",
            )
            await harness.wait_live(within=10.0)
            assert harness.replica.applied_seq == 0
            assert not harness.replica.may_reject("lost-with-redis", "s", 1.0)
    finally:
        await clients.close()
        server.stop()


async def test_redis_sees_no_lookup_per_request_while_live(
    redis_server: RedisServer, clients: RedisClients
) -> None:
    async with replica_of(clients) as harness:
        await harness.wait_live()
        checks = 0
        for _ in range(5000):
            if harness.accepts_locally("not-revoked"):
                checks += 1
        assert checks == 5000

        stats = redis_server.info("commandstats")
        assert "cmdstat_mget" not in stats
