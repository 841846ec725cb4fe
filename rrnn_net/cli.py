"""The ``rrnn`` command.

Each subcommand lives in the module that owns the capability and registers
itself through a ``register(subparsers)`` function listed in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import RRNNError

# Modules that provide a `register(subparsers)` function adding one subcommand.
_COMMANDS = (
    "rrnn_net.demos.cli",
    "rrnn_net.graph.cli",
    "rrnn_net.decode_cli",
)


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


if __name__ == "__main__":
    sys.exit(main())
