"""``rrnn compile``: compile a saved model, or the committed examples, into graph files.

Examples
--------
Regenerate the committed example graphs (GraphML and JSON, byte-identical;
``--force`` replaces the existing files)::

    rrnn compile --example all --out graphs/ --force

Compile a saved model (``GenerativeRNN.save``) into an adaptive-gain graph and draw it::

    rrnn compile model.npz --gain-mode adaptive --out model.graphml --draw

An adaptive graph carries its prior on its covariance units: by default N(0, c·I)
with c = 1, or less where the network's forward-Euler covariance update would be
unstable (printed); ``--prior-variance C`` chooses another.

The suffix of ``--out`` (``.graphml`` or ``.json``) picks the format. An
existing output is replaced only with ``--force``; the model file never is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np

from .._files import check_outputs
from .._validation import positive_scalar
from ..errors import ParameterError, UnstableSettingError
from ..filters.stability import default_prior_variance, euler_safe_prior_variance
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
        epilog="examples:\n  rrnn compile --example all --out graphs/ --force\n"
               "  rrnn compile model.npz --gain-mode fixed --out model_fixed.graphml --draw",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("model", nargs="?", type=Path, help="a model saved with GenerativeRNN.save (.npz)")
    source.add_argument("--example", choices=["all", *EXAMPLES], help="compile the committed example graph(s)")
    parser.add_argument("--gain-mode", "--gain", dest="gain_mode", choices=["adaptive", "fixed"], default="adaptive",
                        help="adaptive: full filter with covariance units (default); fixed: time-averaged "
                             "gain K, state/error/sensory/evidence units only")
    parser.add_argument("--noise", choices=("fixed", "adaptive"), default="fixed",
                        help="adaptive (with --gain-mode adaptive): a precision unit per channel estimates its "
                             "observation noise online (default: fixed, the model's R)")
    parser.add_argument("--prior-variance", type=float, default=None, metavar="C",
                        help="adaptive gain: prior covariance C·I at t = 0 on the covariance units; default 1, or "
                             "less where the network's forward-Euler covariance update would be unstable")
    parser.add_argument("--seed", type=int, default=None,
                        help="fixed gain: seed of the simulated trials the gain is averaged over (default 0)")
    parser.add_argument("--out", type=Path, required=True,
                        help=f"output file ({', '.join(FORMATS)}) or, with --example, directory")
    parser.add_argument("--draw", action="store_true", help="also draw each graph to a .png beside it")
    parser.add_argument("--force", action="store_true",
                        help="replace existing output files (the model file is never replaced)")
    parser.set_defaults(handler=_compile)


def _compile(args: argparse.Namespace) -> int:
    if args.seed is not None and (args.example or args.gain_mode != "fixed"):
        raise ParameterError("--seed sets the simulation a fixed gain is averaged over: only with --gain-mode fixed "
                             "and a model (the examples are compiled with seed 0)")
    if args.example:
        names = list(EXAMPLES) if args.example == "all" else [args.example]
        suffixes = [*FORMATS, ".png"] if args.draw else list(FORMATS)
        check_outputs([args.out / f"{name}{suffix}" for name in names for suffix in suffixes], force=args.force)
        args.out.mkdir(parents=True, exist_ok=True)
        for name, G in example_graphs(names).items():
            for suffix in FORMATS:
                _write(G, args.out / f"{name}{suffix}")
            if args.draw:
                _draw(G, args.out / f"{name}.png")
        return 0
    if args.out.suffix.lower() not in FORMATS:
        raise ParameterError(f"--out {args.out}: its suffix picks the format, one of {', '.join(FORMATS)}")
    outputs = [args.out, args.out.with_suffix(".png")] if args.draw else [args.out]
    check_outputs(outputs, inputs=[args.model], force=args.force)
    model = GenerativeRNN.load(args.model)
    if args.gain_mode == "fixed":
        if args.prior_variance is not None:
            raise ParameterError("--prior-variance sets the covariance units of an adaptive graph; a fixed-gain "
                                 "graph has none")
        # compile_rrnn refuses noise="adaptive" here, saying why.
        G = compile_rrnn(model, gain_mode="fixed", noise=args.noise, gain_seed=args.seed or 0)
    else:
        variance = default_prior_variance(model) if args.prior_variance is None else \
            positive_scalar(args.prior_variance, "--prior-variance")
        _check_euler_stable(model, variance)
        G = compile_rrnn(model, gain_mode="adaptive", cov0=variance * np.eye(model.n_hidden), noise=args.noise)
        chosen = "given" if args.prior_variance is not None else "default: 1 unless forward Euler needs less"
        print(f"prior N(0, {variance:.4g}·I) ({chosen})")
    _write(G, args.out)
    if args.draw:
        _draw(G, args.out.with_suffix(".png"))
    return 0


def _check_euler_stable(model: GenerativeRNN, variance: float) -> None:
    limit = euler_safe_prior_variance(model, 1.0)
    if variance >= limit:
        raise UnstableSettingError(f"--prior-variance {variance:g} is too broad for the network's forward-Euler "
                                   f"covariance update at step {model.step:g} s: use less than {limit:.3g}")


def _write(G: nx.DiGraph, path: Path) -> None:
    save_graph(G, path)
    print(f"wrote {path} ({G.number_of_nodes()} units, {G.number_of_edges()} connections)")


def _draw(G: nx.DiGraph, path: Path) -> None:
    from ..graph import draw  # needs matplotlib, slow to import; only --draw uses it

    print(f"wrote {draw(G, path)}")
