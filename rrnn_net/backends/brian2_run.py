"""``run_brian2``: execute a compiled graph as Brian2 rate-neuron equations and return the decoder result."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import networkx as nx
from numpy.typing import ArrayLike

from .._validation import choice
from ..filters.result import FilterResult
from .brian2_circuit import RRNNCircuit
from .brian2_targets import TARGETS, Report, check_report
from .layout import BaselineResult, checked_graph, result, sampled_inputs

__all__ = ["run_brian2"]

logger = logging.getLogger(__name__)


def run_brian2(
    graph: nx.DiGraph,
    observations: ArrayLike,
    *,
    step: float | None = None,
    target: str = "numpy",
    record: str | Iterable[str] = (),
    report: Report = None,
    build_dir: str | Path | None = None,
    progress: bool = False,
) -> FilterResult | BaselineResult:
    """Run a compiled graph on Brian2 and return what the numpy decoders return.

    The network is built from the graph alone (node and edge kinds, numeric
    attributes) through the registered templates; B trials run together in
    one network. For an rRNN graph the result has the semantics of
    :meth:`rrnn_net.ContinuousFilter.filter` at the same ``step`` (see its
    Notes), field by field.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled rRNN or baseline graph; validated before anything is built.
    observations : array_like, shape (T, m) or (B, T, m)
        Samples y_1..y_T, each held over the interval before its time
        t_k = kΔ. NaN marks a missing sample: its error unit is gated off
        for that sample and trial. For a baseline graph, the inputs u (no NaN).
    step : float, optional
        Euler step h in seconds; must divide Δ. Default: the graph's ``integration_step``.
    target : str
        A Brian2 target of :data:`~rrnn_net.backends.brian2_targets.TARGETS`:
        ``"numpy"``, ``"cython"`` or ``"cpp_standalone"``.
    record : str or iterable of str
        Node kinds to monitor besides the defaults (state, error, evidence;
        hidden, output for a baseline). ``"covariance"`` fills ``result.cov``.
    report : {None, "text", "stdout", "stderr"} or callable, optional
        Progress report passed to Brian2's ``run``; a callable
        ``report(elapsed, completed, start, duration)`` only on the runtime
        targets (numpy, cython).
    progress : bool
        Brian2's text report on stderr (the same as ``report="stderr"``;
        ``report`` wins when both are given).
    build_dir : str or Path, optional
        cpp_standalone: the project directory (default: a folder per network
        structure in the per-user cache, ``~/.cache/rrnn_net/standalone`` or
        ``$XDG_CACHE_HOME/rrnn_net/standalone``); it must belong to the
        current user and not be writable by group or others
        (:class:`~rrnn_net.errors.UnsafeDirectoryError`). Cython: the
        extension cache directory (default: Brian2's). Ignored by numpy.

    Returns
    -------
    FilterResult or BaselineResult
        For an rRNN: ``mean`` μ(t_k) (B, T, N); ``predicted_obs`` ŷ at the
        arrival of y_k (B, T, m); ``prediction_error`` y − ŷ (NaN where
        missing; computed from y, so on a graph whose sensory edges were
        edited or lesioned the error units' own values are in
        ``extras["monitors"]`` with ``record="error"``); ``state_prediction_error`` ∫ error-driven dμ/dt over the
        interval (B, T, N); ``predicted_state`` = mean − that; ``loglik`` the
        evidence increment −½∫ξᵀε dt per sample (B, T); ``cov`` P(t_k)
        (B, T, N, N) when recorded; ``n_psd_repairs`` zeros (the network never
        repairs P). ``extras`` holds ``monitors`` (per node kind: ``t`` (T+1,)
        and each recorded variable (B, T+1, n_units) at t_0..t_T),
        ``node_ids`` (per kind, the unit order), ``target``, ``step``,
        ``build_seconds``, ``run_seconds``, ``rebuilt`` and, on
        cpp_standalone, ``project_directory`` (the Path built or reused).
        Leading batch axes are dropped for (T, m) observations.

    Raises
    ------
    GraphSchemaError
        Invalid graph.
    ShapeError, NonFiniteError
        Wrong observation shape, infinite values (or NaN for a baseline).
    UnstableSettingError
        ``step`` does not divide Δ or is not below 2τ; or an adaptive
        network's covariance update is unstable from the start.
    ParameterError
        Unknown ``target``, ``record`` kind or ``report``.
    UnsafeDirectoryError
        cpp_standalone: a project directory another user owns or can write to.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, substeps=2, seed=0)
    >>> _, y = model.simulate(20, seed=1)
    >>> result = run_brian2(compile_rrnn(model, gain_mode="fixed"), y[0])
    >>> result.mean.shape, result.loglik.shape
    ((20, 3), (20,))
    """
    choice(target, tuple(TARGETS), "target")
    if progress and report is None:
        report = "stderr"
    check_report(report, target)
    checked = checked_graph(graph, step, record)
    inputs = sampled_inputs(graph, observations)
    layout, step, kinds = checked.layout(graph, inputs.n_trials), checked.step, checked.kinds

    def build() -> RRNNCircuit:
        return RRNNCircuit.from_layout(layout, inputs, step=step, record=kinds)

    run = TARGETS[target].run(build, layout, inputs, (step, kinds, report), report,
                              None if build_dir is None else Path(build_dir))
    extras = {"target": target, "step": step, "build_seconds": run.build_seconds, "run_seconds": run.run_seconds,
              "rebuilt": run.rebuilt}
    if run.project_directory is not None:
        extras["project_directory"] = run.project_directory
    logger.info("brian2 %s: %s in %.2f s, %d trial(s) × %d samples simulated in %.2f s", target,
                "built" if run.rebuilt else "reused the built network", run.build_seconds, inputs.n_trials,
                inputs.n_samples, run.run_seconds)
    return result(layout, run.recordings, inputs, extras)
