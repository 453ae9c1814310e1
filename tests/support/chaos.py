"""A chaos run: real instances on one Redis, load, revocations and faults.

The driver records every acknowledged revocation and every request made with
each token, so that the test can check the freshness bound afterwards.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from .http import Response, request
from .redis_server import RedisServer
from .service_process import ServiceProcess
from .tcp_proxy import TcpProxy

REQUEST_TIMEOUT = 3.0


@dataclass(frozen=True)
class Sample:
    """One protected request: token, instance, when sent, status (0: no answer)."""

    token: str
    instance: int
    sent_at: float
    status: int
    code: str = ""


@dataclass
class Record:
    """Everything a chaos run observed, shared by its threads."""

    samples: list[Sample] = field(default_factory=list)
    acknowledged: dict[str, float] = field(default_factory=dict)
    jtis: dict[str, str] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    recoveries: list[float] = field(default_factory=list)
    revoke_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Cluster:
    """Redis, one TCP proxy per instance, and the instances behind them."""

    def __init__(self, directory: Path, env: dict[str, str], size: int) -> None:
        self.directory = directory
        self.env = env
        self.redis = RedisServer(directory / "redis")
        self.proxies: list[TcpProxy] = []
        self.instances: list[ServiceProcess] = []
        self.generations = 0
        self._size = size

    def start(self) -> None:
        self.redis.start()
        for _ in range(self._size):
            proxy = TcpProxy("127.0.0.1", self.redis.port)
            proxy.start()
            self.proxies.append(proxy)
            self.instances.append(self._instance(proxy))
        for instance in self.instances:
            instance.start()
            instance.wait_ready()

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        for proxy in self.proxies:
            proxy.stop()
        self.redis.stop()

    def replace_instance(self, index: int) -> None:
        """Kill one instance and start a fresh process in its place."""
        self.instances[index].kill()
        fresh = self._instance(self.proxies[index])
        fresh.start()
        self.instances[index] = fresh

    def url(self, index: int) -> str:
        return self.instances[index].url

    def logs(self) -> list[str]:
        return [path.read_text() for path in sorted(self.directory.glob("*.log"))]

    def _instance(self, proxy: TcpProxy) -> ServiceProcess:
        self.generations += 1
        log = self.directory / f"instance-{self.generations}.log"
        env = {**self.env, "REDIS_URL": proxy.url_for_redis}
        return ServiceProcess(env, log_path=log)


class Driver:
    """Threads that load the cluster, revoke tokens and inject faults."""

    def __init__(
        self,
        cluster: Cluster,
        record: Record,
        *,
        users: list[tuple[str, str]],
        admin: tuple[str, str],
        seed: int,
    ) -> None:
        self.cluster = cluster
        self.record = record
        self._users = users
        self._admin = admin
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._live_tokens: list[str] = []
        self._all_tokens: list[str] = []
        self._admin_token = ""
        self._threads: list[threading.Thread] = []

    def run(self, duration: float, *, workers: int = 3) -> None:
        """Drive load, revocations and faults for ``duration`` seconds."""
        self._admin_token = self._login(*self._admin)
        for _ in range(6):
            self._issue()

        targets: list[Callable[[], None]] = [self._load] * workers
        targets += [self._revocations]
        self._threads = [threading.Thread(target=t, daemon=True) for t in targets]
        for thread in self._threads:
            thread.start()
        try:
            self._faults(duration)
        finally:
            self._stop.set()
            for thread in self._threads:
                thread.join(timeout=REQUEST_TIMEOUT + 5)

    def tokens(self) -> list[str]:
        return list(self._all_tokens)

    # Load: protected requests with random tokens, revoked ones included.

    def _load(self) -> None:
        rng = random.Random(self._random.random())
        while not self._stop.is_set():
            token = rng.choice(self._all_tokens)
            index = rng.randrange(len(self.cluster.instances))
            self._probe(token, index)

    def _probe(self, token: str, index: int) -> None:
        sent_at = time.monotonic()
        try:
            response = self._call("GET", index, "/api/profile", token)
        except Exception:  # any failure to answer is status 0
            sample = Sample(token, index, sent_at, 0)
        else:
            sample = Sample(token, index, sent_at, response.status, _code(response))
        with self.record.lock:
            self.record.samples.append(sample)

    # Revocations: logouts and admin revocations, recording acknowledgements.

    def _revocations(self) -> None:
        rng = random.Random(self._random.random())
        while not self._stop.wait(rng.uniform(0.05, 0.25)):
            if len(self._live_tokens) < 4:
                self._issue()
                continue
            token = self._live_tokens.pop(rng.randrange(len(self._live_tokens)))
            index = rng.randrange(len(self.cluster.instances))
            if rng.random() < 0.5:
                self._revoke(token, index, "/auth/logout", token, None)
            else:
                body = {"jti": self.record.jtis[token]}
                self._revoke(
                    token, index, "/admin/revocations", self._admin_token, body
                )
            self._issue()

    def _revoke(
        self,
        token: str,
        index: int,
        path: str,
        bearer: str,
        body: object | None,
    ) -> None:
        try:
            response = self._call("POST", index, path, bearer, body)
        except Exception:  # unanswered: not acknowledged
            response = None
        if response is not None and response.status in (200, 201):
            with self.record.lock:
                self.record.acknowledged[token] = time.monotonic()
        else:
            self.record.revoke_failures += 1

    def _issue(self) -> None:
        email, password = self._random.choice(self._users)
        for _ in range(20):
            index = self._random.randrange(len(self.cluster.instances))
            try:
                token = self._login(email, password, index)
            except Exception:  # noqa: S112  # a fault is on: try another
                continue
            self._live_tokens.append(token)
            self._all_tokens.append(token)
            jti = jwt.decode(token, options={"verify_signature": False})["jti"]
            self.record.jtis[token] = jti
            return

    def _login(self, email: str, password: str, index: int = 0) -> str:
        response = request(
            "POST",
            f"{self.cluster.url(index)}/auth/login",
            json={"email": email, "password": password},
            timeout=REQUEST_TIMEOUT,
        )
        if response.status != 200:
            raise RuntimeError(f"login answered {response.status}")
        return str(response.json()["access_token"])

    def _call(
        self,
        method: str,
        index: int,
        path: str,
        token: str,
        body: object | None = None,
    ) -> Response:
        return request(
            method,
            f"{self.cluster.url(index)}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT,
        )

    # Faults: one at a time, each healed before the next.

    def _faults(self, duration: float) -> None:
        deadline = time.monotonic() + duration
        faults = [
            self._kill_subscriptions,
            self._restart_redis,
            self._crash_redis,
            self._pause_redis,
            self._blackhole_one,
            self._delay_one,
            self._replace_one,
        ]
        while time.monotonic() < deadline:
            if self._stop.wait(self._random.uniform(0.5, 1.5)):
                return
            fault = self._random.choice(faults)
            self.record.faults[fault.__name__.strip("_")] += 1
            fault()
            self._await_recovery()

    def _kill_subscriptions(self) -> None:
        self.cluster.redis.command("CLIENT", "KILL", "TYPE", "pubsub")

    def _restart_redis(self) -> None:
        self.cluster.redis.restart()

    def _crash_redis(self) -> None:
        # SIGKILL: no shutdown flush; appendfsync always must have kept
        # every acknowledged write anyway.
        self.cluster.redis.kill()
        self.cluster.redis.start()

    def _pause_redis(self) -> None:
        self.cluster.redis.pause()
        try:
            self._stop.wait(self._random.uniform(0.5, 2.5))
        finally:
            self.cluster.redis.resume()

    def _blackhole_one(self) -> None:
        proxy = self._random.choice(self.cluster.proxies)
        proxy.set_mode("blackhole")
        try:
            self._stop.wait(self._random.uniform(1.0, 3.0))
        finally:
            proxy.set_mode("pass")
            proxy.close_all()

    def _delay_one(self) -> None:
        proxy = self._random.choice(self.cluster.proxies)
        proxy.set_delay(self._random.uniform(0.05, 0.3))
        try:
            self._stop.wait(self._random.uniform(1.0, 3.0))
        finally:
            proxy.set_delay(0.0)

    def _replace_one(self) -> None:
        self.cluster.replace_instance(
            self._random.randrange(len(self.cluster.instances))
        )

    def _await_recovery(self) -> None:
        """Wait until every instance is ready with a live replica; time it."""
        started = time.monotonic()
        deadline = started + 30.0
        pending = set(range(len(self.cluster.instances)))
        while pending and time.monotonic() < deadline:
            pending = {i for i in pending if not self._live(i)}
            if pending:
                self._stop.wait(0.05)
        if pending:
            raise AssertionError(f"instances {sorted(pending)} did not recover")
        self.record.recoveries.append(time.monotonic() - started)

    def _live(self, index: int) -> bool:
        try:
            response = request("GET", f"{self.cluster.url(index)}/ready", timeout=1.0)
        except Exception:  # not answering yet
            return False
        return response.status == 200 and response.json().get("replica") == "live"


def _code(response: Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
