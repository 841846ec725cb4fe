"""The ``rrnn`` command: one module per subcommand, each with a ``register(subparsers)`` function.

Subcommands: ``demo`` (:mod:`.demo`), ``compile`` (:mod:`.compile`), ``info``
(:mod:`.info`) and ``decode`` (:mod:`.decode`). They parse arguments, call
the library and write files; the work itself is library code.

Exit status: 0 success; 1 a runtime or data error (a file that cannot be
read, invalid numbers, a refused output), reported in one line
``rrnn COMMAND: error: ...``; 2 bad usage (argparse's own message).

Outputs: a command never overwrites one of its own inputs, replaces an
existing output only with ``--force`` (:func:`rrnn_net._files.check_outputs`),
writes every file through a temporary file renamed into place, and prints
the path of each file it wrote.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import RRNNError

__all__ = ["EXIT_ERROR", "build_parser", "main"]

#: Exit status of a runtime or data error (bad usage exits with argparse's 2).
EXIT_ERROR = 1

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
    """Entry point of the ``rrnn`` console script; returns the exit status: 0 or :data:`EXIT_ERROR`.

    Bad usage exits through argparse (``SystemExit(2)``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (RRNNError, OSError) as exc:
        # One line, whatever the error's own message looks like.
        print(f"rrnn {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
