"""A real redis-server process on a free loopback port, for tests."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from .processes import free_port, kill, log_tail, terminate
from .resp import Argument, RespConnection, bulk_value
from .waiting import wait_until

REDIS_BINARY = "/usr/bin/redis-server"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class RedisStartError(RuntimeError):
    """Raised when redis-server exits or stays silent while starting."""


class RedisServer:
    """Run redis-server in a directory of its own, on a port fixed at creation.

    The port and the directory survive ``restart()``, ``kill()`` and a later
    ``start()``, so clients can reconnect and the AOF is reloaded.
    """

    def __init__(
        self,
        directory: Path,
        *,
        appendonly: bool = True,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._directory = directory
        self._appendonly = appendonly
        self._extra_args = tuple(extra_args)
        self._port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the TCP port the server listens on."""
        return self._port

    @property
    def url(self) -> str:
        """Return a redis:// URL for database 0."""
        return f"redis://127.0.0.1:{self._port}/0"

    @property
    def pid(self) -> int:
        """Return the process id of the running server."""
        return self._running().pid

    @property
    def log_path(self) -> Path:
        """Return the file that collects the server's log and console output."""
        return self._directory / "redis.log"

    def start(self) -> None:
        """Launch the server and wait until it answers PING."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("redis-server is already running")

        self._directory.mkdir(parents=True, exist_ok=True)
        # Startup errors go to stdout rather than the logfile, so collect both.
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

        self._wait_for_pong()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Send SIGTERM, SIGKILL after timeout seconds; return the exit code."""
        if self._process is None:
            return None
        return terminate(self._process, timeout=timeout)

    def kill(self) -> int | None:
        """Send SIGKILL and reap the process; return the exit code."""
        if self._process is None:
            return None
        return kill(self._process)

    def restart(self) -> None:
        """Stop the server and start it again on the same port and directory."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the process with SIGSTOP; connections stay open but unanswered."""
        self._running().send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused process run again with SIGCONT."""
        self._running().send_signal(signal.SIGCONT)

    def ping(self, *, timeout: float = 1.0) -> bool:
        """Return whether a fresh connection gets +PONG within timeout seconds."""
        try:
            return self.command("PING", timeout=timeout) == b"+PONG\r\n"
        except OSError:
            return False

    def command(self, *args: Argument, timeout: float = 5.0) -> bytes:
        """Send one command on a fresh connection and return the raw RESP reply."""
        with RespConnection("127.0.0.1", self._port, timeout=timeout) as connection:
            return connection.call(*args)

    def info(self, section: str = "default") -> dict[str, str]:
        """Return the fields of one INFO section as strings."""
        payload = bulk_value(self.command("INFO", section)) or b""
        return _parse_info(payload.decode())

    def _argv(self) -> list[str]:
        """Build the redis-server command line."""
        return [
            REDIS_BINARY,
            *("--port", str(self._port), "--bind", "127.0.0.1"),
            *("--dir", str(self._directory), "--save", ""),
            *("--appendonly", "yes" if self._appendonly else "no"),
            *("--appendfsync", "always", "--maxmemory-policy", "noeviction"),
            *("--daemonize", "no", "--logfile", str(self.log_path)),
            *self._extra_args,
        ]

    def _running(self) -> subprocess.Popen[bytes]:
        """Return the live process or raise if the server is not running."""
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError("redis-server is not running")
        return self._process

    def _wait_for_pong(self) -> None:
        """Wait until PING succeeds; kill the process and raise if it never does."""
        try:
            wait_until(
                self._started, timeout=START_TIMEOUT, message="redis-server silent"
            )
        except (AssertionError, RedisStartError) as error:
            self.kill()
            raise RedisStartError(
                f"redis-server on port {self._port} did not start: {error}\n"
                f"--- tail of {self.log_path} ---\n{log_tail(self.log_path)}"
            ) from error

    def _started(self) -> bool:
        """Return whether the server answers; raise if the process has exited."""
        assert self._process is not None
        if self._process.poll() is not None:
            raise RedisStartError(f"exited with code {self._process.returncode}")
        return self.ping(timeout=0.5)


def _parse_info(text: str) -> dict[str, str]:
    """Turn INFO output into a dict, skipping section headers and blank lines."""
    fields: dict[str, str] = {}

    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key] = value

    return fields
