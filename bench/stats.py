"""Summaries of repeated measurements: percentiles, spreads, interleaving."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Spread", "interleave", "percentile", "ratios"]

_K = TypeVar("_K", bound=Hashable)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Spread:
    """The median, minimum and maximum of one quantity over the rounds."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        """Summarise values; NaN for all three when there are none."""
        data = list(values)
        if not data:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(data), min(data), max(data))


def percentile(values: Sequence[float], rank: float) -> float:
    """Return the rank-th percentile (0 to 100), interpolating between samples."""
    ordered = sorted(values)
    if not ordered:
        return math.nan

    position = (len(ordered) - 1) * rank / 100
    below = math.floor(position)
    above = math.ceil(position)
    share = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * share


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Divide round by round: a ratio only ever compares one round's numbers."""
    return [
        top / bottom if bottom else math.nan
        for top, bottom in zip(numerators, denominators, strict=True)
    ]


def interleave(
    keys: Sequence[_K], rounds: int, measure: Callable[[_K, int], _T]
) -> dict[_K, list[_T]]:
    """Measure every key once per round, in order: A B C A B C ...

    Interleaving spreads a noisy neighbour's bursts over all variants instead
    of letting one variant absorb them.
    """
    results: dict[_K, list[_T]] = {key: [] for key in keys}

    for round_index in range(rounds):
        for key in keys:
            results[key].append(measure(key, round_index))
    return results
