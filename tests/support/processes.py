"""Helpers shared by the fixtures that run real OS processes."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

LOG_TAIL_LINES = 40


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago.

    Another process may take it before the caller binds it; on a test
    machine that race is rare enough to accept.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def terminate(process: subprocess.Popen[bytes], *, timeout: float) -> int:
    """Send SIGTERM, wait up to timeout seconds, then SIGKILL; return the exit code."""
    if process.poll() is not None:
        return process.returncode

    process.send_signal(signal.SIGTERM)
    # A stopped process keeps SIGTERM pending until it is continued.
    process.send_signal(signal.SIGCONT)

    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return kill(process)


def kill(process: subprocess.Popen[bytes]) -> int:
    """Send SIGKILL and reap the process; return the exit code."""
    if process.poll() is None:
        process.kill()
    return process.wait()


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last lines of a log file, or a note when it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"

    return "\n".join(text.splitlines()[-lines:])
