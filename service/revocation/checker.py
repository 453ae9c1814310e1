"""Decide whether a verified token is revoked: from the replica, or from Redis.

The replica answers only while it is provably fresh; otherwise each check is
one round trip to Redis, and when Redis cannot answer either the check fails
closed (unless fail-open is configured, which is logged loudly).
"""

from __future__ import annotations

import asyncio
import logging

from ..errors import (
    RevocationUnavailableError,
    StoreUnavailableError,
    TokenRevokedError,
)
from ..replica.replica import RevocationReplica
from ..storage.revocations import RevocationStore
from ..tokens.claims import AccessClaims
from .counters import RevocationCounters

__all__ = ["RevocationChecker"]

logger = logging.getLogger(__name__)


class RevocationChecker:
    """Reject revoked tokens, trusting the replica only while it is fresh."""

    def __init__(
        self,
        store: RevocationStore,
        replica: RevocationReplica | None,
        counters: RevocationCounters,
        *,
        timeout: float,
        fail_open: bool = False,
    ) -> None:
        """Check against ``store``; ``timeout`` bounds each lookup, in seconds."""
        self._store = store
        self._timeout = timeout
        self._replica = replica
        self._counters = counters
        self._fail_open = fail_open

    def clears_locally(self, claims: AccessClaims) -> bool:
        """Tell whether the fresh replica proves the token not revoked.

        False means "ask Redis": the replica is not fresh, or it holds an
        entry that Redis must confirm (its digest may collide).
        """
        replica = self._replica
        if replica is None or not replica.is_fresh():
            return False
        if replica.may_reject(claims.jti, claims.subject, claims.issued_at):
            return False
        self._counters.local_answers += 1
        return True

    async def ensure_not_revoked(self, claims: AccessClaims) -> None:
        """Raise TokenRevokedError if the token is revoked; fail closed on doubt."""
        if self.clears_locally(claims):
            return
        await self.check_in_store(claims)

    async def check_in_store(self, claims: AccessClaims) -> None:
        """Ask Redis about this token; raise if revoked or if Redis cannot say."""
        self._counters.store_lookups += 1
        try:
            # Socket timeouts bound each read; this bounds the whole call,
            # reconnect and handshake included, so a cut link answers in time.
            async with asyncio.timeout(self._timeout):
                lookup = await self._store.lookup(claims.jti, claims.subject)
        except (StoreUnavailableError, TimeoutError):
            self._counters.store_failures += 1
            self._answer_without_store(claims)
            return

        if lookup.rejects(claims.issued_at):
            self._counters.confirmed_hits += 1
            raise TokenRevokedError("token has been revoked")

    def _answer_without_store(self, claims: AccessClaims) -> None:
        # A fresh replica that holds the token needed Redis only to rule out
        # a digest collision (odds about 2**-64 per entry): it is revoked.
        replica = self._replica
        if (
            replica is not None
            and replica.is_fresh()
            and replica.may_reject(claims.jti, claims.subject, claims.issued_at)
        ):
            raise TokenRevokedError("token has been revoked")
        if not self._fail_open:
            raise RevocationUnavailableError(
                "revocation status cannot be checked right now"
            )
        self._counters.fail_open_accepts += 1
        logger.warning(
            "accepting token without revocation check (fail-open)",
            extra={"jti": claims.jti},
        )
