"""What a scenario hands back to the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .charts import Chart
from .tables import Table
from .targets import TargetCheck

__all__ = ["Outcome"]


@dataclass(slots=True)
class Outcome:
    """The tables, charts and target checks of one scenario, and its raw data.

    ``setup`` is one paragraph saying what ran where; ``raw`` must be
    JSON-serialisable and keeps every round's numbers for later analysis.
    """

    name: str
    title: str
    setup: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
