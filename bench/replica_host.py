"""Host many replicas in one process, for the fan-out benchmark.

``python -m bench.replica_host --redis-url URL --count N --max-seconds S``
runs N pairs of RevocationReplica and ReplicaSync, each with a subscription
of its own (as N instances would have), with the service's default settings.
It prints ``{"live": N}`` once every replica is LIVE, notes when each
replica applies each event, and when a line arrives on standard input (or
it closes) prints ``{"applied": {seq: [monotonic seconds, ...]}}`` and
exits. After S seconds it exits regardless.

CLOCK_MONOTONIC is one clock for the whole machine, so the benchmark can
compare these times with its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence

from redis.asyncio import Redis

from service.config import load_settings
from service.replica.replica import RevocationReplica
from service.replica.sync import ReplicaSync
from service.revocation.counters import RevocationCounters
from service.storage.events import RevocationEvent
from service.storage.revocations import RevocationStore

__all__ = ["main"]

_LIVE_TIMEOUT = 60.0
_SPARE_CONNECTIONS = 16

Applied = defaultdict[int, list[float]]


class TimedReplica(RevocationReplica):
    """A replica that notes when it applied each event."""

    def __init__(self, counters: RevocationCounters, applied: Applied) -> None:
        super().__init__(counters)
        self._applied = applied

    def apply(self, event: RevocationEvent) -> None:
        """Apply the event, then note the time."""
        super().apply(event)
        self._applied[event.seq].append(time.monotonic())


def main(argv: Sequence[str] | None = None) -> int:
    """Host the replicas until told to stop; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.replica_host")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    args = parser.parse_args(argv)

    applied = asyncio.run(_host(args.redis_url, args.count, args.max_seconds))
    _say({"applied": applied})
    return 0


async def _host(url: str, count: int, max_seconds: float) -> Applied:
    settings = load_settings({"REDIS_URL": url}, require_secret=False)
    # Every replica holds a subscription connection of its own, and the
    # pool's default of 100 would refuse the 101st.
    client = Redis.from_url(
        url,
        socket_timeout=5.0,
        health_check_interval=0,
        max_connections=2 * count + _SPARE_CONNECTIONS,
    )
    store = RevocationStore(client, horizon=settings.revocation_horizon)
    applied: Applied = defaultdict(list)

    replicas = [TimedReplica(RevocationCounters(), applied) for _ in range(count)]
    syncs = [
        ReplicaSync(
            replica,
            store,
            client,
            max_staleness=settings.replica_max_staleness,
            heartbeat_interval=settings.replica_heartbeat_interval,
        )
        for replica in replicas
    ]
    for sync in syncs:
        sync.start()
    try:
        await _wait_live(replicas)
        _say({"live": count})
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_seconds):
                await _stop_requested()
    finally:
        # stop() repeats its cancel: one can be swallowed inside redis-py.
        await asyncio.gather(*(sync.stop() for sync in syncs))
        await client.aclose()
    return applied


async def _wait_live(replicas: list[TimedReplica]) -> None:
    deadline = time.monotonic() + _LIVE_TIMEOUT
    while not all(replica.is_fresh() for replica in replicas):
        if time.monotonic() > deadline:
            raise TimeoutError("replicas never all went live")
        await asyncio.sleep(0.01)


async def _stop_requested() -> None:
    """Return once a line (or the end) arrives on standard input."""
    # A thread blocked in readline() would keep asyncio.run() from returning.
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    await reader.readline()


def _say(message: dict[str, object]) -> None:
    print(json.dumps(message), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
