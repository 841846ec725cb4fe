"""The ``rrnn`` command: one module per subcommand, each with a ``register(subparsers)`` function.

Subcommands: ``demo`` (:mod:`.demo`), ``compile`` (:mod:`.compile`), ``info``
(:mod:`.info`) and ``decode`` (:mod:`.decode`). They parse arguments, call
the library and write files; the work itself is library code.

``python -m rrnn_net`` is the same command. Global options (before the
subcommand): ``--version``; ``-v``/``--verbose`` (the package's log messages
at INFO, ``-vv`` DEBUG, on stderr); ``-q``/``--quiet`` (warnings and errors
only, and no progress output).

Exit status: 0 success; 1 a runtime or data error (a file that cannot be
read, invalid numbers, a refused output), reported in one line
``rrnn COMMAND: error: ...``; 2 bad usage (argparse's own message); 130
interrupted (Ctrl-C), in one line ``rrnn COMMAND: interrupted``.

Outputs: a command never overwrites one of its own inputs, replaces an
existing output only with ``--force`` (:func:`rrnn_net._files.check_outputs`),
writes every file through a temporary file renamed into place, and prints
the path of each file it wrote.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import RRNNError

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "build_parser", "main"]

#: Exit status of a runtime or data error (bad usage exits with argparse's 2).
EXIT_ERROR = 1
#: Exit status after Ctrl-C: 128 + SIGINT, as the shells report it.
EXIT_INTERRUPTED = 130

# Modules that provide a `register(subparsers)` function adding one subcommand, in the order of `rrnn --help`.
_COMMANDS = ("rrnn_net.cli.demo", "rrnn_net.cli.compile", "rrnn_net.cli.info", "rrnn_net.cli.decode")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="rrnn",
        description="Recognizing RNNs: decode, compile and run Bayesian inverses of generative RNNs.",
    )
    parser.add_argument("--version", action="version", version=f"rrnn {__version__}")
    # Own destinations: a subcommand's defaults would overwrite options of the same name given before it.
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", dest="global_verbose", action="count", default=0,
                           help="log what the package does on stderr (-vv: in detail)")
    verbosity.add_argument("-q", "--quiet", dest="global_quiet", action="store_true",
                           help="only warnings and errors; no progress output")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rrnn`` console script; returns the exit status: 0, :data:`EXIT_ERROR` or
    :data:`EXIT_INTERRUPTED`.

    Bad usage exits through argparse (``SystemExit(2)``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.global_verbose, args.global_quiet)
    if args.global_quiet and hasattr(args, "quiet"):
        args.quiet = True  # the subcommand's own progress switch
    try:
        return int(args.handler(args) or 0)
    except (RRNNError, OSError) as exc:
        # One line, whatever the error's own message looks like.
        print(f"rrnn {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        # Every file is written through a temporary one renamed into place: an interrupted write left none.
        print(f"rrnn {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _configure_logging(verbose: int, quiet: bool) -> None:
    """The ``rrnn_net`` logger's level and a stderr handler for the command's lifetime."""
    level = logging.WARNING if quiet or not verbose else (logging.INFO if verbose == 1 else logging.DEBUG)
    logger = logging.getLogger("rrnn_net")
    logger.setLevel(level)
    # One handler however often main() runs in a process, on today's stderr (a caller may have replaced it).
    for handler in [handler for handler in logger.handlers if isinstance(handler, _CommandHandler)]:
        logger.removeHandler(handler)
    handler = _CommandHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rrnn: %(message)s"))
    logger.addHandler(handler)


class _CommandHandler(logging.StreamHandler):
    """The stderr handler :func:`main` installs: a class of its own, so that the next run finds and replaces it."""
