"""Sign a user in: rate limits first, then the password, in constant shape."""

from __future__ import annotations

import logging

from ..errors import InvalidCredentialsError, TooManyAttemptsError
from ..storage.attempts import SignInAttempts
from ..storage.users import StoredUser, UserStore
from .passwords import Passwords

__all__ = ["SignIn", "normalize_email"]

logger = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    """Return the canonical form emails are stored and counted under."""
    return email.strip().lower()


class SignIn:
    """Check credentials against the user store under shared attempt limits."""

    def __init__(
        self, users: UserStore, attempts: SignInAttempts, passwords: Passwords
    ) -> None:
        self._users = users
        self._attempts = attempts
        self._passwords = passwords

    async def authenticate(self, email: str, password: str, address: str) -> StoredUser:
        """Return the user these credentials name, or raise a ServiceError."""
        email = normalize_email(email)
        await self._reserve(email, address)

        user = await self._users.get(email)
        matched = await self._passwords.verify(
            user.password_hash if user else None, password
        )
        if user is None or not matched:
            logger.warning("sign-in failed", extra={"client_address": address})
            raise InvalidCredentialsError("email or password is wrong")

        await self._attempts.release(email, address)
        return user

    async def _reserve(self, email: str, address: str) -> None:
        retry_after = await self._attempts.reserve(email, address)
        if retry_after:
            logger.warning("sign-in throttled", extra={"client_address": address})
            raise TooManyAttemptsError(
                "too many failed sign-in attempts; try again later", retry_after
            )
