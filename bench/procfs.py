"""Read a process's memory from /proc: resident set now and at its peak."""

from __future__ import annotations

from pathlib import Path

__all__ = ["peak_rss_bytes", "rss_bytes"]


def rss_bytes(pid: int) -> int:
    """Return the resident set size of a process now, in bytes."""
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """Return the largest resident set size the process has had, in bytes."""
    return _status_kib(pid, "VmHWM") * 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    raise LookupError(f"/proc/{pid}/status has no {field}")
