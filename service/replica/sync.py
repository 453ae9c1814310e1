"""Keep a replica fresh: subscribe, snapshot, follow events, renew the lease.

Start-up and every resync: subscribe first (events buffer in the
connection), read the sequence number and the live set, load it, apply the
buffered events newer than the snapshot, and only then go LIVE.

While following, one loop applies events in sequence order and, every
``heartbeat_interval``, pings the subscription and reads the sequence number
in Redis; it renews the lease to
``t + max_staleness`` (``t`` taken when the read was sent) once every event
up to that number is applied. Any doubt ends LIVE at once and resyncs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from ..storage import schema
from ..storage.events import EventFormatError, decode_event
from ..storage.revocations import RevocationStore
from .backoff import ResyncBackoff
from .replica import RevocationReplica
from .state import ReplicaState, StaleCause

__all__ = ["ReplicaSync", "ResyncNeeded"]

logger = logging.getLogger(__name__)

# How long the subscription may take to confirm, in seconds.
_SUBSCRIBE_TIMEOUT = 2.0
# Heartbeats between checks of the server's run id.
_RUN_ID_EVERY = 10
# Heartbeats between pings of the subscription.
_PING_EVERY = 2
# Heartbeats between sweeps of expired entries.
_SWEEP_EVERY = 10
# How often, and how long each time (s), stop() waits for the task to end.
_STOP_ATTEMPTS = 20
_STOP_WAIT = 0.25


class ResyncNeeded(Exception):
    """Raised when the replica can no longer prove itself fresh."""

    def __init__(self, cause: StaleCause, detail: str = "") -> None:
        super().__init__(f"{cause.value}: {detail}" if detail else cause.value)
        self.cause = cause


class ReplicaSync:
    """The background task that fills a replica and keeps its lease running."""

    def __init__(
        self,
        replica: RevocationReplica,
        store: RevocationStore,
        redis: Redis,
        *,
        max_staleness: float,
        heartbeat_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Sync ``replica`` from ``store``, subscribing through ``redis``.

        ``max_staleness`` and ``heartbeat_interval`` are in seconds.
        """
        self._replica = replica
        self._store = store
        self._redis = redis
        self._max_staleness = max_staleness
        self._interval = heartbeat_interval
        self._monotonic = monotonic
        self._pending: deque[tuple[int, float]] = deque()
        self._ping_sent: float | None = None
        self._last_pong = float("-inf")
        self._backoff = ResyncBackoff()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in a background task until :meth:`stop`."""
        self._task = asyncio.create_task(self.run(), name="replica-sync")

    async def stop(self) -> None:
        """Cancel the background task and wait until it has ended."""
        task = self._task
        if task is None:
            return
        # Repeat the cancel: one can be swallowed (see _follow).
        for _ in range(_STOP_ATTEMPTS):
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=_STOP_WAIT)
            if done:
                break
        else:
            logger.error("replica sync did not stop")
        self._task = None

    async def run(self) -> None:
        """Sync and follow until cancelled, resyncing after every fault."""
        while True:
            cause = await self._sync_once()
            self._replica.mark_stale(cause)
            await asyncio.sleep(self._backoff.next_delay())

    async def _sync_once(self) -> StaleCause:
        try:
            await self._sync_and_follow()
        except ResyncNeeded as exc:
            logger.info("replica resync needed", extra={"cause": str(exc)})
            return exc.cause
        except (RedisError, OSError, TimeoutError) as exc:
            logger.info(
                "replica lost redis", extra={"error": f"{type(exc).__name__}: {exc}"}
            )
            return StaleCause.LISTENER_ERROR
        except Exception:
            logger.exception("replica listener failed")
            return StaleCause.LISTENER_ERROR
        raise AssertionError("following never returns normally")

    async def _sync_and_follow(self) -> None:
        self._replica.state = ReplicaState.SYNCING
        self._pending.clear()
        self._ping_sent = None

        pubsub = self._redis.pubsub(ignore_subscribe_messages=False)
        try:
            await self._subscribe(pubsub)
            started = self._monotonic()
            run_id = await self._store.server_run_id()
            await self._load_snapshot(started)
            await self._drain_buffered(pubsub)
            self._replica.go_live(started + self._max_staleness)
            self._backoff.reset()
            await self._follow(pubsub, run_id)
        finally:
            await _close_quietly(pubsub)

    async def _subscribe(self, pubsub: PubSub) -> None:
        async with asyncio.timeout(_SUBSCRIBE_TIMEOUT):
            await pubsub.subscribe(schema.EVENTS_CHANNEL)
            message = await pubsub.get_message(timeout=_SUBSCRIBE_TIMEOUT)
        if message is None or message["type"] != "subscribe":
            raise ResyncNeeded(StaleCause.LISTENER_ERROR, "no subscribe confirmation")

    async def _load_snapshot(self, started: float) -> None:
        snapshot = await self._store.snapshot()
        self._replica.load(snapshot)
        logger.info(
            "replica resync done",
            extra={
                "seq": snapshot.seq,
                "size": len(self._replica),
                "seconds": round(self._monotonic() - started, 4),
            },
        )

    async def _drain_buffered(self, pubsub: PubSub) -> None:
        while (message := await pubsub.get_message(timeout=0)) is not None:
            self._handle(message)

    async def _follow(self, pubsub: PubSub, run_id: str) -> None:
        # One task does both jobs: cancelling a pending get_message can be
        # swallowed on Python 3.11 when it races redis-py's own read timeout.
        beats = 0
        next_beat = self._monotonic() + self._interval
        while True:
            wait = max(0.0, next_beat - self._monotonic())
            message = await pubsub.get_message(timeout=wait)
            if message is not None:
                self._handle(message)
            if self._monotonic() < next_beat:
                continue

            beats += 1
            next_beat = self._monotonic() + self._interval
            await self._beat()
            await self._ping_if_due(pubsub)
            if beats % _RUN_ID_EVERY == 0:
                await self._check_run_id(run_id)
            if beats % _SWEEP_EVERY == 0:
                self._replica.discard_expired()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            self._apply(message["data"])
        elif kind == "pong":
            self._ping_sent = None
            self._last_pong = self._monotonic()
        elif kind == "subscribe":
            # redis-py re-subscribes after a reconnect without telling us.
            raise ResyncNeeded(StaleCause.RESUBSCRIBED)

    def _apply(self, data: bytes) -> None:
        try:
            event = decode_event(data)
        except EventFormatError as exc:
            raise ResyncNeeded(StaleCause.BAD_EVENT, str(exc)) from exc

        replica = self._replica
        if event.seq <= replica.applied_seq:
            replica.counters.events_skipped += 1
            return
        if event.seq != replica.applied_seq + 1:
            raise ResyncNeeded(
                StaleCause.SEQUENCE_GAP,
                f"expected {replica.applied_seq + 1}, got {event.seq}",
            )
        replica.apply(event)
        self._renew_caught_up()

    def _renew_caught_up(self) -> None:
        applied = self._replica.applied_seq
        while self._pending and self._pending[0][0] <= applied:
            _, sent_at = self._pending.popleft()
            self._replica.go_live(sent_at + self._max_staleness)

    async def _ping_if_due(self, pubsub: PubSub) -> None:
        # One ping per interval proves the subscription still delivers: a
        # half-open connection shows as a missing pong within a few seconds.
        now = self._monotonic()
        if self._ping_sent is not None:
            if now - self._ping_sent > self._silence_limit():
                raise ResyncNeeded(StaleCause.SUBSCRIPTION_SILENT)
        elif now - self._last_pong >= _PING_EVERY * self._interval:
            self._ping_sent = now
            await pubsub.ping()

    def _silence_limit(self) -> float:
        # Several intervals, so that one slow turn of a busy loop is no fault.
        return max(4 * self._interval, 1.0)

    async def _beat(self) -> None:
        sent_at = self._monotonic()
        try:
            async with asyncio.timeout(self._silence_limit()):
                seq = await self._store.sequence()
        except TimeoutError as exc:
            raise ResyncNeeded(StaleCause.HEARTBEAT_FAILED, "timed out") from exc

        applied = self._replica.applied_seq
        if seq < applied:
            raise ResyncNeeded(
                StaleCause.SEQUENCE_REGRESSED, f"redis has {seq}, applied {applied}"
            )
        if seq == applied:
            self._replica.go_live(sent_at + self._max_staleness)
            return

        self._pending.append((seq, sent_at))
        oldest_sent = self._pending[0][1]
        if sent_at - oldest_sent > self._silence_limit():
            raise ResyncNeeded(
                StaleCause.SEQUENCE_BEHIND, f"redis has {seq}, applied {applied}"
            )

    async def _check_run_id(self, run_id: str) -> None:
        async with asyncio.timeout(self._silence_limit()):
            current = await self._store.server_run_id()
        if current != run_id:
            raise ResyncNeeded(StaleCause.SERVER_RESTARTED)


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()
    except (RedisError, OSError):
        logger.debug("pubsub close failed", exc_info=True)
