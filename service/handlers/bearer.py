"""Authenticate a request from its bearer token: verify, then check revocation."""

from __future__ import annotations

import logging

from aiohttp import web

from ..appkeys import CHECKER, VERIFIER
from ..errors import ForbiddenError, InvalidTokenError, MissingTokenError
from ..tokens.claims import AccessClaims

__all__ = ["authenticate", "authenticate_admin", "bearer_token"]

logger = logging.getLogger(__name__)


def bearer_token(request: web.Request) -> str:
    """Return the token of an ``Authorization: Bearer`` header (RFC 6750 2.1)."""
    header = request.headers.get("Authorization")
    if header is None:
        raise MissingTokenError("authorization header is missing")

    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidTokenError("authorization scheme must be Bearer")
    token = token.strip()
    if not token:
        raise InvalidTokenError("bearer token is empty")
    return token


async def authenticate(request: web.Request) -> AccessClaims:
    """Return the claims of the request's valid, unrevoked token."""
    app = request.app
    claims = app[VERIFIER].verify(bearer_token(request))
    await app[CHECKER].ensure_not_revoked(claims)
    return claims


async def authenticate_admin(request: web.Request) -> AccessClaims:
    """Return the claims of a valid token that carries the admin role."""
    claims = await authenticate(request)
    if not claims.is_admin:
        logger.warning("admin route refused", extra={"jti": claims.jti})
        raise ForbiddenError("this route requires the admin role")
    return claims
