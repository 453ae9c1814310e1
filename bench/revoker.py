"""Revoke tokens at a steady rate straight into Redis, for a while.

``python -m bench.revoker --redis-url URL --rate R --seconds S`` calls the
store's own ``revoke_jti`` R times a second for S seconds, then prints
``{"revoked": N, "seconds": T}``. It stands in for a busy instance's
logouts where that instance would need a core of its own: what reaches the
other instances, the published event stream, is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Iterator, Sequence

from redis.asyncio import Redis

from service.config import load_settings
from service.storage.revocations import RevocationStore
from service.tokens.issuer import new_jti

__all__ = ["main"]

# Calls in flight at once: enough to keep the pace, few enough for the pool.
_WORKERS = 8


def main(argv: Sequence[str] | None = None) -> int:
    """Revoke at the asked rate; print what was done; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.revoker")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args(argv)

    revoked, seconds = asyncio.run(_revoke(args.redis_url, args.rate, args.seconds))
    print(json.dumps({"revoked": revoked, "seconds": seconds}), flush=True)
    return 0


async def _revoke(url: str, rate: float, seconds: float) -> tuple[int, float]:
    settings = load_settings({"REDIS_URL": url}, require_secret=False)
    client = Redis.from_url(url, max_connections=_WORKERS)
    store = RevocationStore(client, horizon=settings.revocation_horizon)
    slots = itertools.count()
    started = time.monotonic()

    try:
        counts = await asyncio.gather(
            *(_worker(store, slots, started, rate, seconds) for _ in range(_WORKERS))
        )
    finally:
        await client.aclose()
    return sum(counts), time.monotonic() - started


async def _worker(
    store: RevocationStore,
    slots: Iterator[int],
    started: float,
    rate: float,
    seconds: float,
) -> int:
    """Take the next slot of the schedule, wait for its time, revoke; repeat."""
    revoked = 0
    # A behind-schedule worker revokes at once: the pace catches up, not drifts.
    while (due := started + next(slots) / rate) < started + seconds:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await store.revoke_jti(new_jti())
        revoked += 1
    return revoked


if __name__ == "__main__":
    raise SystemExit(main())
