"""A raw RESP connection for poking at Redis (or a proxy in front of it) from tests.

It keeps its own receive buffer instead of using ``socket.makefile`` because a
file object refuses every read after one timeout, and tests time reads out on
purpose (a paused server, a blackholed link) and then carry on.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

Argument = str | bytes | int

_SIMPLE_KINDS = frozenset(b"+-:_#,(")
_BLOB_KINDS = frozenset(b"$!=")
_AGGREGATE_WIDTH = {ord("*"): 1, ord("~"): 1, ord(">"): 1, ord("%"): 2}
_RECEIVE_SIZE = 65536


def encode_command(*args: Argument) -> bytes:
    """Encode one command as a RESP array of bulk strings."""
    parts = [f"*{len(args)}\r\n".encode()]

    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))

    return b"".join(parts)


def reply_end(buffer: bytes, start: int = 0) -> int | None:
    """Return the index just past the reply at start, or None if it is incomplete."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None

    kind = buffer[start]
    after = line_end + 2
    if kind in _SIMPLE_KINDS:
        return after

    count = int(buffer[start + 1 : line_end])
    if kind in _BLOB_KINDS:
        return _blob_end(buffer, after, count)
    if kind in _AGGREGATE_WIDTH:
        return _elements_end(buffer, after, count * _AGGREGATE_WIDTH[kind])

    raise ValueError(f"unknown RESP type byte {bytes([kind])!r}")


def _blob_end(buffer: bytes, start: int, length: int) -> int | None:
    """Return the index just past a blob of length bytes and its CRLF, if present."""
    if length < 0:
        return start

    end = start + length + 2
    return end if len(buffer) >= end else None


def _elements_end(buffer: bytes, start: int, count: int) -> int | None:
    """Return the index just past count consecutive replies, or None if incomplete."""
    position = start

    for _ in range(max(count, 0)):
        end = reply_end(buffer, position)
        if end is None:
            return None
        position = end

    return position


def bulk_value(reply: bytes) -> bytes | None:
    """Return the payload of a raw bulk-string reply, or None for a null reply."""
    if not reply.startswith(b"$"):
        raise ValueError(f"not a bulk string reply: {reply[:80]!r}")

    header_end = reply.index(b"\r\n")
    length = int(reply[1:header_end])
    if length < 0:
        return None
    return reply[header_end + 2 : header_end + 2 + length]


class RespConnection:
    """One TCP connection that sends RESP commands and returns raw replies."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0) -> None:
        self._timeout = timeout
        self._buffer = b""
        self._socket = socket.create_connection((host, port), timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket."""
        self._socket.close()

    def send(self, *args: Argument) -> None:
        """Send one command without reading its reply."""
        self._socket.sendall(encode_command(*args))

    def read_reply(self, *, timeout: float | None = None) -> bytes:
        """Return the next complete raw reply; raise TimeoutError after timeout s.

        A timeout leaves the connection usable: bytes received so far stay
        buffered for the next call.
        """
        self._socket.settimeout(self._timeout if timeout is None else timeout)

        while (end := reply_end(self._buffer)) is None:
            self._receive()

        reply, self._buffer = self._buffer[:end], self._buffer[end:]
        return reply

    def call(self, *args: Argument, timeout: float | None = None) -> bytes:
        """Send one command and return its raw reply."""
        self.send(*args)
        return self.read_reply(timeout=timeout)

    def _receive(self) -> None:
        """Append one chunk from the socket; raise ConnectionError at EOF."""
        chunk = self._socket.recv(_RECEIVE_SIZE)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self._buffer += chunk
