"""``GET /openapi.json``: the OpenAPI 3.1 document that describes every route."""

from __future__ import annotations

import json
from importlib import resources

from aiohttp import web

__all__ = ["DOCUMENT", "openapi"]


def _load_document() -> bytes:
    """Read the packaged document once and prove it is JSON before serving it."""
    raw = resources.files("service").joinpath("openapi.json").read_bytes()
    json.loads(raw)
    return raw


# Read at import, so a missing or broken data file stops the start, not a request.
DOCUMENT = _load_document()


async def openapi(request: web.Request) -> web.Response:
    """Answer the OpenAPI document, byte for byte as packaged."""
    return web.Response(body=DOCUMENT, content_type="application/json")
