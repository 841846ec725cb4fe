"""``rrnn decode``: decode recorded observations with an rRNN and write the results to ``.npz`` (and CSV).

Examples
--------
Decode a CSV recording (rows = samples, columns = channels, empty or NaN =
missing) with the UKF of a saved model::

    rrnn decode recording.csv model.npz --out decoded.npz --csv

Run a compiled graph file as a Brian2 network::

    rrnn decode trials.npy model_adaptive.graphml
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import networkx as nx
import numpy as np
from tqdm.auto import tqdm

from .errors import RRNNError
from .filters import EKF, UKF, ContinuousFilter, FilterResult
from .graph import GraphSchemaError, compile_rrnn, load_graph, to_matrices
from .model import GenerativeRNN
from .stability import euler_safe_prior_variance, riccati_euler_factor

__all__ = ["DecodeError", "load_observations", "register"]

DECODERS = ("ukf", "ekf", "continuous", "brian2")
GRAPH_SUFFIXES = (".graphml", ".json")
OUTPUT_FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error",
                 "loglik")
_PROGRESS_UPDATES = 20  # the numpy decoders run in this many time chunks, one progress step each


class DecodeError(RRNNError, ValueError):
    """A problem with the files or options given to ``rrnn decode`` (reported in one line, exit status 2)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``decode`` subcommand to the ``rrnn`` parser."""
    parser = subparsers.add_parser(
        "decode", help="decode observations (.npy/.csv) with an rRNN; write states, errors and evidence",
        description="Decode recorded observations with the recognizing RNN of a generative model: posterior\n"
                    "means of the hidden state, predicted observations, prediction errors and the accumulated\n"
                    "log evidence, written to an .npz file (and optionally a CSV table).",
        epilog="observations:\n"
               "  .npy  float array (T, m) or (B, T, m): T samples of m channels, B trials; NaN = missing\n"
               "  .csv  rows = samples, columns = channels (an optional header row is skipped); empty or NaN\n"
               "        cells = missing\n"
               "output .npz arrays (leading B axis only for (B, T, m) input):\n"
               "  time (T,) s; mean, predicted_state, state_prediction_error (T, N); predicted_obs,\n"
               "  prediction_error (T, m); loglik (T,) log evidence per sample; evidence (T,) its running sum;\n"
               "  total_loglik; n_psd_repairs; metadata (JSON string)\n"
               "examples:\n"
               "  rrnn decode recording.csv model.npz --out decoded.npz --csv\n"
               "  rrnn decode trials.npy model.npz --decoder brian2 --gain fixed\n"
               "  rrnn decode trials.npy model_adaptive.graphml",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("observations", type=Path, help="observations file (.npy or .csv)")
    parser.add_argument("source", type=Path,
                        help="a model saved with GenerativeRNN.save (.npz), or a compiled graph (.graphml or "
                             ".json), which runs as a Brian2 network")
    parser.add_argument("--decoder", choices=DECODERS, default=None,
                        help="ukf, ekf, continuous (the numpy Kalman-Bucy filter the network runs) or brian2 "
                             "(the compiled network); default ukf for a model, brian2 for a graph")
    parser.add_argument("--gain", choices=("adaptive", "fixed"), default="adaptive",
                        help="network form compiled from a model for --decoder brian2 (default adaptive)")
    parser.add_argument("--prior-variance", type=float, default=None, metavar="C",
                        help="prior covariance C·I of the hidden state at t = 0 (prior mean 0); default 1 for "
                             "ukf/ekf and, for continuous/brian2, the broadest C that forward Euler integrates "
                             "stably (h·λ_max(C Mᵀ R_c⁻¹ M) = 0.5). A graph file carries its own prior.")
    parser.add_argument("--target", choices=("numpy", "cython", "cpp_standalone"), default="numpy",
                        help="Brian2 code-generation target (default numpy)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output .npz (default: OBSERVATIONS_decoded.npz beside the observations)")
    parser.add_argument("--csv", action="store_true",
                        help="also write a CSV table (one row per trial and sample) beside the .npz")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=_decode)


# ------------------------------------------------------------------ command
def _decode(args: argparse.Namespace) -> int:
    try:
        observations = load_observations(args.observations)
        model, graph = _load_source(args.source)
        decoder = args.decoder or ("brian2" if graph is not None else "ukf")
        _check_options(args, decoder, graph)
        _check_channels(observations, graph.graph["n_obs"] if graph is not None else model.n_obs, args)
        if not args.quiet:
            print(f"decoding {_shape_text(observations)} with {decoder}", file=sys.stderr)
        result, prior_variance = _run(decoder, model, graph, observations, args)
    except RRNNError as exc:
        # One line, whatever the error's own message looks like.
        raise DecodeError(" ".join(str(exc).split())) from None
    out = args.out or args.observations.with_name(f"{args.observations.stem}_decoded.npz")
    sample_interval = graph.graph["sample_interval"] if graph is not None else model.dt
    metadata = {"format": "rrnn_net.decode", "version": 1, "decoder": decoder, "source": str(args.source),
                "observations": str(args.observations), "sample_interval_s": sample_interval,
                "prior_variance": prior_variance, "gain": _gain_mode(decoder, graph, args.gain)}
    written = [write_npz(result, out, sample_interval, metadata)]
    if args.csv:
        written.append(write_csv(result, out.with_suffix(".csv"), sample_interval))
    for path in written:
        print(f"wrote {path}")
    return 0


def _check_options(args: argparse.Namespace, decoder: str, graph: nx.DiGraph | None) -> None:
    if graph is not None and decoder != "brian2":
        raise DecodeError(f"a graph file runs only as a Brian2 network (--decoder brian2), not {decoder}; "
                          "pass the model (.npz) for the numpy decoders")
    if graph is not None and args.prior_variance is not None:
        raise DecodeError("a graph file carries its own prior (mean0, cov0); recompile the model to change it")
    if graph is not None and graph.graph["graph_type"] != "rrnn":
        raise DecodeError(f"{args.source} is a {graph.graph['graph_type']} graph, not a recognizing RNN")
    if args.prior_variance is not None and not (math.isfinite(args.prior_variance) and args.prior_variance > 0):
        raise DecodeError(f"--prior-variance must be a positive number, got {args.prior_variance}")


def _check_channels(observations: np.ndarray, n_obs: int, args: argparse.Namespace) -> None:
    if observations.shape[-1] != n_obs:
        raise DecodeError(f"{args.observations} has {observations.shape[-1]} channel(s) per sample (shape "
                          f"{observations.shape}), but {args.source} observes {n_obs}")


def _shape_text(observations: np.ndarray) -> str:
    trials = f"{observations.shape[0]} trial(s) × " if observations.ndim == 3 else ""
    return f"{trials}{observations.shape[-2]} samples × {observations.shape[-1]} channel(s)"


def _gain_mode(decoder: str, graph: nx.DiGraph | None, gain: str) -> str | None:
    if graph is not None:
        return graph.graph["gain_mode"]
    return gain if decoder == "brian2" else None


# ------------------------------------------------------------------ inputs
def load_observations(path: Path) -> np.ndarray:
    """Observations from ``.npy`` ((T, m) or (B, T, m)) or ``.csv`` (rows = samples, columns = channels).

    NaN (and, in CSV, an empty cell) marks a missing sample.

    Raises
    ------
    DecodeError
        Unknown suffix, unreadable contents, wrong number of dimensions, no
        samples, or infinite values.
    OSError
        The file cannot be opened.
    """
    path = Path(path)
    if path.suffix == ".npy":
        observations = _read_npy(path)
    elif path.suffix == ".csv":
        observations = _read_csv(path)
    else:
        raise DecodeError(f"{path}: observations must be a .npy or .csv file, got {path.suffix or 'no suffix'!r}")
    if observations.ndim not in (2, 3) or 0 in observations.shape:
        raise DecodeError(f"{path}: observations must have shape (T, m) or (B, T, m) with no empty axis, got "
                          f"{observations.shape}")
    if np.isinf(observations).any():
        raise DecodeError(f"{path}: observations contain infinite values (use NaN for missing samples)")
    return observations


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
        return np.asarray(array, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DecodeError(f"{path}: not a numeric .npy array ({' '.join(str(exc).split())})") from None


def _read_csv(path: Path) -> np.ndarray:
    """Rows = samples, columns = channels; a first row with non-numeric cells is a header; empty cell = NaN."""
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if rows and not _numeric_row(rows[0]):
        rows = rows[1:]
    if not rows:
        raise DecodeError(f"{path}: no samples")
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise DecodeError(f"{path}: rows have different numbers of columns ({sorted(widths)})")
    table = np.empty((len(rows), widths.pop()))
    for line, row in enumerate(rows):
        for column, cell in enumerate(row):
            table[line, column] = _parse_cell(cell, path, line, column)
    return table


def _numeric_row(row: list[str]) -> bool:
    try:
        for cell in row:
            _parse_cell(cell, Path(), 0, 0)
    except DecodeError:
        return False
    return True


def _parse_cell(cell: str, path: Path, line: int, column: int) -> float:
    """A CSV cell as a float; an empty cell is a missing sample (NaN)."""
    text = cell.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise DecodeError(f"{path}: not a numeric CSV table (data row {line + 1}, column {column + 1}: "
                          f"{text[:30]!r})") from None


def _load_source(path: Path) -> tuple[GenerativeRNN | None, nx.DiGraph | None]:
    """(model, None) for a saved model, (model or None, graph) for a graph file.

    For an adaptive-gain graph the model is rebuilt from the graph's numbers
    (to check the Euler condition); a fixed-gain graph carries no Q.
    """
    if path.suffix in GRAPH_SUFFIXES:
        try:
            graph = load_graph(path)
        except GraphSchemaError as exc:
            raise DecodeError(f"{path}: {exc}") from None
        if graph.graph.get("gain_mode") != "adaptive":
            return None, graph
        matrices = to_matrices(graph)
        model = GenerativeRNN(W=matrices["W"], M=matrices["M"], b=matrices["b"], c=matrices["c"],
                              tau=matrices["tau"], dt=matrices["dt"], Q=matrices["Q"], R=matrices["R"],
                              substeps=matrices["substeps"], activation=matrices["activation"])
        return model, graph
    if path.suffix != ".npz":
        raise DecodeError(f"{path}: expected a model (.npz) or a graph file ({', '.join(GRAPH_SUFFIXES)})")
    if not path.exists():
        raise DecodeError(f"{path}: no such file")
    return GenerativeRNN.load(path), None


# ------------------------------------------------------------------ decoding
def _run(decoder: str, model: GenerativeRNN | None, graph: nx.DiGraph | None, observations: np.ndarray,
         args: argparse.Namespace) -> tuple[FilterResult, float | None]:
    """Run the chosen decoder; returns the result and the prior variance used (None when there is none to set)."""
    if graph is None and decoder != "brian2":
        variance = args.prior_variance or (euler_safe_prior_variance(model) if decoder == "continuous" else 1.0)
        cov0 = variance * np.eye(model.n_hidden)
        if decoder == "continuous":
            _require_euler_stable(model, np.zeros(model.n_hidden), cov0, f"--prior-variance {variance:g}")
        numpy_decoder = {"ukf": UKF, "ekf": EKF, "continuous": ContinuousFilter}[decoder](model)
        return decode_in_chunks(numpy_decoder, observations, cov0, progress=not args.quiet), variance
    variance = None
    if graph is None:
        graph, variance = _compile_network(model, args)
    if graph.graph["gain_mode"] != "adaptive":
        return _run_network(graph, None, observations, args), variance
    matrices = to_matrices(graph)
    prior = "the graph's prior covariance cov0" if variance is None else f"--prior-variance {variance:g}"
    _require_euler_stable(model, matrices["mean0"], matrices["cov0"], prior)
    return _run_network(graph, model, observations, args), variance


def _compile_network(model: GenerativeRNN, args: argparse.Namespace) -> tuple[nx.DiGraph, float | None]:
    """The model's rRNN graph in the form ``--gain`` asks for, and the prior variance of an adaptive one."""
    if args.gain == "fixed":
        if args.prior_variance is not None:
            raise DecodeError("--prior-variance has no effect with --gain fixed (that network has no covariance)")
        return compile_rrnn(model, gain="fixed"), None
    variance = args.prior_variance or euler_safe_prior_variance(model)
    return compile_rrnn(model, gain="adaptive", cov0=variance * np.eye(model.n_hidden)), variance


def _require_euler_stable(model: GenerativeRNN, mean0: np.ndarray, cov0: np.ndarray, prior: str) -> None:
    factor = float(riccati_euler_factor(model, mean0, cov0))
    if factor >= 1.0:
        raise DecodeError(
            f"{prior} is too broad for forward Euler on the Riccati equation at step h = {model.step:g} s "
            f"(h·λ_max(P Gᵀ R_c⁻¹ G) = {factor:.3g} ≥ 1): use a prior variance below "
            f"{euler_safe_prior_variance(model, 1.0):.3g} or a model with more substeps")


def _run_network(graph: nx.DiGraph, model: GenerativeRNN | None, observations: np.ndarray,
                 args: argparse.Namespace) -> FilterResult:
    """Run the graph in Brian2; for an adaptive graph, warn if forward Euler left its stable range."""
    from .backends import run_brian2  # Brian2 is slow to import; only this decoder needs it

    adaptive = graph.graph["gain_mode"] == "adaptive"
    result = run_brian2(graph, observations, target=args.target, record="covariance" if adaptive else (),
                        report=None if args.quiet else "stderr")
    if model is not None and adaptive:
        factor = float(riccati_euler_factor(model, result.mean, result.cov).max())
        if factor >= 1.0:
            print(f"rrnn decode: warning: the covariance left forward Euler's stable range during the run "
                  f"(h·λ_max(P Gᵀ R_c⁻¹ G) reached {factor:.3g} ≥ 1); the estimates are unreliable",
                  file=sys.stderr)
    result.cov = None  # recorded for the check above; not part of the output
    return result


def decode_in_chunks(decoder: UKF | EKF | ContinuousFilter, observations: np.ndarray, cov0: np.ndarray, *,
                     progress: bool = True) -> FilterResult:
    """Filter in consecutive time chunks, handing each chunk's last belief to the next (exact), with a progress bar.

    Parameters
    ----------
    decoder : UKF, EKF or ContinuousFilter
    observations : ndarray, shape (T, m) or (B, T, m)
    cov0 : ndarray, shape (N, N)
        Prior covariance at t = 0 (the prior mean is zero).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    FilterResult
        As one call of ``decoder.filter`` over all samples would return it (without covariances).
    """
    batched = observations.ndim == 3
    y = observations if batched else observations[None]
    chunk = math.ceil(y.shape[1] / _PROGRESS_UPDATES)
    mean, cov, results = None, cov0, []
    for start in tqdm(range(0, y.shape[1], chunk), desc="decoding", unit="chunk", disable=not progress):
        result = decoder.filter(y[:, start:start + chunk], mean0=mean, cov0=cov, keep_cov=True)
        mean, cov = result.mean[:, -1], result.cov[:, -1]
        results.append(result)
    combined = FilterResult(**{name: np.concatenate([getattr(r, name) for r in results], axis=1)
                               for name in OUTPUT_FIELDS},
                            n_psd_repairs=np.sum([r.n_psd_repairs for r in results], axis=0))
    return combined if batched else combined.unbatched()


# ------------------------------------------------------------------ outputs
def write_npz(result: FilterResult, path: Path, sample_interval: float, metadata: dict) -> Path:
    """Write the decoded arrays, the sample times and the metadata (JSON string) to ``path`` (no pickle)."""
    arrays = {name: getattr(result, name) for name in OUTPUT_FIELDS}
    n_samples = result.loglik.shape[-1]
    np.savez(path, time=np.arange(1, n_samples + 1) * sample_interval, evidence=result.evidence,
             total_loglik=result.total_loglik, n_psd_repairs=np.asarray(result.n_psd_repairs),
             metadata=np.array(json.dumps(metadata)), **arrays)
    return path


def write_csv(result: FilterResult, path: Path, sample_interval: float) -> Path:
    """One row per trial and sample: trial, time_s, mean_i, predicted_obs_j, prediction_error_j, loglik, evidence."""
    columns = {"mean": result.mean, "predicted_obs": result.predicted_obs,
               "prediction_error": result.prediction_error}
    if result.loglik.ndim == 1:
        columns = {name: values[None] for name, values in columns.items()}
    loglik = np.atleast_2d(result.loglik)
    n_trials, n_samples = loglik.shape
    header = ["trial", "time_s"]
    blocks = [np.repeat(np.arange(n_trials), n_samples)[:, None],
              np.tile(np.arange(1, n_samples + 1) * sample_interval, n_trials)[:, None]]
    for name, values in columns.items():
        header += [f"{name}_{index}" for index in range(values.shape[-1])]
        blocks.append(values.reshape(n_trials * n_samples, -1))
    header += ["loglik", "evidence"]
    blocks += [loglik.reshape(-1, 1), np.cumsum(loglik, axis=1).reshape(-1, 1)]
    np.savetxt(path, np.hstack(blocks), delimiter=",", header=",".join(header), comments="", fmt="%.10g")
    return path
