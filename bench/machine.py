"""Describe the machine a run measured: cores, CPU model, software versions."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Machine", "describe"]


@dataclass(frozen=True, slots=True)
class Machine:
    """The facts the report prints about where it ran."""

    cores: int
    usable_cores: int
    cpu_model: str
    memory_gib: float
    kernel: str
    python: str
    redis: str
    wrk: str
    load_average: str

    def rows(self) -> tuple[tuple[str, str], ...]:
        """Return (name, value) rows for the report's machine table."""
        return (
            ("CPUs (nproc)", f"{self.usable_cores} usable of {self.cores}"),
            ("CPU model", self.cpu_model),
            ("memory", f"{self.memory_gib:.1f} GiB"),
            ("kernel", self.kernel),
            ("Python", self.python),
            ("redis-server", self.redis),
            ("wrk", self.wrk),
            ("load average at start", self.load_average),
        )


def describe() -> Machine:
    """Read the machine's description from /proc and the tools themselves."""
    return Machine(
        cores=os.cpu_count() or 0,
        usable_cores=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        memory_gib=_memory_kib() / 2**20,
        kernel=platform.release(),
        python=platform.python_version(),
        redis=_version(["redis-server", "--version"], r"v=(\S+)"),
        wrk=_version(["wrk", "-v"], r"wrk (\S+)"),
        load_average=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _memory_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _version(argv: list[str], pattern: str) -> str:
    # wrk -v exits 1 after printing its version; only the text matters.
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    found = re.search(pattern, result.stdout + result.stderr)
    return found.group(1) if found else "unknown"
