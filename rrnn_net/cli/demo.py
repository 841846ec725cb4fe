"""``rrnn demo NAME``: run one of the reproducible demos."""

from __future__ import annotations

import argparse

from ..demos import DEMOS, run_demo, summary
from ..demos.outputs import METRICS, RUN_MARKER

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run a demo that writes figures (PNG) and metrics (JSON)",
        description=f"Run a reproducible demo. Each writes its PNG figures and, last, {METRICS} into --out, "
                    f"marked by {RUN_MARKER} (demo, seed, fast) as one run's folder. A folder holding another "
                    "run's files is refused (--force deletes them first); the same run replaces its files.",
    )
    parser.add_argument("name", choices=sorted(DEMOS), help="which demo to run")
    parser.add_argument("--out", default=None, help="output folder (default: out/NAME)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--fast", action="store_true", help="a small, quick version (used by the tests)")
    parser.add_argument("--force", action="store_true",
                        help="delete the files of another run in --out first, instead of refusing")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    out = args.out or f"out/{args.name}"
    metrics = run_demo(args.name, out, seed=args.seed, fast=args.fast, force=args.force)
    # One line: the numbers behind the claim; everything else is in the metrics file.
    headline = summary(args.name, metrics)
    print(f"rrnn demo {args.name}: {headline + '; ' if headline else ''}figures and {METRICS} in {out}")
    return 0
