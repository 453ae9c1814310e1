"""Pin processes to cores: load generator on one, measured instance on another.

Kept apart, neither steals the other's cycles, and the instance's figure is
what one core of its own gives.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cores", "choose_cores", "pin", "taskset"]


@dataclass(frozen=True, slots=True)
class Cores:
    """The client core (wrk, Redis, helpers) and the server core.

    None means "not pinned": the machine has fewer than two usable cores.
    """

    client: int | None
    server: int | None


def choose_cores() -> Cores:
    """Return the two lowest cores this process may use, or no pinning."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        return Cores(client=None, server=None)
    return Cores(client=usable[0], server=usable[1])


def taskset(core: int | None) -> list[str]:
    """Return the argv prefix that starts a command on this core."""
    if core is None:
        return []
    return ["taskset", "-c", str(core)]


def pin(pid: int, core: int | None) -> None:
    """Move every thread of a running process to one core (None: to any)."""
    cores = set(os.sched_getaffinity(0)) if core is None else {core}

    for task in Path(f"/proc/{pid}/task").iterdir():
        # A thread may end between the listing and the call.
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(task.name), cores)
