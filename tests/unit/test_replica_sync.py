"""ReplicaSync on the embedded store: start-up, events, gaps, the heartbeat."""

from __future__ import annotations

import time

import fakeredis
import pytest

from service.replica.state import ReplicaState
from service.storage.revocations import RevocationStore
from tests.support.replica_harness import (
    HORIZON,
    AcceptanceWatch,
    RevokingDuringStartup,
    running_replica,
)
from tests.support.waiting import wait_until_async


@pytest.fixture
def redis() -> fakeredis.FakeAsyncRedis:
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())


async def test_start_up_loads_existing_revocations_then_goes_live(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    store = RevocationStore(redis, horizon=HORIZON)
    await store.revoke_jti("before-start")
    await store.revoke_subject("alice")

    async with running_replica(redis) as harness:
        await harness.wait_live()
        assert harness.replica.applied_seq == 2
        assert harness.replica.may_reject("before-start", "x", 1.0)
        assert harness.replica.may_reject("any", "alice", time.time() - 1)
        assert harness.accepts_locally("never-revoked")


async def test_a_published_revocation_is_applied_within_milliseconds(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    async with running_replica(redis) as harness:
        await harness.wait_live()
        await harness.store.revoke_jti("j1")
        await wait_until_async(
            lambda: not harness.accepts_locally("j1"),
            timeout=0.5,
            message="event not applied",
        )
        assert harness.replica.applied_seq == 1
        assert harness.replica.is_fresh()


async def test_a_lost_event_is_caught_as_a_gap_by_the_next_one(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    async with running_replica(redis) as harness:
        await harness.wait_live()
        await harness.store.revoke_jti("lost", publish=False)
        await harness.store.revoke_jti("next")
        await wait_until_async(
            lambda: (
                harness.replica.counters.resyncs["sequence_gap"] >= 1
                or harness.replica.counters.resyncs["sequence_behind"] >= 1
            ),
            timeout=2.0,
            message="gap not detected",
        )
        await harness.wait_live()
        assert harness.replica.may_reject("lost", "x", 1.0)
        assert harness.replica.may_reject("next", "x", 1.0)


async def test_a_lost_last_event_is_caught_by_the_heartbeat_within_the_bound(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    async with running_replica(
        redis, max_staleness=0.5, heartbeat_interval=0.05
    ) as harness:
        await harness.wait_live()
        async with AcceptanceWatch(harness, "lost-last") as watch:
            await harness.store.revoke_jti("lost-last", publish=False)
            acknowledged = time.monotonic()
            await wait_until_async(
                lambda: harness.replica.may_reject("lost-last", "x", 1.0),
                timeout=3.0,
                message="lost last event never recovered",
            )
        assert watch.last_accepted < acknowledged + harness.max_staleness
        await harness.wait_live()


async def test_the_lease_lapses_when_heartbeats_stop(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    async with running_replica(
        redis, max_staleness=0.3, heartbeat_interval=0.05
    ) as harness:
        await harness.wait_live()
        harness.sync._interval = 60.0  # freeze the heartbeat
        await wait_until_async(
            lambda: not harness.replica.is_fresh(),
            timeout=2.0,
            message="lease did not lapse",
        )
        assert harness.replica.public_state() is ReplicaState.STALE


async def test_a_revocation_between_subscribe_and_snapshot_is_kept(
    redis: fakeredis.FakeAsyncRedis,
) -> None:
    store = RevokingDuringStartup(redis, horizon=HORIZON)
    async with running_replica(redis, store=store) as harness:
        await harness.wait_live()
        assert store.fired
        assert harness.replica.may_reject("racing", "x", 1.0)
        assert harness.replica.applied_seq == 1
        assert harness.replica.counters.events_skipped == 1
