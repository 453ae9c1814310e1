"""Hostile HTTP against a real process: refused with a 4xx, and serving on.

Requests go out as raw bytes on sockets of their own, so that they can be
what no polite client sends. After every test the process must answer
``GET /health`` promptly and must not have logged a failure of its own.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import request
from tests.support.service_process import ServiceProcess

from .conftest import sign_in_as_demo

PROMPT = 0.5  # seconds: how quickly a probe must be answered
SLOW_CLIENT_SECONDS = 2.0
HALF_OPEN_CONNECTIONS = 200
MAX_BODY_BYTES = 16384  # the default the process runs with


@pytest.fixture(scope="module")
def admin_header(service: ServiceProcess) -> bytes:
    return b"Authorization: Bearer " + sign_in_as_demo(service).encode()


@pytest.fixture(autouse=True)
def still_serving(service: ServiceProcess) -> Iterator[None]:
    """After the test: alive, healthy at once, and no failure of ours logged."""
    logged_before = len(service.log_text())
    yield

    assert service.returncode is None, "the service exited"
    assert probe_latency(service) < PROMPT
    logged = service.log_text()[logged_before:]
    assert "unhandled error" not in logged, logged[-3000:]


def probe_latency(service: ServiceProcess) -> float:
    """Return how long GET /health took; fail unless it answered 200."""
    started = time.monotonic()
    response = request("GET", f"{service.url}/health", timeout=PROMPT * 4)
    assert response.status == 200
    return time.monotonic() - started


def address(service: ServiceProcess) -> tuple[str, int]:
    host, port = service.url.removeprefix("http://").split(":")
    return host, int(port)


def raw_request(
    method: bytes, path: bytes, *headers: bytes, body: bytes | None = None
) -> bytes:
    """Build an HTTP/1.1 request byte for byte; the connection closes after it."""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: test", b"Connection: close"]
    lines += headers
    if body is not None:
        lines += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def status_of(answer: bytes) -> int | None:
    """Return the status of a raw answer, or None when there was none."""
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(match.group(1)) if match else None


def read_answer(connection: socket.socket) -> bytes:
    """Read until the server closes; a reset after a partial answer ends it."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(service: ServiceProcess, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a fresh connection and return whatever comes back."""
    with socket.create_connection(address(service), timeout=timeout) as connection:
        # Refused mid-send: the answer, if any, is still readable.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(data)
        return read_answer(connection)


def assert_refused(answer: bytes, allowed: set[int] | None = None) -> None:
    """A 4xx answer (any, or one of ``allowed``), or a closed connection."""
    status = status_of(answer)
    if status is None:
        return
    assert 400 <= status < 500, answer[:300]
    if allowed is not None:
        assert status in allowed, answer[:300]


def assert_json_error(answer: bytes, allowed: set[int]) -> None:
    """A JSON error answer with one of these statuses: the handlers saw it."""
    assert status_of(answer) in allowed, answer[:300]
    assert b"application/json" in answer.partition(b"\r\n\r\n")[0].lower()


class TestOversizedRequests:
    def test_a_100_kb_header_is_refused(self, service: ServiceProcess) -> None:
        header = b"X-Padding: " + b"a" * 100_000
        assert_refused(exchange(service, raw_request(b"GET", b"/health", header)))

    def test_a_100_kb_authorization_header_is_refused(
        self, service: ServiceProcess
    ) -> None:
        header = b"Authorization: Bearer " + b"a" * 100_000
        answer = exchange(service, raw_request(b"GET", b"/api/profile", header))
        assert_refused(answer, {400, 401, 431})

    def test_ten_thousand_headers_are_refused(self, service: ServiceProcess) -> None:
        headers = [b"X-H%d: v" % index for index in range(10_000)]
        assert_refused(exchange(service, raw_request(b"GET", b"/health", *headers)))

    def test_a_64_kb_request_line_is_refused(self, service: ServiceProcess) -> None:
        path = b"/admin/revocations/" + b"a" * 65_536
        assert_refused(exchange(service, raw_request(b"GET", path)))

    def test_an_oversized_body_is_413(self, service: ServiceProcess) -> None:
        body = b'{"email": "' + b"a" * (4 * MAX_BODY_BYTES) + b'", "password": "x"}'
        answer = exchange(service, raw_request(b"POST", b"/auth/login", body=body))
        assert_json_error(answer, {413})

    def test_an_oversized_chunked_body_is_413(self, service: ServiceProcess) -> None:
        chunk = b"4000\r\n" + b"a" * 0x4000 + b"\r\n"
        head = raw_request(b"POST", b"/auth/login", b"Transfer-Encoding: chunked")
        answer = exchange(service, head + chunk * 4 + b"0\r\n\r\n")
        assert_json_error(answer, {413})

    def test_an_oversized_admin_body_is_413(
        self, service: ServiceProcess, admin_header: bytes
    ) -> None:
        body = b'{"token": "' + b"a" * (4 * MAX_BODY_BYTES) + b'"}'
        data = raw_request(b"POST", b"/admin/revocations", admin_header, body=body)
        assert_json_error(exchange(service, data), {413})

    @pytest.mark.parametrize(
        "framing",
        [
            [b"Content-Length: -1"],
            [b"Content-Length: 1e3"],
            [b"Content-Length: 5", b"Content-Length: 6"],
            [b"Content-Length: 4", b"Transfer-Encoding: chunked"],
            [b"Transfer-Encoding: gzip, chunked"],
        ],
        ids=["negative", "not-a-number", "twice", "with-chunked", "odd-coding"],
    )
    def test_ambiguous_body_framing_is_refused(
        self, service: ServiceProcess, framing: list[bytes]
    ) -> None:
        data = raw_request(b"POST", b"/auth/login", *framing) + b"0\r\n\r\n"
        assert_refused(exchange(service, data))


class TestSlowClients:
    def test_a_request_trickled_for_seconds_is_answered_and_blocks_nobody(
        self, service: ServiceProcess
    ) -> None:
        """One byte per probe for a bounded time: each probe is answered at once."""
        latencies: list[float] = []
        deadline = time.monotonic() + SLOW_CLIENT_SECONDS

        with socket.create_connection(address(service), timeout=5.0) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            while time.monotonic() < deadline and len(latencies) < 4000:
                slow.sendall(b"a")
                latencies.append(probe_latency(service))
            slow.sendall(b"\r\nConnection: close\r\n\r\n")
            answer = read_answer(slow)

        assert status_of(answer) == 200
        assert len(latencies) > 10
        assert max(latencies) < PROMPT

    def test_a_body_trickled_byte_by_byte_is_still_read(
        self, service: ServiceProcess
    ) -> None:
        body = b'{"email": "nobody@example.com", "password": "wrong-password"}'
        latencies: list[float] = []

        with socket.create_connection(address(service), timeout=5.0) as slow:
            head, _, _ = raw_request(b"POST", b"/auth/login", body=body).partition(
                b"\r\n\r\n"
            )
            slow.sendall(head + b"\r\n\r\n")
            for byte in body:
                slow.sendall(bytes([byte]))
                latencies.append(probe_latency(service))
            answer = read_answer(slow)

        assert_json_error(answer, {401, 429})
        assert max(latencies) < PROMPT

    def test_hundreds_of_half_open_connections_block_nobody(
        self, service: ServiceProcess
    ) -> None:
        """Slowloris: many requests begun and never finished."""
        connections = [
            socket.create_connection(address(service), timeout=5.0)
            for _ in range(HALF_OPEN_CONNECTIONS)
        ]
        try:
            for connection in connections:
                connection.sendall(b"POST /auth/login HTTP/1.1\r\nContent-Length: 9")
            latencies = [probe_latency(service) for _ in range(20)]
        finally:
            for connection in connections:
                connection.close()

        assert max(latencies) < PROMPT

    def test_a_promised_body_that_never_comes_blocks_nobody(
        self, service: ServiceProcess
    ) -> None:
        """A declared length past the limit, then silence: others still served."""
        head = b"POST /auth/login HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n"
        with socket.create_connection(address(service), timeout=5.0) as silent:
            silent.sendall(head % (1 << 40) + b'{"email": ')
            latencies = [probe_latency(service) for _ in range(20)]
            # Finish with a body too large, so the handler ends on its own.
            silent.sendall(b"a" * (2 * MAX_BODY_BYTES))
            answer = read_answer(silent)

        assert max(latencies) < PROMPT
        assert_json_error(answer, {413})


# Bodies whose bytes are not UTF-8, or whose JSON names what UTF-8 cannot hold.
NOT_UTF8_BODIES = {
    "raw 0xff in a string": b'{"email": "\xff\xfe", "password": "x"}',
    "overlong slash": b'{"email": "\xc0\xaf", "password": "x"}',
    "encoded surrogate": b'{"email": "\xed\xa0\x80", "password": "x"}',
    "truncated sequence": b'{"email": "\xe2\x82", "password": "x"}',
    "utf-16 bom": "\ufeff{}".encode("utf-16"),
    "escaped lone surrogate in email": b'{"email": "\\ud800@x.y", "password": "x"}',
    "escaped lone surrogate in password": b'{"email": "a@b.c", "password": "\\udfff"}',
}

# Authorization values that are not UTF-8, or are and are still not tokens.
NOT_UTF8_TOKENS = {
    "raw 0xff segments": b"Bearer \xff.\xfe.\xfd",
    "raw 0xff": b"Bearer \xffabc",
    "encoded surrogates": b"Bearer \xed\xa0\x80.\xed\xb3\xbf.a",
    "latin-1 letters": b"Bearer \xe9t\xe9.\xe9t\xe9.\xe9t\xe9",
    "utf-8 letters": b"Bearer \xc3\xa9.\xc3\xa9.\xc3\xa9",
}


class TestInvalidUtf8:
    @pytest.mark.parametrize("name", sorted(NOT_UTF8_BODIES))
    def test_a_login_body_that_is_not_utf8_is_400(
        self, service: ServiceProcess, name: str
    ) -> None:
        data = raw_request(b"POST", b"/auth/login", body=NOT_UTF8_BODIES[name])
        assert_json_error(exchange(service, data), {400})

    @pytest.mark.parametrize(
        "body",
        [b'{"token": "\xff.\xfe.\xfd"}', b'{"token": "\\ud800.a.b"}'],
        ids=["raw 0xff", "escaped lone surrogate"],
    )
    def test_a_revocation_body_that_is_not_utf8_is_400(
        self, service: ServiceProcess, admin_header: bytes, body: bytes
    ) -> None:
        data = raw_request(b"POST", b"/admin/revocations", admin_header, body=body)
        assert_json_error(exchange(service, data), {400})

    @pytest.mark.parametrize("name", sorted(NOT_UTF8_TOKENS))
    def test_an_authorization_header_that_is_not_utf8_is_401(
        self, service: ServiceProcess, name: str
    ) -> None:
        header = b"Authorization: " + NOT_UTF8_TOKENS[name]
        answer = exchange(service, raw_request(b"GET", b"/api/profile", header))
        assert_json_error(answer, {401})
        assert b"WWW-Authenticate: Bearer" in answer

    def test_other_headers_that_are_not_utf8_are_ignored(
        self, service: ServiceProcess
    ) -> None:
        headers = [b"X-Name: \xff\xfe", b"Accept-Language: \xed\xa0\x80"]
        answer = exchange(service, raw_request(b"GET", b"/health", *headers))
        assert status_of(answer) == 200

    @pytest.mark.parametrize(
        "path",
        [b"/admin/revocations/\xff", b"/admin/subjects/\xc0\xaf/revoke-all"],
        ids=["raw 0xff", "overlong slash"],
    )
    def test_a_path_that_is_not_utf8_is_refused(
        self, service: ServiceProcess, admin_header: bytes, path: bytes
    ) -> None:
        assert_refused(exchange(service, raw_request(b"GET", path, admin_header)))


def nested(opening: bytes, closing: bytes, depth: int) -> bytes:
    return opening * depth + b"1" + closing * depth


JSON_BOMBS = {
    "arrays nested 8000 deep": nested(b"[", b"]", 8000),
    "objects nested 2500 deep": nested(b'{"a":', b"}", 2500),
    "objects nested 500 deep": nested(b'{"a":', b"}", 500),
    "10k-element array": b"[" + b",".join([b"0"] * 10_000) + b"]",
    "5k-element array as email": b'{"email": [' + b",".join([b"0"] * 5000) + b"]}",
    "1500 keys": b"{" + b",".join(b'"k%d": 0' % i for i in range(1500)) + b"}",
    "5000-digit number": b'{"email": ' + b"9" * 5000 + b', "password": "x"}',
    "exponent past float": b'{"email": 1e999999, "password": "x"}',
    "NaN literal": b'{"email": NaN, "password": "x"}',
    "duplicate keys": b'{"email": "a@b.c", "email": 5, "password": "x"}',
}

HOSTILE_REVOCATIONS = {
    "expires_at huge": b'{"jti": "j-1", "expires_at": ' + b"9" * 4000 + b"}",
    "expires_at huge negative": b'{"jti": "j-2", "expires_at": -' + b"9" * 4000 + b"}",
    "expires_at -1": b'{"jti": "j-3", "expires_at": -1}',
    "expires_at -1e30 as integer": b'{"jti": "j-4", "expires_at": -'
    + b"1"
    + b"0" * 30
    + b"}",
    "expires_at exponent": b'{"jti": "j-5", "expires_at": 1e999999}',
    "expires_at Infinity": b'{"jti": "j-6", "expires_at": -Infinity}',
    "expires_at NaN": b'{"jti": "j-7", "expires_at": NaN}',
    "jti nested": b'{"jti": ' + nested(b"[", b"]", 5000) + b"}",
}


class TestJsonBombs:
    @pytest.mark.parametrize("name", sorted(JSON_BOMBS))
    def test_a_login_bomb_is_refused(self, service: ServiceProcess, name: str) -> None:
        data = raw_request(b"POST", b"/auth/login", body=JSON_BOMBS[name])
        assert_json_error(exchange(service, data), {400, 413})

    @pytest.mark.parametrize("name", sorted(HOSTILE_REVOCATIONS))
    def test_a_revocation_with_hostile_numbers_is_refused_or_clamped(
        self, service: ServiceProcess, admin_header: bytes, name: str
    ) -> None:
        body = HOSTILE_REVOCATIONS[name]
        data = raw_request(b"POST", b"/admin/revocations", admin_header, body=body)
        assert_json_error(exchange(service, data), {201, 400, 413})


def test_the_log_of_the_whole_module_names_no_failure_of_ours(
    service: ServiceProcess,
) -> None:
    """Belt and braces over the per-test check: the whole log, at the end."""
    log = Path(service.log_path).read_text(errors="replace")
    assert "unhandled error" not in log, log[-3000:]
