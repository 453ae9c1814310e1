"""``GET /health`` (liveness) and ``GET /ready`` (readiness)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from redis.exceptions import RedisError

from ..appkeys import CLIENTS, COUNTERS, REPLICA, SETTINGS
from ..replica.state import ReplicaState

__all__ = ["health", "ready"]


async def health(request: web.Request) -> web.Response:
    """Answer 200 while the process serves."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Answer 200 when revocation checks can be answered, 503 and why if not."""
    app = request.app
    store_ok = await _store_reachable(request)
    replica = app.get(REPLICA)
    state = ReplicaState.OFF if replica is None else replica.public_state()

    can_check = state is ReplicaState.LIVE or store_ok
    body: dict[str, object] = {
        "status": "ready" if can_check else "unavailable",
        "store": "ok" if store_ok else "unreachable",
        "replica": state.value,
        "counters": app[COUNTERS].as_dict(),
    }
    if replica is not None:
        body["replica_size"] = len(replica)
        body["replica_bytes"] = replica.nbytes()
        body["replica_seq"] = replica.applied_seq
    if not can_check:
        body["reason"] = "redis is unreachable and the replica is not live"
    return web.json_response(body, status=200 if can_check else 503)


async def _store_reachable(request: web.Request) -> bool:
    timeout = request.app[SETTINGS].redis_timeout
    try:
        async with asyncio.timeout(timeout * 2):
            await request.app[CLIENTS].commands.ping()
    except (RedisError, OSError, TimeoutError):
        return False
    return True
