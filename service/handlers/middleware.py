"""Turn every failure into a JSON error body with a stable code."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from ..errors import ServiceError

__all__ = ["error_middleware", "error_response"]

logger = logging.getLogger(__name__)

# aiohttp's own errors (routing, body size) mapped to our codes.
_HTTP_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}

# Headers of aiohttp's errors that the JSON answer carries on.
_KEPT_HEADERS = ("Allow",)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Build the JSON error body every failure answers with."""
    return web.json_response(
        {"error": code, "message": message}, status=status, headers=headers
    )


def _kept_headers(exc: web.HTTPException) -> dict[str, str]:
    # A 405 must list the allowed methods (RFC 9110 15.5.6).
    return {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}


@web.middleware
async def error_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Answer ServiceErrors and aiohttp's HTTP errors as JSON; log the rest."""
    try:
        return await handler(request)
    except ServiceError as exc:
        if exc.status >= 500:
            logger.warning(
                "request failed", extra={"code": exc.code, "path": request.path}
            )
        return error_response(exc.status, exc.code, exc.message, exc.headers())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return error_response(exc.status, code, exc.reason, _kept_headers(exc))
    except Exception:
        logger.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "internal_error", "internal server error")
