"""``run_brian2``: execute a compiled graph as Brian2 rate-neuron equations and return the decoder result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

from ..errors import ParameterError, UnstableSettingError
from ..filters.result import FilterResult
from ..graph.schema import validate_graph
from ..stability import graph_riccati_euler_factor
from .brian2_build import (
    GraphLayout,
    SampledInputs,
    assemble_network,
    graph_layout,
    integration_step,
    recorded_kinds,
    sampled_inputs,
)
from .brian2_targets import TARGETS, TargetRun, check_report, digest, run_runtime, run_standalone

__all__ = ["BaselineResult", "run_brian2"]


@dataclass
class BaselineResult:
    """Output of a baseline (input-driven RNN) graph run in Brian2.

    Attributes
    ----------
    states : ndarray, shape (B, T, N)
        Hidden state x(t_k) at each sample time.
    outputs : ndarray, shape (B, T, n_output)
        Readout o(t_k) = C φ(x(t_k)) + d.
    extras : dict
        Raw monitors and timings, as for :func:`run_brian2`.
    """

    states: np.ndarray
    outputs: np.ndarray
    extras: dict = field(default_factory=dict)


def run_brian2(
    graph: nx.DiGraph,
    observations,
    *,
    dt: float | None = None,
    target: str = "numpy",
    record: str | Iterable[str] = (),
    report=None,
    build_dir: str | Path | None = None,
) -> FilterResult | BaselineResult:
    """Run a compiled graph on Brian2 and return what the numpy decoders return.

    The network is built from the graph alone (node and edge kinds, numeric
    attributes) through the registered templates; B trials run together in
    one network. For an rRNN graph the result has the semantics of
    :meth:`rrnn_net.ContinuousFilter.filter` at the same ``dt`` (see its
    Notes), field by field.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled rRNN or baseline graph; validated before anything is built.
    observations : array_like, shape (T, m) or (B, T, m)
        Samples y_1..y_T, each held over the interval before its time
        t_k = kΔ. NaN marks a missing sample: its error unit is gated off
        for that sample and trial. For a baseline graph, the inputs u (no NaN).
    dt : float, optional
        Euler step in seconds; must divide Δ. Default: the graph's ``integration_step``.
    target : {"numpy", "cython", "cpp_standalone"}
        Brian2 code-generation target.
    record : str or iterable of str
        Node kinds to monitor besides the defaults (state, error, evidence;
        hidden, output for a baseline). ``"covariance"`` fills ``result.cov``.
    report : {None, "text", "stdout", "stderr"} or callable, optional
        Progress report passed to Brian2's ``run``; a callable
        ``report(elapsed, completed, start, duration)`` only on the runtime
        targets (numpy, cython).
    build_dir : str or Path, optional
        cpp_standalone: the project directory (default: a folder per network
        structure under the system temp dir). Cython: the extension cache
        directory (default: Brian2's). Ignored by numpy.

    Returns
    -------
    FilterResult or BaselineResult
        For an rRNN: ``mean`` μ(t_k) (B, T, N); ``predicted_obs`` ŷ at the
        arrival of y_k (B, T, m); ``prediction_error`` y − ŷ (NaN where
        missing); ``state_prediction_error`` ∫ error-driven dμ/dt over the
        interval (B, T, N); ``predicted_state`` = mean − that; ``loglik`` the
        evidence increment −½∫ξᵀε dt per sample (B, T); ``cov`` P(t_k)
        (B, T, N, N) when recorded; ``n_psd_repairs`` zeros (the network never
        repairs P). ``extras`` holds ``monitors`` (per node kind: ``t`` (T+1,)
        and each recorded variable (B, T+1, n_units) at t_0..t_T),
        ``node_ids`` (per kind, the unit order), ``target``, ``dt``,
        ``build_seconds``, ``run_seconds`` and ``rebuilt``. Leading batch
        axes are dropped for (T, m) observations.

    Raises
    ------
    GraphSchemaError
        Invalid graph.
    ShapeError, NonFiniteError
        Wrong observation shape, infinite values (or NaN for a baseline).
    UnstableSettingError
        ``dt`` does not divide Δ or is not below 2τ.
    ParameterError
        Unknown ``target``, ``record`` kind or ``report``.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, substeps=2, seed=0)
    >>> _, y = model.simulate(20, seed=1)
    >>> result = run_brian2(compile_rrnn(model, gain="fixed"), y[0])
    >>> result.mean.shape, result.loglik.shape
    ((20, 3), (20,))
    """
    if target not in TARGETS:
        raise ParameterError(f"target must be one of {TARGETS}, got {target!r}")
    check_report(report, target)
    validate_graph(graph)
    inputs = sampled_inputs(graph, observations)
    step, steps_per_sample = integration_step(graph, dt)
    _check_covariance_stability(graph, step)
    kinds = recorded_kinds(graph, record)
    layout = graph_layout(graph, inputs.n_trials)

    def build():
        return assemble_network(layout, inputs, step, steps_per_sample, kinds)

    directory = None if build_dir is None else Path(build_dir)
    if target == "cpp_standalone":
        run = _run_standalone(build, layout, inputs, (step, kinds, report), report, directory)
    else:
        run = run_runtime(build, target, report, directory)
    extras = _extras(layout, run, target, step)
    if layout.graph_type == "baseline":
        return _baseline_result(run.recordings, inputs, extras)
    return _filter_result(run.recordings, inputs, extras)


def _check_covariance_stability(graph, step: float) -> None:
    """Refuse an adaptive network whose forward-Euler covariance update is unstable at its start.

    The network cannot repair P (the numpy filter can), so an unstable start
    would otherwise run to finite but meaningless estimates.
    """
    if graph.graph.get("gain_mode") != "adaptive":
        return
    factor = graph_riccati_euler_factor(graph, step)
    if factor >= 1.0:
        raise UnstableSettingError(
            f"the initial covariance is too broad for forward Euler at dt = {step:g} s: "
            f"dt·λ_max(P Gᵀ R_c⁻¹ G) = {factor:.3g} must stay below 1; compile with a smaller cov0 "
            f"(rrnn_net.stability.euler_safe_prior_variance), a smaller dt or more substeps"
        )


def _run_standalone(build, layout: GraphLayout, inputs: SampledInputs, options: tuple, report,
                    directory: Path | None) -> TargetRun:
    """Standalone run keyed by what its code depends on (structure, input shape, options) and by the numbers."""
    structure = (layout.code_structure(), inputs.observations.shape, *options)
    key = digest(structure, layout.numbers_digest())
    return run_standalone(build, inputs, structure_key=digest(structure), key=key, report=report, build_dir=directory)


def _extras(layout: GraphLayout, run: TargetRun, target: str, dt: float) -> dict:
    node_ids = {kind: list(population.nodes) for kind, population in layout.populations.items()}
    return {"monitors": run.recordings, "node_ids": node_ids, "target": target, "dt": dt,
            "build_seconds": run.build_seconds, "run_seconds": run.run_seconds, "rebuilt": run.rebuilt}


def _filter_result(recordings: dict, inputs: SampledInputs, extras: dict) -> FilterResult:
    """Sample-time recordings t_0..t_T → the per-sample fields of :class:`FilterResult`."""
    state, error = recordings["state"], recordings["error"]
    means = state["mu"][:, 1:]
    correction = np.diff(state["correction"], axis=1)
    predicted_obs = error["predicted"][:, :-1]  # ŷ from μ(t_{k−1}), when y_k arrives
    cov = None
    if "covariance" in recordings:
        cov_units = recordings["covariance"]["cov"][:, 1:]
        n_hidden = means.shape[-1]
        cov = cov_units.reshape(*cov_units.shape[:2], n_hidden, n_hidden)  # units sorted by (row, col)
    result = FilterResult(
        predicted_state=means - correction,
        predicted_obs=predicted_obs,
        prediction_error=inputs.observations - predicted_obs,
        state_prediction_error=correction,
        mean=means,
        loglik=np.diff(recordings["evidence"]["evidence"][..., 0], axis=1),
        cov=cov,
        innovation_cov=None,
        n_psd_repairs=np.zeros(inputs.n_trials, dtype=np.int64),
        extras=extras,
    )
    return result if inputs.batched else result.unbatched()


def _baseline_result(recordings: dict, inputs: SampledInputs, extras: dict) -> BaselineResult:
    states = recordings["hidden"]["x"][:, 1:]
    outputs = recordings["output"]["output"][:, 1:]
    if not inputs.batched:
        states, outputs = states[0], outputs[0]
    return BaselineResult(states, outputs, extras)
