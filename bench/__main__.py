"""``python -m bench``: run the scenarios, print their tables, write the report."""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from . import (
    cold_start,
    fanout,
    propagation,
    revocation_rate,
    scale_out,
    throughput,
)
from .cores import Cores, choose_cores
from .machine import describe
from .options import REPO_ROOT, Context, Options, parse
from .outcome import Outcome
from .report import Report, print_outcome, print_targets

logger = logging.getLogger("bench")

RUNNERS: dict[str, Callable[[Context], Outcome]] = {
    "throughput": throughput.run,
    "propagation": propagation.run,
    "cold_start": cold_start.run,
    "revocation_rate": revocation_rate.run,
    "fanout": fanout.run,
    "scale_out": scale_out.run,
}

_TOOLS = ("wrk", "redis-server", "taskset")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit code (1 if any scenario failed)."""
    options = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"error: missing {', '.join(missing)} (make bench installs them)")
        return 2

    # SIGTERM would end the process without running any finally block, and
    # with it the stopping of everything the scenarios started.
    signal.signal(signal.SIGTERM, _interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="bench-work-"))
    try:
        failed = _run(options, workdir)
    except KeyboardInterrupt:
        # Each fleet stopped what it had started on the way out.
        print(f"interrupted; logs are kept in {workdir}", file=sys.stderr)
        return 130

    if failed:
        print(f"logs of the failed run are kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _run(options: Options, workdir: Path) -> bool:
    """Run the chosen scenarios and write the report; return whether any failed."""
    started = datetime.now(UTC)
    cores = choose_cores()
    context = Context(options.profile, workdir, cores, options.smoke)

    outcomes, failed = _run_all(options, context)
    _write(outcomes, options, started, cores)
    return failed


def _run_all(options: Options, context: Context) -> tuple[list[Outcome], bool]:
    outcomes = []
    failed = False

    for name in options.scenarios:
        logger.info("scenario %s: starting", name)
        try:
            outcome = RUNNERS[name](context)
        except Exception as exc:
            # One broken scenario should not throw away the others' numbers.
            logger.exception("scenario %s failed", name)
            outcome = _failure(name, exc)
            failed = True
        print_outcome(outcome)
        outcomes.append(outcome)
    return outcomes, failed


def _failure(name: str, exc: Exception) -> Outcome:
    return Outcome(
        name=name,
        title=f"{name}: failed",
        setup=f"The scenario failed: `{type(exc).__name__}: {exc}`.",
        raw={"error": f"{type(exc).__name__}: {exc}"},
    )


def _write(
    outcomes: list[Outcome], options: Options, started: datetime, cores: Cores
) -> None:
    report = Report(outcomes, describe(), options, started, _layout(cores))
    print_targets(outcomes)

    path = report.write()
    print(f"\nreport: {path}")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    raw = (
        path.parent / "results.json"
        if options.smoke
        else REPO_ROOT / "bench" / "results" / f"{stamp}.json"
    )
    print(f"raw results: {report.write_raw(raw)}")


def _layout(cores: Cores) -> str:
    if cores.server is None:
        return "Fewer than two usable cores: nothing is pinned."
    return (
        f"The measured instance runs on core {cores.server} (`taskset -c"
        f" {cores.server}`); wrk, Redis and the benchmark's helpers on core"
        f" {cores.client}, unless a section says otherwise."
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    raise SystemExit(main())
