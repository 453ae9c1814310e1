"""Revoke tokens and subjects: write to Redis, apply locally, then answer."""

from __future__ import annotations

import asyncio
import logging
import time

from ..config import RevocationAck
from ..replica.replica import RevocationReplica
from ..storage.revocations import RevocationRecord, RevocationStore

__all__ = ["Revoker"]

logger = logging.getLogger(__name__)


class Revoker:
    """Perform revocations so that an answer means what the ack setting says."""

    def __init__(
        self,
        store: RevocationStore,
        replica: RevocationReplica | None,
        *,
        ack: RevocationAck,
        max_staleness: float,
    ) -> None:
        self._store = store
        self._replica = replica
        self._ack = ack
        self._max_staleness = max_staleness

    async def revoke_jti(
        self, jti: str, expires_at: int | None = None
    ) -> RevocationRecord:
        """Revoke one token id; return once the ack setting is satisfied."""
        record = await self._store.revoke_jti(jti, expires_at)
        confirmed = time.monotonic()

        if self._replica is not None:
            self._replica.add_jti(jti, record.expires_at)
        logger.info("token revoked", extra={"jti": jti, "seq": record.seq})

        await self._await_ack(confirmed)
        return record

    async def revoke_subject(self, subject: str) -> tuple[RevocationRecord, float]:
        """Reject every token of a subject issued up to now."""
        record, not_before = await self._store.revoke_subject(subject)
        confirmed = time.monotonic()

        if self._replica is not None:
            self._replica.set_not_before(subject, not_before, record.expires_at)
        logger.info("subject revoked", extra={"subject": subject, "seq": record.seq})

        await self._await_ack(confirmed)
        return record, not_before

    async def _await_ack(self, confirmed: float) -> None:
        # Every replica's lease is at most max_staleness long, so once that
        # much time has passed since Redis had the write, none can be stale.
        if self._ack is RevocationAck.EVERYWHERE:
            remaining = confirmed + self._max_staleness - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
