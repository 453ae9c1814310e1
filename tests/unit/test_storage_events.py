"""The revocation event format, defined once."""

from __future__ import annotations

import pytest

from service.storage.events import (
    EventFormatError,
    RevocationKind,
    decode_event,
    encode_body,
)


def test_a_jti_event_round_trips_with_the_sequence_the_script_prepends() -> None:
    body = encode_body(RevocationKind.JTI, "abc", expires_at=1234, digest=99)
    event = decode_event(b"17|" + body.encode())
    assert event.seq == 17
    assert event.kind is RevocationKind.JTI
    assert event.value == "abc"
    assert event.expires_at == 1234
    assert event.digest == 99


def test_a_subject_event_carries_its_not_before() -> None:
    body = encode_body(
        RevocationKind.SUBJECT, "a|b", expires_at=1234, not_before=1000.5
    )
    event = decode_event(b"3|" + body.encode())
    assert event.value == "a|b"
    assert event.not_before == 1000.5


@pytest.mark.parametrize(
    "message",
    [b"", b"no-separator", b"x|{}", b"1|not json", b'1|{"k":"other","v":"a","e":1}'],
)
def test_malformed_messages_raise_event_format_error(message: bytes) -> None:
    with pytest.raises(EventFormatError):
        decode_event(message)
