"""Scenario 3: revoke on instance A, time until instance B answers 401.

Each revocation is a logout on A with a fresh token that B has verified
once already; meanwhile one client polls B with that token on a kept-alive
connection. The delay runs from A's answer (the acknowledgement) to B's
first 401, so it overstates by at most one poll of B. Rounds alternate a
batch with B idle and a batch with wrk loading B.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from .charts import Cdf
from .errors import BenchError
from .fleet import Fleet, Instance
from .options import Context
from .outcome import Outcome
from .stats import Spread, interleave, percentile
from .tables import Table, number, spread
from .targets import TargetCheck, below
from .tokens import TokenMint
from .wrk import Load, WrkResult

__all__ = ["run"]

logger = logging.getLogger(__name__)

CONDITIONS = ("idle", "loaded")
LOGOUT = "/auth/logout"
PROFILE = "/api/profile"

# A revocation B has not honoured by then counts as lost (seconds).
_GIVE_UP = 5.0
# The longest a background load may run; it is stopped when its batch ends.
_LOAD_CAP = 600
# Lets the background load reach a steady state before the first revocation.
_RAMP = 0.5


@dataclass(frozen=True, slots=True)
class Batch:
    """One round's revocations under one condition. Delays in seconds."""

    delays: tuple[float, ...]
    lost: int
    early: int
    load: WrkResult | None = None


@dataclass(frozen=True, slots=True)
class Pair:
    """Instance A revokes; instance B must notice."""

    a: Instance
    b: Instance
    mint: TokenMint


def run(context: Context) -> Outcome:
    """Time revocations from A to B, with B idle and with B under load."""
    profile = context.profile
    per_round = math.ceil(profile.propagation_samples / profile.rounds)

    with Fleet(context.workdir / "propagation", context.cores) as fleet:
        redis = fleet.redis("redis")
        pair = Pair(
            a=fleet.instance("a", redis, core=fleet.cores.client),
            b=fleet.instance("b", redis, core=fleet.cores.server),
            mint=fleet.mint(redis),
        )
        batches = interleave(
            CONDITIONS,
            profile.rounds,
            lambda condition, index: _batch(fleet, pair, condition, per_round, context),
        )
    return _outcome(batches, context)


def _batch(
    fleet: Fleet, pair: Pair, condition: str, count: int, context: Context
) -> Batch:
    tokens = pair.mint.many(count)
    if condition == "idle":
        batch = asyncio.run(_revocations(pair, tokens))
    else:
        batch = _under_load(fleet, pair, tokens, context.profile.connections)

    logger.info(
        "propagation %s: p99 %.2f ms over %d, %d lost",
        condition,
        percentile(batch.delays, 99) * 1000,
        len(batch.delays),
        batch.lost,
    )
    return batch


def _under_load(fleet: Fleet, pair: Pair, tokens: list[str], connections: int) -> Batch:
    load = Load(
        url=pair.b.url + PROFILE,
        duration=_LOAD_CAP,
        connections=connections,
        core=fleet.cores.client,
        token=pair.mint.one(),
    )
    background = fleet.load(load)
    time.sleep(_RAMP)

    batch = asyncio.run(_revocations(pair, tokens))
    return replace(batch, load=background.stop())


async def _revocations(pair: Pair, tokens: list[str]) -> Batch:
    delays: list[float] = []
    lost = 0
    early = 0

    timeout = aiohttp.ClientTimeout(total=_GIVE_UP)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for token in tokens:
            delay = await _revoke_and_watch(session, pair, token)
            if delay is None:
                lost += 1
                continue
            # B may apply the event before A's answer reaches us: no delay.
            early += delay < 0
            delays.append(max(delay, 0.0))
    return Batch(tuple(delays), lost, early)


async def _revoke_and_watch(
    session: aiohttp.ClientSession, pair: Pair, token: str
) -> float | None:
    """Return seconds from A's acknowledgement to B's first 401, or None."""
    headers = {"Authorization": f"Bearer {token}"}
    watched = pair.b.url + PROFILE
    # B verifies the token once first, as it has any token in use.
    await _expect(session, "GET", watched, headers, 200)

    watcher = asyncio.create_task(_first_rejection(session, watched, headers))
    await _expect(session, "POST", pair.a.url + LOGOUT, headers, 200)
    acknowledged = time.monotonic()

    rejected = await watcher
    return None if rejected is None else rejected - acknowledged


async def _first_rejection(
    session: aiohttp.ClientSession, url: str, headers: Mapping[str, str]
) -> float | None:
    """Poll url until it answers 401; return when, or None after _GIVE_UP."""
    deadline = time.monotonic() + _GIVE_UP
    while time.monotonic() < deadline:
        async with session.get(url, headers=headers) as response:
            await response.read()
        if response.status == 401:
            return time.monotonic()
        if response.status != 200:
            raise BenchError(f"GET {url} answered {response.status}")
    return None


async def _expect(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    status: int,
) -> None:
    async with session.request(method, url, headers=headers) as response:
        body = await response.read()
    if response.status != status:
        raise BenchError(f"{method} {url} answered {response.status}: {body[:200]!r}")


def _outcome(batches: dict[str, list[Batch]], context: Context) -> Outcome:
    pooled = {c: [d * 1000 for b in batches[c] for d in b.delays] for c in CONDITIONS}
    outcome = Outcome(
        name="propagation",
        title="3. Propagation: revoke on A, B answers 401",
        setup=_setup(context),
        tables=[_table(batches, pooled)],
        charts=[
            Cdf(
                name="propagation",
                title="Revocation on A until B answers 401",
                xlabel="ms after A acknowledged (log; 0 is drawn at 0.01)",
                series=tuple((c, tuple(pooled[c])) for c in CONDITIONS),
            )
        ],
        targets=_targets(pooled, context),
        raw={c: [_raw(b) for b in batches[c]] for c in CONDITIONS},
    )
    lost = sum(b.lost for c in CONDITIONS for b in batches[c])
    if lost:
        outcome.notes.append(f"{lost} revocations were not honoured by B in 5 s.")
    return outcome


def _setup(context: Context) -> str:
    cores = context.cores
    return (
        f"Two instances on one Redis (replica with token cache, the defaults):"
        f" A on core {cores.client}, B on core {cores.server}. Each sample is a"
        " logout on A of a fresh token B has verified once; one client polls B"
        " with it on a kept-alive connection, and the delay runs from A's"
        " answer to B's first 401 (it overstates by up to one poll of B)."
        f" Under load, wrk (-c{context.profile.connections}, another token)"
        " keeps B busy on its core while the same client polls it."
    )


def _table(batches: dict[str, list[Batch]], pooled: dict[str, list[float]]) -> Table:
    rows = []
    for condition in CONDITIONS:
        runs = batches[condition]
        samples = pooled[condition]
        loads = [b.load.rps for b in runs if b.load is not None]
        rows.append(
            (
                f"B {condition}",
                str(len(samples)),
                number(percentile(samples, 50), ".2f"),
                number(percentile(samples, 99), ".2f"),
                number(max(samples, default=math.nan), ".2f"),
                spread(Spread.of(percentile(b.delays, 99) * 1000 for b in runs), ".2f"),
                str(sum(b.early for b in runs)),
                str(sum(b.lost for b in runs)),
                spread(Spread.of(loads)) if loads else "-",
            )
        )
    return Table(
        "Propagation delay from A's acknowledgement to B's first 401 (ms)",
        (
            "B is",
            "revocations",
            "p50",
            "p99",
            "max",
            "p99 per round",
            "401 before ack",
            "lost",
            "B req/s (wrk)",
        ),
        tuple(rows),
    )


def _targets(pooled: dict[str, list[float]], context: Context) -> list[TargetCheck]:
    note = "smoke size" if context.smoke else ""
    return [
        below(
            f"propagation p99, B {condition}",
            percentile(pooled[condition], 99),
            goal,
            fmt=".2f",
            unit=" ms",
            note=note,
        )
        for condition, goal in (("idle", 2.0), ("loaded", 10.0))
    ]


def _raw(batch: Batch) -> dict[str, Any]:
    return {
        "delays_ms": [round(d * 1000, 4) for d in batch.delays],
        "lost": batch.lost,
        "early": batch.early,
        "load_rps": None if batch.load is None else batch.load.rps,
    }
