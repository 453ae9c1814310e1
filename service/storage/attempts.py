"""Failed sign-in counters in Redis, shared by every instance.

Each attempt first reserves a slot in its email's and its address's counter,
atomically, so parallel attempts cannot overrun the limit; a successful
sign-in gives its reservation back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis.asyncio import Redis

from . import schema
from .guard import guarded
from .scripts import load_script

__all__ = ["AttemptLimits", "SignInAttempts"]


@dataclass(frozen=True, slots=True)
class AttemptLimits:
    """How many failures are allowed per window (seconds)."""

    per_email: int
    per_address: int
    window: int


class SignInAttempts:
    """Reserve and release sign-in attempts per email and per client address."""

    def __init__(self, redis: Redis, limits: AttemptLimits) -> None:
        self._limits = limits
        self._reserve = load_script(redis, "reserve_attempt")
        self._release = load_script(redis, "release_attempt")

    async def reserve(self, email: str, address: str) -> int:
        """Reserve an attempt; return 0, or the seconds until one is allowed."""
        window_ms = self._limits.window * 1000
        for key, limit in self._counters(email, address):
            wait_ms = await guarded(
                self._reserve(keys=[key], args=[limit, window_ms]),
                "the sign-in store",
            )
            if int(wait_ms) > 0:
                return math.ceil(int(wait_ms) / 1000)
        return 0

    async def release(self, email: str, address: str) -> None:
        """Give back the attempt of a sign-in that succeeded."""
        for key, _ in self._counters(email, address):
            await guarded(self._release(keys=[key]), "the sign-in store")

    def _counters(self, email: str, address: str) -> list[tuple[str, int]]:
        return [
            (schema.email_failures_key(email), self._limits.per_email),
            (schema.address_failures_key(address), self._limits.per_address),
        ]
