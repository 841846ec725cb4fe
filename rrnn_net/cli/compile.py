"""``rrnn compile``: compile a saved model, or the committed examples, into graph files.

Examples
--------
Regenerate the committed example graphs (GraphML and JSON, byte-identical)::

    rrnn compile --example all --out graphs/

Compile a saved model (``GenerativeRNN.save``) into an adaptive-gain graph and draw it::

    rrnn compile model.npz --gain-mode adaptive --out model.graphml --draw
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx

from ..graph import compile_rrnn, save_graph
from ..graph.examples import EXAMPLES, example_graphs
from ..graph.io import FORMATS
from ..model import GenerativeRNN

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compile`` subcommand to the ``rrnn`` parser."""
    parser = subparsers.add_parser(
        "compile", help="compile a model (or the examples) into a graph file",
        description="Compile a GenerativeRNN's Bayesian inverse (the recognizing RNN) into an explicit graph of "
                    "prediction and prediction-error units, written as GraphML or node-link JSON "
                    "(chosen by the suffix of --out). With --example, --out is a directory and every example "
                    "is written as NAME.graphml and NAME.json.",
        epilog="examples:\n  rrnn compile --example all --out graphs/\n"
               "  rrnn compile model.npz --gain-mode fixed --out model_fixed.graphml --draw",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("model", nargs="?", type=Path, help="a model saved with GenerativeRNN.save (.npz)")
    source.add_argument("--example", choices=["all", *EXAMPLES], help="compile the committed example graph(s)")
    parser.add_argument("--gain-mode", "--gain", dest="gain_mode", choices=["adaptive", "fixed"], default="adaptive",
                        help="adaptive: full filter with covariance units (default); fixed: time-averaged "
                             "gain K, state/error/sensory/evidence units only")
    parser.add_argument("--out", type=Path, required=True,
                        help=f"output file ({', '.join(FORMATS)}) or, with --example, directory")
    parser.add_argument("--draw", action="store_true", help="also draw each graph to a .png beside it")
    parser.set_defaults(handler=_compile)


def _compile(args: argparse.Namespace) -> int:
    if args.example:
        args.out.mkdir(parents=True, exist_ok=True)
        names = list(EXAMPLES) if args.example == "all" else [args.example]
        for name, G in example_graphs(names).items():
            for suffix in FORMATS:
                _write(G, args.out / f"{name}{suffix}")
            if args.draw:
                _draw(G, args.out / f"{name}.png")
        return 0
    G = compile_rrnn(GenerativeRNN.load(args.model), gain_mode=args.gain_mode)
    _write(G, args.out)
    if args.draw:
        _draw(G, args.out.with_suffix(".png"))
    return 0


def _write(G: nx.DiGraph, path: Path) -> None:
    save_graph(G, path)
    print(f"wrote {path} ({G.number_of_nodes()} units, {G.number_of_edges()} connections)")


def _draw(G: nx.DiGraph, path: Path) -> None:
    from ..graph import draw  # needs matplotlib, slow to import; only --draw uses it

    print(f"wrote {draw(G, path)}")
