"""Print results to the terminal and write the Markdown report with its charts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import charts
from .machine import Machine
from .options import Options
from .outcome import Outcome
from .tables import Table

__all__ = ["Report", "print_outcome", "print_targets"]


@dataclass(frozen=True, slots=True)
class Report:
    """One run's results, and where and when they were taken."""

    outcomes: Sequence[Outcome]
    machine: Machine
    options: Options
    started: datetime
    layout: str

    def write(self) -> Path:
        """Write the Markdown report and its PNG charts; return the report path."""
        out = self.options.out
        images = out.parent / out.stem
        images.mkdir(parents=True, exist_ok=True)

        sections = [self._header(), self._machine(), self._targets()]
        sections += [self._section(outcome, images) for outcome in self.outcomes]
        out.write_text("\n\n".join(sections) + "\n")
        return out

    def write_raw(self, path: Path) -> Path:
        """Write every scenario's raw numbers as JSON; return the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = {
            "started": self.started.isoformat(),
            "command": self.options.command,
            "machine": dict(self.machine.rows()),
            "scenarios": {outcome.name: outcome.raw for outcome in self.outcomes},
        }
        path.write_text(json.dumps(raw, indent=1, default=str) + "\n")
        return path

    def _header(self) -> str:
        when = self.started.strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "# Benchmarks",
            "",
            "<!-- Written by `python -m bench`: change bench/, then re-run. -->",
            "",
            f"Measured on {when} by `{self.options.command}`. `make bench` runs"
            " the full benchmark (about 12 minutes on two cores);"
            " `python -m bench --smoke` runs every scenario at a tiny size into"
            " a temporary directory, which is all CI does. Profiles of the hot"
            " paths, and what limits a missed target, are in"
            " [performance.md](performance.md).",
        ]
        if self.options.smoke:
            lines += ["", "> **Smoke run**: tiny sizes; these numbers mean nothing."]
        lines += ["", "## How these numbers were taken", ""]
        lines += [f"- {item}" for item in self._method()]
        return "\n".join(lines)

    def _method(self) -> list[str]:
        profile = self.options.profile
        return [
            "Every comparison is a ratio of variants measured in the same run,"
            f" interleaved (A B C ... A B C ...) over {profile.rounds} rounds."
            " Cells read `median [min, max]` over the rounds; a ratio is taken"
            " within each round, then summarised.",
            self.layout,
            f"Load: `wrk -t1 -c{profile.connections} -d{profile.duration}s"
            " --latency`, with a Lua `done` hook that reports exact percentiles.",
            "Loopback only. Each scenario starts its own `redis-server`"
            " (`--appendonly yes --appendfsync always --maxmemory-policy"
            " noeviction`, as the README asks, unless a section says otherwise)"
            " and real `python -m service serve` processes.",
            "Tokens are signed by the service's own issuer with the fleet's"
            " secret (bench/tokens.py), so no sign-in's argon2 hash lands in a"
            " measurement.",
            "The machine is shared: the load average at the start is in the"
            " machine table, and a wide [min, max] marks a noisy neighbour.",
        ]

    def _machine(self) -> str:
        table = Table("Where it ran", ("", "value"), self.machine.rows())
        return "## Machine\n\n" + table.markdown()

    def _targets(self) -> str:
        table = targets_table(self.outcomes)
        return "## Targets\n\n" + table.markdown()

    def _section(self, outcome: Outcome, images: Path) -> str:
        parts = [f"## {outcome.title}", outcome.setup]
        parts += [table.markdown() for table in outcome.tables]
        parts += self._charts(outcome, images)
        if outcome.notes:
            parts.append("\n".join(f"- {note}" for note in outcome.notes))
        return "\n\n".join(parts)

    def _charts(self, outcome: Outcome, images: Path) -> list[str]:
        if not outcome.charts:
            return []
        if not charts.can_draw():
            return ["_(charts skipped: matplotlib is not installed)_"]

        links = []
        for chart in outcome.charts:
            path = charts.render(chart, images)
            relative = path.relative_to(self.options.out.parent)
            links.append(f"![{chart.title}]({relative.as_posix()})")
        return links


def targets_table(outcomes: Sequence[Outcome]) -> Table:
    """Return every scenario's target checks as one table."""
    rows = tuple(
        (check.target, check.goal, check.measured, check.verdict)
        for outcome in outcomes
        for check in outcome.targets
    )
    return Table(
        "Targets of the issue, against this run",
        ("target", "goal", "measured", "verdict"),
        rows,
    )


def print_outcome(outcome: Outcome) -> None:
    """Print a scenario's tables and notes to standard output."""
    print(f"\n== {outcome.title} ==")
    for table in outcome.tables:
        print()
        print(table.text())
    for note in outcome.notes:
        print(f"  * {note}")


def print_targets(outcomes: Sequence[Outcome]) -> None:
    """Print the targets table to standard output."""
    print()
    print(targets_table(outcomes).text())
