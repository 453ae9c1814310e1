"""First-run set-up of the embedded store: one demo user, announced once."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from .accounts.passwords import Passwords
from .appkeys import USERS
from .storage.users import StoredUser
from .tokens.claims import ADMIN_ROLE

__all__ = ["DEMO_EMAIL", "create_demo_user"]

logger = logging.getLogger(__name__)

DEMO_EMAIL = "demo@example.com"


def create_demo_user(
    passwords: Passwords,
) -> Callable[[web.Application], Awaitable[None]]:
    """Return a startup hook that adds the demo admin and prints its password."""

    async def hook(app: web.Application) -> None:
        password = secrets.token_urlsafe(12)
        user = StoredUser(
            subject=str(uuid.uuid4()),
            email=DEMO_EMAIL,
            name="Demo User",
            roles=(ADMIN_ROLE,),
            password_hash=passwords.hash(password),
        )
        await app[USERS].add(user)
        # Printed, not logged: the one place a credential is shown, on purpose.
        print(  # the demo credentials are for the person at the terminal
            f"\n  Embedded demo user:  {DEMO_EMAIL}  password: {password}\n",
            flush=True,
        )

    return hook
