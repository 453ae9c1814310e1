"""Command line: ``serve`` one instance, and manage ``users``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from .accounts.passwords import MAX_PASSWORD_LENGTH, Passwords
from .accounts.signin import normalize_email
from .app import create_app
from .config import Settings, load_settings
from .errors import ConfigurationError
from .logs import configure_logging
from .storage.connection import connect_clients
from .storage.users import StoredUser, UserExistsError, UserStore
from .tokens.claims import ADMIN_ROLE

__all__ = ["main"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# How long to drain a body we answered early (say, 413) before closing, in
# seconds; aiohttp's ten would let a client hold a connection open for it.
_LINGERING_TIME = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service")
    parser.add_argument("--config", type=Path, help="TOML file of settings")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run one instance")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    users = commands.add_parser("users", help="manage users")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user")
    add.add_argument("email")
    add.add_argument("--name", default="")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true")
    add.set_defaults(run=_users_add)
    listing = actions.add_parser("list", help="list users")
    listing.set_defaults(run=_users_list)
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("email")
    remove.set_defaults(run=_users_remove)
    return parser


def _serve(args: argparse.Namespace) -> int:
    overrides = {
        name: value
        for name, value in (("host", args.host), ("port", args.port))
        if value is not None
    }
    settings = load_settings(config_file=args.config, overrides=overrides)
    configure_logging(settings.log_level)
    _announce(settings)

    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        lingering_time=_LINGERING_TIME,
        access_log=logging.getLogger("aiohttp.access"),
        print=None,
    )
    return 0


def _announce(settings: Settings) -> None:
    logger.debug("settings", extra=settings.public_view())
    if settings.embedded:
        logger.warning(
            "EMBEDDED STORE: revocations live in this process only and are NOT "
            "shared with other instances; set REDIS_URL for a fleet"
        )
    if settings.jwt_secret_generated:
        logger.warning("dev mode: generated an ephemeral JWT secret")
    if settings.revocation_fail_open:
        logger.warning(
            "REVOCATION_FAIL_OPEN is on: tokens are ACCEPTED when revocation "
            "status cannot be checked"
        )
    logger.info(
        "starting",
        extra={"host": settings.host, "port": settings.port},
    )


def _admin_settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_file=args.config, require_secret=False)
    if settings.embedded:
        raise ConfigurationError("users commands need REDIS_URL (a shared Redis)")
    return settings


def _users_add(args: argparse.Namespace) -> int:
    settings = _admin_settings(args)
    password = _read_password(args.password_stdin)
    passwords = Passwords()
    user = StoredUser(
        subject=str(uuid.uuid4()),
        email=normalize_email(args.email),
        name=args.name,
        roles=(ADMIN_ROLE,) if args.admin else (),
        password_hash=passwords.hash(password),
    )

    async def add() -> None:
        await _with_users(settings, lambda users: users.add(user))

    try:
        asyncio.run(add())
    except UserExistsError:
        print(f"error: user {user.email} exists", file=sys.stderr)
        return 1
    print(f"added {user.email} (sub {user.subject})")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    settings = _admin_settings(args)
    users = asyncio.run(_with_users(settings, lambda store: store.list()))
    for user in users:
        roles = ",".join(user.roles) or "-"
        print(f"{user.email}\t{user.subject}\t{roles}\t{user.name}")
    return 0


def _users_remove(args: argparse.Namespace) -> int:
    settings = _admin_settings(args)
    email = normalize_email(args.email)
    removed = asyncio.run(_with_users(settings, lambda users: users.remove(email)))
    if not removed:
        print(f"error: no user {email}", file=sys.stderr)
        return 1
    print(f"removed {email}")
    return 0


async def _with_users(
    settings: Settings, action: Callable[[UserStore], Awaitable[_T]]
) -> _T:
    clients = connect_clients(settings)
    try:
        return await action(UserStore(clients.commands))
    finally:
        await clients.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigurationError("the passwords differ")
    if not 8 <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ConfigurationError(
            f"the password must be 8 to {MAX_PASSWORD_LENGTH} characters"
        )
    return password
