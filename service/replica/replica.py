"""The replica: revoked jti digests and subject not-before times, in memory.

It holds data and state only; :mod:`service.replica.sync` fills it from
Redis and keeps its lease running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..revocation.counters import RevocationCounters
from ..storage.events import RevocationEvent, RevocationKind
from ..storage.revocations import RevocationSnapshot
from .digests import RevokedDigestSet, jti_digest
from .state import Lease, ReplicaState, StaleCause

__all__ = ["RevocationReplica"]

logger = logging.getLogger(__name__)


class RevocationReplica:
    """The live revocation set of one instance, trusted only while fresh."""

    def __init__(
        self,
        counters: RevocationCounters,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._digests = RevokedDigestSet()
        self._not_before: dict[str, tuple[float, int]] = {}
        self._clock = clock
        self.counters = counters
        self.lease = Lease(monotonic)
        self.state = ReplicaState.SYNCING
        self.applied_seq = 0

    def __len__(self) -> int:
        return len(self._digests) + len(self._not_before)

    def is_fresh(self) -> bool:
        """Tell whether checks may be answered from memory right now."""
        return self.state is ReplicaState.LIVE and self.lease.running()

    def may_reject(self, jti: str, subject: str, issued_at: float) -> bool:
        """Tell whether this token might be revoked (False is certain)."""
        if jti_digest(jti) in self._digests:
            return True
        entry = self._not_before.get(subject)
        return entry is not None and issued_at <= entry[0]

    def load(self, snapshot: RevocationSnapshot) -> None:
        """Replace the contents with a snapshot taken at ``snapshot.seq``."""
        self._digests.load(snapshot.digests, snapshot.expiries)
        self._not_before = dict(snapshot.not_before)
        self.applied_seq = snapshot.seq

    def apply(self, event: RevocationEvent) -> None:
        """Apply one event (idempotent) and advance the applied sequence."""
        if event.kind is RevocationKind.JTI:
            self._digests.add(event.digest, event.expires_at)
        else:
            self.set_not_before(event.value, event.not_before, event.expires_at)
        self.applied_seq = max(self.applied_seq, event.seq)
        self.counters.events_applied += 1

    def add_jti(self, jti: str, expires_at: int) -> None:
        """Record a revocation this instance made, before its event arrives."""
        self._digests.add(jti_digest(jti), expires_at)

    def set_not_before(self, subject: str, not_before: float, expires_at: int) -> None:
        """Record a subject's not-before; it only ever moves forward."""
        current = self._not_before.get(subject)
        if current is None or current[0] < not_before:
            self._not_before[subject] = (not_before, expires_at)

    def discard_expired(self) -> int:
        """Drop entries whose tokens have expired; return how many."""
        now = self._clock()
        dropped = self._digests.discard_expired(now)
        expired = [s for s, (_, until) in self._not_before.items() if until < now]
        for subject in expired:
            del self._not_before[subject]
        return dropped + len(expired)

    def go_live(self, lease_until: float) -> None:
        """Enter LIVE with a lease running until ``lease_until`` (monotonic s)."""
        self.lease.renew(lease_until)
        if self.state is not ReplicaState.LIVE:
            self.state = ReplicaState.LIVE
            logger.info(
                "replica live",
                extra={"seq": self.applied_seq, "size": len(self)},
            )

    def mark_stale(self, cause: StaleCause) -> None:
        """Leave LIVE at once; checks go to Redis until a resync completes."""
        self.lease.revoke()
        self.counters.resyncs[cause.value] += 1
        if self.state is ReplicaState.LIVE:
            logger.info("replica stale", extra={"cause": cause.value})
        self.state = ReplicaState.STALE

    def public_state(self) -> ReplicaState:
        """Return the state as readiness reports it (LIVE with no lease is stale)."""
        if self.state is ReplicaState.LIVE and not self.lease.running():
            return ReplicaState.STALE
        return self.state

    def nbytes(self) -> int:
        """Return the approximate memory held by the entries, in bytes."""
        return self._digests.nbytes() + 200 * len(self._not_before)
