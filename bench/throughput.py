"""Scenarios 1 and 2: protected-route throughput, and Redis commands per request.

One instance per variant, all pinned to the server core and loaded one at a
time; each has a redis-server of its own, so that INFO commandstats counts
that instance's commands only (its heartbeat included, which is part of the
replica's cost).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.redis_server import RedisServer

from .charts import Bars
from .errors import BenchError
from .fleet import SERVE, VERIFY_ONLY, Fleet, Instance
from .options import Context
from .outcome import Outcome
from .redis_info import command_calls, commands_between
from .stats import Spread, interleave, ratios
from .tables import Table, spread
from .targets import TargetCheck, at_least, below
from .wrk import Load, WrkResult

__all__ = ["run"]

logger = logging.getLogger(__name__)

PROTECTED = "/api/profile"
_CLASSIC = {"REVOCATION_CACHE": "off", "TOKEN_CACHE_SIZE": "0"}


@dataclass(frozen=True, slots=True)
class Variant:
    """One configuration under load: what runs, and which route wrk hits."""

    name: str
    label: str
    path: str
    env: Mapping[str, str]
    command: tuple[str, ...] = SERVE

    @property
    def replica(self) -> bool:
        """Tell whether the instance answers revocation checks from a replica."""
        return self.env.get("REVOCATION_CACHE") == "replica" and self.path == PROTECTED


VARIANTS = (
    Variant(
        "ceiling",
        "GET /health, no auth (ceiling)",
        "/health",
        {"REVOCATION_CACHE": "replica", "TOKEN_CACHE_SIZE": "10000"},
    ),
    Variant(
        "verify_only",
        "verify only, no revocation check",
        PROTECTED,
        _CLASSIC,
        VERIFY_ONLY,
    ),
    Variant("classic", "classic: Redis per request", PROTECTED, _CLASSIC),
    Variant(
        "replica",
        "replica, no token cache",
        PROTECTED,
        {"REVOCATION_CACHE": "replica", "TOKEN_CACHE_SIZE": "0"},
    ),
    Variant(
        "replica_cache",
        "replica + verified-token cache",
        PROTECTED,
        {"REVOCATION_CACHE": "replica", "TOKEN_CACHE_SIZE": "10000"},
    ),
)


@dataclass(frozen=True, slots=True)
class Station:
    """A variant's running instance, its Redis, and the token wrk sends."""

    variant: Variant
    instance: Instance
    redis: RedisServer
    token: str


@dataclass(frozen=True, slots=True)
class Sample:
    """One wrk run of one variant, with the Redis commands it caused."""

    load: WrkResult
    commands: Counter[str]
    store_lookups: int

    @property
    def commands_per_request(self) -> float:
        """Return Redis commands per request answered."""
        return sum(self.commands.values()) / max(self.load.requests, 1)


def run(context: Context) -> Outcome:
    """Measure every variant, interleaved, and summarise against the ceiling."""
    profile = context.profile
    with Fleet(context.workdir / "throughput", context.cores) as fleet:
        stations = {variant.name: _start(fleet, variant) for variant in VARIANTS}
        if profile.warmup:
            for station in stations.values():
                _load(fleet, station, profile.warmup, profile.connections)

        samples = interleave(
            list(stations),
            profile.rounds,
            lambda name, index: _measure(fleet, stations[name], context, index),
        )
    return _outcome(samples, context)


def _start(fleet: Fleet, variant: Variant) -> Station:
    redis = fleet.redis(f"redis-{variant.name}")
    instance = fleet.instance(
        variant.name,
        redis,
        env=variant.env,
        core=fleet.cores.server,
        command=variant.command,
    )
    return Station(variant, instance, redis, fleet.mint(redis).one())


def _measure(fleet: Fleet, station: Station, context: Context, index: int) -> Sample:
    profile = context.profile
    lookups_before = _store_lookups(station)
    before = command_calls(station.redis)

    result = _load(fleet, station, profile.duration, profile.connections)

    after = command_calls(station.redis)
    lookups = _store_lookups(station) - lookups_before
    logger.info(
        "throughput round %d/%d: %s %.0f req/s",
        index + 1,
        profile.rounds,
        station.variant.name,
        result.rps,
    )
    return Sample(result, commands_between(before, after), lookups)


def _load(fleet: Fleet, station: Station, duration: int, connections: int) -> WrkResult:
    load = Load(
        url=station.instance.url + station.variant.path,
        duration=duration,
        connections=connections,
        core=fleet.cores.client,
        token=station.token,
    )
    result = fleet.wrk.run(load)
    if result.http_errors:
        raise BenchError(
            f"{station.variant.name}: {result.http_errors} of {result.requests}"
            f" requests answered 4xx/5xx; see {station.instance.process.log_path}"
        )
    return result


def _store_lookups(station: Station) -> int:
    # GET /ready pings Redis: read it outside the commandstats window.
    return int(station.instance.counters()["store_lookups"])


def _outcome(samples: dict[str, list[Sample]], context: Context) -> Outcome:
    rps = {name: [s.load.rps for s in runs] for name, runs in samples.items()}
    vs_ceiling = {name: ratios(rps[name], rps["ceiling"]) for name in rps}
    outcome = Outcome(
        name="throughput",
        title="1-2. Protected-route throughput and Redis commands per request",
        setup=_setup(context),
        tables=[_throughput_table(samples, vs_ceiling), _commands_table(samples)],
        charts=[_chart(rps, vs_ceiling)],
        targets=_targets(samples, rps, vs_ceiling, context),
        raw=_raw(samples),
    )
    outcome.notes += _notes(samples)
    return outcome


def _setup(context: Context) -> str:
    server = context.cores.server
    return (
        f"One instance per variant, each pinned to core {server} and loaded alone"
        " by wrk with one token (a client reusing its token, as real ones do);"
        " each has its own redis-server so that INFO commandstats before and"
        " after a run counts that instance's commands only, its replica's"
        " heartbeat included. The ceiling is GET /health of the same app."
        " Variant 1b (verify only) is a stand-in: bench/verify_only.py builds"
        " the same app and stubs out the revocation checker."
    )


def _throughput_table(
    samples: dict[str, list[Sample]], vs_ceiling: dict[str, list[float]]
) -> Table:
    rows = []
    for variant in VARIANTS:
        runs = samples[variant.name]
        rows.append(
            (
                variant.label,
                spread(Spread.of(s.load.rps for s in runs)),
                spread(Spread.of(vs_ceiling[variant.name]), ".2f", "x"),
                spread(Spread.of(s.load.p50_ms for s in runs), ".2f"),
                spread(Spread.of(s.load.p99_ms for s in runs), ".2f"),
                _lookups(variant, runs),
            )
        )
    return Table(
        "Throughput, one instance on one core",
        ("variant", "req/s", "x ceiling", "p50 ms", "p99 ms", "checks sent to Redis"),
        tuple(rows),
    )


def _lookups(variant: Variant, runs: Sequence[Sample]) -> str:
    # A replica that went stale mid-run sends checks to Redis: show how many.
    if not variant.replica:
        return "-"
    return str(sum(s.store_lookups for s in runs))


def _commands_table(samples: dict[str, list[Sample]]) -> Table:
    rows = []
    for variant in VARIANTS:
        runs = samples[variant.name]
        total: Counter[str] = sum((s.commands for s in runs), Counter())
        rows.append(
            (
                variant.label,
                spread(Spread.of(s.commands_per_request for s in runs), ".4f"),
                _command_mix(total),
            )
        )
    return Table(
        "Redis commands per request (INFO commandstats delta / requests)",
        ("variant", "commands/request", "commands, all rounds"),
        tuple(rows),
    )


def _command_mix(total: Counter[str]) -> str:
    if not total:
        return "none"
    return ", ".join(f"{name} {count}" for name, count in total.most_common(4))


def _chart(rps: dict[str, list[float]], vs_ceiling: dict[str, list[float]]) -> Bars:
    return Bars(
        name="throughput",
        title="Requests per second, one instance on one core",
        xlabel="requests/s (median, whiskers min-max over rounds)",
        labels=tuple(variant.label for variant in VARIANTS),
        values=tuple(Spread.of(rps[variant.name]) for variant in VARIANTS),
        annotations=tuple(
            f"{Spread.of(vs_ceiling[variant.name]).median:.2f}x" for variant in VARIANTS
        ),
    )


def _targets(
    samples: dict[str, list[Sample]],
    rps: dict[str, list[float]],
    vs_ceiling: dict[str, list[float]],
    context: Context,
) -> list[TargetCheck]:
    note = "smoke size" if context.smoke else ""
    vs_classic = ratios(rps["replica_cache"], rps["classic"])
    checks = [
        at_least(
            "replica + cache throughput vs the ceiling",
            Spread.of(vs_ceiling["replica_cache"]).median,
            0.9,
            fmt=".2f",
            unit="x",
            note=note,
        ),
        at_least(
            "replica + cache throughput vs the classic design",
            Spread.of(vs_classic).median,
            4.0,
            fmt=".2f",
            unit="x",
            note=note,
        ),
    ]
    for name in ("replica", "replica_cache"):
        per_request = Spread.of(s.commands_per_request for s in samples[name])
        checks.append(
            below(
                f"Redis commands per protected request, {name.replace('_', ' + ')}",
                per_request.median,
                0.001,
                fmt=".4f",
                note=note,
            )
        )
    return checks


def _notes(samples: dict[str, list[Sample]]) -> list[str]:
    notes = []
    for variant in VARIANTS:
        errors = sum(s.load.socket_errors for s in samples[variant.name])
        if errors:
            notes.append(f"{variant.label}: wrk counted {errors} socket errors.")
    notes.append(
        "Verification alone runs bench/verify_only.py: the same app with a"
        " checker that clears every token. The service itself has no setting"
        " that skips revocation checks, on purpose: it would turn the product"
        " off by one typo."
    )
    return notes


def _raw(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    return {
        name: [
            {
                "rps": s.load.rps,
                "requests": s.load.requests,
                "p50_ms": s.load.p50_ms,
                "p99_ms": s.load.p99_ms,
                "socket_errors": s.load.socket_errors,
                "store_lookups": s.store_lookups,
                "commands": dict(s.commands),
            }
            for s in runs
        ]
        for name, runs in samples.items()
    }
