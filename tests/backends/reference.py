"""Independent numpy references for the Brian2 backend tests (a few lines of Euler each)."""

from __future__ import annotations

import numpy as np


def fixed_gain_filter(matrices: dict, y: np.ndarray, dt: float) -> dict:
    """Euler integration of dμ/dt = (−μ + W φ(μ) + b)/τ + K ε, dℓ/dt = −½ εᵀΛε; y (B, T, m), NaN = missing.

    Returns mean, predicted_obs, state_prediction_error (B, T, N or m) and loglik (B, T), indexed like
    ContinuousFilter.
    """
    W, M, b, c, K, precision, tau = (matrices[name] for name in ("W", "M", "b", "c", "K", "precision", "tau"))
    steps = round(matrices["sample_interval"] / dt)
    batch, n_samples, _ = y.shape
    mu = np.broadcast_to(matrices["mean0"], (batch, W.shape[0])).copy()
    out = {"mean": [], "predicted_obs": [], "state_prediction_error": [], "loglik": []}
    for k in range(n_samples):
        observed = ~np.isnan(y[:, k])
        correction, evidence = np.zeros_like(mu), np.zeros(batch)
        for step in range(steps):
            rate = np.tanh(mu)
            predicted = rate @ M.T + c
            if step == 0:
                out["predicted_obs"].append(predicted)
            error = np.where(observed, y[:, k] - predicted, 0.0)
            feedback = error @ K.T
            mu = mu + dt * ((rate @ W.T + b - mu) / tau + feedback)
            correction += dt * feedback
            evidence += dt * -0.5 * np.sum(precision * error**2, axis=-1)
        out["mean"].append(mu)
        out["state_prediction_error"].append(correction)
        out["loglik"].append(evidence)
    return {name: np.stack(values, axis=1) for name, values in out.items()}


def baseline_states(matrices: dict, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euler integration of τ dx/dt = −x + W φ(x) + U u + b, o = C φ(x) + d; u (B, T, n_input).

    Returns hidden states (B, T, N) and outputs (B, T, n_output) at the sample times.
    """
    W, U, C, b, d, tau, h = (matrices[name] for name in ("W", "U", "C", "b", "d", "tau", "step"))
    x = np.broadcast_to(matrices["x0"], (u.shape[0], W.shape[0])).copy()
    states = []
    for k in range(u.shape[1]):
        for _ in range(matrices["substeps"]):
            x = x + h * (np.tanh(x) @ W.T + u[:, k] @ U.T + b - x) / tau
        states.append(x)
    states = np.stack(states, axis=1)
    return states, np.tanh(states) @ C.T + d
