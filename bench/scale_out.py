"""Scenario 7: scale-out. Two instances on two cores against one.

Both layouts run the replica with the token cache and take the same client
side: two wrk processes, not pinned, half the connections each. "One" sends
both to instance X alone on the server core; "two" sends one to X and one
to Y, each instance on a core of its own. With two cores in all, the load
generators share the cores with the instances in "two", so the ratio
understates what a second core gives where clients run elsewhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .errors import BenchError
from .fleet import Fleet, Instance
from .options import Context
from .outcome import Outcome
from .stats import Spread, interleave, ratios
from .tables import Table, spread
from .wrk import Load, WrkResult

__all__ = ["run"]

logger = logging.getLogger(__name__)

LAYOUTS = ("one", "two")
PROFILE = "/api/profile"


@dataclass(frozen=True, slots=True)
class Sample:
    """Both load generators' results for one layout in one round."""

    results: tuple[WrkResult, WrkResult]

    @property
    def rps(self) -> float:
        """Return the requests per second of both clients together."""
        return sum(result.rps for result in self.results)

    @property
    def p99_ms(self) -> float:
        """Return the worse of the two clients' p99 latencies."""
        return max(result.p99_ms for result in self.results)


@dataclass(frozen=True, slots=True)
class Pair:
    """Instances X and Y on one Redis, and the token both accept."""

    x: Instance
    y: Instance
    token: str


def run(context: Context) -> Outcome:
    """Measure both layouts, interleaved, and summarise."""
    with Fleet(context.workdir / "scale_out", context.cores) as fleet:
        redis = fleet.redis("redis")
        pair = Pair(
            x=fleet.instance("x", redis, core=fleet.cores.server),
            y=fleet.instance("y", redis, core=fleet.cores.client),
            token=fleet.mint(redis).one(),
        )
        samples = interleave(
            LAYOUTS,
            context.profile.rounds,
            lambda layout, index: _measure(fleet, pair, layout, context),
        )
    return _outcome(samples, context)


def _measure(fleet: Fleet, pair: Pair, layout: str, context: Context) -> Sample:
    targets = _place(fleet, pair, layout)
    profile = context.profile
    loads = [
        Load(
            url=target.url + PROFILE,
            duration=profile.duration,
            connections=max(profile.connections // 2, 1),
            core=None,
            token=pair.token,
        )
        for target in targets
    ]

    runs = [fleet.load(load) for load in loads]
    first, second = (run.wait() for run in runs)
    sample = Sample((first, second))
    if first.http_errors or second.http_errors:
        raise BenchError(f"scale-out {layout}: requests answered 4xx/5xx")

    logger.info("scale-out %s: %.0f req/s", layout, sample.rps)
    return sample


def _place(fleet: Fleet, pair: Pair, layout: str) -> tuple[Instance, Instance]:
    """Pin the instances for a layout; return whom each wrk loads."""
    if layout == "one":
        pair.y.pin(fleet.cores.client)
        pair.x.pin(fleet.cores.server)
        return pair.x, pair.x

    pair.x.pin(fleet.cores.client)
    pair.y.pin(fleet.cores.server)
    return pair.x, pair.y


def _outcome(samples: dict[str, list[Sample]], context: Context) -> Outcome:
    rps = {layout: [s.rps for s in samples[layout]] for layout in LAYOUTS}
    gain = ratios(rps["two"], rps["one"])
    rows = tuple(
        (
            label,
            spread(Spread.of(rps[layout])),
            spread(Spread.of(gain), ".2f", "x") if layout == "two" else "1.00x",
            spread(Spread.of(s.p99_ms for s in samples[layout]), ".2f"),
        )
        for layout, label in (
            ("one", "one instance, one core"),
            ("two", "two instances, a core each"),
        )
    )
    return Outcome(
        name="scale_out",
        title="7. Scale-out: two processes on two cores against one",
        setup=_setup(context),
        tables=[
            Table(
                "Replica + token cache, two wrk clients of"
                f" {max(context.profile.connections // 2, 1)} connections each",
                ("layout", "req/s (both clients)", "x one", "p99 ms (worse client)"),
                rows,
            )
        ],
        raw={layout: [_raw(s) for s in samples[layout]] for layout in LAYOUTS},
    )


def _setup(context: Context) -> str:
    cores = context.cores
    return (
        "Instances X and Y (replica with token cache) on one Redis. Both"
        " layouts get the same clients: two wrk processes, not pinned, half"
        " the connections each. One: both load X, alone on core"
        f" {cores.server}, Y idle on core {cores.client}. Two: one loads X, one"
        " loads Y, each instance pinned to a core of its own. With two cores"
        " in all, the clients then share cores with the instances, so the"
        " ratio understates what a second core gives where clients run on"
        " other machines."
    )


def _raw(sample: Sample) -> dict[str, Any]:
    return {
        "rps": sample.rps,
        "per_client_rps": [result.rps for result in sample.results],
        "p99_ms": sample.p99_ms,
    }
