"""``rrnn decode``: decode recorded observations with an rRNN and write the results to ``.npz`` (and CSV).

The decoding is :func:`rrnn_net.decoding.decode` and the reading
:func:`rrnn_net.datasets.load_observations`; this module parses the
arguments and writes the files.

Examples
--------
Decode a CSV recording (rows = samples, columns = channels, empty or NaN =
missing) with the UKF of a saved model::

    rrnn decode recording.csv model.npz --out decoded.npz --csv

Run a compiled graph file as a Brian2 network::

    rrnn decode trials.npy model_adaptive.graphml

A baseline graph (an input-driven RNN) runs on its inputs the same way and
writes its hidden states and outputs.

``--out`` names an ``.npz`` file (``.npz`` is added to a name without
suffix; another suffix is refused). No output may be one of the command's
inputs; an existing output is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import networkx as nx
import numpy as np

from .._files import check_outputs, output_file, write_atomically
from ..datasets import load_observations
from ..decoding import DECODERS, Decoding, decode
from ..errors import DecodeError
from ..filters import FilterResult
from ..graph import GraphSchemaError, load_graph
from ..model import GenerativeRNN

__all__ = ["register"]

GRAPH_SUFFIXES = (".graphml", ".json")
OUTPUT_FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error",
                 "loglik")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``decode`` subcommand to the ``rrnn`` parser."""
    parser = subparsers.add_parser(
        "decode", help="decode observations (.npy/.csv) with an rRNN; write states, errors and evidence",
        description="Decode recorded observations with the recognizing RNN of a generative model: posterior\n"
                    "means of the hidden state, predicted observations, prediction errors and the accumulated\n"
                    "log evidence, written to an .npz file (and optionally a CSV table).",
        epilog="observations:\n"
               "  .npy  float array (T, m) or (B, T, m): T samples of m channels, B trials; NaN = missing\n"
               "  .csv  rows = samples, columns = channels; a first row of names only is a header; empty or\n"
               "        NaN cells = missing; any other text is an error naming its line\n"
               "output .npz arrays (leading B axis only for (B, T, m) input):\n"
               "  time (T,) s; mean, predicted_state, state_prediction_error (T, N); predicted_obs,\n"
               "  prediction_error (T, m); loglik (T,) log evidence per sample; evidence (T,) its running sum;\n"
               "  total_loglik; n_psd_repairs; metadata (JSON string)\n"
               "examples:\n"
               "  rrnn decode recording.csv model.npz --out decoded.npz --csv\n"
               "  rrnn decode trials.npy model.npz --decoder brian2 --gain-mode fixed\n"
               "  rrnn decode trials.npy model_adaptive.graphml",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("observations", type=Path, help="observations file (.npy or .csv)")
    parser.add_argument("source", type=Path,
                        help="a model saved with GenerativeRNN.save (.npz), or a compiled graph (.graphml or "
                             ".json), which runs as a Brian2 network")
    parser.add_argument("--decoder", choices=DECODERS, default=None,
                        help="ukf, ekf, continuous (the numpy Kalman-Bucy filter the network runs) or brian2 "
                             "(the compiled network); default ukf for a model, brian2 for a graph")
    parser.add_argument("--gain-mode", "--gain", dest="gain_mode", choices=("adaptive", "fixed"), default="adaptive",
                        help="network form compiled from a model for --decoder brian2 (default adaptive)")
    parser.add_argument("--noise", choices=("fixed", "adaptive"), default="fixed",
                        help="adaptive: estimate each channel's observation noise online (every decoder; "
                             "brian2 compiles precision units); written as noise_variance (default: fixed, the "
                             "model's R). A graph compiled with --noise adaptive estimates it anyway")
    parser.add_argument("--prior-variance", type=float, default=None, metavar="C",
                        help="prior covariance C·I of the hidden state at t = 0 (prior mean 0); default 1, for "
                             "continuous/brian2 less where forward Euler would not integrate 1 stably "
                             "(then h·λ_max(C Mᵀ R_c⁻¹ M) = 0.5). A graph file carries its own prior "
                             "(rrnn compile --prior-variance).")
    parser.add_argument("--target", choices=("numpy", "cython", "cpp_standalone"), default="numpy",
                        help="Brian2 code-generation target (default numpy)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output .npz, added to a name without suffix (default: OBSERVATIONS_decoded.npz "
                             "beside the observations)")
    parser.add_argument("--csv", action="store_true",
                        help="also write a CSV table (one row per trial and sample) beside the .npz")
    parser.add_argument("--force", action="store_true",
                        help="replace existing output files (an input of the command is never replaced)")
    parser.add_argument("--like", type=Path, metavar="ORIGINAL",
                        help="for a graph file a tool (Gephi, Cytoscape) exported without its graph attributes: the "
                             "graph file it was made from, whose attributes complete it")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=_decode)


def _decode(args: argparse.Namespace) -> int:
    observations = load_observations(args.observations)
    source = _load_source(args.source, args.like)
    baseline = isinstance(source, nx.DiGraph) and source.graph["graph_type"] == "baseline"
    if baseline:
        _check_baseline_options(args)
    out = output_file(args.out or args.observations.with_name(f"{args.observations.stem}_decoded.npz"), ".npz",
                      what="the decoding")
    outputs = [out, out.with_suffix(".csv")] if args.csv else [out]
    # Before the decoding, which may take long: a refused output should not cost the run.
    check_outputs(outputs, inputs=(args.observations, args.source), force=args.force)
    if baseline:
        return _run_baseline(source, observations, out, args)
    # Recorded, to be printed below in the command's own one-line format.
    with warnings.catch_warnings(record=True) as caught:
        # The decoding's own warnings reach the one-line report below, even under -W error.
        warnings.simplefilter("always", RuntimeWarning)
        decoding = decode(source, observations, args.decoder, prior_variance=args.prior_variance,
                          gain_mode=args.gain_mode, noise=args.noise, target=args.target, progress=not args.quiet)
    for warning in caught:
        print(f"rrnn decode: warning: {warning.message}", file=sys.stderr)
    metadata = {"format": "rrnn_net.decode", "version": 1, "decoder": decoding.decoder, "source": str(args.source),
                "observations": str(args.observations), "sample_interval_s": decoding.sample_interval,
                "prior_variance": decoding.prior_variance, "gain_mode": decoding.gain_mode, "noise": args.noise}
    written = [write_npz(decoding, out, metadata)]
    if args.csv:
        written.append(write_csv(decoding, outputs[1]))
    for path in written:
        print(f"wrote {path}")
    return 0


def _check_baseline_options(args: argparse.Namespace) -> None:
    """Refuse the options that only mean something for a recognizing RNN."""
    refused = [flag for flag, given in (("--decoder", args.decoder not in (None, "brian2")), ("--csv", args.csv),
                                        ("--prior-variance", args.prior_variance is not None),
                                        ("--noise", args.noise != "fixed")) if given]
    if refused:
        raise DecodeError(f"a baseline graph runs on its inputs as a Brian2 network; {', '.join(refused)} "
                          "apply to recognizing RNNs only")


def _run_baseline(graph: nx.DiGraph, inputs: np.ndarray, out: Path, args: argparse.Namespace) -> int:
    """Run a baseline graph on its inputs; write time, states (T, N), outputs (T, n_output) and metadata."""
    from ..backends import BaselineResult, run_brian2  # Brian2 is slow to import

    result = run_brian2(graph, inputs, target=args.target, report=None if args.quiet else "stderr")
    assert isinstance(result, BaselineResult)  # what a baseline graph gives
    sample_interval = graph.graph["sample_interval"]
    metadata = {"format": "rrnn_net.decode", "version": 1, "decoder": "brian2", "graph_type": "baseline",
                "source": str(args.source), "observations": str(args.observations),
                "sample_interval_s": sample_interval}
    times = np.arange(1, result.states.shape[-2] + 1) * sample_interval
    write_atomically(out, lambda handle: np.savez(handle, time=times, states=result.states, outputs=result.outputs,
                                                  metadata=np.array(json.dumps(metadata))))
    print(f"wrote {out}")
    return 0


def _load_source(path: Path, like: Path | None) -> GenerativeRNN | nx.DiGraph:
    """A saved model (.npz) or a graph file (its graph attributes completed from ``like``'s if given)."""
    if path.suffix in GRAPH_SUFFIXES:
        try:
            return load_graph(path, like=load_graph(like) if like is not None else None)
        except GraphSchemaError as exc:
            raise DecodeError(f"{path}: {exc}") from None
    if like is not None:
        raise DecodeError("--like completes a graph file; the source is a model")
    if path.suffix != ".npz":
        raise DecodeError(f"{path}: expected a model (.npz) or a graph file ({', '.join(GRAPH_SUFFIXES)})")
    if not path.exists():
        raise DecodeError(f"{path}: no such file")
    return GenerativeRNN.load(path)


# ------------------------------------------------------------------ outputs
def write_npz(decoding: Decoding, path: Path, metadata: dict) -> Path:
    """Write the decoded arrays, the sample times and the metadata (JSON string) to ``path`` (no pickle)."""
    result = decoding.result
    arrays = {name: getattr(result, name) for name in OUTPUT_FIELDS}
    if result.noise_variance is not None:
        arrays["noise_variance"] = result.noise_variance
    write_atomically(path, lambda handle: np.savez(
        handle, time=_sample_times(result, decoding.sample_interval), evidence=result.evidence,
        total_loglik=result.total_loglik, n_psd_repairs=np.asarray(result.n_psd_repairs),
        metadata=np.array(json.dumps(metadata)), **arrays))
    return path


def write_csv(decoding: Decoding, path: Path) -> Path:
    """One row per trial and sample: trial, time_s, mean_i, predicted_obs_j, prediction_error_j, loglik, evidence."""
    result = decoding.result
    columns = {"mean": result.mean, "predicted_obs": result.predicted_obs,
               "prediction_error": result.prediction_error}
    if result.loglik.ndim == 1:
        columns = {name: values[None] for name, values in columns.items()}
    loglik = np.atleast_2d(result.loglik)
    n_trials, n_samples = loglik.shape
    header = ["trial", "time_s"]
    blocks = [np.repeat(np.arange(n_trials), n_samples)[:, None],
              np.tile(_sample_times(result, decoding.sample_interval), n_trials)[:, None]]
    for name, values in columns.items():
        header += [f"{name}_{index}" for index in range(values.shape[-1])]
        blocks.append(values.reshape(n_trials * n_samples, -1))
    header += ["loglik", "evidence"]
    blocks += [loglik.reshape(-1, 1), np.cumsum(loglik, axis=1).reshape(-1, 1)]
    write_atomically(path, lambda handle: np.savetxt(handle, np.hstack(blocks), delimiter=",",
                                                     header=",".join(header), comments="", fmt="%.10g"))
    return path


def _sample_times(result: FilterResult, sample_interval: float) -> np.ndarray:
    """Time of each sample (s): the first one is one interval after t = 0, where the prior sits."""
    return np.arange(1, result.loglik.shape[-1] + 1) * sample_interval

