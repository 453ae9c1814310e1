"""Deadline loops: the only way tests wait for something to become true."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.01,
    message: str,
) -> None:
    """Call predicate until it is true; raise AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout

    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{message} (gave up after {timeout:.2f} s)")
        time.sleep(min(interval, remaining))


async def wait_until_async(
    predicate: Callable[[], Awaitable[bool] | bool],
    *,
    # Mirrors wait_until so both read alike; a deadline, not a cancel scope.
    timeout: float,  # noqa: ASYNC109
    interval: float = 0.01,
    message: str,
) -> None:
    """Await predicate until it is true; raise AssertionError after timeout seconds.

    The predicate may be a plain function or return an awaitable.
    """
    deadline = time.monotonic() + timeout

    while not await _evaluate(predicate):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{message} (gave up after {timeout:.2f} s)")
        await asyncio.sleep(min(interval, remaining))


async def _evaluate(predicate: Callable[[], Awaitable[bool] | bool]) -> bool:
    """Call predicate and await its result when it is awaitable."""
    result = predicate()
    if inspect.isawaitable(result):
        return bool(await result)
    return bool(result)
