"""The issue's targets, and where a run stands against each."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TargetCheck", "at_least", "below"]


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """One target: what it asks, what was measured, and the verdict."""

    target: str
    goal: str
    measured: str
    verdict: str
    met: bool


def at_least(
    target: str, value: float, goal: float, *, fmt: str, unit: str = "", note: str = ""
) -> TargetCheck:
    """Check value >= goal; the verdict says by how much it is met or missed."""
    met = value >= goal
    gap = abs(value - goal)
    verdict = f"met by {gap:{fmt}}{unit}" if met else f"missed by {gap:{fmt}}{unit}"
    return TargetCheck(
        target=target,
        goal=f">= {goal:{fmt}}{unit}",
        measured=f"{value:{fmt}}{unit}",
        verdict=_with_note(verdict, note),
        met=met,
    )


def below(
    target: str, value: float, goal: float, *, fmt: str, unit: str = "", note: str = ""
) -> TargetCheck:
    """Check value < goal; a miss also says how many times the limit it is."""
    met = value < goal
    if met:
        verdict = f"met, {goal - value:{fmt}}{unit} under"
    else:
        verdict = (
            f"missed by {value - goal:{fmt}}{unit} ({value / goal:.1f}x the limit)"
        )
    return TargetCheck(
        target=target,
        goal=f"< {goal:{fmt}}{unit}",
        measured=f"{value:{fmt}}{unit}",
        verdict=_with_note(verdict, note),
        met=met,
    )


def _with_note(verdict: str, note: str) -> str:
    return f"{verdict} ({note})" if note else verdict
