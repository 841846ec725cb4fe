"""The ``rrnn`` command: one module per subcommand, each with a ``register(subparsers)`` function.

Subcommands: ``demo`` (:mod:`.demo`), ``compile`` (:mod:`.compile`), ``info``
(:mod:`.info`) and ``decode`` (:mod:`.decode`). They parse arguments, call
the library and write files; the work itself is library code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import RRNNError

__all__ = ["build_parser", "main"]

# Modules that provide a `register(subparsers)` function adding one subcommand, in the order of `rrnn --help`.
_COMMANDS = ("rrnn_net.cli.demo", "rrnn_net.cli.compile", "rrnn_net.cli.info", "rrnn_net.cli.decode")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="rrnn",
        description="Recognizing RNNs: decode, compile and run Bayesian inverses of generative RNNs.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rrnn`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (RRNNError, OSError) as exc:
        print(f"rrnn {args.command}: error: {exc}", file=sys.stderr)
        return 2
