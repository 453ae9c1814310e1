"""Scenario 6: fan-out. Propagation and Redis CPU as subscribed replicas grow.

Replicas share processes: bench/replica_host.py runs many RevocationReplica
and ReplicaSync pairs in one, each with its own subscription, and notes
when each applied each event. The benchmark revokes through the store at a
gentle pace and times every (revocation, replica) pair from the
acknowledgement. Redis CPU is INFO cpu (sys + user) over a window with no
revocations, then over the revocations.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from service.storage.revocations import RevocationStore
from service.tokens.issuer import new_jti
from tests.support.redis_server import RedisServer

from .charts import Chart, Lines
from .fleet import Fleet, Helper
from .options import Context
from .outcome import Outcome
from .redis_info import cpu_seconds
from .stats import Spread, interleave, percentile
from .tables import Table, number, spread

__all__ = ["run"]

logger = logging.getLogger(__name__)

# Seconds between revocations: one event is through every replica long
# before the next, so each is timed alone and none queues behind another.
_BASE_SPACING = 0.01
_SPACING_PER_REPLICA = 0.0001
# Bounds a replica host's life beyond its expected work, in seconds.
_HOST_SLACK = 120.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One round at one fan-out size. Times in seconds, CPU in s per s."""

    replicas: int
    hosts: int
    delays: tuple[float, ...]
    all_applied: tuple[float, ...]
    missing: int
    idle_cpu: float
    revoking_cpu: float
    cpu_per_revocation: float


def run(context: Context) -> Outcome:
    """Measure every fan-out size, interleaved, and summarise."""
    profile = context.profile
    per_round = math.ceil(profile.fanout_samples / profile.rounds)

    with Fleet(context.workdir / "fanout", context.cores) as fleet:
        redis = fleet.redis("redis")
        samples = interleave(
            profile.fanout_sizes,
            profile.rounds,
            lambda size, index: _measure(fleet, redis, size, per_round, context),
        )
    return _outcome(samples, context)


def _measure(
    fleet: Fleet, redis: RedisServer, size: int, count: int, context: Context
) -> Sample:
    spacing = _BASE_SPACING + _SPACING_PER_REPLICA * size
    hosts = _start_hosts(fleet, redis, size, count * spacing)
    idle = _cpu_rate(redis, context.profile.idle_window)

    before = cpu_seconds(redis)
    started = time.monotonic()
    horizon = fleet.settings(redis).revocation_horizon
    acks = asyncio.run(_revoke(redis.url, count, spacing, horizon))
    window = time.monotonic() - started
    revoking = (cpu_seconds(redis) - before) / window

    applied = _stop_hosts(hosts)
    sample = _sample(size, len(hosts), acks, applied, idle, revoking, window)
    logger.info(
        "fanout %d replicas: p99 %.2f ms, %d missing",
        size,
        percentile(sample.delays, 99) * 1000,
        sample.missing,
    )
    return sample


def _start_hosts(
    fleet: Fleet, redis: RedisServer, size: int, busy_seconds: float
) -> list[Helper]:
    """Start replica hosts, one per usable core at most; wait until all LIVE."""
    count = min(size, len(os.sched_getaffinity(0)))
    shares = [size // count + (index < size % count) for index in range(count)]
    lifetime = busy_seconds + _HOST_SLACK

    hosts = []
    for index, share in enumerate(shares):
        argv = ["-m", "bench.replica_host", "--redis-url", redis.url]
        argv += ["--count", str(share), "--max-seconds", f"{lifetime:.0f}"]
        hosts.append(fleet.helper(f"replica-host-{size}-{index}", argv))

    for host in hosts:
        host.read("live")
    return hosts


def _stop_hosts(hosts: list[Helper]) -> dict[int, list[float]]:
    applied: dict[int, list[float]] = {}

    for host in hosts:
        host.tell("stop")
    for host in hosts:
        for seq, times in host.read("applied").items():
            applied.setdefault(int(seq), []).extend(times)
        host.wait()
    return applied


def _cpu_rate(redis: RedisServer, seconds: float) -> float:
    before = cpu_seconds(redis)
    time.sleep(seconds)
    return (cpu_seconds(redis) - before) / seconds


async def _revoke(
    url: str, count: int, spacing: float, horizon: int
) -> dict[int, float]:
    """Revoke count fresh jtis, spacing seconds apart; return seq -> ack time."""
    client = Redis.from_url(url)
    store = RevocationStore(client, horizon=horizon)
    acks: dict[int, float] = {}

    try:
        for _ in range(count):
            record = await store.revoke_jti(new_jti())
            acks[record.seq] = time.monotonic()
            await asyncio.sleep(spacing)
    finally:
        await client.aclose()
    return acks


def _sample(
    size: int,
    hosts: int,
    acks: dict[int, float],
    applied: dict[int, list[float]],
    idle: float,
    revoking: float,
    window: float,
) -> Sample:
    delays: list[float] = []
    all_applied: list[float] = []
    missing = 0

    for seq, acked in acks.items():
        times = applied.get(seq, [])
        missing += size - len(times)
        # An event may reach a replica before the ack reaches us: no delay.
        delays += [max(at - acked, 0.0) for at in times]
        if len(times) == size:
            all_applied.append(max(max(times) - acked, 0.0))

    extra_cpu = max(revoking - idle, 0.0) * window
    return Sample(
        replicas=size,
        hosts=hosts,
        delays=tuple(delays),
        all_applied=tuple(all_applied),
        missing=missing,
        idle_cpu=idle,
        revoking_cpu=revoking,
        cpu_per_revocation=extra_cpu / max(len(acks), 1),
    )


def _outcome(samples: dict[int, list[Sample]], context: Context) -> Outcome:
    sizes = list(samples)
    outcome = Outcome(
        name="fanout",
        title="6. Fan-out: propagation and Redis CPU as subscribed replicas grow",
        setup=_setup(context),
        tables=[_table(samples)],
        charts=_charts(sizes, samples),
        raw={str(size): [_raw(s) for s in runs] for size, runs in samples.items()},
    )
    missing = sum(s.missing for runs in samples.values() for s in runs)
    if missing:
        outcome.notes.append(
            f"{missing} (revocation, replica) events were never applied as"
            " events (a replica that resyncs loads them from the snapshot)."
        )
    return outcome


def _setup(context: Context) -> str:
    return (
        "One Redis (append-only file, fsync always); N replicas, each a"
        " RevocationReplica with its own ReplicaSync and subscription (default"
        " heartbeat and staleness), spread over one bench/replica_host.py"
        " process per usable core, so replicas in one process queue behind"
        " each other for the event loop. The benchmark revokes fresh jtis"
        " through the store's revoke_jti, 10 ms + 0.1 ms per replica apart,"
        " and times each replica's apply from the acknowledgement. Redis CPU"
        f" is INFO cpu over {context.profile.idle_window:g} s with only the"
        " replicas' heartbeats, then over the revocations; CPU per revocation"
        " is the difference, over the revocations."
    )


def _table(samples: dict[int, list[Sample]]) -> Table:
    rows = []
    for size, runs in samples.items():
        delays = [d * 1000 for s in runs for d in s.delays]
        everywhere = [d * 1000 for s in runs for d in s.all_applied]
        rows.append(
            (
                str(size),
                str(runs[0].hosts),
                number(percentile(delays, 50), ".2f"),
                spread(_p99_per_round(runs, "delays"), ".2f"),
                number(max(delays, default=math.nan), ".2f"),
                spread(_p99_per_round(runs, "all_applied"), ".2f"),
                number(percentile(everywhere, 99), ".2f"),
                spread(Spread.of(s.idle_cpu * 100 for s in runs), ".1f"),
                spread(Spread.of(s.revoking_cpu * 100 for s in runs), ".1f"),
                spread(Spread.of(s.cpu_per_revocation * 1e6 for s in runs)),
                str(sum(s.missing for s in runs)),
            )
        )
    return Table(
        "Propagation to every replica (ms from the acknowledgement) and Redis CPU",
        (
            "replicas",
            "host processes",
            "p50",
            "p99 per round",
            "max",
            "all applied, p99 per round",
            "all applied, p99",
            "Redis CPU % idle",
            "Redis CPU % revoking",
            "Redis CPU us/revocation",
            "missed",
        ),
        tuple(rows),
    )


def _p99_per_round(runs: list[Sample], field: str) -> Spread:
    return Spread.of(percentile(getattr(s, field), 99) * 1000 for s in runs)


def _charts(sizes: list[int], samples: dict[int, list[Sample]]) -> list[Chart]:
    x = tuple(float(size) for size in sizes)
    return [
        Lines(
            name="fanout_propagation",
            title="Propagation p99 as replicas grow",
            xlabel="subscribed replicas (log)",
            ylabel="ms after the acknowledgement",
            x=x,
            series=(
                (
                    "each replica (p99)",
                    tuple(_p99_per_round(samples[n], "delays") for n in sizes),
                ),
                (
                    "all replicas applied (p99)",
                    tuple(_p99_per_round(samples[n], "all_applied") for n in sizes),
                ),
            ),
        ),
        Lines(
            name="fanout_redis_cpu",
            title="Redis CPU as replicas grow",
            xlabel="subscribed replicas (log)",
            ylabel="% of one core",
            x=x,
            series=(
                (
                    "heartbeats only",
                    tuple(
                        Spread.of(s.idle_cpu * 100 for s in samples[n]) for n in sizes
                    ),
                ),
                (
                    "while revoking",
                    tuple(
                        Spread.of(s.revoking_cpu * 100 for s in samples[n])
                        for n in sizes
                    ),
                ),
            ),
        ),
    ]


def _raw(sample: Sample) -> dict[str, Any]:
    return {
        "hosts": sample.hosts,
        "p50_ms": percentile(sample.delays, 50) * 1000,
        "p99_ms": percentile(sample.delays, 99) * 1000,
        "max_ms": max(sample.delays, default=math.nan) * 1000,
        "all_applied_p99_ms": percentile(sample.all_applied, 99) * 1000,
        "missing": sample.missing,
        "idle_cpu": sample.idle_cpu,
        "revoking_cpu": sample.revoking_cpu,
        "cpu_per_revocation_s": sample.cpu_per_revocation,
    }
