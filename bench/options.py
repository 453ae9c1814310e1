"""The command line of ``python -m bench`` and the sizes it runs at."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .cores import Cores

__all__ = ["FULL", "SCENARIOS", "SMOKE", "Context", "Options", "Profile", "parse"]

REPO_ROOT = Path(__file__).resolve().parents[1]

SCENARIOS = (
    "throughput",
    "propagation",
    "cold_start",
    "revocation_rate",
    "fanout",
    "scale_out",
)


@dataclass(frozen=True, slots=True)
class Profile:
    """How big every scenario runs. Durations in whole seconds (wrk's unit)."""

    rounds: int
    duration: int
    warmup: int
    connections: int
    propagation_samples: int
    cold_start_sizes: tuple[int, ...]
    fanout_sizes: tuple[int, ...]
    fanout_samples: int
    idle_window: float


FULL = Profile(
    rounds=5,
    duration=10,
    warmup=2,
    connections=32,
    propagation_samples=500,
    cold_start_sizes=(10_000, 100_000, 1_000_000),
    fanout_sizes=(1, 10, 100, 500),
    fanout_samples=300,
    idle_window=2.0,
)
"""The benchmark as documented: about 15 minutes on two cores."""

SMOKE = Profile(
    rounds=2,
    duration=1,
    warmup=0,
    connections=32,
    propagation_samples=20,
    cold_start_sizes=(1_000, 10_000),
    fanout_sizes=(1, 10),
    fanout_samples=10,
    idle_window=0.3,
)
"""Every code path at a size CI can afford; the numbers mean little."""


@dataclass(frozen=True, slots=True)
class Options:
    """What one invocation runs and where it writes."""

    profile: Profile
    scenarios: tuple[str, ...]
    out: Path
    smoke: bool
    command: str


@dataclass(frozen=True, slots=True)
class Context:
    """What every scenario gets: its sizes, a scratch directory, the cores."""

    profile: Profile
    workdir: Path
    cores: Cores
    smoke: bool


def parse(argv: Sequence[str]) -> Options:
    """Parse the command line into Options; exit with usage on bad input."""
    parser = _parser()
    args = parser.parse_args(argv)
    profile = SMOKE if args.smoke else FULL

    if args.rounds is not None:
        profile = replace(profile, rounds=_positive(parser, "--rounds", args.rounds))
    if args.duration is not None:
        seconds = _positive(parser, "--duration", args.duration)
        profile = replace(profile, duration=seconds)

    return Options(
        profile=profile,
        scenarios=_scenarios(parser, args.only),
        out=args.out or _default_out(smoke=args.smoke),
        smoke=args.smoke,
        command=" ".join(["python -m bench", *argv]),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the service; print tables and write the report.",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="run every scenario at a tiny size, writing into a temporary directory",
    )
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help=f"run only these: {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds per scenario")
    parser.add_argument(
        "--duration", type=int, metavar="SECONDS", help="length of each wrk run"
    )
    parser.add_argument(
        "--out", type=Path, help="report to write (default docs/benchmarks.md)"
    )
    return parser


def _positive(parser: argparse.ArgumentParser, name: str, value: int) -> int:
    if value < 1:
        parser.error(f"{name} must be at least 1")
    return value


def _scenarios(parser: argparse.ArgumentParser, only: str | None) -> tuple[str, ...]:
    if not only:
        return SCENARIOS

    names = tuple(name.strip().replace("-", "_") for name in only.split(","))
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; have {SCENARIOS}")
    # Run in the documented order whatever order they were named in.
    return tuple(name for name in SCENARIOS if name in names)


def _default_out(*, smoke: bool) -> Path:
    if smoke:
        return Path(tempfile.mkdtemp(prefix="bench-smoke-")) / "benchmarks.md"
    return REPO_ROOT / "docs" / "benchmarks.md"
