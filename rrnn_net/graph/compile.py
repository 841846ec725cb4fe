"""Compile a generative RNN's Bayesian inverse (or a conventional RNN) into an explicit graph of units.

:func:`compile_rrnn` turns the continuous-time filter of
:class:`~rrnn_net.filters.continuous.ContinuousRHS` into nodes (rate units)
and weighted edges (connections) following ``docs/graph_spec.md``;
:func:`compile_baseline` does the same for a conventional input-driven RNN.
Nodes and edges are inserted in a fixed order, so equal inputs give equal
graphs and byte-identical files.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from functools import partial
from itertools import product
from typing import Any, Protocol, cast

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_covariance, check_model, check_seed, choice, finite_array
from ..errors import ParameterError
from ..filters.gain import GAIN_AVERAGE_DEFAULTS, average_filter_gain
from ..filters.noise import NoiseAdaptation, noise_adaptation
from ..filters.stability import default_prior_variance
from ..model import GenerativeRNN
from .schema import SCHEMA_VERSION, node_id

__all__ = ["compile_baseline", "compile_rrnn"]

# Edge payloads; one dict per edge so that editing one edge never changes another.
Edge = tuple[str, str, dict]


class _BaselineNetwork(Protocol):
    """What :func:`compile_baseline` reads from a network object (``b``, ``d``, ``tau``, ... are optional)."""

    @property
    def W(self) -> ArrayLike: ...

    @property
    def U(self) -> ArrayLike: ...

    @property
    def C(self) -> ArrayLike: ...


# ------------------------------------------------------------------- rRNN
def compile_rrnn(
    model: GenerativeRNN,
    *,
    gain_mode: str | None = None,
    mean0: ArrayLike | None = None,
    cov0: ArrayLike | None = None,
    fixed_gain: ArrayLike | None = None,
    noise: str | NoiseAdaptation = "fixed",
    gain_seed: int = GAIN_AVERAGE_DEFAULTS["seed"],
    gain: str | None = None,
) -> nx.DiGraph:
    """Compile the model's continuous-time Bayesian filter into a graph of units.

    Parameters
    ----------
    model : GenerativeRNN
        The generative model; its R must be diagonal (one precision per
        prediction-error unit).
    gain_mode : {"adaptive", "fixed"}, optional
        The graph's ``gain_mode`` (default ``"adaptive"``). ``"adaptive"``:
        the full filter, covariance units and their machinery
        included (N² covariance, N² scaled-covariance, m·N gated projection,
        m·N² quadratic and N² gain-product units; O(N³ + m·N²) edges).
        ``"fixed"``: sensory, error, state and evidence units only, with
        ``fixed_gain`` edges carrying K (O(N² + N·m) edges).
    mean0 : array_like, shape (N,), optional
        Prior mean at t = 0 (default zeros), stored on the state units.
    cov0 : array_like, shape (N, N), optional
        Prior covariance at t = 0, stored on the covariance units; adaptive
        mode only. Default: c·I with c from
        :func:`~rrnn_net.filters.stability.default_prior_variance` (1, or less
        where the network's forward-Euler covariance update would be unstable
        from the start).
    fixed_gain : array_like, shape (N, m), optional
        The gain K of the fixed mode. Default: :func:`~rrnn_net.filters.average_filter_gain`
        with :data:`~rrnn_net.filters.gain.GAIN_AVERAGE_DEFAULTS`, recorded in the provenance.
    noise : {"fixed", "adaptive"} or NoiseAdaptation
        ``"adaptive"`` (adaptive gain only): each channel's observation noise
        is estimated online by a precision unit of its own, which drives the
        error unit's precision, the covariance units' quadratic term and the
        evidence normaliser — :class:`~rrnn_net.ContinuousFilter` with the
        same ``noise`` as local units (m precision units more;
        ``docs/graph_spec.md``).
    gain_seed : int
        Seed of the simulated trials over which the fixed gain is averaged
        (recorded in the graph's provenance); unused with ``fixed_gain``.
    gain : str, optional
        Deprecated name of ``gain_mode`` (giving both is an error).

    Returns
    -------
    networkx.DiGraph
        A graph valid under :func:`~rrnn_net.graph.schema.validate_graph`.

    Examples
    --------
    >>> G = compile_rrnn(GenerativeRNN.oscillator(4, 2, seed=0))
    >>> G.number_of_nodes(), G.graph["gain_mode"]
    (97, 'adaptive')
    >>> edge = G.edges["state:1", "state:0"]  # state 1 -> state 0 carries W[0, 1]
    >>> edge["kind"], round(edge["weight"], 6)
    ('recurrent', -0.54606)
    >>> G.edges["error:1", "state:3"]["kind"], G.nodes["covariance:2,3"]["cov0"]
    ('feedback', 0.0)
    """
    check_model(model)
    if gain is not None:  # version 0.1's name
        if gain_mode is not None:
            raise ParameterError(f"give the gain mode once, as gain_mode=..., not also as its deprecated name "
                                 f"gain=... (got gain_mode={gain_mode!r}, gain={gain!r})")
        warnings.warn("compile_rrnn(gain=...) is deprecated; use gain_mode=...", DeprecationWarning, stacklevel=2)
        gain_mode = gain
    gain_mode = "adaptive" if gain_mode is None else gain_mode
    choice(gain_mode, ("adaptive", "fixed"), "gain_mode")
    _require_diagonal_observation_noise(model)
    adaptation = noise_adaptation(noise, model)
    if adaptation is not None and gain_mode != "adaptive":
        raise ParameterError("noise='adaptive' needs gain_mode='adaptive': a fixed gain already holds the model's R")
    n, m = model.n_hidden, model.n_obs
    provenance = {"provenance_mean0_given": int(mean0 is not None)}
    prior_mean = np.zeros(n) if mean0 is None else finite_array(mean0, "mean0", (n,))
    prior_cov: np.ndarray | None = None  # the covariance units' start, adaptive mode only
    gain_matrix: np.ndarray | None = None  # K, fixed mode only
    if gain_mode == "adaptive":
        if fixed_gain is not None:
            raise ParameterError("fixed_gain is only used with gain_mode='fixed'")
        provenance["provenance_cov0_given"] = int(cov0 is not None)
        prior_cov = _prior_covariance(cov0, model)
    else:
        if cov0 is not None:
            raise ParameterError("cov0 is only used with gain_mode='adaptive' (a fixed-gain graph has no covariance)")
        provenance["provenance_fixed_gain_given"] = int(fixed_gain is not None)
        if fixed_gain is None:
            settings = {**GAIN_AVERAGE_DEFAULTS, "seed": check_seed(gain_seed, "gain_seed")}
            fixed_gain = average_filter_gain(model, **settings)
            provenance.update({f"provenance_gain_average_{key}": value for key, value in settings.items()})
        gain_matrix = finite_array(fixed_gain, "fixed_gain", (n, m))

    G = nx.DiGraph()
    G.graph.update(_rrnn_graph_attributes(model, gain_mode))
    G.graph.update(provenance)
    G.add_nodes_from(_filter_nodes(model, prior_mean, adaptive_noise=adaptation is not None))
    G.add_edges_from(_filter_edges(model, gain_matrix))
    if prior_cov is not None:
        G.add_nodes_from(_covariance_nodes(model, prior_cov, adaptive_noise=adaptation is not None))
        G.add_edges_from(_covariance_edges(model, adaptive_noise=adaptation is not None))
    if adaptation is not None:
        G.graph["provenance_noise_memory"] = adaptation.memory
        G.graph["provenance_noise_prior_samples"] = adaptation.prior_samples
        G.add_nodes_from(_noise_nodes(model, adaptation))
        G.add_edges_from(_noise_edges(model))
    return G


def _require_diagonal_observation_noise(model: GenerativeRNN) -> None:
    off_diagonal = model.R - np.diag(np.diag(model.R))
    if np.any(off_diagonal != 0):
        raise ParameterError("the network form needs a diagonal observation-noise covariance R (one precision "
                             "per prediction-error unit); decorrelate the channels first")


def _prior_covariance(cov0: ArrayLike | None, model: GenerativeRNN) -> np.ndarray:
    n = model.n_hidden
    if cov0 is None:
        return default_prior_variance(model) * np.eye(n)
    prior_cov = finite_array(cov0, "cov0", (n, n))
    check_covariance(prior_cov, "cov0", definite=True)
    return prior_cov


def _rrnn_graph_attributes(model: GenerativeRNN, gain_mode: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION, "graph_type": "rrnn", "gain_mode": gain_mode,
        "activation": model.activation, "sample_interval": float(model.sample_interval),
        "integration_step": float(model.step), "tau": float(model.tau), "n_hidden": model.n_hidden,
        "n_obs": model.n_obs, "time_unit": "second", "provenance_function": "compile_rrnn",
        "provenance_substeps": model.substeps,
    }


def _observation_precision(model: GenerativeRNN) -> np.ndarray:
    """λ_j = 1/(R_jj Δ), shape (m,): the precision of each prediction-error unit (s⁻¹ per unit²)."""
    return 1.0 / (np.diag(model.R) * model.sample_interval)


def _filter_nodes(model: GenerativeRNN, mean0: np.ndarray, *, adaptive_noise: bool) -> Iterator[tuple[str, dict]]:
    n, m, tau = model.n_hidden, model.n_obs, float(model.tau)
    # With online noise estimation the precision arrives from the channel's precision unit.
    precision = [0.0] * m if adaptive_noise else _observation_precision(model).tolist()
    offset, bias, means = model.c.tolist(), model.b.tolist(), mean0.tolist()
    for j in range(m):
        yield node_id("sensory", j), {"kind": "sensory", "index": j}
    for j in range(m):
        yield node_id("error", j), {"kind": "error", "index": j, "offset": offset[j], "precision": precision[j]}
    for i in range(n):
        yield node_id("state", i), {"kind": "state", "index": i, "bias": bias[i], "tau": tau, "mean0": means[i]}
    yield node_id("evidence"), {"kind": "evidence"}


def _edge(source: str, target: str, kind: str, weight: float, port: int | None = None) -> Edge:
    attributes = {"kind": kind, "weight": float(weight)}
    if port is not None:
        attributes["port"] = port
    return source, target, attributes


def _filter_edges(model: GenerativeRNN, fixed_gain: np.ndarray | None) -> Iterator[Edge]:
    """The edges of the sensory, error, state and evidence units; ``fixed_gain`` K, or None for the adaptive gain."""
    n, m = model.n_hidden, model.n_obs
    W, M = model.W.tolist(), model.M.tolist()
    state, error = partial(node_id, "state"), partial(node_id, "error")
    for j in range(m):
        yield _edge(node_id("sensory", j), error(j), "sensory", 1.0)
    for j, k in product(range(m), range(n)):
        yield _edge(state(k), error(j), "prediction", -M[j][k])
    for i, k in product(range(n), range(n)):
        yield _edge(state(k), state(i), "recurrent", W[i][k])
    if fixed_gain is None:
        for j, k in product(range(m), range(n)):
            yield _edge(error(j), state(k), "feedback", M[j][k])
    else:
        K = fixed_gain.tolist()
        for i, j in product(range(n), range(m)):
            yield _edge(error(j), state(i), "fixed_gain", K[i][j])
    for j in range(m):
        yield _edge(error(j), node_id("evidence"), "surprise", -0.5)


def _covariance_nodes(model: GenerativeRNN, cov0: np.ndarray, *,
                      adaptive_noise: bool) -> Iterator[tuple[str, dict]]:
    n, m, tau = model.n_hidden, model.n_obs, float(model.tau)
    Q, prior_cov = model.Q.tolist(), cov0.tolist()
    # With online noise estimation λ_j reaches the quadratic term as the factors' √(λ_j Δ) twice: the gain is 1/Δ.
    precision = [1.0 / model.sample_interval] * m if adaptive_noise else _observation_precision(model).tolist()
    pairs = list(product(range(n), range(n)))
    for i, k in pairs:
        yield node_id("covariance", i, k), {"kind": "covariance", "row": i, "col": k, "process_noise": Q[i][k],
                                            "tau": tau, "cov0": prior_cov[i][k]}
    for i, k in pairs:
        yield node_id("scaled_covariance", i, k), {"kind": "scaled_covariance", "row": i, "col": k, "gain": 1.0}
    for j, k in product(range(m), range(n)):
        yield node_id("projection", j, k), {"kind": "projection", "row": j, "col": k, "gain": 1.0}
    for j, (i, k) in product(range(m), pairs):
        yield node_id("quadratic", j, i, k), {"kind": "quadratic", "obs": j, "row": i, "col": k,
                                              "gain": precision[j]}
    for i, k in pairs:
        yield node_id("gain_product", i, k), {"kind": "gain_product", "row": i, "col": k, "gain": 1.0}


def _covariance_edges(model: GenerativeRNN, *, adaptive_noise: bool) -> Iterator[Edge]:
    n, m = model.n_hidden, model.n_obs
    pairs = list(product(range(n), range(n)))
    cov, scaled = partial(node_id, "covariance"), partial(node_id, "scaled_covariance")
    for i, k in pairs:
        yield _edge(node_id("state", i), scaled(i, k), "slope", 1.0, port=1)
        yield _edge(cov(i, k), scaled(i, k), "covariance_read", 1.0, port=2)
    for i, k in pairs:
        yield _edge(cov(i, k), node_id("gain_product", i, k), "covariance_read", 1.0, port=1)
        yield _edge(node_id("state", k), node_id("gain_product", i, k), "back_error", 1.0, port=2)
    yield from _drift_edges(model)
    M = model.M.tolist()
    for j, (r, k) in product(range(m), pairs):
        yield _edge(scaled(r, k), node_id("projection", j, k), "projection", M[j][r], port=1)
    for j, k in product(range(m), range(n)):
        # The gate g_j silences channel j's share of P Gᵀ Λ G P while y_j is missing, as the masked Λ does;
        # with online noise estimation the precision unit sends g_j √(λ_j Δ) instead.
        if adaptive_noise:
            yield _edge(node_id("precision", j), node_id("projection", j, k), "precision_gate", 1.0, port=2)
        else:
            yield _edge(node_id("sensory", j), node_id("projection", j, k), "gate", 1.0, port=2)
    for j, (i, k) in product(range(m), pairs):
        target = node_id("quadratic", j, i, k)
        if i == k:
            # One edge feeds both factors: a DiGraph cannot hold the two parallel edges of Z_ji·Z_ji.
            yield _edge(node_id("projection", j, i), target, "quadratic_factor", 1.0, port=3)
        else:
            yield _edge(node_id("projection", j, i), target, "quadratic_factor", 1.0, port=1)
            yield _edge(node_id("projection", j, k), target, "quadratic_factor", 1.0, port=2)
        yield _edge(target, cov(i, k), "quadratic", -1.0)
    for i, k in pairs:
        yield _edge(node_id("gain_product", i, k), node_id("state", i), "gain", 1.0)


def _noise_nodes(model: GenerativeRNN, adaptation: NoiseAdaptation) -> Iterator[tuple[str, dict]]:
    """A precision unit per channel, its prior IG(α₀, α₀ R_jj) centred on the model's noise."""
    alpha0 = adaptation.prior_samples / 2.0
    for j, variance in enumerate(np.diag(model.R).tolist()):
        yield node_id("precision", j), {"kind": "precision", "index": j, "alpha0": alpha0, "beta0": alpha0 * variance,
                                        "memory": adaptation.memory, "interval": float(model.sample_interval)}


def _noise_edges(model: GenerativeRNN) -> Iterator[Edge]:
    """Error and gate into each precision unit; λ_j out to its error unit, the normaliser to the evidence."""
    for j in range(model.n_obs):
        precision = node_id("precision", j)
        yield _edge(node_id("error", j), precision, "noise_error", 1.0)
        yield _edge(node_id("sensory", j), precision, "noise_gate", 1.0)
        yield _edge(precision, node_id("error", j), "precision", 1.0)
        yield _edge(precision, node_id("evidence"), "normaliser", -0.5)


def _drift_edges(model: GenerativeRNN) -> Iterator[Edge]:
    """F P + P Fᵀ without the leak: Σ_l (W_il/τ)(DP)_lk + Σ_l (W_kl/τ)(DP)_li into covariance (i, k).

    On the diagonal both sums read the same source (l, i), so their weights merge into one edge.
    (``r`` below is the spec's summation index l.)
    """
    n = model.n_hidden
    rate = (model.W / model.tau).tolist()
    scaled = partial(node_id, "scaled_covariance")
    for i, k in product(range(n), range(n)):
        target = node_id("covariance", i, k)
        for r in range(n):
            weight = rate[i][r] + rate[i][r] if i == k else rate[i][r]
            yield _edge(scaled(r, k), target, "drift", weight)
        if i != k:
            for r in range(n):
                yield _edge(scaled(r, i), target, "drift", rate[k][r])


# --------------------------------------------------------------- baseline
def compile_baseline(
    W: ArrayLike | _BaselineNetwork,
    U: ArrayLike | None = None,
    C: ArrayLike | None = None,
    b: ArrayLike | None = None,
    d: ArrayLike | None = None,
    *,
    tau: float | None = None,
    sample_interval: float | None = None,
    substeps: int = 1,
    x0: ArrayLike | None = None,
    activation: str = "tanh",
) -> nx.DiGraph:
    """Compile a conventional input-driven RNN into a graph of ``input``, ``hidden`` and ``output`` units.

    The network is τ dx/dt = −x + W φ(x) + U u + b, o = C φ(x) + d, with u
    held over each sampling interval ``sample_interval`` and Euler steps of sample_interval/substeps.

    Parameters
    ----------
    W : array_like, shape (N, N), or an object
        Recurrent weights; or any object with attributes ``W``, ``U``, ``C``
        and optionally ``b``, ``d``, ``tau``, ``sample_interval``, ``substeps``, ``x0``,
        ``activation`` (e.g. ``rrnn_net.baseline.InputDrivenRNN``), in which
        case no other argument may be given.
    U : array_like, shape (N, n_input)
        Input weights.
    C : array_like, shape (n_output, N)
        Readout weights.
    b : array_like, shape (N,), optional
        Hidden bias (default zeros).
    d : array_like, shape (n_output,), optional
        Output offset (default zeros).
    tau, sample_interval : float
        Time constant and sampling interval in seconds.
    substeps : int
        Euler steps per sampling interval.
    x0 : array_like, shape (N,), optional
        Initial hidden state (default zeros).
    activation : {"tanh", "linear"}

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> G = compile_baseline(np.zeros((3, 3)), np.ones((3, 2)), np.ones((1, 3)), tau=0.02, sample_interval=0.005)
    >>> sorted({kind for _, kind in G.nodes(data="kind")})
    ['hidden', 'input', 'output']
    """
    if not isinstance(W, (np.ndarray, list, tuple)) and hasattr(W, "W"):
        explicit = (U, C, b, d, tau, sample_interval, x0)
        if any(value is not None for value in explicit) or substeps != 1 or activation != "tanh":
            raise ParameterError("pass either a network object or its arrays to compile_baseline, not both")
        network = cast(_BaselineNetwork, W)  # one without U or C fails here, with an AttributeError
        W, U, C = network.W, network.U, network.C
        b, d, x0 = (getattr(network, name, None) for name in ("b", "d", "x0"))
        tau, sample_interval = getattr(network, "tau", None), getattr(network, "sample_interval", None)
        substeps, activation = getattr(network, "substeps", 1), getattr(network, "activation", "tanh")
    # W is the recurrent weights now (any other object is refused by the validation).
    params = _baseline_parameters(cast(ArrayLike, W), U, C, b, d, tau, sample_interval, substeps, x0, activation)
    G = nx.DiGraph()
    G.graph.update(_baseline_graph_attributes(params))
    G.add_nodes_from(_baseline_nodes(params))
    G.add_edges_from(_baseline_edges(params))
    return G


def _baseline_parameters(W: ArrayLike, U: ArrayLike | None, C: ArrayLike | None, b: ArrayLike | None,
                         d: ArrayLike | None, tau: float | None, sample_interval: float | None, substeps: int,
                         x0: ArrayLike | None, activation: str) -> dict[str, Any]:
    """The baseline's arrays, validated once, by :class:`~rrnn_net.baseline.InputDrivenRNN`."""
    if U is None or C is None or tau is None or sample_interval is None:
        raise ParameterError("compile_baseline needs W, U, C, tau and sample_interval")
    from ..baseline import InputDrivenRNN  # imported here: only baselines need it (and scipy.optimize behind it)

    network = InputDrivenRNN(W=W, U=U, C=C, b=b, d=d, tau=tau, sample_interval=sample_interval, substeps=substeps,
                             x0=x0, activation=activation)
    names = ("W", "U", "C", "b", "d", "x0", "tau", "sample_interval", "substeps", "activation")
    return {**{name: getattr(network, name) for name in names}, "x0_given": int(x0 is not None)}


def _baseline_graph_attributes(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION, "graph_type": "baseline", "gain_mode": "none",
        "activation": params["activation"], "sample_interval": params["sample_interval"],
        "integration_step": params["sample_interval"] / params["substeps"], "tau": params["tau"],
        "n_hidden": params["W"].shape[0], "n_input": params["U"].shape[1], "n_output": params["C"].shape[0],
        "time_unit": "second", "provenance_function": "compile_baseline",
        "provenance_substeps": params["substeps"], "provenance_x0_given": params["x0_given"],
    }


def _baseline_nodes(params: dict) -> Iterator[tuple[str, dict]]:
    (n_output, n), n_input, tau = params["C"].shape, params["U"].shape[1], params["tau"]
    bias, x0, offset = params["b"].tolist(), params["x0"].tolist(), params["d"].tolist()
    for j in range(n_input):
        yield node_id("input", j), {"kind": "input", "index": j}
    for i in range(n):
        yield node_id("hidden", i), {"kind": "hidden", "index": i, "bias": bias[i], "tau": tau, "x0": x0[i]}
    for q in range(n_output):
        yield node_id("output", q), {"kind": "output", "index": q, "offset": offset[q]}


def _baseline_edges(params: dict) -> Iterator[Edge]:
    (n_output, n), n_input = params["C"].shape, params["U"].shape[1]
    W, U, C = params["W"].tolist(), params["U"].tolist(), params["C"].tolist()
    hidden = partial(node_id, "hidden")
    for i, j in product(range(n), range(n_input)):
        yield _edge(node_id("input", j), hidden(i), "input", U[i][j])
    for i, k in product(range(n), range(n)):
        yield _edge(hidden(k), hidden(i), "recurrent", W[i][k])
    for q, k in product(range(n_output), range(n)):
        yield _edge(hidden(k), node_id("output", q), "readout", C[q][k])
