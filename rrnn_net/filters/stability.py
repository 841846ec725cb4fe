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

import numpy as np

from ..model import GenerativeRNN

__all__ = ["EULER_SAFETY", "euler_safe_prior_variance", "riccati_euler_factor", "graph_riccati_euler_factor"]

#: Default target of h·λ_max(P Gᵀ R_c⁻¹ G) for a prior: half the stability limit of 1.
EULER_SAFETY = 0.5


def euler_safe_prior_variance(model: GenerativeRNN, safety: float = EULER_SAFETY) -> float:
    """The variance c of an isotropic prior cov0 = c·I with h·λ_max(c Mᵀ R_c⁻¹ M) = ``safety``.

    Since G = M D with 0 < D ≤ I (tanh) or D = I (linear),
    λ_max(c·I Gᵀ R_c⁻¹ G) ≤ c·λ_max(Mᵀ R_c⁻¹ M), so a prior of this variance
    satisfies the Euler condition at the start of a run whatever the prior mean.

    Parameters
    ----------
    model : GenerativeRNN
    safety : float
        Target factor, below 1.

    Returns
    -------
    float
    """
    precision = np.linalg.inv(model.R * model.sample_interval)
    return float(safety / (model.step * np.linalg.eigvalsh(model.M.T @ precision @ model.M).max()))


def riccati_euler_factor(model: GenerativeRNN, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """h·λ_max(P Gᵀ R_c⁻¹ G) at beliefs with means (..., N) and covariances (..., N, N); shape (...).

    Values of 1 or more mean that forward Euler at the model's step h no
    longer keeps P positive definite.
    """
    lower = np.linalg.cholesky(model.R * model.sample_interval)  # R_c = L Lᵀ
    weighted_jacobian = np.linalg.solve(lower, model.observation_jacobian(np.asarray(mean)))  # L⁻¹ G
    # Same nonzero eigenvalues as P Gᵀ R_c⁻¹ G, but symmetric and only m × m.
    symmetric = weighted_jacobian @ np.asarray(cov) @ weighted_jacobian.mT
    return model.step * np.linalg.eigvalsh(symmetric)[..., -1]


def graph_riccati_euler_factor(graph, step: float) -> float:
    """h·λ_max(P₀ Gᵀ Λ G) of an adaptive rRNN graph at its own initial belief (mean0, cov0).

    Read from the graph's units and edges alone — the error units'
    precisions λ_j, the prediction edges (−M_jk), the state units' mean0 and
    the covariance units' cov0 — so a backend can refuse a network whose
    covariance update would be unstable from the first step, also for a graph
    edited by hand.
    """
    n, m = graph.graph["n_hidden"], graph.graph["n_obs"]
    mean0, precision, cov0, readout = np.zeros(n), np.zeros(m), np.zeros((n, n)), np.zeros((m, n))
    for _, attributes in graph.nodes(data=True):
        if attributes["kind"] == "state":
            mean0[attributes["index"]] = attributes["mean0"]
        elif attributes["kind"] == "error":
            precision[attributes["index"]] = attributes["precision"]
        elif attributes["kind"] == "covariance":
            cov0[attributes["row"], attributes["col"]] = attributes["cov0"]
    for source, target, attributes in graph.edges(data=True):
        if attributes["kind"] == "prediction":
            readout[graph.nodes[target]["index"], graph.nodes[source]["index"]] -= attributes["weight"]
    slope = 1.0 - np.tanh(mean0) ** 2 if graph.graph["activation"] == "tanh" else np.ones(n)
    weighted_jacobian = np.sqrt(precision)[:, None] * readout * slope
    symmetric = weighted_jacobian @ (cov0 + cov0.T) / 2 @ weighted_jacobian.T
    return float(step * np.linalg.eigvalsh(symmetric)[-1])
