"""Fixtures for the self-tests of tests/support."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """Yield a running redis-server with AOF on, stopped afterwards."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[TcpProxy]:
    """Yield a running proxy in pass mode in front of redis_server."""
    with TcpProxy("127.0.0.1", redis_server.port) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_asyncio_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test when an event loop, the proxy's included, logged an error."""
    yield

    errors = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.name == "asyncio" and record.levelno >= logging.ERROR
    ]
    assert not errors, f"asyncio logged errors: {errors}"
