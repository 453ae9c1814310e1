"""A bounded cache of token strings that already passed full verification."""

from __future__ import annotations

from .claims import AccessClaims

__all__ = ["VerifiedTokenCache"]


class VerifiedTokenCache:
    """Map exact token strings to their verified claims, oldest evicted first.

    Only signature and claim checks are skipped on a hit; expiry is checked
    by the caller and revocation on every request regardless.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._claims: dict[str, AccessClaims] = {}

    def __len__(self) -> int:
        return len(self._claims)

    def get(self, token: str) -> AccessClaims | None:
        """Return the cached claims of this token, or None."""
        return self._claims.get(token)

    def put(self, token: str, claims: AccessClaims) -> None:
        """Remember a verified token, evicting the oldest entry when full."""
        if self.capacity <= 0:
            return
        if len(self._claims) >= self.capacity:
            # Insertion order makes the first key the oldest.
            del self._claims[next(iter(self._claims))]
        self._claims[token] = claims

    def discard(self, token: str) -> None:
        """Forget one token."""
        self._claims.pop(token, None)

    def clear(self) -> None:
        """Forget every token, as after a change of signing keys."""
        self._claims.clear()
