"""Read JSON request bodies and their fields, with errors that name the field."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import BodyTooLargeError, InvalidRequestError

__all__ = ["optional_int", "read_json_object", "required_string"]


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Return the body as a JSON object, or raise a 4xx ServiceError."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLargeError("request body is too large") from None

    if not raw:
        raise InvalidRequestError("request body must be a JSON object")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequestError("request body is not valid UTF-8") from None
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and over-long integers.
        raise InvalidRequestError("request body is not valid JSON") from None

    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    return body


def required_string(body: dict[str, Any], name: str, *, max_length: int) -> str:
    """Return ``body[name]`` as a non-empty string of bounded length."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"field {name} must be a non-empty string")
    if len(value) > max_length:
        raise InvalidRequestError(f"field {name} is longer than {max_length}")
    if not _is_unicode_text(value):
        raise InvalidRequestError(f"field {name} holds a lone surrogate")
    return value


def _is_unicode_text(value: str) -> bool:
    # JSON escapes such as "\\ud800" decode to lone surrogates, which no
    # store or hash can encode; they are bad input, not our failure.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def optional_int(body: dict[str, Any], name: str) -> int | None:
    """Return ``body[name]`` as an integer, or None when absent."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"field {name} must be an integer")
    return value
