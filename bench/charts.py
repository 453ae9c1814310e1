"""Charts for the report, drawn with matplotlib into PNG files.

Scenarios describe a chart as data (bars, lines or a distribution); only
this module imports matplotlib, and only when asked to draw, so the
benchmark still runs (without pictures) where matplotlib is missing.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .stats import Spread

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Bars", "Cdf", "Chart", "Lines", "can_draw", "render"]

_SIZE = (7.0, 3.6)
_DPI = 110
# A log axis cannot show 0; smaller samples are drawn at this value.
_FLOOR = 1e-2


@dataclass(frozen=True, slots=True)
class Bars:
    """Horizontal bars, one per label: median with a min-max whisker."""

    name: str
    title: str
    xlabel: str
    labels: tuple[str, ...]
    values: tuple[Spread, ...]
    annotations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lines:
    """One line per series over shared x values: medians with min-max bars."""

    name: str
    title: str
    xlabel: str
    ylabel: str
    x: tuple[float, ...]
    series: tuple[tuple[str, tuple[Spread, ...]], ...]
    log_x: bool = True
    log_y: bool = False


@dataclass(frozen=True, slots=True)
class Cdf:
    """The cumulative distribution of each series of samples."""

    name: str
    title: str
    xlabel: str
    series: tuple[tuple[str, tuple[float, ...]], ...]


Chart = Bars | Lines | Cdf


def can_draw() -> bool:
    """Tell whether matplotlib is installed (``pip install -e '.[bench]'``)."""
    return importlib.util.find_spec("matplotlib") is not None


def render(chart: Chart, directory: Path) -> Path:
    """Draw chart into directory/<name>.png and return that path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=_SIZE, dpi=_DPI)
    try:
        _draw(chart, axes)
        axes.set_title(chart.title)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        path = directory / f"{chart.name}.png"
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path


def _draw(chart: Chart, axes: Axes) -> None:
    match chart:
        case Bars():
            _draw_bars(chart, axes)
        case Lines():
            _draw_lines(chart, axes)
        case Cdf():
            _draw_cdf(chart, axes)


def _draw_bars(chart: Bars, axes: Axes) -> None:
    medians = [value.median for value in chart.values]
    whiskers = [
        [value.median - value.low for value in chart.values],
        [value.high - value.median for value in chart.values],
    ]
    positions = range(len(chart.labels))

    axes.barh(positions, medians, xerr=whiskers, capsize=3, color="#4c72b0")
    axes.set_yticks(list(positions), list(chart.labels))
    axes.invert_yaxis()
    axes.set_xlabel(chart.xlabel)

    # Beside the whisker's end, where no bar or whisker can hide the text.
    ends = [value.high for value in chart.values]
    for position, end, text in zip(positions, ends, chart.annotations, strict=True):
        axes.annotate(
            text,
            (end, position),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.margins(x=0.15)


def _draw_lines(chart: Lines, axes: Axes) -> None:
    for label, values in chart.series:
        medians = [value.median for value in values]
        whiskers = [
            [value.median - value.low for value in values],
            [value.high - value.median for value in values],
        ]
        axes.errorbar(
            chart.x, medians, yerr=whiskers, marker="o", capsize=3, label=label
        )

    if chart.log_x:
        axes.set_xscale("log")
    if chart.log_y:
        axes.set_yscale("log")
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    axes.legend(fontsize=8)


def _draw_cdf(chart: Cdf, axes: Axes) -> None:
    for label, samples in chart.series:
        ordered = sorted(max(sample, _FLOOR) for sample in samples)
        if not ordered:
            continue
        fractions = [(index + 1) / len(ordered) for index in range(len(ordered))]
        axes.step(ordered, fractions, where="post", label=label)

    axes.set_xscale("log")
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel("fraction of revocations")
    axes.legend(fontsize=8)
