"""Scenario 4: cold start to a LIVE replica, and memory per revoked entry.

One redis-server per size, filled once before the first round. Each round
starts one instance per size in turn, the empty store first, and times it
from spawn to GET /ready reporting ``"replica": "live"``; its resident set
then, less that of the empty-store instance of the same round, divided by
the entries, is the memory per entry.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from service.replica.replica import RevocationReplica
from service.revocation.counters import RevocationCounters
from service.storage.revocations import RevocationStore
from tests.support.redis_server import RedisServer

from .charts import Lines
from .fill import fill_revocations
from .fleet import Fleet
from .options import Context
from .outcome import Outcome
from .procfs import peak_rss_bytes, rss_bytes
from .stats import Spread, interleave
from .tables import Table, number, spread
from .targets import TargetCheck, below

__all__ = ["run"]

logger = logging.getLogger(__name__)

# The replica logs how long its snapshot load took; nothing else exposes it.
_LOAD_LINE = re.compile(r"replica resync done .*seconds=([0-9.e-]+)")
_MIB = 2**20


@dataclass(frozen=True, slots=True)
class Store:
    """A redis-server holding one size of live revocation set."""

    size: int
    redis: RedisServer
    fill_seconds: float
    replica_nbytes: int


@dataclass(frozen=True, slots=True)
class Start:
    """One instance's start: seconds from spawn, and bytes resident once LIVE."""

    to_health: float
    to_live: float
    snapshot_load: float
    rss: int
    peak_rss: int
    replica_size: int


def run(context: Context) -> Outcome:
    """Start instances on stores of each size, interleaved, and summarise."""
    sizes = (0, *context.profile.cold_start_sizes)

    with Fleet(context.workdir / "cold_start", context.cores) as fleet:
        stores = {size: _store(fleet, size) for size in sizes}
        starts = interleave(
            sizes,
            context.profile.rounds,
            lambda size, index: _start(fleet, stores[size], index),
        )
    return _outcome(stores, starts, context)


def _store(fleet: Fleet, size: int) -> Store:
    # No append-only file: what is measured is the instance, and an AOF of a
    # million entries only costs disk and fill time.
    redis = fleet.redis(f"redis-{size}", appendonly=False)
    horizon = fleet.settings(redis).revocation_horizon

    seconds = fill_revocations(redis.url, size, horizon=horizon)
    logger.info("cold start: filled %d entries in %.1f s", size, seconds)
    nbytes = asyncio.run(_replica_nbytes(redis.url, horizon))
    return Store(size, redis, seconds, nbytes)


async def _replica_nbytes(url: str, horizon: int) -> int:
    """Load the store into a replica in this process; return its own byte count."""
    client = Redis.from_url(url)
    try:
        replica = RevocationReplica(RevocationCounters())
        replica.load(await RevocationStore(client, horizon=horizon).snapshot())
        return replica.nbytes()
    finally:
        await client.aclose()


def _start(fleet: Fleet, store: Store, index: int) -> Start:
    started = time.monotonic()
    instance = fleet.instance(
        f"cold-{store.size}-{index}",
        store.redis,
        core=fleet.cores.server,
        wait_live=False,
    )
    to_health = time.monotonic() - started
    instance.wait_live()
    to_live = time.monotonic() - started

    start = Start(
        to_health=to_health,
        to_live=to_live,
        snapshot_load=_snapshot_load(instance.process.log_text()),
        rss=rss_bytes(instance.pid),
        peak_rss=peak_rss_bytes(instance.pid),
        replica_size=int(instance.ready()["replica_size"]),
    )
    instance.process.stop()
    logger.info("cold start: %d entries live in %.3f s", store.size, to_live)
    return start


def _snapshot_load(log: str) -> float:
    found = _LOAD_LINE.search(log)
    return float(found.group(1)) if found else math.nan


def _per_entry(starts: dict[int, list[Start]], size: int, field: str) -> list[float]:
    """Return, round by round, (field at size - field when empty) / size."""
    if size == 0:
        return []
    return [
        (getattr(full, field) - getattr(empty, field)) / size
        for full, empty in zip(starts[size], starts[0], strict=True)
    ]


def _outcome(
    stores: dict[int, Store], starts: dict[int, list[Start]], context: Context
) -> Outcome:
    sizes = [size for size in stores if size]
    return Outcome(
        name="cold_start",
        title="4. Cold start to LIVE, and memory per revoked entry",
        setup=_setup(context),
        tables=[_time_table(stores, starts), _memory_table(stores, starts)],
        charts=[_chart(sizes, starts)],
        targets=_targets(sizes, starts, context),
        raw={
            str(size): {
                "fill_seconds": stores[size].fill_seconds,
                "replica_nbytes": stores[size].replica_nbytes,
                "starts": [asdict(start) for start in starts[size]],
            }
            for size in stores
        },
    )


def _setup(context: Context) -> str:
    return (
        "One redis-server per size (no append-only file), filled before the"
        " first round in the store's own format by pipelined batches: the jti"
        " key with its TTL, the 8-byte digest in the expiry index, the"
        " sequence number (bench/fill.py). Each round starts `python -m"
        f" service serve` on core {context.cores.server} against each store in"
        " turn and polls GET /ready every 5 ms until the replica is live."
        " Memory per entry is the instance's VmRSS once LIVE less that of the"
        " same round's empty-store instance, over the entries; peak uses"
        " VmHWM. replica.nbytes() is the replica's own estimate, computed by"
        " loading the same store into a replica inside the benchmark process"
        " (GET /ready does not expose it)."
    )


def _time_table(stores: dict[int, Store], starts: dict[int, list[Start]]) -> Table:
    rows = []
    for size, store in stores.items():
        runs = starts[size]
        rows.append(
            (
                f"{size:,}",
                number(store.fill_seconds, ".2f"),
                spread(Spread.of(s.to_health for s in runs), ".3f"),
                spread(Spread.of(s.to_live for s in runs), ".3f"),
                spread(Spread.of(s.snapshot_load for s in runs), ".3f"),
                str(min(s.replica_size for s in runs)),
            )
        )
    return Table(
        "Seconds from process start",
        (
            "live revocations",
            "fill s (once)",
            "to /health",
            "to LIVE",
            "snapshot load (replica's log)",
            "replica_size",
        ),
        tuple(rows),
    )


def _memory_table(stores: dict[int, Store], starts: dict[int, list[Start]]) -> Table:
    rows = []
    for size, store in stores.items():
        own = store.replica_nbytes / size if size else math.nan
        rows.append(
            (
                f"{size:,}",
                spread(Spread.of(s.rss / _MIB for s in starts[size]), ".1f"),
                spread(Spread.of(_per_entry(starts, size, "rss")), ".1f"),
                spread(Spread.of(_per_entry(starts, size, "peak_rss")), ".1f"),
                number(own, ".1f"),
            )
        )
    return Table(
        "Memory of the instance once LIVE",
        (
            "live revocations",
            "RSS MiB",
            "RSS bytes/entry",
            "peak RSS bytes/entry",
            "replica.nbytes()/entry",
        ),
        tuple(rows),
    )


def _chart(sizes: list[int], starts: dict[int, list[Start]]) -> Lines:
    return Lines(
        name="cold_start",
        title="Process start to LIVE replica",
        xlabel="live revocations in Redis (log)",
        ylabel="seconds",
        x=tuple(float(size) for size in sizes),
        series=(
            ("start to LIVE", tuple(_spread(starts[s], "to_live") for s in sizes)),
            (
                "snapshot load (replica's log)",
                tuple(_spread(starts[s], "snapshot_load") for s in sizes),
            ),
        ),
    )


def _spread(runs: list[Start], field: str) -> Spread:
    return Spread.of(getattr(run, field) for run in runs)


def _targets(
    sizes: list[int], starts: dict[int, list[Start]], context: Context
) -> list[TargetCheck]:
    largest = max(sizes)
    note = "" if largest == 1_000_000 else f"at {largest:,} entries, not 1M"
    return [
        below(
            "1M live revocations: start to LIVE",
            _spread(starts[largest], "to_live").median,
            2.0,
            fmt=".2f",
            unit=" s",
            note=note,
        ),
        below(
            "1M live revocations: RSS per entry",
            Spread.of(_per_entry(starts, largest, "rss")).median,
            100.0,
            fmt=".1f",
            unit=" bytes",
            note=note,
        ),
    ]
