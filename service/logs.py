"""Logging set-up: constant messages, details as ``key=value`` fields."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

# Attributes every LogRecord has; anything else came in through ``extra``.
_STANDARD = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
    | {"message", "asctime", "taskName"}
)


class FieldsFormatter(logging.Formatter):
    """Append a record's extra fields to the message as ``key=value`` pairs."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{key}={value!r}"
            for key, value in vars(record).items()
            if key not in _STANDARD
        ]
        if not fields:
            return line
        head, newline, rest = line.partition("\n")
        return f"{head} {' '.join(fields)}{newline}{rest}"


def configure_logging(level: str) -> None:
    """Send logs to standard error at ``level``, with fields."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp logs every request at INFO; per-request lines belong at DEBUG.
    logging.getLogger("aiohttp.access").setLevel(
        logging.DEBUG if level == "DEBUG" else logging.WARNING
    )
