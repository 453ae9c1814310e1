"""Send requests with one token in a loop, recording when each was sent."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

from .http import request
from .waiting import wait_until


@dataclass(frozen=True)
class Probe:
    """One request: when it was sent (monotonic s), and the status answered."""

    sent_at: float
    status: int
    error: str = ""


@dataclass
class TokenProbe:
    """Call ``GET /api/profile`` with a token in a background thread.

    ``status`` 0 means no answer (a timeout or a refused connection).
    """

    url: str
    token: str
    interval: float = 0.005
    timeout: float = 2.0
    probes: list[Probe] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TokenProbe:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=self.timeout + 5)

    def accepted_after(self, moment: float, *, at_least: int = 1) -> list[Probe]:
        """Return the probes sent after ``moment`` that were answered 2xx.

        Fail if fewer than ``at_least`` probes were sent after it, so that an
        empty answer always means "none accepted", never "none sent".
        """
        later = [p for p in self.probes if p.sent_at > moment]
        assert len(later) >= at_least, f"only {len(later)} probes after the moment"
        return [p for p in later if 200 <= p.status < 300]

    def wait_past(
        self, moment: float, *, count: int = 5, timeout: float = 10.0
    ) -> None:
        """Wait until ``count`` probes sent after ``moment`` have been answered."""
        wait_until(
            lambda: sum(p.sent_at > moment for p in self.probes) >= count,
            timeout=timeout,
            message=f"fewer than {count} probes answered after the moment",
        )

    def statuses_after(self, moment: float) -> set[int]:
        return {p.status for p in self.probes if p.sent_at > moment}

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self._stop.is_set():
            sent_at = time.monotonic()
            try:
                response = request(
                    "GET",
                    f"{self.url}/api/profile",
                    headers=headers,
                    timeout=self.timeout,
                )
                self.probes.append(Probe(sent_at, response.status))
            except (OSError, http.client.HTTPException) as exc:
                self.probes.append(Probe(sent_at, 0, type(exc).__name__))
            self._stop.wait(self.interval)
