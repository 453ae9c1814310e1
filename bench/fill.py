"""Fill Redis with N live revocations in the store's own format, quickly.

Each entry is what the store's ``revoke_jti`` script leaves behind: the jti
key with its TTL, and the jti's 8-byte digest in the index scored by its
expiry; the sequence number then counts them all. Batches go through one
pipeline each, so a million entries cost seconds, not a million scripts.
"""

from __future__ import annotations

import math
import random
import time

import redis

from service.replica.digests import jti_digest_bytes
from service.storage import schema
from service.tokens.issuer import new_jti

from .errors import BenchError

__all__ = ["fill_revocations"]

_BATCH = 10_000


def fill_revocations(url: str, count: int, *, horizon: int) -> float:
    """Add count live revocations to the Redis at url; return the seconds taken.

    Expiries spread over the second half of the horizon (seconds), so none
    lapses while a benchmark runs.
    """
    started = time.monotonic()
    client = redis.Redis.from_url(url)
    try:
        now = time.time()
        for start in range(0, count, _BATCH):
            _add_batch(client, min(_BATCH, count - start), now, horizon)
        client.incrby(schema.SEQUENCE_KEY, count)
        _check_count(client, count)
    finally:
        client.close()
    return time.monotonic() - started


def _add_batch(client: redis.Redis, size: int, now: float, horizon: int) -> None:
    index: dict[bytes, int] = {}

    with client.pipeline(transaction=False) as pipe:
        for _ in range(size):
            jti = new_jti()
            expires_at = math.ceil(now) + random.randint(horizon // 2, horizon)
            ttl_ms = math.ceil((expires_at - now) * 1000)
            pipe.set(schema.jti_key(jti), expires_at, px=ttl_ms)
            index[jti_digest_bytes(jti)] = expires_at
        pipe.zadd(schema.JTI_INDEX_KEY, index)
        pipe.execute()


def _check_count(client: redis.Redis, count: int) -> None:
    # 64-bit digests of random ids collide in about one fill of 1M in 4e7.
    held = int(client.zcard(schema.JTI_INDEX_KEY))
    if held != count:
        raise BenchError(f"the index holds {held} entries, not {count}")
