"""Scenario 5: logouts per second one instance sustains, and their cost to others.

Three conditions, interleaved: wrk drives logouts into A alone, on the
server core; wrk loads B alone, on the server core; wrk loads B while the
event stream of A's logouts reaches it. On two cores that stream comes from
bench/revoker.py, which calls the store's ``revoke_jti`` at the rate A just
sustained: A itself would need a core, and would take it from B's load
generator, so B's figure would measure a starved client instead.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from tests.support.redis_server import RedisServer

from .errors import BenchError
from .fleet import Fleet, Instance
from .options import Context
from .outcome import Outcome
from .stats import Spread, interleave, ratios
from .tables import Table, spread
from .tokens import TokenMint
from .wrk import Load, WrkResult

__all__ = ["run"]

logger = logging.getLogger(__name__)

CONDITIONS = ("logouts", "b_alone", "b_with_events")
PROFILE = "/api/profile"

# Tokens minted per second of logouts before any run has measured the rate.
_FIRST_GUESS = 3000.0
# Tokens minted beyond the best rate seen: a logout file must never run dry.
_HEADROOM = 1.5


@dataclass(frozen=True, slots=True)
class Sample:
    """One condition's run. Rates are per second."""

    logouts: WrkResult | None
    b: WrkResult | None
    events_sent: float
    events_applied: float


class Rig:
    """Instances A and B on one Redis, and what their loads need."""

    def __init__(self, fleet: Fleet, redis: RedisServer) -> None:
        self.fleet = fleet
        self.redis = redis
        self.a = fleet.instance("a", redis, core=fleet.cores.client)
        self.b = fleet.instance("b", redis, core=fleet.cores.client)
        self.mint: TokenMint = fleet.mint(redis)
        self.token = self.mint.one()
        self.best_rate = _FIRST_GUESS
        self.last_rate = math.nan
        self._files = 0

    def measure_alone(self, measured: Instance) -> None:
        """Give measured the server core; put the other with the clients."""
        other = self.b if measured is self.a else self.a
        other.pin(self.fleet.cores.client)
        measured.pin(self.fleet.cores.server)

    def logout_load(self, duration: int, connections: int) -> Load:
        """Return a logout load on A, with fresh tokens enough for duration."""
        self._files += 1
        count = math.ceil(self.best_rate * _HEADROOM * duration) + 100
        path = self.fleet.directory / f"logout-tokens-{self._files}.txt"
        return Load(
            url=self.a.url,
            duration=duration,
            connections=connections,
            core=self.fleet.cores.client,
            logout_tokens=self.mint.write(path, count),
        )

    def b_load(self, duration: int, connections: int) -> Load:
        """Return a protected-route load on B with one token."""
        return Load(
            url=self.b.url + PROFILE,
            duration=duration,
            connections=connections,
            core=self.fleet.cores.client,
            token=self.token,
        )

    def events_applied(self) -> int:
        """Return how many revocation events B's replica has applied."""
        return int(self.b.counters()["events_applied"])


def run(context: Context) -> Outcome:
    """Measure the three conditions, interleaved, and summarise."""
    with Fleet(context.workdir / "revocation_rate", context.cores) as fleet:
        rig = Rig(fleet, fleet.redis("redis"))
        if context.profile.warmup:
            _logouts(rig, context.profile.warmup, context.profile.connections)

        samples = interleave(
            CONDITIONS,
            context.profile.rounds,
            lambda condition, index: _measure(rig, condition, context),
        )
    return _outcome(samples, context)


def _measure(rig: Rig, condition: str, context: Context) -> Sample:
    duration = context.profile.duration
    connections = context.profile.connections
    applied_before = rig.events_applied()

    logouts: WrkResult | None = None
    b: WrkResult | None = None
    sent = 0.0
    if condition == "logouts":
        logouts = _logouts(rig, duration, connections)
    elif condition == "b_alone":
        rig.measure_alone(rig.b)
        b = rig.fleet.wrk.run(rig.b_load(duration, connections))
    else:
        b, sent = _b_with_events(rig, duration, connections)

    applied = (rig.events_applied() - applied_before) / duration
    logger.info(
        "revocation rate %s: A %s logouts/s, B %s req/s",
        condition,
        _text(logouts),
        _text(b),
    )
    return Sample(logouts, b, sent, applied)


def _logouts(rig: Rig, duration: int, connections: int) -> WrkResult:
    rig.measure_alone(rig.a)
    result = rig.fleet.wrk.run(rig.logout_load(duration, connections))
    if result.http_errors:
        # A token file that ran dry repeats tokens, and repeats answer 401.
        raise BenchError(
            f"{result.http_errors} of {result.requests} logouts answered 4xx/5xx;"
            f" see {rig.a.process.log_path}"
        )

    rig.best_rate = max(rig.best_rate, result.rps)
    rig.last_rate = result.rps
    return result


def _b_with_events(
    rig: Rig, duration: int, connections: int
) -> tuple[WrkResult, float]:
    """Load B while the revoker replays A's last logout rate; return B and the rate."""
    rig.measure_alone(rig.b)
    revoker = rig.fleet.helper(
        "revoker",
        [
            *("-m", "bench.revoker", "--redis-url", rig.redis.url),
            *("--rate", f"{rig.last_rate:.0f}", "--seconds", str(duration)),
        ],
        core=rig.fleet.cores.client,
    )
    b = rig.fleet.wrk.run(rig.b_load(duration, connections))

    revoked = revoker.read("revoked")
    revoker.wait()
    return b, revoked / duration


def _text(result: WrkResult | None) -> str:
    return "-" if result is None else f"{result.rps:.0f}"


def _outcome(samples: dict[str, list[Sample]], context: Context) -> Outcome:
    b_alone = [_rps(s.b) for s in samples["b_alone"]]
    b_events = [_rps(s.b) for s in samples["b_with_events"]]
    return Outcome(
        name="revocation_rate",
        title="5. Revocation rate: logouts one instance sustains, cost to others",
        setup=_setup(context),
        tables=[_table(samples, ratios(b_events, b_alone))],
        raw={c: [_raw(s) for s in samples[c]] for c in CONDITIONS},
    )


def _setup(context: Context) -> str:
    cores = context.cores
    return (
        "Instances A and B (replica with token cache) on one Redis with the"
        " append-only file fsynced on every write. The instance a condition"
        f" measures has core {cores.server} to itself (re-pinned between"
        f" conditions); the other, Redis, wrk and the revoker share core"
        f" {cores.client}. Logouts: wrk POSTs /auth/logout into A, a fresh"
        " token per request. B: wrk GETs /api/profile with one token. With"
        " events: bench/revoker.py revokes through the store at the logout"
        " rate A sustained in the same round, so B applies the event stream"
        " A's logouts would cause, without a second busy instance taking the"
        " load generator's core."
    )


def _table(samples: dict[str, list[Sample]], b_ratio: list[float]) -> Table:
    logouts = samples["logouts"]
    alone = samples["b_alone"]
    events = samples["b_with_events"]
    rows = (
        (
            "logouts into A",
            spread(Spread.of(_rps(s.logouts) for s in logouts)),
            spread(Spread.of(_p99(s.logouts) for s in logouts), ".2f"),
            "-",
            "-",
            spread(Spread.of(s.events_applied for s in logouts)),
        ),
        (
            "requests into B",
            "-",
            "-",
            spread(Spread.of(_rps(s.b) for s in alone)),
            "-",
            "-",
        ),
        (
            "requests into B, events streaming",
            spread(Spread.of(s.events_sent for s in events)) + " (revoker)",
            "-",
            spread(Spread.of(_rps(s.b) for s in events)),
            spread(Spread.of(b_ratio), ".2f", "x"),
            spread(Spread.of(s.events_applied for s in events)),
        ),
    )
    return Table(
        "Logouts per second on one core, and B's throughput while their events arrive",
        (
            "condition",
            "revocations/s",
            "logout p99 ms",
            "B req/s",
            "B vs alone",
            "events B applied/s",
        ),
        rows,
    )


def _rps(result: WrkResult | None) -> float:
    return math.nan if result is None else result.rps


def _p99(result: WrkResult | None) -> float:
    return math.nan if result is None else result.p99_ms


def _raw(sample: Sample) -> dict[str, Any]:
    return {
        "logouts_rps": _rps(sample.logouts),
        "logouts_p99_ms": _p99(sample.logouts),
        "b_rps": _rps(sample.b),
        "events_sent_per_second": sample.events_sent,
        "events_applied_per_second": sample.events_applied,
    }
