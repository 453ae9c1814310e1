"""Run wrk and read its totals and latency percentiles.

A small Lua ``done`` hook prints the numbers as one JSON line, so nothing
depends on the layout of wrk's human-readable summary.
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .cores import taskset

__all__ = ["Load", "Wrk", "WrkError", "WrkResult", "WrkRun"]

_MARK = "BENCH_RESULT "

# The extra time a run may take beyond its duration before it counts as hung.
_GRACE = 30.0

_REPORT_HOOK = """\
-- Print totals and latency percentiles (microseconds) as one JSON line.
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"http_errors":%d,"socket_errors":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    "MARK", summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
""".replace("MARK", _MARK)

_LOGOUT_REQUESTS = """\
-- POST /auth/logout, each request with the next token of the file named by
-- the first script argument. Past the last token it starts again, and those
-- repeats answer 401: the caller sizes the file so that they never happen.
local tokens = {}
local next_token = 0

init = function(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
end

request = function()
  next_token = next_token % #tokens + 1
  return wrk.format("POST", "/auth/logout",
    {["Authorization"] = "Bearer " .. tokens[next_token]})
end
"""


class WrkError(RuntimeError):
    """Raised when wrk fails, hangs, or prints no result line."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured. Latencies in milliseconds."""

    requests: int
    seconds: float
    http_errors: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        """Return the requests per second that answered below 400."""
        return (self.requests - self.http_errors) / self.seconds


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk run: whom to hit, how hard, how long, and from which core.

    With ``logout_tokens`` every request is ``POST /auth/logout`` with the
    next token of that file; otherwise ``GET url``, with ``token`` as bearer.
    """

    url: str
    duration: int
    connections: int
    core: int | None
    token: str | None = None
    logout_tokens: Path | None = None


class WrkRun:
    """One wrk process running in the background."""

    def __init__(self, argv: list[str], timeout: float) -> None:
        self._timeout = timeout
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self) -> WrkResult:
        """Wait for the run to end by itself and return its result."""
        try:
            output, _ = self._process.communicate(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise WrkError(f"wrk ran past {self._timeout:.0f} s") from None
        return _parse(output, self._process.returncode)

    def stop(self) -> WrkResult:
        """End the run now; wrk reports what it measured so far."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        self._timeout = _GRACE
        return self.wait()

    def kill(self) -> None:
        """Kill wrk without a result; safe to call at any time."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()


class Wrk:
    """Start wrk runs, with their Lua scripts kept in one directory."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._report = directory / "report.lua"
        self._logout = directory / "logout.lua"
        self._report.write_text(_REPORT_HOOK)
        self._logout.write_text(_LOGOUT_REQUESTS + _REPORT_HOOK)

    def run(self, load: Load) -> WrkResult:
        """Run one load to its end and return the result."""
        return self.start(load).wait()

    def start(self, load: Load) -> WrkRun:
        """Start one load in the background."""
        return WrkRun(self._argv(load), timeout=load.duration + _GRACE)

    def _argv(self, load: Load) -> list[str]:
        argv = [*taskset(load.core), "wrk", "-t1", f"-c{load.connections}"]
        argv += [f"-d{load.duration}s", "--latency"]

        if load.logout_tokens is not None:
            script = ["-s", str(self._logout), load.url]
            # wrk hands the arguments after "--" to the script's init().
            return [*argv, *script, "--", str(load.logout_tokens)]
        if load.token is not None:
            argv += ["-H", f"Authorization: Bearer {load.token}"]
        return [*argv, "-s", str(self._report), load.url]


def _parse(output: str, returncode: int) -> WrkResult:
    lines = [line for line in output.splitlines() if line.startswith(_MARK)]
    if returncode != 0 or not lines:
        raise WrkError(f"wrk exited {returncode} without a result:\n{output[-2000:]}")

    fields = json.loads(lines[-1].removeprefix(_MARK))
    return WrkResult(
        requests=int(fields["requests"]),
        seconds=max(fields["duration_us"], 1) / 1e6,
        http_errors=int(fields["http_errors"]),
        socket_errors=int(fields["socket_errors"]),
        p50_ms=fields["p50_us"] / 1000,
        p90_ms=fields["p90_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        max_ms=fields["max_us"] / 1000,
    )
