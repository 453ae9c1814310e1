"""``GET /api/profile``: the caller's identity, from its token."""

from __future__ import annotations

from aiohttp import web

from .bearer import authenticate

__all__ = ["profile"]


async def profile(request: web.Request) -> web.Response:
    """Answer the subject, email and name the token was issued for."""
    claims = await authenticate(request)
    return web.json_response(
        {"sub": claims.subject, "email": claims.email, "name": claims.name}
    )
