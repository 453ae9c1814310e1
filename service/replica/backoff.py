"""How long the replica waits before retrying a failed resync."""

from __future__ import annotations

import math

__all__ = ["ResyncBackoff"]


class ResyncBackoff:
    """Exponential delays in seconds, from ``base`` doubling up to ``cap``."""

    def __init__(self, base: float = 0.05, cap: float = 1.0) -> None:
        self._base = base
        self._cap = cap
        self._failures = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt, and count one failure."""
        delay = min(self._cap, math.ldexp(self._base, self._failures))
        self._failures += 1
        return delay

    def reset(self) -> None:
        """Start again from ``base`` after a success."""
        self._failures = 0
