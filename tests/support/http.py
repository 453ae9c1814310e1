"""A minimal synchronous JSON HTTP client for talking to a service process."""

from __future__ import annotations

import http.client
import json as jsonlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class Headers(Mapping[str, str]):
    """Read-only response headers with case-insensitive names.

    Repeated headers are joined with ", " as RFC 9110 allows.
    """

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        merged: dict[str, str] = {}

        for name, value in items:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value

        self._items = merged

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True)
class Response:
    """One HTTP response, fully read."""

    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        """Decode the body as JSON."""
        return jsonlib.loads(self.body)

    def text(self) -> str:
        """Decode the body as UTF-8."""
        return self.body.decode()


def request(
    method: str,
    url: str,
    *,
    json: object | None = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> Response:
    """Send one request on a fresh connection and return the whole response.

    Pass ``json`` for a JSON body or ``content`` for raw bytes (for example
    a deliberately malformed body), not both. ``timeout`` is in seconds and
    applies to connecting and to each socket read.
    """
    if json is not None and content is not None:
        raise ValueError("pass json or content, not both")

    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"need an http:// URL, not {url!r}")

    body, sent_headers = _body_and_headers(json, content, headers)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"

    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers=sent_headers)
        return _read_response(connection.getresponse())
    finally:
        connection.close()


def _body_and_headers(
    json: object | None, content: bytes | None, headers: Mapping[str, str] | None
) -> tuple[bytes | None, dict[str, str]]:
    """Encode the body and add Content-Type for JSON unless the caller set one."""
    sent_headers = dict(headers or {})
    if json is None:
        return content, sent_headers

    if not any(name.lower() == "content-type" for name in sent_headers):
        sent_headers["Content-Type"] = "application/json"
    return jsonlib.dumps(json).encode(), sent_headers


def _read_response(response: http.client.HTTPResponse) -> Response:
    """Read status, headers and body into a Response."""
    return Response(
        status=response.status,
        headers=Headers(response.getheaders()),
        body=response.read(),
    )
