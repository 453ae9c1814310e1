"""The replica as a component of another application that only verifies tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import fakeredis
from aiohttp import web

from service.errors import ServiceError
from service.replica.replica import RevocationReplica
from service.replica.sync import ReplicaSync
from service.revocation.checker import RevocationChecker
from service.revocation.counters import RevocationCounters
from service.storage.revocations import RevocationStore
from service.tokens.issuer import TokenIssuer
from service.tokens.keys import KeySet, SigningKey
from service.tokens.verifier import TokenVerifier
from tests.support.waiting import wait_until_async

KEYS = KeySet(SigningKey.hmac(b"component-secret-0123456789abcdefghijkl"))
VERIFIER = web.AppKey("verifier", TokenVerifier)
CHECKER = web.AppKey("checker", RevocationChecker)


def verifying_app(redis: fakeredis.FakeAsyncRedis) -> web.Application:
    """Build a downstream API that trusts our tokens and honours revocations."""
    store = RevocationStore(redis, horizon=905)
    counters = RevocationCounters()
    replica = RevocationReplica(counters)
    sync = ReplicaSync(replica, store, redis, max_staleness=1.0, heartbeat_interval=0.1)

    async def replica_lifecycle(app: web.Application) -> AsyncIterator[None]:
        sync.start()
        yield
        await sync.stop()

    async def hello(request: web.Request) -> web.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        try:
            claims = request.app[VERIFIER].verify(token)
            await request.app[CHECKER].ensure_not_revoked(claims)
        except ServiceError as exc:
            return web.json_response({"error": exc.code}, status=exc.status)
        return web.json_response({"hello": claims.subject})

    app = web.Application()
    app[VERIFIER] = TokenVerifier(
        KEYS, issuer="us", audience="api", leeway=5, cache_size=100
    )
    app[CHECKER] = RevocationChecker(store, replica, counters, timeout=0.25)
    app.cleanup_ctx.append(replica_lifecycle)
    app.router.add_get("/hello", hello)
    return app


async def test_another_app_rejects_a_token_revoked_through_the_store(
    aiohttp_client: Any,
) -> None:
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    client = await aiohttp_client(verifying_app(redis))
    issued = TokenIssuer(KEYS, issuer="us", audience="api", lifetime=60).issue(
        subject="alice", email="", name="", roles=()
    )
    headers = {"Authorization": f"Bearer {issued.token}"}

    async def status() -> int:
        return int((await client.get("/hello", headers=headers)).status)

    await wait_until_async(
        lambda: status_is(status, 200), timeout=2.0, message="never accepted"
    )
    await RevocationStore(redis, horizon=905).revoke_jti(issued.claims.jti)
    await wait_until_async(
        lambda: status_is(status, 401), timeout=1.0, message="never rejected"
    )


async def status_is(status: Any, expected: int) -> bool:
    return bool(await status() == expected)
