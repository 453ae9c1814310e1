"""``POST /admin/subjects/{sub}/revoke-all``: reject every token of a subject."""

from __future__ import annotations

import logging

from aiohttp import web

from ..appkeys import REVOKER
from ..errors import InvalidRequestError
from .bearer import authenticate_admin

__all__ = ["revoke_subject"]

logger = logging.getLogger(__name__)

_MAX_SUBJECT_LENGTH = 256


async def revoke_subject(request: web.Request) -> web.Response:
    """Set the subject's not-before to now: older tokens fail, newer ones work."""
    admin = await authenticate_admin(request)
    subject = request.match_info["sub"]
    if not 0 < len(subject) <= _MAX_SUBJECT_LENGTH:
        raise InvalidRequestError("path parameter sub is malformed")

    record, not_before = await request.app[REVOKER].revoke_subject(subject)
    logger.info(
        "admin revoked subject", extra={"subject": subject, "admin": admin.subject}
    )
    return web.json_response(
        {
            "sub": subject,
            "not_before": not_before,
            "expires_at": record.expires_at,
        }
    )
