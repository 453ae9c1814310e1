"""The soak run, on demand: hours of traffic compressed into minutes.

``pytest tests/integration/test_soak.py --soak-duration=300`` drives one
instance with wrk at full speed while a second thread signs in and out
steadily; tokens live 20 s, so the replica must shed entries as fast as it
gains them. Memory, replica size and latency must stay flat, with no errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.http import request
from tests.support.redis_server import RedisServer

from .conftest import ALICE, Fleet, get, login, post

pytestmark = pytest.mark.usefixtures("users")

WINDOW = 10.0


@pytest.fixture
def soak_duration(pytestconfig: pytest.Config) -> float:
    duration = float(pytestconfig.getoption("--soak-duration"))
    if duration <= 0:
        pytest.skip("soak runs on demand: pass --soak-duration=SECONDS")
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed")
    return duration


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match
    return int(match.group(1))


def wrk_window(url: str, token: str) -> dict[str, float]:
    result = subprocess.run(  # wrk from PATH, our own arguments
        [  # noqa: S607  # the Debian package puts wrk on PATH
            "wrk",
            "-t1",
            "-c16",
            f"-d{WINDOW:.0f}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            f"{url}/api/profile",
        ],
        capture_output=True,
        text=True,
        timeout=WINDOW + 30,
        check=True,
    )
    return parse_wrk(result.stdout)


def parse_wrk(text: str) -> dict[str, float]:
    def latency(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", text)
        assert match, text
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]
        return float(match.group(1)) * scale

    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    assert rate, text
    return {
        "rate": float(rate.group(1)),
        "p50_ms": latency("50%"),
        "p99_ms": latency("99%"),
        "errors": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def churn(instance_url: str, stop: threading.Event, counts: dict[str, int]) -> None:
    """Sign in and out steadily: every logout adds a revocation."""
    while not stop.wait(0.02):
        response = request(
            "POST",
            f"{instance_url}/auth/login",
            json={"email": ALICE[0], "password": ALICE[1]},
        )
        if response.status != 200:
            counts["failures"] += 1
            continue
        token = response.json()["access_token"]
        logout = request(
            "POST",
            f"{instance_url}/auth/logout",
            headers={"Authorization": f"Bearer {token}"},
        )
        counts["revocations" if logout.status == 200 else "failures"] += 1


def test_soak_keeps_memory_replica_and_latency_flat(
    redis_server: RedisServer,
    fleet: Fleet,
    soak_duration: float,
    capsys: pytest.CaptureFixture[str],
) -> None:
    instance = fleet.start(
        redis_server.url,
        TOKEN_LIFETIME="20",
        SIGNIN_MAX_FAILURES_PER_ADDRESS="1000000",
    )
    token = ""
    counts = {"revocations": 0, "failures": 0}
    stop = threading.Event()
    churner = threading.Thread(target=churn, args=(instance.url, stop, counts))
    churner.start()

    windows = []
    try:
        deadline = time.monotonic() + soak_duration
        while time.monotonic() < deadline:
            # Tokens live 20 s: each window gets a fresh one.
            token = login(instance, *ALICE)
            figures = wrk_window(instance.url, token)
            ready = get(instance, "/ready").json()
            figures.update(
                at=time.monotonic(),
                rss_mib=rss_kib(instance.pid) / 1024,
                replica_size=float(ready["replica_size"]),
            )
            windows.append(figures)
    finally:
        stop.set()
        churner.join(timeout=10)
    assert post(instance, "/auth/logout", token).status == 200

    with capsys.disabled():
        report(windows, counts)
    assert all(w["errors"] == 0 and w["socket_errors"] == 0 for w in windows)
    assert counts["failures"] == 0

    # Each sign-in's argon2 hash briefly holds 64 MiB, so RSS swings by that
    # much; a leak shows as the later half's peak outgrowing the earlier's.
    half = len(windows) // 2
    early, late = windows[:half], windows[half:]
    assert peak(late, "rss_mib") < 1.15 * peak(early, "rss_mib") + 8
    assert peak(late, "replica_size") < 1.5 * peak(early, "replica_size") + 50
    p99s = sorted(w["p99_ms"] for w in windows)
    assert p99s[-1] < 5 * p99s[len(p99s) // 2]


def peak(windows: list[dict[str, float]], name: str) -> float:
    return max(w[name] for w in windows)


def report(windows: list[dict[str, float]], counts: dict[str, int]) -> None:
    lines = [
        f"soak: {len(windows)} windows of {WINDOW:.0f} s, "
        f"{counts['revocations']} revocations, {counts['failures']} failures",
        "  window  req/s    p50 ms  p99 ms  RSS MiB  replica",
    ]
    for n, w in enumerate(windows):
        lines.append(
            f"  {n:6d}  {w['rate']:7.0f}  {w['p50_ms']:6.2f}  {w['p99_ms']:6.2f}"
            f"  {w['rss_mib']:7.1f}  {w['replica_size']:7.0f}"
        )
    print("\n".join(lines))  # the run's figures are its report
