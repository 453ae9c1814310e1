"""The replica's states and its freshness lease."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["Lease", "ReplicaState", "StaleCause"]


class ReplicaState(StrEnum):
    """Where the replica stands; only LIVE with a running lease answers checks."""

    SYNCING = "syncing"
    LIVE = "live"
    STALE = "stale"
    OFF = "off"


class StaleCause(StrEnum):
    """Why the replica left LIVE (also the label of the resync counter)."""

    STARTUP = "startup"
    SEQUENCE_GAP = "sequence_gap"
    SEQUENCE_BEHIND = "sequence_behind"
    SEQUENCE_REGRESSED = "sequence_regressed"
    RESUBSCRIBED = "resubscribed"
    SUBSCRIPTION_SILENT = "subscription_silent"
    SERVER_RESTARTED = "server_restarted"
    HEARTBEAT_FAILED = "heartbeat_failed"
    LISTENER_ERROR = "listener_error"
    BAD_EVENT = "bad_event"


class Lease:
    """A deadline on the monotonic clock until which the replica may be trusted."""

    __slots__ = ("_clock", "deadline")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.deadline = float("-inf")

    def running(self) -> bool:
        """Tell whether the lease has not yet run out."""
        return self._clock() < self.deadline

    def renew(self, until: float) -> None:
        """Extend the lease to ``until`` (monotonic s); it never moves back."""
        if until > self.deadline:
            self.deadline = until

    def revoke(self) -> None:
        """End the lease now."""
        self.deadline = float("-inf")

    def remaining(self) -> float:
        """Return the seconds left, or 0 when the lease has run out."""
        return max(0.0, self.deadline - self._clock())
