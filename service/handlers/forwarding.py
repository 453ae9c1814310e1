"""Find the client's address behind a known number of trusted proxies."""

from __future__ import annotations

from aiohttp import web

__all__ = ["client_address"]

_UNKNOWN = "unknown"


def client_address(request: web.Request, trusted_hops: int) -> str:
    """Return the address of the client that the nearest untrusted hop saw.

    Each of ``trusted_hops`` proxies appends the address it received from to
    ``X-Forwarded-For``; entries left of theirs come from the client and can
    be forged, so only the one the outermost trusted proxy appended counts.
    """
    peer = request.remote or _UNKNOWN
    if trusted_hops == 0:
        return peer

    forwarded = [
        entry.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for entry in header.split(",")
    ]
    if len(forwarded) < trusted_hops or not forwarded[-trusted_hops]:
        # Fewer entries than proxies: the request skipped one; trust only
        # what we saw ourselves.
        return peer
    return forwarded[-trusted_hops]
