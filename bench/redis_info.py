"""Read Redis's own accounting: commands executed and CPU time used."""

from __future__ import annotations

from collections import Counter

from tests.support.redis_server import RedisServer

__all__ = ["command_calls", "commands_between", "cpu_seconds"]


def command_calls(server: RedisServer) -> Counter[str]:
    """Return how often each command ran, from INFO commandstats."""
    calls: Counter[str] = Counter()

    for key, value in server.info("commandstats").items():
        # cmdstat_get:calls=12,usec=34,usec_per_call=2.83,...
        name = key.removeprefix("cmdstat_")
        fields = dict(part.split("=", 1) for part in value.split(","))
        calls[name] = int(fields["calls"])
    return calls


def commands_between(before: Counter[str], after: Counter[str]) -> Counter[str]:
    """Return the commands run between two readings, less our own reading.

    The first INFO is counted once it has run, so it shows in ``after``.
    """
    ran = after.copy()
    ran.subtract(before)
    ran["info"] -= 1
    return +ran


def cpu_seconds(server: RedisServer) -> float:
    """Return the CPU time Redis has used, system plus user, in seconds."""
    cpu = server.info("cpu")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])
