"""Forward-Euler stability of the continuous-time filter (the equations the compiled network runs).

The network and :class:`~rrnn_net.filters.ContinuousFilter` integrate the
Riccati equation dP/dt = F P + P Fᵀ + Q − P Gᵀ R_c⁻¹ G P by forward Euler at
step h; the quadratic term keeps P positive definite only while
h·λ_max(P Gᵀ R_c⁻¹ G) < 1 (R_c = R·Δ, G = M diag φ'(μ)). The network cannot
repair P, so a broad prior silently produces wrong estimates. These helpers
measure that factor and choose a prior that respects it.

Examples
--------
>>> import numpy as np
>>> from rrnn_net import GenerativeRNN
>>> model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=0)
>>> variance = euler_safe_prior_variance(model)
>>> float(riccati_euler_factor(model, np.zeros(4), variance * np.eye(4))) <= 0.5
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..model import GenerativeRNN

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "EULER_SAFETY",
    "default_prior_variance",
    "euler_safe_prior_variance",
    "graph_observation_model",
    "graph_riccati_euler_factor",
    "riccati_euler_factor",
]

#: Default target of h·λ_max(P Gᵀ R_c⁻¹ G) for a prior: half the stability limit of 1.
EULER_SAFETY = 0.5


def euler_safe_prior_variance(model: GenerativeRNN, safety: float = EULER_SAFETY, *,
                              step: float | None = None) -> float:
    """The variance c of an isotropic prior cov0 = c·I with h·λ_max(c Mᵀ R_c⁻¹ M) = ``safety``.

    Since G = M D with 0 < D ≤ I (tanh) or D = I (linear),
    λ_max(c·I Gᵀ R_c⁻¹ G) ≤ c·λ_max(Mᵀ R_c⁻¹ M), so a prior of this variance
    satisfies the Euler condition at the start of a run whatever the prior mean.

    Parameters
    ----------
    model : GenerativeRNN
    safety : float
        Target factor, below 1.
    step : float, optional
        Euler step h in seconds; default the model's.

    Returns
    -------
    float
    """
    precision = np.linalg.inv(model.R * model.sample_interval)
    step = model.step if step is None else step
    return float(safety / (step * np.linalg.eigvalsh(model.M.T @ precision @ model.M).max()))


def default_prior_variance(model: GenerativeRNN, *, step: float | None = None) -> float:
    """The prior variance c (cov0 = c·I) of everything that integrates the Riccati equation by forward Euler.

    The compiled network, :class:`~rrnn_net.filters.ContinuousFilter` and
    :func:`~rrnn_net.decoding.decode` start from N(0, c·I) with c the smaller
    of 1 (the UKF's and EKF's default N(0, I)) and
    :func:`euler_safe_prior_variance`: the unit prior where Euler integrates
    it stably, the broadest safe one where it would not.

    Parameters
    ----------
    model : GenerativeRNN
    step : float, optional
        Euler step h in seconds; default the model's.

    Returns
    -------
    float
    """
    return min(1.0, euler_safe_prior_variance(model, step=step))


def riccati_euler_factor(model: GenerativeRNN, mean: ArrayLike, cov: ArrayLike) -> np.ndarray:
    """h·λ_max(P Gᵀ R_c⁻¹ G) at beliefs with means (..., N) and covariances (..., N, N); shape (...).

    Values of 1 or more mean that forward Euler at the model's step h no
    longer keeps P positive definite.
    """
    lower = np.linalg.cholesky(model.R * model.sample_interval)  # R_c = L Lᵀ
    weighted_jacobian = np.linalg.solve(lower, model.observation_jacobian(np.asarray(mean)))  # L⁻¹ G
    # Same nonzero eigenvalues as P Gᵀ R_c⁻¹ G, but symmetric and only m × m.
    symmetric = weighted_jacobian @ np.asarray(cov) @ weighted_jacobian.mT
    return model.step * np.linalg.eigvalsh(symmetric)[..., -1]


def graph_riccati_euler_factor(graph: nx.DiGraph, step: float, mean: ArrayLike | None = None,
                               cov: ArrayLike | None = None) -> float | np.ndarray:
    """h·λ_max(P Gᵀ Λ G) of an adaptive rRNN graph, at its initial belief or at beliefs recorded in a run.

    Read from the graph's units and edges alone, as its covariance
    propagation holds them (:func:`graph_observation_model`), so a backend
    can refuse a network whose covariance update would be unstable from the
    first step and a decoder can check a run, also for a graph edited by hand
    or lesioned, whose other copies of M and λ may differ.

    Parameters
    ----------
    graph : networkx.DiGraph
        A valid adaptive rRNN graph.
    step : float
        The Euler step h (s).
    mean : array_like, shape (..., N), optional
        Posterior means (G = M diag φ'(μ)); default: the state units' ``mean0``.
    cov : array_like, shape (..., N, N), optional
        Covariances P, given with ``mean``; default: the covariance units' ``cov0``.

    Returns
    -------
    float or ndarray, shape (...)
        A float at the initial belief; one factor per recorded belief otherwise.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> cov0 = 0.01 * np.eye(3)
    >>> bool(np.isclose(graph_riccati_euler_factor(compile_rrnn(model, cov0=cov0), model.step),
    ...                 riccati_euler_factor(model, np.zeros(3), cov0)))
    True
    """
    readout, precision = graph_observation_model(graph)
    initial = mean is None
    if initial:
        n = graph.graph["n_hidden"]
        mean, cov = np.zeros(n), np.zeros((n, n))
        for _, attributes in graph.nodes(data=True):
            if attributes["kind"] == "state":
                mean[attributes["index"]] = attributes["mean0"]
            elif attributes["kind"] == "covariance":
                cov[attributes["row"], attributes["col"]] = attributes["cov0"]
    mean, cov = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
    slope = 1.0 - np.tanh(mean) ** 2 if graph.graph["activation"] == "tanh" else np.ones_like(mean)
    # A negative precision (an edited sign) grows P instead of shrinking it: no Euler limit from that channel.
    weighted_jacobian = np.sqrt(np.clip(precision, 0.0, None))[:, None] * readout * slope[..., None, :]
    symmetric = weighted_jacobian @ ((cov + cov.mT) / 2) @ weighted_jacobian.mT  # (..., m, m)
    factor = step * np.linalg.eigvalsh(symmetric)[..., -1]
    return float(factor) if initial else factor


def graph_observation_model(graph: nx.DiGraph) -> tuple[np.ndarray, np.ndarray]:
    """The M (m, N) and λ (m,) of the quadratic term P Gᵀ Λ G P as an adaptive graph's covariance units compute it.

    That term runs through the scaled-covariance, projection and quadratic
    units, not through the prediction edges and error units (which hold the
    likelihood's copies of M and λ), so after an edit or a lesion it is
    these copies that decide forward Euler's stability. Every weight and
    unit gain on the way is folded in: M_jl is the projection weight times
    the scaled-covariance unit's gain, slope and covariance-read weights
    (they scale D P, which the term holds twice, as it holds M), times the
    projection unit's gain and gate weight; λ_j is the quadratic unit's
    gain times its factor weights and its negated out-edge weight. Where the
    copies over the other indices (k, or i and k) differ, their mean is
    taken, so the factor is then an estimate; for a compiled graph, or one
    whose connection classes were scaled as wholes, it is exact.

    Parameters
    ----------
    graph : networkx.DiGraph
        A valid adaptive rRNN graph.

    Returns
    -------
    readout : ndarray, shape (m, N)
    precision : ndarray, shape (m,)

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> readout, precision = graph_observation_model(compile_rrnn(model))
    >>> bool(np.allclose(readout, model.M))
    True
    >>> bool(np.allclose(precision, 1 / (np.diag(model.R) * model.sample_interval)))
    True
    """
    n, m = graph.graph["n_hidden"], graph.graph["n_obs"]
    unit_gain = {"scaled_covariance": np.zeros((n, n)), "projection": np.zeros((m, n)),
                 "quadratic": np.zeros((m, n, n))}
    # Per edge kind, the weight it puts on each unit it feeds (absent edges: 0).
    weights = {"slope": np.zeros((n, n)), "covariance_read": np.zeros((n, n)), "gate": np.zeros((m, n)),
               "projection": np.zeros((m, n, n)), "quadratic": np.zeros((m, n, n))}
    factor_a, factor_b = np.zeros((m, n, n)), np.zeros((m, n, n))
    nodes = graph.nodes
    for _, attributes in graph.nodes(data=True):
        if attributes["kind"] in unit_gain:
            unit_gain[attributes["kind"]][_indices(attributes)] = attributes["gain"]
    for source, target, attributes in graph.edges(data=True):
        kind, weight, into = attributes["kind"], attributes["weight"], nodes[target]
        if kind in ("slope", "gate") or (kind == "covariance_read" and into["kind"] == "scaled_covariance"):
            weights[kind][into["row"], into["col"]] = weight
        elif kind == "precision_gate":
            # Online noise estimation: the factor is g_j √(λ_j Δ), here at the precision unit's prior belief.
            belief = nodes[source]
            weights["gate"][into["row"], into["col"]] = weight * np.sqrt(belief["alpha0"] / belief["beta0"])
        elif kind == "projection":
            weights[kind][into["row"], nodes[source]["row"], into["col"]] = weight  # (j, l, k)
        elif kind == "quadratic":
            weights[kind][_indices(nodes[source])] = -weight
        elif kind == "quadratic_factor":
            # (A + AB)(B + AB): port 1 feeds A, port 2 B, port 3 both.
            if attributes["port"] in (1, 3):
                factor_a[_indices(into)] += weight
            if attributes["port"] in (2, 3):
                factor_b[_indices(into)] += weight
    scaled = unit_gain["scaled_covariance"] * weights["slope"] * weights["covariance_read"]  # (l, k)
    readout = np.mean(weights["projection"] * scaled[None], axis=2)
    readout *= np.mean(unit_gain["projection"] * weights["gate"], axis=1)[:, None]
    precision = np.mean(unit_gain["quadratic"] * weights["quadratic"] * factor_a * factor_b, axis=(1, 2))
    return readout, precision


def _indices(attributes: Mapping[str, Any]) -> tuple[int, ...]:
    """A product unit's indices: (row, col), or (obs, row, col) of a quadratic unit."""
    return tuple(attributes[name] for name in ("obs", "row", "col") if name in attributes)
