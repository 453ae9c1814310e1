"""Redis clients for one instance: real Redis, or the embedded fake."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from ..config import Settings

__all__ = ["RedisClients", "connect_clients"]

logger = logging.getLogger(__name__)

# The replica's snapshot reads can be large; they get more time than the
# request path, which must fail within a fraction of a second.
_REPLICA_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class RedisClients:
    """The clients one instance uses.

    ``commands`` serves the request path: short timeouts and one retry, so
    that a stale pooled connection after a Redis restart costs no error.
    ``replica`` serves the replica's snapshot, heartbeat and subscription:
    no retries, so that every fault surfaces and triggers a resync.
    """

    commands: Redis
    replica: Redis
    embedded: bool

    async def close(self) -> None:
        """Close both clients and their pools."""
        await self.commands.aclose()
        if self.replica is not self.commands:
            await self.replica.aclose()


def connect_clients(settings: Settings) -> RedisClients:
    """Build the clients for the configured Redis, or the embedded store."""
    if settings.redis_url is None:
        return _embedded_clients()

    # A blocking pool: under a burst, calls queue for a connection (bounded
    # by the request-path timeout) rather than failing with "too many".
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_pool_size,
        timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
        health_check_interval=0,
        client_name="jwt-revocation:commands",
    )
    commands = Redis.from_pool(pool)
    replica = Redis.from_url(
        settings.redis_url,
        socket_timeout=_REPLICA_TIMEOUT,
        socket_connect_timeout=max(settings.redis_timeout, 1.0),
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
        client_name="jwt-revocation:replica",
    )
    return RedisClients(commands=commands, replica=replica, embedded=False)


def _embedded_clients() -> RedisClients:
    # Imported here: fakeredis costs a fleet instance 0.1 s of every start.
    import fakeredis

    server = fakeredis.FakeServer()
    client = fakeredis.FakeAsyncRedis(server=server)
    return RedisClients(commands=client, replica=client, embedded=True)
