"""An in-process replica with its sync task, and a watch on what it accepts."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from redis.asyncio import Redis

from service.replica.replica import RevocationReplica
from service.replica.state import ReplicaState
from service.replica.sync import ReplicaSync
from service.revocation.counters import RevocationCounters
from service.storage.revocations import RevocationStore

from .waiting import wait_until_async

HORIZON = 905


@dataclass
class ReplicaHarness:
    """A replica kept by a running ReplicaSync, and the store it follows."""

    replica: RevocationReplica
    store: RevocationStore
    sync: ReplicaSync
    max_staleness: float

    def accepts_locally(
        self, jti: str, subject: str = "s", issued_at: float = 1.0
    ) -> bool:
        """Tell whether a request with this token would pass without Redis."""
        return self.replica.is_fresh() and not self.replica.may_reject(
            jti, subject, issued_at
        )

    async def wait_live(self, within: float = 5.0) -> None:
        await wait_until_async(
            lambda: self.replica.state is ReplicaState.LIVE and self.replica.is_fresh(),
            timeout=within,
            message=f"replica not live: {self.replica.public_state()}",
        )


class RevokingDuringStartup(RevocationStore):
    """A store that revokes ``racing`` once: after the subscribe, before the snapshot.

    The sync reads the server's run id between the two steps, so the event
    reaches the subscription buffer while the snapshot already holds it.
    """

    fired = False

    async def server_run_id(self) -> str:
        if not self.fired:
            self.fired = True
            await self.revoke_jti("racing")
        return await super().server_run_id()


@contextlib.asynccontextmanager
async def running_replica(
    redis: Redis,
    *,
    store_redis: Redis | None = None,
    max_staleness: float = 1.0,
    heartbeat_interval: float = 0.1,
    store: RevocationStore | None = None,
) -> AsyncIterator[ReplicaHarness]:
    """Run a replica syncing through ``redis`` until the block ends."""
    store = store or RevocationStore(store_redis or redis, horizon=HORIZON)
    replica = RevocationReplica(RevocationCounters())
    sync = ReplicaSync(
        replica,
        store,
        redis,
        max_staleness=max_staleness,
        heartbeat_interval=heartbeat_interval,
    )
    sync.start()
    try:
        yield ReplicaHarness(replica, store, sync, max_staleness)
    finally:
        await sync.stop()


@dataclass
class AcceptanceWatch:
    """Poll, every millisecond, whether a replica would accept a jti locally."""

    harness: ReplicaHarness
    jti: str
    last_accepted: float = float("-inf")
    samples: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def __aenter__(self) -> AcceptanceWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self) -> None:
        while True:
            self.samples += 1
            if self.harness.accepts_locally(self.jti):
                self.last_accepted = time.monotonic()
            await asyncio.sleep(0.001)
