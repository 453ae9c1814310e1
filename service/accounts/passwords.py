"""Hash and check passwords with argon2id, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MAX_PASSWORD_LENGTH", "Passwords"]

# argon2 takes any length, but a megabyte password is a denial of service.
MAX_PASSWORD_LENGTH = 1024


class Passwords:
    """Hash passwords and verify them, in a worker thread."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Checked when an email is unknown, so both answers take as long.
        self._decoy_hash = self._hasher.hash("decoy password, never matches")

    def hash(self, password: str) -> str:
        """Return the argon2id hash of a password (blocking; for the CLI)."""
        return self._hasher.hash(password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Tell whether the password matches; with no hash, spend the same time."""
        target = password_hash or self._decoy_hash
        matched = await asyncio.to_thread(self._verify_blocking, target, password)
        return matched and password_hash is not None

    def _verify_blocking(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
