"""Tables of results: one shape, printed as aligned text or written as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .stats import Spread

__all__ = ["Table", "number", "spread"]


@dataclass(frozen=True, slots=True)
class Table:
    """A titled grid of already formatted cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        """Return the table as GitHub Markdown, title in bold above it."""
        lines = [f"**{self.title}**", "", _markdown_row(self.headers)]
        lines.append(_markdown_row(tuple("---" for _ in self.headers)))
        lines += [_markdown_row(row) for row in self.rows]
        return "\n".join(lines)

    def text(self) -> str:
        """Return the table as columns aligned with spaces, for a terminal."""
        columns = zip(self.headers, *self.rows, strict=True)
        widths = [max(map(len, column)) for column in columns]
        rule = "  ".join("-" * width for width in widths)
        lines = [self.title, _text_row(self.headers, widths), rule]
        lines += [_text_row(row, widths) for row in self.rows]
        return "\n".join(lines)


def number(value: float, fmt: str = ".0f", unit: str = "") -> str:
    """Format one value, or a dash when it was not measured."""
    if math.isnan(value):
        return "-"
    return f"{value:{fmt}}{unit}"


def spread(values: Spread, fmt: str = ".0f", unit: str = "") -> str:
    """Format a spread as ``median [min, max]``."""
    if math.isnan(values.median):
        return "-"
    low = number(values.low, fmt)
    high = number(values.high, fmt)
    return f"{number(values.median, fmt, unit)} [{low}, {high}]"


def _markdown_row(cells: Sequence[str]) -> str:
    escaped = (cell.replace("|", "\\|") for cell in cells)
    return "| " + " | ".join(escaped) + " |"


def _text_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
    )
