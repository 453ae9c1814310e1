"""Turn Redis failures into the error a client sees."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from redis.exceptions import RedisError

from ..errors import StoreUnavailableError

__all__ = ["guarded"]

_T = TypeVar("_T")


async def guarded(call: Awaitable[_T], what: str = "the store") -> _T:
    """Await a Redis call; raise StoreUnavailableError if Redis fails."""
    try:
        return await call
    except (RedisError, OSError) as exc:
        raise StoreUnavailableError(f"{what} is unreachable") from exc
