"""``POST /auth/logout``: revoke the token the request presents."""

from __future__ import annotations

import math

from aiohttp import web

from ..appkeys import REVOKER, SETTINGS
from .bearer import authenticate

__all__ = ["logout"]


async def logout(request: web.Request) -> web.Response:
    """Revoke the caller's own token; a second call with it is a 401."""
    claims = await authenticate(request)
    leeway = request.app[SETTINGS].token_leeway

    expires_at = math.ceil(claims.expires_at) + leeway
    await request.app[REVOKER].revoke_jti(claims.jti, expires_at)
    return web.json_response({"revoked": True, "jti": claims.jti})
