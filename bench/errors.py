"""The benchmark's own failure."""

from __future__ import annotations

__all__ = ["BenchError"]


class BenchError(RuntimeError):
    """Raised when a measurement cannot be trusted; the message says why.

    Examples: a variant answered errors, a helper fell silent, a replica
    never went live.
    """
