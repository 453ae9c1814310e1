"""Load the Lua scripts that make each store operation atomic."""

from __future__ import annotations

from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

__all__ = ["load_script"]


def load_script(redis: Redis, name: str) -> AsyncScript:
    """Register ``scripts/<name>.lua`` with this client (EVALSHA, EVAL fallback)."""
    source = resources.files(__package__).joinpath("scripts", f"{name}.lua")
    return redis.register_script(source.read_text(encoding="utf-8"))
