"""Counters of the revocation path, kept in one place for the metrics endpoint."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["RevocationCounters"]


@dataclass(slots=True)
class RevocationCounters:
    """Plain integers, bumped on the hot path without locks (one event loop)."""

    local_answers: int = 0
    store_lookups: int = 0
    store_failures: int = 0
    confirmed_hits: int = 0
    fail_open_accepts: int = 0
    events_applied: int = 0
    events_skipped: int = 0
    resyncs: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        """Return every counter, for JSON or a metrics exposition."""
        return {
            "local_answers": self.local_answers,
            "store_lookups": self.store_lookups,
            "store_failures": self.store_failures,
            "confirmed_hits": self.confirmed_hits,
            "fail_open_accepts": self.fail_open_accepts,
            "events_applied": self.events_applied,
            "events_skipped": self.events_skipped,
            "resyncs": dict(self.resyncs),
        }
