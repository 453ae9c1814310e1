"""Serve the app with its revocation check stubbed out: verification alone.

The throughput benchmark's variant "token verification without any
revocation check" needs it. The service has no setting that skips the check,
on purpose: one typo in a deployment would accept revoked tokens.
``python -m bench.verify_only --host H --port P`` takes the environment of
``python -m service serve`` and builds the very same app, then swaps the
revocation checker for one that clears every verified token. Run it with
``REVOCATION_CACHE=off`` so that no replica syncs in the background.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from aiohttp import web

from service.app import create_app
from service.appkeys import CHECKER
from service.config import load_settings
from service.logs import configure_logging
from service.revocation.checker import RevocationChecker
from service.tokens.claims import AccessClaims

__all__ = ["main"]


class _NoRevocationCheck(RevocationChecker):
    """Clear every verified token without asking the replica or Redis.

    Every public method is replaced, so none of the parent's state is used
    and its constructor, which changes as the service grows, is not called.
    """

    def __init__(self) -> None:
        """Hold nothing: there is nothing to check against."""

    def clears_locally(self, claims: AccessClaims) -> bool:
        """Answer that the token is not revoked, always."""
        return True

    async def ensure_not_revoked(self, claims: AccessClaims) -> None:
        """Accept the token."""

    async def check_in_store(self, claims: AccessClaims) -> None:
        """Accept the token."""


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until stopped; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.verify_only")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    settings = load_settings(overrides={"host": args.host, "port": args.port})
    configure_logging(settings.log_level)
    app = create_app(settings)
    app[CHECKER] = _NoRevocationCheck()

    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=logging.getLogger("aiohttp.access"),
        print=None,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
