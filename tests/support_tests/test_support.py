"""Self-tests for the process, proxy, waiting and HTTP helpers in tests/support."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path

import pytest

from tests.support.http import Headers, request
from tests.support.redis_server import RedisServer, RedisStartError
from tests.support.resp import RespConnection, bulk_value, encode_command, reply_end
from tests.support.service_process import ServiceProcess, ServiceStartError
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import wait_until, wait_until_async

pytestmark = pytest.mark.timeout(15)

PONG = b"+PONG\r\n"

STAND_IN = """
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        ready = self.path == "/health" or os.path.exists(os.environ["READY_FILE"])
        self.reply(200 if ready else 503, {"path": self.path})
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.reply(201, {"echo": json.loads(body)})
    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
on_term = signal.SIG_IGN if os.environ.get("IGNORE_TERM") else lambda *_: sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("stand-in listening", flush=True)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _stand_in(tmp_path: Path, **env: str) -> ServiceProcess:
    """Return a ServiceProcess running the stand-in HTTP server."""
    return ServiceProcess(
        {"READY_FILE": str(tmp_path / "ready"), **env},
        log_path=tmp_path / "service.log",
        argv=[sys.executable, "-c", STAND_IN, "{port}"],
    )


def test_wait_until_returns_once_the_predicate_holds() -> None:
    calls: list[int] = []

    def third_call() -> bool:
        calls.append(1)
        return len(calls) >= 3

    wait_until(third_call, timeout=1.0, message="never held")

    assert len(calls) == 3


def test_wait_until_raises_with_the_message_after_the_deadline() -> None:
    started = time.monotonic()

    with pytest.raises(AssertionError, match="flag never set"):
        wait_until(lambda: False, timeout=0.1, message="flag never set")

    assert time.monotonic() - started >= 0.1


async def test_wait_until_async_accepts_sync_and_async_predicates() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, event.set)

    async def is_set() -> bool:
        return event.is_set()

    await wait_until_async(is_set, timeout=1.0, message="event never set")
    await wait_until_async(event.is_set, timeout=1.0, message="event never set")

    with pytest.raises(AssertionError, match="never"):
        await wait_until_async(lambda: False, timeout=0.05, message="never")


def test_resp_reply_end_waits_for_complete_replies() -> None:
    assert reply_end(b"+PONG\r\n") == 7
    assert reply_end(b"$3\r\nab") is None
    assert reply_end(b"$-1\r\n") == 5
    assert reply_end(b"*2\r\n$1\r\na\r\n:5\r\n") == 15
    assert reply_end(b"*2\r\n$1\r\na\r\n") is None
    assert bulk_value(b"$-1\r\n") is None
    assert (
        encode_command("GET", b"k", 1) == b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\n1\r\n"
    )


def test_redis_server_answers_ping_and_reports_its_port(
    redis_server: RedisServer,
) -> None:
    assert redis_server.command("PING") == PONG
    assert redis_server.info("server")["tcp_port"] == str(redis_server.port)
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_redis_restart_keeps_data_through_the_aof(redis_server: RedisServer) -> None:
    old_pid = redis_server.pid
    assert redis_server.command("SET", "key", "value") == b"+OK\r\n"

    redis_server.restart()

    assert redis_server.pid != old_pid
    assert bulk_value(redis_server.command("GET", "key")) == b"value"


def test_redis_kill_then_start_keeps_fsynced_data(redis_server: RedisServer) -> None:
    redis_server.command("SET", "key", "value")

    assert redis_server.kill() == -9
    redis_server.start()

    assert bulk_value(redis_server.command("GET", "key")) == b"value"


def test_redis_pause_times_out_ping_and_resume_restores_it(
    redis_server: RedisServer,
) -> None:
    redis_server.pause()

    with pytest.raises(TimeoutError):
        redis_server.command("PING", timeout=0.2)

    redis_server.resume()
    assert redis_server.command("PING") == PONG


def test_redis_start_failure_includes_the_log_tail(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, extra_args=["--no-such-directive", "x"])

    with pytest.raises(RedisStartError, match="FATAL CONFIG FILE ERROR"):
        server.start()


def test_proxy_pass_forwards_redis_traffic(
    proxy: TcpProxy, redis_server: RedisServer
) -> None:
    with RespConnection("127.0.0.1", proxy.port) as connection:
        assert connection.call("SET", "key", "via-proxy") == b"+OK\r\n"

    assert bulk_value(redis_server.command("GET", "key")) == b"via-proxy"
    assert proxy.url_for_redis == f"redis://127.0.0.1:{proxy.port}/0"


def test_proxy_blackhole_drops_bytes_but_keeps_connections_open(
    proxy: TcpProxy,
) -> None:
    with RespConnection("127.0.0.1", proxy.port) as connection:
        assert connection.call("PING") == PONG

        proxy.set_mode("blackhole")
        with pytest.raises(TimeoutError):
            connection.call("PING", timeout=0.2)
        with (
            RespConnection("127.0.0.1", proxy.port) as late,
            pytest.raises(TimeoutError),
        ):
            late.call("PING", timeout=0.2)
        assert proxy.connection_count >= 1

        proxy.set_mode("pass")
        # The blackholed PING never reached Redis, so this reply is the next one.
        assert connection.call("PING") == PONG


def test_proxy_refuse_resets_existing_and_new_connections(proxy: TcpProxy) -> None:
    with RespConnection("127.0.0.1", proxy.port) as connection:
        assert connection.call("PING") == PONG

        proxy.set_mode("refuse")
        with pytest.raises(ConnectionError):
            connection.call("PING", timeout=2.0)

    # The reset can beat the end of connect(), so the error may come from either.
    with (
        pytest.raises(ConnectionError),
        RespConnection("127.0.0.1", proxy.port) as late,
    ):
        late.call("PING", timeout=2.0)

    wait_until(lambda: proxy.connection_count == 0, timeout=2.0, message="links linger")


def test_proxy_close_all_resets_connections_and_accepts_new_ones(
    proxy: TcpProxy,
) -> None:
    with RespConnection("127.0.0.1", proxy.port) as connection:
        assert connection.call("PING") == PONG

        proxy.close_all()
        with pytest.raises(ConnectionError):
            connection.call("PING", timeout=2.0)

    with RespConnection("127.0.0.1", proxy.port) as fresh:
        assert fresh.call("PING") == PONG


def test_proxy_delay_applies_each_way_and_keeps_order(proxy: TcpProxy) -> None:
    proxy.set_delay(0.1)

    with RespConnection("127.0.0.1", proxy.port) as connection:
        started = time.monotonic()
        assert connection.call("PING") == PONG
        elapsed = time.monotonic() - started

        for _ in range(20):
            connection.send("INCR", "counter")
        replies = [connection.read_reply() for _ in range(20)]

    assert elapsed >= 0.2
    assert replies == [b":%d\r\n" % n for n in range(1, 21)]


def test_proxy_restart_keeps_its_port(proxy: TcpProxy) -> None:
    port = proxy.port

    proxy.stop()
    proxy.start()

    assert proxy.port == port
    with RespConnection("127.0.0.1", proxy.port) as connection:
        assert connection.call("PING") == PONG


async def test_proxy_controls_work_from_async_code(proxy: TcpProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(encode_command("PING"))
    assert await asyncio.wait_for(reader.readexactly(len(PONG)), 2.0) == PONG

    proxy.set_mode("refuse")

    with contextlib.suppress(ConnectionError):
        assert await asyncio.wait_for(reader.read(), 2.0) == b""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def test_service_process_starts_waits_ready_and_stops(tmp_path: Path) -> None:
    with _stand_in(tmp_path) as service:
        assert request("GET", f"{service.url}/health").status == 200
        with pytest.raises(ServiceStartError, match="/ready"):
            service.wait_ready(timeout=0.1)

        (tmp_path / "ready").touch()
        service.wait_ready(timeout=5.0)
        response = request("POST", f"{service.url}/echo", json={"a": 1})

        assert service.stop() == 0

    assert response.status == 201
    assert response.headers["content-type"] == response.headers["Content-Type"]
    assert response.json() == {"echo": {"a": 1}}
    assert "stand-in listening" in service.log_text()


def test_service_process_start_reports_an_early_exit(tmp_path: Path) -> None:
    service = ServiceProcess(
        {},
        log_path=tmp_path / "service.log",
        argv=[sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
    )

    with pytest.raises(ServiceStartError, match=r"code 3(.|\n)*boom"):
        service.start()


def test_service_process_stop_kills_a_process_that_ignores_sigterm(
    tmp_path: Path,
) -> None:
    service = _stand_in(tmp_path, IGNORE_TERM="1")
    service.start()

    assert service.stop(timeout=0.3) == -9


def test_headers_are_case_insensitive_and_join_repeats() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-Id", "7")])

    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert "x-ID" in headers
    assert headers.get("missing") is None
