"""``/admin/revocations``: revoke one token, and look a revocation up."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from aiohttp import web

from ..appkeys import REVOCATIONS, REVOKER, SETTINGS, VERIFIER
from ..errors import InvalidRequestError, InvalidTokenError, NotFoundError
from ..tokens.claims import is_valid_jti
from ..tokens.verifier import MAX_TOKEN_LENGTH
from .bearer import authenticate_admin
from .bodies import optional_int, read_json_object, required_string

__all__ = ["create_revocation", "show_revocation"]

logger = logging.getLogger(__name__)


async def create_revocation(request: web.Request) -> web.Response:
    """Revoke a token named by ``jti`` (with optional ``expires_at``) or whole."""
    admin = await authenticate_admin(request)
    body = await read_json_object(request)
    jti, expires_at = _target(request, body)

    record = await request.app[REVOKER].revoke_jti(jti, expires_at)
    logger.info("admin revoked token", extra={"jti": jti, "admin": admin.subject})
    return web.json_response(
        {"jti": jti, "revoked": True, "expires_at": record.expires_at}, status=201
    )


async def show_revocation(request: web.Request) -> web.Response:
    """Answer whether a ``jti`` is revoked, and until when."""
    await authenticate_admin(request)
    jti = request.match_info["jti"]
    if not is_valid_jti(jti):
        raise InvalidRequestError("path parameter jti is malformed")

    expires_at = await request.app[REVOCATIONS].jti_expiry(jti)
    if expires_at is None:
        raise NotFoundError("this jti is not revoked")
    return web.json_response({"jti": jti, "revoked": True, "expires_at": expires_at})


def _target(request: web.Request, body: dict[str, Any]) -> tuple[str, int | None]:
    if "token" in body:
        if "jti" in body:
            raise InvalidRequestError("give either field token or field jti")
        return _target_of_token(request, body)

    jti = required_string(body, "jti", max_length=128)
    if not is_valid_jti(jti):
        raise InvalidRequestError("field jti is malformed")
    expires_at = optional_int(body, "expires_at")
    if expires_at is not None and expires_at <= time.time():
        raise InvalidRequestError("field expires_at must be in the future")
    return jti, expires_at


def _target_of_token(
    request: web.Request, body: dict[str, Any]
) -> tuple[str, int | None]:
    token = required_string(body, "token", max_length=MAX_TOKEN_LENGTH)
    try:
        claims = request.app[VERIFIER].read_revocable(token)
    except InvalidTokenError as exc:
        raise InvalidRequestError(f"field token: {exc.message}") from None
    leeway = request.app[SETTINGS].token_leeway
    return claims.jti, math.ceil(claims.expires_at) + leeway
