"""The authoritative revocation state in Redis, and its snapshot for replicas.

A revoked ``jti`` is a key whose TTL ends when the token would have expired
(plus leeway). Beside it, a sorted set indexes the live set by expiry, so a
replica can read it whole; a sequence number counts revocations and each one
is published on the events channel with its number.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from ..replica.digests import entries_from_buckets, jti_digest, jti_digest_bytes
from . import schema
from .events import RevocationKind, encode_body
from .guard import guarded
from .scripts import load_script

__all__ = [
    "RevocationLookup",
    "RevocationRecord",
    "RevocationSnapshot",
    "RevocationStore",
]

logger = logging.getLogger(__name__)


# Snapshot windows: members of one window get its upper bound as expiry.
_SNAPSHOT_WINDOW = 10


@dataclass(frozen=True, slots=True)
class RevocationRecord:
    """An acknowledged revocation: its sequence number and expiry (Unix s)."""

    seq: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class RevocationLookup:
    """The authoritative answer for one token: revoked, and its subject's not-before."""

    jti_revoked: bool
    subject_not_before: float | None

    def rejects(self, issued_at: float) -> bool:
        """Tell whether a token issued at this time (Unix s) is rejected."""
        if self.jti_revoked:
            return True
        return self.subject_not_before is not None and (
            issued_at <= self.subject_not_before
        )


@dataclass(frozen=True, slots=True)
class RevocationSnapshot:
    """The live revocation set as of sequence number ``seq``.

    Expiries are whole Unix seconds, rounded up to their snapshot window.
    """

    seq: int
    digests: array[int]
    expiries: array[int]
    not_before: dict[str, tuple[float, int]]


class RevocationStore:
    """Revoke tokens and subjects, look them up, and snapshot the live set."""

    def __init__(
        self,
        redis: Redis,
        *,
        horizon: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Use ``redis``; ``horizon`` is the longest a token lives, in seconds."""
        self._redis = redis
        self._horizon = horizon
        self._clock = clock
        self._revoke_jti = load_script(redis, "revoke_jti")
        self._revoke_subject = load_script(redis, "revoke_subject")

    async def revoke_jti(
        self, jti: str, expires_at: int | None = None, *, publish: bool = True
    ) -> RevocationRecord:
        """Revoke one token id until ``expires_at`` (Unix s; default: the horizon).

        ``publish=False`` exists only for tests that simulate a lost event.
        """
        now = self._clock()
        expires_at = self._clamp_expiry(now, expires_at)
        digest = jti_digest(jti)
        body = encode_body(
            RevocationKind.JTI, jti, expires_at=expires_at, digest=digest
        )
        seq = await guarded(
            self._revoke_jti(
                keys=[schema.jti_key(jti), schema.JTI_INDEX_KEY, schema.SEQUENCE_KEY],
                args=[
                    jti_digest_bytes(jti),
                    expires_at,
                    _ttl_ms(now, expires_at),
                    math.floor(now),
                    body,
                    schema.EVENTS_CHANNEL,
                    int(publish),
                ],
            )
        )
        return RevocationRecord(int(seq), expires_at)

    async def revoke_subject(
        self, subject: str, *, publish: bool = True
    ) -> tuple[RevocationRecord, float]:
        """Reject every token of ``subject`` issued up to now; return its not-before."""
        now = self._clock()
        not_before = round(now, 3)
        expires_at = math.ceil(now) + self._horizon
        body = encode_body(
            RevocationKind.SUBJECT,
            subject,
            expires_at=expires_at,
            not_before=not_before,
        )
        seq = await guarded(
            self._revoke_subject(
                keys=[
                    schema.subject_key(subject),
                    schema.NOT_BEFORE_KEY,
                    schema.SUBJECT_INDEX_KEY,
                    schema.SEQUENCE_KEY,
                ],
                args=[
                    subject,
                    repr(not_before),
                    expires_at,
                    _ttl_ms(now, expires_at),
                    math.floor(now),
                    body,
                    schema.EVENTS_CHANNEL,
                    int(publish),
                ],
            )
        )
        return RevocationRecord(int(seq), expires_at), not_before

    async def lookup(self, jti: str, subject: str) -> RevocationLookup:
        """Answer both revocation questions for one token in one round trip."""
        jti_value, not_before = await guarded(
            self._redis.mget(schema.jti_key(jti), schema.subject_key(subject))
        )
        return RevocationLookup(
            jti_revoked=jti_value is not None,
            subject_not_before=None if not_before is None else float(not_before),
        )

    async def jti_expiry(self, jti: str) -> int | None:
        """Return when this jti's revocation ends (Unix s), or None if not revoked."""
        value = await guarded(self._redis.get(schema.jti_key(jti)))
        return None if value is None else int(float(value))

    async def sequence(self) -> int:
        """Return the number of the latest revocation."""
        value = await self._redis.get(schema.SEQUENCE_KEY)
        return 0 if value is None else int(value)

    async def snapshot(self) -> RevocationSnapshot:
        """Read the live set; the caller must read ``sequence()`` just before.

        Not one atomic read: revocations only add, and a replica subscribes
        before it reads the sequence number, so anything written during the
        read is either in the result or in an event numbered after it.
        Windows are by score, never by offset, so trimming cannot shift them.
        """
        seq = await self.sequence()
        now = math.floor(self._clock())
        digests, expiries = await self._read_jti_windows(now)
        not_before = await self._read_not_before(now)
        return RevocationSnapshot(seq, digests, expiries, not_before)

    async def server_run_id(self) -> str:
        """Return the Redis server's run id, which changes at every restart.

        Servers that refuse INFO (the embedded fake, some managed services)
        answer a constant; restarts are then seen as lost subscriptions.
        """
        try:
            info = await self._redis.info("server")
        except ResponseError:
            return "unknown"
        return str(info.get("run_id", "unknown"))

    def _clamp_expiry(self, now: float, expires_at: int | None) -> int:
        # No token of ours outlives the horizon, so neither need its entry.
        latest = math.ceil(now) + self._horizon
        if expires_at is None:
            return latest
        return min(int(expires_at), latest)

    async def _read_jti_windows(self, now: int) -> tuple[array[int], array[int]]:
        # TODO(cold start past a few million entries): this read is 0.48 s of
        # a 1M-entry start (one bytes object per member); per-window blobs
        # that the revoke script APPENDs to would make it one MGET.
        newest = await self._redis.zrange(schema.JTI_INDEX_KEY, -1, -1, withscores=True)
        if not newest:
            return entries_from_buckets(())

        last = math.ceil(float(newest[0][1]))
        bounds = list(range(now, last + 1, _SNAPSHOT_WINDOW))
        async with self._redis.pipeline(transaction=False) as pipe:
            for start in bounds:
                pipe.zrangebyscore(
                    schema.JTI_INDEX_KEY, start, f"({start + _SNAPSHOT_WINDOW}"
                )
            windows = await pipe.execute()

        return entries_from_buckets(
            (start + _SNAPSHOT_WINDOW, b"".join(members))
            for start, members in zip(bounds, windows, strict=True)
        )

    async def _read_not_before(self, now: int) -> dict[str, tuple[float, int]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(schema.NOT_BEFORE_KEY)
            pipe.zrangebyscore(schema.SUBJECT_INDEX_KEY, now, "+inf", withscores=True)
            values, live = await pipe.execute()

        not_before: dict[str, tuple[float, int]] = {}
        for subject, expires_at in live:
            value = values.get(subject)
            if value is not None:
                not_before[subject.decode()] = (float(value), math.ceil(expires_at))
        return not_before


def _ttl_ms(now: float, expires_at: int) -> int:
    return max(1, math.ceil((expires_at - now) * 1000))
