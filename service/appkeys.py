"""Typed keys for the state an application holds, declared in one place."""

from __future__ import annotations

from aiohttp import web

from .accounts.signin import SignIn
from .config import Settings
from .replica.replica import RevocationReplica
from .revocation.checker import RevocationChecker
from .revocation.counters import RevocationCounters
from .revocation.revoker import Revoker
from .storage.connection import RedisClients
from .storage.revocations import RevocationStore
from .storage.users import UserStore
from .tokens.issuer import TokenIssuer
from .tokens.verifier import TokenVerifier

__all__ = [
    "CHECKER",
    "CLIENTS",
    "COUNTERS",
    "ISSUER",
    "REPLICA",
    "REVOCATIONS",
    "REVOKER",
    "SETTINGS",
    "SIGN_IN",
    "USERS",
    "VERIFIER",
]

SETTINGS = web.AppKey("settings", Settings)
CLIENTS = web.AppKey("clients", RedisClients)
COUNTERS = web.AppKey("counters", RevocationCounters)
REVOCATIONS = web.AppKey("revocations", RevocationStore)
REPLICA = web.AppKey("replica", RevocationReplica)
CHECKER = web.AppKey("checker", RevocationChecker)
REVOKER = web.AppKey("revoker", Revoker)
ISSUER = web.AppKey("issuer", TokenIssuer)
VERIFIER = web.AppKey("verifier", TokenVerifier)
SIGN_IN = web.AppKey("sign_in", SignIn)
USERS = web.AppKey("users", UserStore)
