"""The revocation event: what the store publishes and every replica applies.

On the wire an event is ``<seq>|<body>``: the store's script prepends the
sequence number it assigned, and the body is JSON built here. This module is
the only place that knows the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "EventFormatError",
    "RevocationEvent",
    "RevocationKind",
    "decode_event",
    "encode_body",
]

_SEPARATOR = b"|"


class EventFormatError(ValueError):
    """Raised when a message on the revocation channel cannot be decoded."""


class RevocationKind(StrEnum):
    """What an event revokes."""

    JTI = "jti"
    SUBJECT = "subject"


@dataclass(frozen=True, slots=True)
class RevocationEvent:
    """One revocation, as published. Times are Unix seconds.

    For a ``jti`` event, ``value`` is the token id and ``digest`` its 64-bit
    replica digest; for a ``subject`` event, ``value`` is the subject and
    ``not_before`` the time before which its tokens are rejected.
    """

    seq: int
    kind: RevocationKind
    value: str
    expires_at: int
    digest: int = 0
    not_before: float = 0.0


def encode_body(
    kind: RevocationKind,
    value: str,
    *,
    expires_at: int,
    digest: int = 0,
    not_before: float = 0.0,
) -> str:
    """Encode an event body; the store's script prepends the sequence number."""
    body: dict[str, object] = {"k": kind.value, "v": value, "e": expires_at}
    if kind is RevocationKind.JTI:
        body["d"] = digest
    else:
        body["n"] = not_before
    return json.dumps(body, separators=(",", ":"))


def decode_event(message: bytes) -> RevocationEvent:
    """Decode one channel message, or raise EventFormatError."""
    seq_text, separator, body_text = message.partition(_SEPARATOR)
    if not separator:
        raise EventFormatError("event has no sequence number")

    try:
        seq = int(seq_text)
        body = json.loads(body_text)
        kind = RevocationKind(body["k"])
        return RevocationEvent(
            seq=seq,
            kind=kind,
            value=str(body["v"]),
            expires_at=int(body["e"]),
            digest=int(body.get("d", 0)),
            not_before=float(body.get("n", 0.0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise EventFormatError(f"event is malformed: {exc}") from exc
