"""Exact BPTT for the continuous-time leaky tanh RNN of :class:`~rrnn_net.GenerativeRNN`, Euler-discretised.

From an initial state x_0 (one sampling interval before the first sample)
each sample interval takes ``substeps`` Euler steps of h = Δ/substeps,

    x ← (1 − a) x + a (W φ(x) + b),      a = h/τ,  φ = tanh,

and the prediction of sample k is ŷ_k = M φ(x_k) + c. The loss is the mean
of (ŷ − y)² over the observed (non-NaN) entries. Gradients are taken with
respect to W, b, M, c and the initial states, vectorised over sequences.

Backward pass, with λ the adjoint of the state after a substep:

    λ_x = (1 − a) λ' + a φ'(x) ⊙ (Wᵀ λ')        (+ φ'(x_k) ⊙ Mᵀ ∂L/∂ŷ_k at sample times)
    ∂L/∂W = a Σ λ' φ(x)ᵀ,   ∂L/∂b = a Σ λ',   ∂L/∂M = Σ ∂L/∂ŷ_k φ(x_k)ᵀ,   ∂L/∂c = Σ ∂L/∂ŷ_k
"""

from __future__ import annotations

import numpy as np

__all__ = ["leaky_rollout", "leaky_loss_and_gradients"]


def leaky_rollout(params: dict[str, np.ndarray], initial_states: np.ndarray, n_samples: int, leak: float,
                  substeps: int) -> np.ndarray:
    """States at every substep, shape (n_samples · substeps + 1, K, N); row s·substeps is sample s.

    Parameters
    ----------
    params : dict
        "W" (N, N) and "b" (N,).
    initial_states : ndarray, shape (K, N)
        x_0 of each sequence.
    n_samples : int
    leak : float
        a = h/τ.
    substeps : int
    """
    recurrent_t = leak * params["W"].T
    bias = leak * params["b"]
    states = np.empty((n_samples * substeps + 1, *initial_states.shape))
    states[0] = initial_states
    for step in range(n_samples * substeps):
        state = states[step]
        np.multiply(state, 1.0 - leak, out=states[step + 1])
        states[step + 1] += np.tanh(state) @ recurrent_t
        states[step + 1] += bias
    return states


def leaky_loss_and_gradients(
    params: dict[str, np.ndarray],
    initial_states: np.ndarray,
    targets: np.ndarray,
    *,
    leak: float,
    substeps: int,
) -> tuple[float, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Multi-step prediction loss of the leaky RNN and its exact gradients.

    Parameters
    ----------
    params : dict
        "W" (N, N), "b" (N,), "M" (m, N), "c" (m,).
    initial_states : ndarray, shape (K, N)
        State of each sequence one sampling interval before its first sample.
    targets : ndarray, shape (T, K, m)
        Observations, time-major; NaN entries are missing and left out of the loss.
    leak : float
        a = h/τ with h = Δ/substeps.
    substeps : int

    Returns
    -------
    loss : float
        Mean squared prediction error over the observed entries.
    grads : dict
        Gradients keyed like ``params``.
    initial_state_grad : ndarray, shape (K, N)
        ∂loss/∂initial_states.
    sample_states : ndarray, shape (T, K, N)
        The predicted states x_1 .. x_T.
    """
    W, M = params["W"], params["M"]
    n_samples = targets.shape[0]
    observed = ~np.isnan(targets)
    n_observed = max(int(observed.sum()), 1)
    states = leaky_rollout(params, initial_states, n_samples, leak, substeps)
    rates = np.tanh(states)
    sample_rates = rates[substeps::substeps]
    residual = sample_rates @ M.T + params["c"]
    residual -= targets
    residual[~observed] = 0.0
    loss = float(np.sum(residual**2) / n_observed)
    output_adjoint = residual * (2.0 / n_observed)
    n_hidden = W.shape[0]

    slope = 1.0 - rates**2
    # adjoint of the state after each substep, δ'; the sample-time readout terms enter as they are reached.
    step_adjoint = np.empty((n_samples * substeps, *initial_states.shape))
    readout_adjoint = (output_adjoint @ M) * slope[substeps::substeps]
    adjoint = np.zeros(initial_states.shape)
    leak_w = leak * W
    for step in range(n_samples * substeps, 0, -1):
        if step % substeps == 0:
            adjoint += readout_adjoint[step // substeps - 1]
        step_adjoint[step - 1] = adjoint
        adjoint = (1.0 - leak) * adjoint + slope[step - 1] * (adjoint @ leak_w)

    flat_adjoint = step_adjoint.reshape(-1, n_hidden)
    grads = {
        "W": leak * (flat_adjoint.T @ rates[:-1].reshape(-1, n_hidden)),
        "b": leak * flat_adjoint.sum(axis=0),
        "M": output_adjoint.reshape(-1, M.shape[0]).T @ sample_rates.reshape(-1, n_hidden),
        "c": output_adjoint.reshape(-1, M.shape[0]).sum(axis=0),
    }
    return loss, grads, adjoint, states[substeps::substeps]
