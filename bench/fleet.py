"""Start what a scenario needs, and stop all of it whatever happens meanwhile.

A fleet holds redis-servers, service instances, helper processes and wrk
runs, all on loopback, all stopped when its ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from service.config import Settings, load_settings
from tests.support.http import request
from tests.support.processes import terminate
from tests.support.redis_server import RedisServer
from tests.support.service_process import REPO_ROOT, ServiceProcess
from tests.support.waiting import wait_until

from .cores import Cores, pin, taskset
from .errors import BenchError
from .tokens import TokenMint
from .wrk import Load, Wrk, WrkRun

__all__ = ["SERVE", "VERIFY_ONLY", "Fleet", "Helper", "Instance"]

SERVE = ("-m", "service", "serve")
"""The service's own command line, as the README documents it."""

VERIFY_ONLY = ("-m", "bench.verify_only")
"""The app with its revocation check stubbed out (see bench/verify_only.py)."""

LIVE_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Longest a helper may stay silent when an answer is due, in seconds.
READ_TIMEOUT = 180.0

# Every setting a variant does not choose, fixed at the service's default so
# that one exported in the benchmark's shell cannot leak into an instance.
_BASE_ENV = {
    "SERVICE_CONFIG": "",
    "LOG_LEVEL": "INFO",
    "REVOCATION_CACHE": "replica",
    "TOKEN_CACHE_SIZE": "10000",
    "REVOCATION_ACK": "local",
    "REVOCATION_FAIL_OPEN": "false",
    # Only shortens the stop between scenarios; nothing is in flight then.
    "SHUTDOWN_TIMEOUT": "2",
}


@dataclass(frozen=True, slots=True)
class Instance:
    """One running service process."""

    name: str
    process: ServiceProcess

    @property
    def url(self) -> str:
        """Return the base URL, without a trailing slash."""
        return self.process.url

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.process.pid

    def ready(self) -> dict[str, Any]:
        """Return the body of GET /ready (also when it answers 503)."""
        body: dict[str, Any] = request("GET", self.url + "/ready").json()
        return body

    def counters(self) -> dict[str, Any]:
        """Return the revocation counters that GET /ready reports."""
        counters: dict[str, Any] = self.ready()["counters"]
        return counters

    def wait_live(self, timeout: float = LIVE_TIMEOUT) -> None:
        """Wait until the replica reports LIVE."""
        wait_until(
            lambda: self.ready().get("replica") == "live",
            timeout=timeout,
            interval=0.005,
            message=f"{self.name}: replica never went live",
        )

    def pin(self, core: int | None) -> None:
        """Move the running process to one core (None: to any)."""
        pin(self.pid, core)


@dataclass(frozen=True, slots=True)
class Helper:
    """A helper process that answers in JSON lines on its standard output.

    A thread reads the lines as they come, so that a helper that hangs ends
    a read with an error after its timeout instead of hanging the benchmark.
    """

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    lines: queue.Queue[bytes] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, name=self.name, daemon=True).start()

    def read(self, key: str, timeout: float = READ_TIMEOUT) -> Any:
        """Read the next JSON line and return its value at key.

        Raise BenchError, naming the helper's log, when the line is missing,
        lacks key or does not come within timeout seconds: the helper failed
        or hangs, and its log says why.
        """
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise BenchError(
                f"{self.name} said nothing for {timeout:.0f} s; see {self.log_path}"
            ) from None
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict) or key not in message:
            raise BenchError(
                f"{self.name} sent {line[:200]!r}, not {key!r}; see {self.log_path}"
            )
        return message[key]

    def tell(self, line: str) -> None:
        """Send one line to the helper and close its standard input."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.close()

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the helper to exit; return its exit code."""
        return self.process.wait(timeout=timeout)

    def _pump(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed under us
            for line in stdout:
                self.lines.put(line)
        self.lines.put(b"")  # the end: a read now reports it


class Fleet:
    """Everything one scenario starts; leaving the ``with`` block stops it all.

    Things stop in the reverse order of their start: loads, helpers and
    instances before the Redis they use.
    """

    def __init__(self, directory: Path, cores: Cores) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cores = cores
        self.wrk = Wrk(directory / "wrk")
        self._secret = secrets.token_urlsafe(48)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()

    def redis(self, name: str, *, appendonly: bool = True) -> RedisServer:
        """Start a redis-server of our own on a free port, on the client core.

        With ``appendonly`` it runs as the README asks of production: the
        append-only file, fsync on every write, no eviction.
        """
        server = RedisServer(self.directory / name, appendonly=appendonly)
        server.start()
        self._stack.callback(server.stop)

        pin(server.pid, self.cores.client)
        return server

    def instance(
        self,
        name: str,
        redis: RedisServer,
        *,
        env: Mapping[str, str] | None = None,
        core: int | None = None,
        command: Sequence[str] = SERVE,
        wait_live: bool = True,
    ) -> Instance:
        """Start one instance on redis, on core, and wait until it can serve.

        A replica instance is waited for until LIVE unless wait_live is off;
        one without a replica until GET /ready answers 200.
        """
        environment = self.environment(redis, env)
        argv = [*taskset(core), sys.executable, *command]
        argv += ["--host", "127.0.0.1", "--port", "{port}"]
        process = ServiceProcess(
            environment, log_path=self.directory / f"{name}.log", argv=argv
        )
        self._stack.callback(process.stop, STOP_TIMEOUT)

        process.start()
        instance = Instance(name, process)
        if not wait_live:
            return instance
        if environment["REVOCATION_CACHE"] == "replica":
            instance.wait_live()
        else:
            process.wait_ready()
        return instance

    def environment(
        self, redis: RedisServer, env: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Return the environment of an instance on redis, with env on top."""
        return {
            **_BASE_ENV,
            "REDIS_URL": redis.url,
            "JWT_SECRET": self._secret,
            **(env or {}),
        }

    def settings(self, redis: RedisServer) -> Settings:
        """Return the settings an instance on redis runs with."""
        # ServiceProcess lays the environment over ours, so do the same.
        return load_settings({**os.environ, **self.environment(redis)})

    def mint(self, redis: RedisServer) -> TokenMint:
        """Return a mint whose tokens the instances on redis accept."""
        return TokenMint(self.settings(redis))

    def load(self, load: Load) -> WrkRun:
        """Start a wrk run in the background; it is killed if still running."""
        run = self.wrk.start(load)
        self._stack.callback(run.kill)
        return run

    def helper(
        self, name: str, argv: Sequence[str], *, core: int | None = None
    ) -> Helper:
        """Start a helper process that speaks JSON lines on stdin and stdout."""
        log_path = self.directory / f"{name}.log"
        log = log_path.open("ab")
        self._stack.callback(log.close)

        process = subprocess.Popen(
            [*taskset(core), sys.executable, *argv],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        self._stack.callback(_end_helper, process)
        return Helper(name, process, log_path)


def _end_helper(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        _close_quietly(stream)
    terminate(process, timeout=STOP_TIMEOUT)


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()
