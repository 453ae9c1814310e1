"""Check at start-up that Redis can be trusted with revocations."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from ..errors import ConfigurationError

__all__ = ["check_redis_policy"]

logger = logging.getLogger(__name__)

# Policies under which Redis may drop a key before its TTL ends.
_EVICTING = frozenset(
    {
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    }
)


async def check_redis_policy(redis: Redis, masked_url: str) -> None:
    """Refuse an evicting Redis, warn about one without an append-only file.

    An unreachable Redis is not fatal: checks fail closed until it returns.
    """
    try:
        await redis.ping()
    except RedisError as exc:
        logger.warning("redis not reachable at start", extra={"error": repr(exc)})
        return
    logger.info("redis connected", extra={"redis": masked_url})

    policy = await _eviction_policy(redis)
    if policy in _EVICTING:
        raise ConfigurationError(
            f"redis maxmemory-policy is {policy}: it could evict revocations; "
            "set it to noeviction"
        )

    persistence = await redis.info("persistence")
    if not int(persistence.get("aof_enabled", 0)):
        logger.warning(
            "redis append-only file is off: a restart can lose recent revocations"
        )


async def _eviction_policy(redis: Redis) -> str | None:
    try:
        reply = await redis.config_get("maxmemory-policy")
    except ResponseError:
        # Managed services often disable CONFIG; we cannot tell, so warn.
        logger.warning("redis eviction policy unknown: CONFIG GET refused")
        return None
    for key, value in reply.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        if (key.decode() if isinstance(key, bytes) else key) == "maxmemory-policy":
            return text
    return None
