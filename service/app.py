"""The application factory: it builds the parts and wires them, nothing more."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import appkeys
from .accounts.passwords import Passwords
from .accounts.signin import SignIn
from .bootstrap import create_demo_user
from .config import RevocationCache, Settings
from .handlers import health, login, logout, openapi, profile, revocations, subjects
from .handlers.middleware import error_middleware
from .replica.replica import RevocationReplica
from .replica.sync import ReplicaSync
from .revocation.checker import RevocationChecker
from .revocation.counters import RevocationCounters
from .revocation.revoker import Revoker
from .storage.attempts import AttemptLimits, SignInAttempts
from .storage.connection import RedisClients, connect_clients
from .storage.policy import check_redis_policy
from .storage.revocations import RevocationStore
from .storage.users import UserStore
from .tokens.issuer import TokenIssuer
from .tokens.keys import KeySet, SigningKey
from .tokens.verifier import TokenVerifier

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clients: RedisClients | None = None,
    passwords: Passwords | None = None,
) -> web.Application:
    """Build the application for these settings.

    ``clients`` lets tests and the embedded mode hand in their own Redis.
    """
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[error_middleware]
    )
    clients = clients or connect_clients(settings)
    passwords = passwords or Passwords()
    _wire(app, settings, clients, passwords)
    _add_routes(app)
    if clients.embedded:
        app.on_startup.append(create_demo_user(passwords))
    app.cleanup_ctx.append(_redis_lifecycle)
    app.cleanup_ctx.append(_replica_lifecycle)
    return app


def _wire(
    app: web.Application,
    settings: Settings,
    clients: RedisClients,
    passwords: Passwords,
) -> None:
    counters = RevocationCounters()
    store = RevocationStore(clients.commands, horizon=settings.revocation_horizon)
    replica = None
    if settings.revocation_cache is RevocationCache.REPLICA:
        replica = RevocationReplica(counters)
        app[appkeys.REPLICA] = replica

    keys = KeySet(SigningKey.hmac(settings.jwt_secret))
    attempts = SignInAttempts(
        clients.commands,
        AttemptLimits(
            per_email=settings.signin_max_failures_per_email,
            per_address=settings.signin_max_failures_per_address,
            window=settings.signin_failure_window,
        ),
    )

    app[appkeys.SETTINGS] = settings
    app[appkeys.CLIENTS] = clients
    app[appkeys.COUNTERS] = counters
    app[appkeys.REVOCATIONS] = store
    app[appkeys.CHECKER] = RevocationChecker(
        store,
        replica,
        counters,
        timeout=settings.redis_timeout,
        fail_open=settings.revocation_fail_open,
    )
    app[appkeys.REVOKER] = Revoker(
        store,
        replica,
        ack=settings.revocation_ack,
        max_staleness=settings.replica_max_staleness,
    )
    app[appkeys.ISSUER] = TokenIssuer(
        keys,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=settings.token_lifetime,
    )
    app[appkeys.VERIFIER] = TokenVerifier(
        keys,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        leeway=settings.token_leeway,
        cache_size=settings.token_cache_size,
    )
    app[appkeys.USERS] = UserStore(clients.commands)
    app[appkeys.SIGN_IN] = SignIn(app[appkeys.USERS], attempts, passwords)


def _add_routes(app: web.Application) -> None:
    app.router.add_post("/auth/login", login.login)
    app.router.add_post("/auth/logout", logout.logout)
    app.router.add_get("/api/profile", profile.profile)
    app.router.add_post("/admin/revocations", revocations.create_revocation)
    app.router.add_get("/admin/revocations/{jti}", revocations.show_revocation)
    app.router.add_post("/admin/subjects/{sub}/revoke-all", subjects.revoke_subject)
    app.router.add_get("/health", health.health)
    app.router.add_get("/ready", health.ready)
    app.router.add_get("/openapi.json", openapi.openapi)


async def _redis_lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    clients = app[appkeys.CLIENTS]
    if not clients.embedded:
        masked = str(settings.public_view()["redis_url"])
        await check_redis_policy(clients.commands, masked)
    yield
    await clients.close()


async def _replica_lifecycle(app: web.Application) -> AsyncIterator[None]:
    replica = app.get(appkeys.REPLICA)
    if replica is None:
        logger.info("replica off: every check asks redis")
        yield
        return

    settings = app[appkeys.SETTINGS]
    # The sync reads through its own client: its heartbeat has a deadline of
    # its own, longer than the request path's timeout.
    clients = app[appkeys.CLIENTS]
    sync = ReplicaSync(
        replica,
        RevocationStore(clients.replica, horizon=settings.revocation_horizon),
        clients.replica,
        max_staleness=settings.replica_max_staleness,
        heartbeat_interval=settings.replica_heartbeat_interval,
    )
    sync.start()
    yield
    await sync.stop()
