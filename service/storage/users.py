"""Users in Redis: one hash per email, and an index of every email."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from . import schema
from .guard import guarded

__all__ = ["StoredUser", "UserExistsError", "UserStore"]


class UserExistsError(Exception):
    """Raised when adding a user whose email is already taken."""


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user as stored: identity, roles and the argon2id password hash."""

    subject: str
    email: str
    name: str
    roles: tuple[str, ...]
    password_hash: str


class UserStore:
    """Add, find, list and remove users."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, user: StoredUser) -> None:
        """Store a new user, or raise UserExistsError if the email is taken."""
        fields: dict[FieldT, EncodableT] = {
            "subject": user.subject,
            "email": user.email,
            "name": user.name,
            "roles": ",".join(user.roles),
            "password_hash": user.password_hash,
            "created_at": f"{time.time():.3f}",
        }
        key = schema.user_key(user.email)
        created = await guarded(self._redis.hsetnx(key, "email", user.email))
        if not created:
            raise UserExistsError(user.email)
        await guarded(self._redis.hset(key, mapping=fields))
        await guarded(self._redis.sadd(schema.USERS_INDEX_KEY, user.email))

    async def get(self, email: str) -> StoredUser | None:
        """Return the user with this email, or None."""
        reply = await guarded(self._redis.hgetall(schema.user_key(email)))
        fields = cast("dict[bytes, bytes]", reply)
        if b"password_hash" not in fields:
            return None
        return _user_from_fields(fields)

    async def list(self) -> list[StoredUser]:
        """Return every user, sorted by email."""
        reply = await guarded(self._redis.smembers(schema.USERS_INDEX_KEY))
        emails = cast("set[bytes]", reply)
        users = []
        for email in sorted(value.decode() for value in emails):
            user = await self.get(email)
            if user is not None:
                users.append(user)
        return users

    async def remove(self, email: str) -> bool:
        """Delete the user with this email; tell whether one existed."""
        removed = await guarded(self._redis.delete(schema.user_key(email)))
        await guarded(self._redis.srem(schema.USERS_INDEX_KEY, email))
        return bool(removed)


def _user_from_fields(fields: dict[bytes, bytes]) -> StoredUser:
    roles = fields.get(b"roles", b"").decode()
    return StoredUser(
        subject=fields[b"subject"].decode(),
        email=fields[b"email"].decode(),
        name=fields.get(b"name", b"").decode(),
        roles=tuple(role for role in roles.split(",") if role),
        password_hash=fields[b"password_hash"].decode(),
    )
