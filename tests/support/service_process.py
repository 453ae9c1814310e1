"""The service run as a real OS process on a free loopback port, for tests."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from .http import request
from .processes import free_port, kill, log_tail, terminate
from .waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
PROBE_TIMEOUT = 1.0


class ServiceStartError(RuntimeError):
    """Raised when the service exits or does not become healthy in time."""


class ServiceProcess:
    """Run ``python -m service serve`` (or a stand-in) with its output in a log.

    ``env`` is merged onto ``os.environ``. ``argv``, when given, replaces the
    command line; ``{port}`` in any argument becomes the chosen port.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        log_path: Path,
        cwd: Path = REPO_ROOT,
        argv: Sequence[str] | None = None,
    ) -> None:
        self._env = dict(env)
        self._log_path = log_path
        self._cwd = cwd
        self._port = free_port()
        self._argv = self._command_line(argv)
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
        """Return the port the service listens on."""
        return self._port

    @property
    def url(self) -> str:
        """Return the base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int:
        """Return the process id of the running service."""
        if self._process is None:
            raise RuntimeError("the service has not been started")
        return self._process.pid

    @property
    def log_path(self) -> Path:
        """Return the file that collects stdout and stderr."""
        return self._log_path

    @property
    def returncode(self) -> int | None:
        """Return the exit code, or None while running or before start."""
        return None if self._process is None else self._process.poll()

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Launch the process and wait until GET /health answers 200.

        On failure the process is killed, so no fixture teardown is needed.
        """
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("the service is already running")

        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._argv,
                cwd=self._cwd,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

        try:
            self._wait_for("/health", timeout)
        except ServiceStartError:
            self.kill()
            raise

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until GET /ready answers 200."""
        self._wait_for("/ready", timeout)

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

    def log_text(self) -> str:
        """Return everything the process has written so far."""
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _command_line(self, argv: Sequence[str] | None) -> list[str]:
        """Return argv with {port} filled in, or the default serve command."""
        if argv is None:
            argv = [sys.executable, "-m", "service", "serve"]
            argv += ["--host", "127.0.0.1", "--port", "{port}"]
        return [arg.replace("{port}", str(self._port)) for arg in argv]

    def _environment(self) -> dict[str, str]:
        """Merge the overrides onto os.environ, unbuffered so the log is current."""
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self._env}

    def _wait_for(self, path: str, timeout: float) -> None:
        """Wait until GET path answers 200; raise with the log tail if it never does."""
        try:
            wait_until(
                lambda: self._answers(path),
                timeout=timeout,
                message=f"GET {path} never answered 200",
            )
        except (AssertionError, ServiceStartError) as error:
            raise ServiceStartError(
                f"service on port {self._port}: {error}\n"
                f"--- tail of {self._log_path} ---\n{log_tail(self._log_path)}"
            ) from error

    def _answers(self, path: str) -> bool:
        """Return whether GET path answers 200; raise if the process has exited."""
        if self._process is None or self._process.poll() is not None:
            code = None if self._process is None else self._process.returncode
            raise ServiceStartError(f"process exited with code {code}")

        try:
            status = request("GET", self.url + path, timeout=PROBE_TIMEOUT).status
        except (OSError, http.client.HTTPException):
            return False
        return status == 200
