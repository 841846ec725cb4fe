"""``rrnn info``: validate a graph file and summarise it.

Example::

    rrnn info graphs/rrnn_adaptive.graphml
    rrnn info laid_out_in_gephi.graphml --like graphs/rrnn_adaptive.graphml
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..graph import load_graph, summarize

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand to the ``rrnn`` parser."""
    parser = subparsers.add_parser(
        "info", help="summarise a graph file",
        description="Load and validate a graph file (.graphml or .json) and print counts per node and edge "
                    "kind, degree statistics, the number of multiplicative units, the locality check and the "
                    "consistency check (whether the copies of each parameter still agree, e.g. after a lesion).")
    parser.add_argument("graph", type=Path, help="a graph file written by rrnn compile, or re-saved by a graph tool")
    parser.add_argument("--like", type=Path, metavar="ORIGINAL",
                        help="the graph file GRAPH was made from: its graph attributes complete a file that a tool "
                             "(Gephi, Cytoscape) exported without them")
    parser.set_defaults(handler=_info)


def _info(args: argparse.Namespace) -> int:
    like = load_graph(args.like) if args.like is not None else None
    print(summarize(load_graph(args.graph, like=like)))
    return 0
