"""``rrnn compile`` and ``rrnn info``: compile models or the examples into graph files, and summarise graph files.

Examples
--------
Regenerate the committed example graphs (GraphML and JSON, byte-identical)::

    rrnn compile --example all --out graphs/

Compile a saved model (``GenerativeRNN.save``) into an adaptive-gain graph and draw it::

    rrnn compile model.npz --gain adaptive --out model.graphml --draw

Summarise a graph file::

    rrnn info graphs/rrnn_adaptive.graphml
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..model import GenerativeRNN
from .compile import compile_rrnn
from .draw import draw
from .examples import EXAMPLES, example_graphs
from .inspect import summarize
from .io import FORMATS, load_graph, save_graph

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compile`` and ``info`` subcommands to the ``rrnn`` parser."""
    compile_parser = subparsers.add_parser(
        "compile", help="compile a model (or the examples) into a graph file",
        description="Compile a GenerativeRNN's Bayesian inverse (the recognizing RNN) into an explicit graph of "
                    "prediction and prediction-error units, written as GraphML or node-link JSON "
                    "(chosen by the suffix of --out). With --example, --out is a directory and every example "
                    "is written as NAME.graphml and NAME.json.",
        epilog="examples:\n  rrnn compile --example all --out graphs/\n"
               "  rrnn compile model.npz --gain fixed --out model_fixed.graphml --draw",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    source = compile_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("model", nargs="?", type=Path, help="a model saved with GenerativeRNN.save (.npz)")
    source.add_argument("--example", choices=["all", *EXAMPLES], help="compile the committed example graph(s)")
    compile_parser.add_argument("--gain", choices=["adaptive", "fixed"], default="adaptive",
                                help="adaptive: full filter with covariance units (default); fixed: time-averaged "
                                     "gain K, state/error/sensory/evidence units only")
    compile_parser.add_argument("--out", type=Path, required=True,
                                help=f"output file ({', '.join(FORMATS)}) or, with --example, directory")
    compile_parser.add_argument("--draw", action="store_true", help="also draw each graph to a .png beside it")
    compile_parser.set_defaults(handler=_compile)

    info_parser = subparsers.add_parser(
        "info", help="summarise a graph file",
        description="Load and validate a graph file (.graphml or .json) and print counts per node and edge "
                    "kind, degree statistics, the number of multiplicative units and the locality check.")
    info_parser.add_argument("graph", type=Path, help="a graph file written by rrnn compile")
    info_parser.set_defaults(handler=_info)


def _compile(args: argparse.Namespace) -> int:
    if args.example:
        args.out.mkdir(parents=True, exist_ok=True)
        names = list(EXAMPLES) if args.example == "all" else [args.example]
        for name, G in example_graphs(names).items():
            for suffix in FORMATS:
                _write(G, args.out / f"{name}{suffix}")
            if args.draw:
                print(f"wrote {draw(G, args.out / f'{name}.png')}")
        return 0
    G = compile_rrnn(GenerativeRNN.load(args.model), gain=args.gain)
    _write(G, args.out)
    if args.draw:
        print(f"wrote {draw(G, args.out.with_suffix('.png'))}")
    return 0


def _write(G, path: Path) -> None:
    save_graph(G, path)
    print(f"wrote {path} ({G.number_of_nodes()} units, {G.number_of_edges()} connections)")


def _info(args: argparse.Namespace) -> int:
    print(summarize(load_graph(args.graph)))
    return 0
