"""Unconstrained parameters for learning: a bank of K GenerativeRNNs and their priors, some fields tied.

Gradient steps act on an unconstrained pytree ("raw" parameters); the
constraints live in the map to :class:`~rrnn_net.learning.evidence.ModelParams`:

- Q = diag(exp(2 q)) + floor, R = diag(exp(2 r)) + floor: positive definite,
  diagonal (R is diagonal in the network form; a diagonal Q keeps the number
  of noise parameters at N);
- cov0 = diag(exp(2 p0)): the prior's variances; mean0 is free;
- τ = h (1 + exp(z)) when τ is learned: above the Euler step h, so the
  discretisation stays stable (h < 2τ) and its leak h/τ below 1.

Tying shares fields across the K class models — one array without the
model axis — so that classes differ only where they must:

- ``"none"``: every class has its own model;
- ``"noise"``: Q and R are shared (no class can win by being vaguer);
- ``"dynamics"``: W, M, c, τ, Q and R are shared; each class keeps its bias b
  (a constant input that moves the network to another operating point) and
  its initial-state prior.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..model import GenerativeRNN
from .evidence import ModelParams

__all__ = ["TYINGS", "initial_raw", "constrain", "to_models"]

TYINGS = {
    "none": (),
    "noise": ("q", "r"),
    "dynamics": ("W", "M", "c", "z_tau", "q", "r"),
}
#: Floor of the diagonal noise variances (Q in s⁻¹, R per sample), in the standardised units the fit works in.
VARIANCE_FLOOR = 1e-6


def initial_raw(models: list[GenerativeRNN], mean0: np.ndarray, cov0_diagonal: np.ndarray, *, tying: str,
                learn_tau: bool) -> dict:
    """Raw parameters of K models (or one model broadcast to K classes when it is shared).

    Parameters
    ----------
    models : list of GenerativeRNN
        K models, or one model whose fields start every class.
    mean0 : ndarray, shape (K, N)
    cov0_diagonal : ndarray, shape (K, N)
    tying : one of :data:`TYINGS`
    learn_tau : bool
        Include τ among the learned fields.
    """
    n_models = mean0.shape[0]
    fields = {
        "W": [m.W for m in models], "b": [m.b for m in models], "M": [m.M for m in models],
        "c": [m.c for m in models],
        "q": [0.5 * np.log(np.maximum(np.diag(m.Q) - VARIANCE_FLOOR, VARIANCE_FLOOR)) for m in models],
        "r": [0.5 * np.log(np.maximum(np.diag(m.R) - VARIANCE_FLOOR, VARIANCE_FLOOR)) for m in models],
    }
    if learn_tau:
        fields["z_tau"] = [np.log(max(m.tau / m.step - 1.0, 1e-3)) for m in models]
    raw = {}
    for name, values in fields.items():
        stacked = np.stack(values)
        if name in TYINGS[tying]:
            raw[name] = jnp.asarray(stacked.mean(axis=0))
        else:
            raw[name] = jnp.asarray(np.broadcast_to(stacked, (n_models, *stacked.shape[1:])).copy())
    raw["mean0"] = jnp.asarray(mean0, dtype=jnp.float64)
    raw["p0"] = jnp.asarray(0.5 * np.log(cov0_diagonal), dtype=jnp.float64)
    return raw


def constrain(raw: dict, n_models: int, *, step: float, tau: float) -> ModelParams:
    """ModelParams with a leading model axis K from raw parameters (shared fields broadcast).

    ``step`` is the Euler step h (s); ``tau`` (s) is used when τ is not learned (no ``z_tau``).
    """
    def per_model(value: jax.Array, rank: int) -> jax.Array:
        return value if value.ndim > rank else jnp.broadcast_to(value, (n_models, *value.shape))

    diagonal = jnp.vectorize(jnp.diag, signature="(n)->(n,n)")
    if "z_tau" in raw:
        taus = step * (1.0 + jnp.exp(per_model(raw["z_tau"], 0)))
    else:
        taus = jnp.full((n_models,), tau)
    return ModelParams(
        W=per_model(raw["W"], 2), b=per_model(raw["b"], 1), M=per_model(raw["M"], 2),
        c=per_model(raw["c"], 1), tau=taus,
        Q=diagonal(jnp.exp(2.0 * per_model(raw["q"], 1)) + VARIANCE_FLOOR),
        R=diagonal(jnp.exp(2.0 * per_model(raw["r"], 1)) + VARIANCE_FLOOR),
        mean0=raw["mean0"], cov0=diagonal(jnp.exp(2.0 * raw["p0"])),
    )


def to_models(params: ModelParams, template: GenerativeRNN) -> tuple[list[GenerativeRNN], np.ndarray, np.ndarray]:
    """Numpy GenerativeRNNs and priors from K-stacked ModelParams.

    Returns
    -------
    models : list of GenerativeRNN
        With ``template``'s sample_interval, substeps and activation.
    mean0 : ndarray, shape (K, N)
    cov0 : ndarray, shape (K, N, N)
    """
    values = {name: np.asarray(value, dtype=np.float64) for name, value in params._asdict().items()}
    models = [
        GenerativeRNN(W=values["W"][k], M=values["M"][k], b=values["b"][k], c=values["c"][k],
                      tau=float(values["tau"][k]), sample_interval=template.sample_interval,
                      substeps=template.substeps, Q=values["Q"][k],
                      R=values["R"][k], activation=template.activation)
        for k in range(values["W"].shape[0])
    ]
    return models, values["mean0"], values["cov0"]
