"""Time the hot paths in-process, side by side: ``python -m bench.hot_paths``.

Not a scenario of ``python -m bench``: it measures functions, not a server,
to show where a full token verification and a snapshot load spend their
time. Every variant runs once per round, interleaved, and each line prints
the median [min, max] over the rounds and its ratio to the first line of
its group.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time
import uuid
from array import array
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import jwt
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from service import appkeys
from service.handlers import health, profile
from service.handlers.bearer import authenticate
from service.replica.digests import RevokedDigestSet
from service.replica.replica import RevocationReplica
from service.revocation.checker import RevocationChecker
from service.revocation.counters import RevocationCounters
from service.storage.revocations import RevocationStore
from service.tokens import verifier as verification
from service.tokens.issuer import TokenIssuer
from service.tokens.keys import KeySet, SigningKey

from .stats import Spread, interleave, ratios

__all__ = ["main"]

_SECRET = os.urandom(48)
_ISSUER = "bench"
_AUDIENCE = "api"


def main(argv: Sequence[str] | None = None) -> int:
    """Run both groups and print their tables; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.hot_paths")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    _print_group("one access token, microseconds per call", _token_paths(), args)
    _print_group(
        "the handlers' own work per request (replica LIVE, token cached), us",
        _handler_paths(),
        args,
    )
    _print_group(
        f"a snapshot of {args.entries:,} digests, milliseconds per load",
        _snapshot_paths(args.entries),
        args,
        calls=1,
        unit=1e3,
    )
    return 0


def _keys_and_token() -> tuple[KeySet, str]:
    """Return a key set and a token it signed, shaped like the demo user's."""
    keys = KeySet(SigningKey.hmac(_SECRET))
    issuer = TokenIssuer(keys, issuer=_ISSUER, audience=_AUDIENCE, lifetime=900)
    issued = issuer.issue(
        subject=str(uuid.uuid4()),
        email="demo@example.com",
        name="Demo User",
        roles=("user",),
    )
    return keys, issued.token


def _token_paths() -> dict[str, Callable[[], object]]:
    keys, token = _keys_and_token()
    verifier = verification.TokenVerifier(
        keys, issuer=_ISSUER, audience=_AUDIENCE, leeway=5, cache_size=0
    )
    cached = verification.TokenVerifier(
        keys, issuer=_ISSUER, audience=_AUDIENCE, leeway=5, cache_size=16
    )
    signing_input = token.rpartition(".")[0].encode()

    return {
        "full verification (TokenVerifier, no cache)": lambda: verifier.verify(token),
        "  of which PyJWT's jwt.decode": lambda: jwt.decode(
            token, _SECRET, algorithms=["HS256"], audience=_AUDIENCE, issuer=_ISSUER
        ),
        "  header read, ours": lambda: verification._read_header(token),
        "  header read, PyJWT's get_unverified_header": lambda: (
            jwt.get_unverified_header(token)
        ),
        "  the HMAC-SHA256 floor": lambda: hmac.new(
            _SECRET, signing_input, hashlib.sha256
        ).digest(),
        "verified-token cache hit": lambda: cached.verify(token),
    }


def _handler_paths() -> dict[str, Callable[[], object]]:
    keys, token = _keys_and_token()
    counters = RevocationCounters()
    replica = RevocationReplica(counters)
    replica.go_live(time.monotonic() + 3600)

    app = web.Application()
    app[appkeys.VERIFIER] = verification.TokenVerifier(
        keys, issuer=_ISSUER, audience=_AUDIENCE, leeway=5, cache_size=16
    )
    # No store: a LIVE replica with nothing revoked never asks it.
    app[appkeys.CHECKER] = RevocationChecker(
        cast(RevocationStore, None), replica, counters, timeout=0.25
    )
    request = make_mocked_request(
        "GET",
        "/api/profile",
        CIMultiDict({"Authorization": f"Bearer {token}"}),
        app=app,
    )

    def run(handler: Callable[[web.Request], Awaitable[object]]) -> object:
        # Each handler finishes without suspending, so one send runs it.
        coroutine = handler(request).__await__()
        try:
            coroutine.send(None)
        except StopIteration as finished:
            return finished.value
        raise AssertionError("the handler waited on something")

    return {
        "GET /api/profile handler (authenticate + JSON body)": lambda: run(
            profile.profile
        ),
        "  authenticate() alone": lambda: run(authenticate),
        "GET /health handler (the ceiling's)": lambda: run(health.health),
    }


def _snapshot_paths(entries: int) -> dict[str, Callable[[], object]]:
    digests = array("Q")
    digests.frombytes(os.urandom(8 * entries))
    expiries = array("I", [int(time.time()) + 600]) * entries

    return {
        "RevokedDigestSet.load (numpy sort)": lambda: RevokedDigestSet().load(
            digests, expiries
        ),
        "  sorted() of the same digests": lambda: sorted(digests),
    }


def _print_group(
    title: str,
    paths: dict[str, Callable[[], object]],
    args: argparse.Namespace,
    *,
    calls: int | None = None,
    unit: float = 1e6,
) -> None:
    repeat = args.calls if calls is None else calls
    times = interleave(
        list(paths), args.rounds, lambda name, _: _time(paths[name], repeat) * unit
    )
    first = times[next(iter(paths))]

    print(f"\n{title}")
    for name, values in times.items():
        spread = Spread.of(values)
        ratio = Spread.of(ratios(values, first))
        print(
            f"  {name:<48} {spread.median:9.2f} [{spread.low:.2f}, {spread.high:.2f}]"
            f"  {ratio.median:5.2f}x"
        )


def _time(call: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) / repeat


if __name__ == "__main__":
    raise SystemExit(main())
