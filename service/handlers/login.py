"""``POST /auth/login``: exchange an email and password for an access token."""

from __future__ import annotations

import logging

from aiohttp import web

from ..accounts.passwords import MAX_PASSWORD_LENGTH
from ..appkeys import ISSUER, SETTINGS, SIGN_IN
from .bodies import read_json_object, required_string
from .forwarding import client_address

__all__ = ["login"]

logger = logging.getLogger(__name__)

_MAX_EMAIL_LENGTH = 254

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def login(request: web.Request) -> web.Response:
    """Sign the user in and answer a bearer token (RFC 6749 5.1 shape)."""
    body = await read_json_object(request)
    email = required_string(body, "email", max_length=_MAX_EMAIL_LENGTH)
    password = required_string(body, "password", max_length=MAX_PASSWORD_LENGTH)

    address = client_address(request, request.app[SETTINGS].trusted_proxy_hops)
    user = await request.app[SIGN_IN].authenticate(email, password, address)

    issued = request.app[ISSUER].issue(
        subject=user.subject, email=user.email, name=user.name, roles=user.roles
    )
    logger.info(
        "token issued", extra={"jti": issued.claims.jti, "subject": user.subject}
    )
    return web.json_response(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "expires_in": issued.lifetime,
        },
        headers=_NO_STORE,
    )
