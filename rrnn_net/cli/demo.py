"""``rrnn demo NAME``: run one of the reproducible demos."""

from __future__ import annotations

import argparse
import json

from ..demos import DEMOS, run_demo

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run a demo that writes figures (PNG) and metrics (JSON)",
        description="Run a reproducible demo. Each writes its PNG figures and metrics.json into --out.",
    )
    parser.add_argument("name", choices=sorted(DEMOS), help="which demo to run")
    parser.add_argument("--out", default=None, help="output folder (default: out/NAME)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--fast", action="store_true", help="a small, quick version (used by the tests)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    out = args.out or f"out/{args.name}"
    metrics = run_demo(args.name, out, seed=args.seed, fast=args.fast)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    print(f"figures and metrics.json written to {out}")
    return 0
