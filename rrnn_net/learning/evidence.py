"""The rRNN's log evidence as a differentiable JAX function: the UKF and EKF of :mod:`rrnn_net.filters`.

Learning maximises Σ_t log p(y_t | y_<t) over the parameters of a
:class:`~rrnn_net.GenerativeRNN` and its initial-state prior, so it needs the
gradient of exactly the evidence the numpy decoders compute. The functions
here repeat the numpy filters' arithmetic step for step — additive UKF with
redrawn sigma points (:class:`~rrnn_net.UKF`'s default) and the EKF — as pure
functions of a parameter pytree, scanned over time with :func:`jax.lax.scan`
and mapped over trials with :func:`jax.vmap`; the tests check them against
the numpy filters (values) and against central differences (gradients).

Everything runs in float64: callers wrap their work in :func:`float64`
(``jax.enable_x64`` for that block only, so a user's own JAX code keeps its
default precision).
Missing samples (NaN) are handled as in the numpy filters: a missing channel
contributes no update and no likelihood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from ..filters.ukf import merwe_weights
from ..model import GenerativeRNN
from ._jax import float64

__all__ = ["ModelParams", "EvidenceSpec", "loglik", "bank_loglik", "params_from_model", "float64"]

_LOG_2PI = float(np.log(2.0 * np.pi))
FILTERS = ("ukf", "ekf")

# What one filter step carries, reads and returns: the belief (mean, cov), the sample (y, which channels are
# observed), and the new belief with the sample's log evidence.
_Belief: TypeAlias = tuple[jax.Array, jax.Array]
_Sample: TypeAlias = tuple[jax.Array, jax.Array]
_Step: TypeAlias = tuple[_Belief, jax.Array]


class ModelParams(NamedTuple):
    """Parameters of one GenerativeRNN and its prior, as a JAX pytree (arrays may carry leading batch axes).

    Attributes
    ----------
    W : (N, N)
    b : (N,)
    M : (m, N)
    c : (m,)
    tau : ()
        Time constant τ (s).
    Q : (N, N)
        Process-noise covariance per unit time.
    R : (m, m)
        Observation-noise covariance per sample.
    mean0 : (N,)
        Prior mean of the state at t = 0 (one interval before the first sample).
    cov0 : (N, N)
        Prior covariance at t = 0.
    """

    W: jax.Array
    b: jax.Array
    M: jax.Array
    c: jax.Array
    tau: jax.Array
    Q: jax.Array
    R: jax.Array
    mean0: jax.Array
    cov0: jax.Array


@dataclass(frozen=True)
class EvidenceSpec:
    """The static (non-differentiated) settings of the evidence: discretisation and filter.

    Parameters
    ----------
    sample_interval : float
        Sampling interval Δ (s).
    substeps : int
        Euler substeps per interval.
    activation : {"tanh", "linear"}
    filter : {"ukf", "ekf"}
        Additive UKF with redrawn points (α, β, κ as in :class:`~rrnn_net.UKF`) or EKF.
    alpha, beta, kappa : float
        Sigma-point parameters of the UKF.
    """

    sample_interval: float
    substeps: int = 1
    activation: str = "tanh"
    filter: str = "ukf"
    alpha: float = 1.0
    beta: float = 2.0
    kappa: float = 0.0

    @classmethod
    def for_model(cls, model: GenerativeRNN, filter: str = "ukf") -> EvidenceSpec:
        """The spec that reproduces ``UKF(model)`` (or ``EKF(model)``) with default settings."""
        return cls(sample_interval=model.sample_interval, substeps=model.substeps, activation=model.activation,
                   filter=filter)


def params_from_model(model: GenerativeRNN, mean0: ArrayLike | None = None,
                      cov0: ArrayLike | None = None) -> ModelParams:
    """A :class:`ModelParams` of ``model`` and the prior N(mean0, cov0) (default N(0, I)), as float64 arrays."""
    n = model.n_hidden
    mean0 = np.zeros(n) if mean0 is None else np.asarray(mean0, dtype=np.float64)
    cov0 = np.eye(n) if cov0 is None else np.asarray(cov0, dtype=np.float64)
    return ModelParams(*(jnp.asarray(value, dtype=jnp.float64) for value in (
        model.W, model.b, model.M, model.c, model.tau, model.Q, model.R, mean0, cov0)))


def _rate(x: jax.Array, activation: str) -> jax.Array:
    return jnp.tanh(x) if activation == "tanh" else x


def _slope(x: jax.Array, activation: str) -> jax.Array:
    return 1.0 - jnp.tanh(x) ** 2 if activation == "tanh" else jnp.ones_like(x)


def _euler_step(p: ModelParams, x: jax.Array, spec: EvidenceSpec) -> jax.Array:
    """x + h f(x) for states (..., N), in the numpy model's order of operations."""
    leak = spec.sample_interval / spec.substeps / p.tau
    return _rate(x, spec.activation) @ (leak * p.W.T) + leak * p.b + (1.0 - leak) * x


def _sigma_points(mean: jax.Array, upper: jax.Array, spread: float) -> jax.Array:
    """[μ, μ + s U_j, μ − s U_j] for the upper factor U (rows = columns of the lower factor); (2N+1, N)."""
    offsets = spread * upper
    return jnp.concatenate([mean[None], mean + offsets, mean - offsets])


def _update(mean_prior: jax.Array, cov_prior: jax.Array, predicted_obs: jax.Array, innovation_cov: jax.Array,
            cross_cov: jax.Array, y: jax.Array, observed: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The masked Gaussian update shared by both filters (see ``filters._common.MaskedInnovation``)."""
    n_obs = y.shape[0]
    both = observed[:, None] & observed[None, :]
    innovation_cov = jnp.where(both, innovation_cov, jnp.eye(n_obs))
    cross_cov = cross_cov * observed
    error = jnp.where(observed, y - predicted_obs, 0.0)
    factor = jnp.linalg.cholesky(innovation_cov)
    precision = jax.scipy.linalg.cho_solve((factor, True), jnp.eye(n_obs))
    gain = cross_cov @ precision
    mean = mean_prior + gain @ error
    cov = cov_prior - gain @ innovation_cov @ gain.T
    cov = 0.5 * (cov + cov.T)
    mahalanobis = error @ precision @ error
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(factor)))
    loglik = -0.5 * (mahalanobis + log_det + jnp.sum(observed) * _LOG_2PI)
    return mean, cov, loglik


def _ukf_step(p: ModelParams, spec: EvidenceSpec, weights: tuple[jax.Array, jax.Array, float], carry: _Belief,
              inputs: _Sample) -> _Step:
    mean, cov = carry
    y, observed = inputs
    mean_weights, cov_weights, spread = weights
    points = _sigma_points(mean, jnp.linalg.cholesky(cov).T, spread)
    for _ in range(spec.substeps):
        points = _euler_step(p, points, spec)
    mean_prior = mean_weights @ points
    deviations = points - mean_prior
    cov_prior = (deviations.T * cov_weights) @ deviations + p.Q * spec.sample_interval
    upper = jnp.linalg.cholesky(cov_prior).T
    obs_points = _rate(_sigma_points(mean_prior, upper, spread), spec.activation) @ p.M.T + p.c
    predicted_obs = mean_weights @ obs_points
    obs_deviations = obs_points - predicted_obs
    innovation_cov = (obs_deviations.T * cov_weights) @ obs_deviations + p.R
    n = mean.shape[0]
    cross_cov = (cov_weights[1] * spread) * (upper.T @ (obs_points[1:n + 1] - obs_points[n + 1:]))
    mean, cov, loglik = _update(mean_prior, cov_prior, predicted_obs, innovation_cov, cross_cov, y, observed)
    return (mean, cov), loglik


def _ekf_step(p: ModelParams, spec: EvidenceSpec, weights: None, carry: _Belief, inputs: _Sample) -> _Step:
    mean, cov = carry
    y, observed = inputs
    h = spec.sample_interval / spec.substeps
    eye = jnp.eye(mean.shape[0])
    for _ in range(spec.substeps):
        transition = eye + h * (p.W * _slope(mean, spec.activation) - eye) / p.tau
        cov = transition @ cov @ transition.T + p.Q * h
        mean = mean + h * ((_rate(mean, spec.activation) @ p.W.T + p.b - mean) / p.tau)
    jacobian = p.M * _slope(mean, spec.activation)
    cross_cov = cov @ jacobian.T
    innovation_cov = jacobian @ cross_cov + p.R
    predicted_obs = _rate(mean, spec.activation) @ p.M.T + p.c
    mean, cov, loglik = _update(mean, cov, predicted_obs, innovation_cov, cross_cov, y, observed)
    return (mean, cov), loglik


def loglik(params: ModelParams, observations: jax.Array, spec: EvidenceSpec, *, checkpoint: bool = True) -> jax.Array:
    """Per-step log evidence log p(y_t | y_<t) of one trial, shape (T,).

    Parameters
    ----------
    params : ModelParams
        One model (no batch axes).
    observations : array, shape (T, m)
        NaN marks a missing sample (no update, zero contribution).
    spec : EvidenceSpec
    checkpoint : bool
        Recompute each step in the backward pass instead of storing its
        intermediates (:func:`jax.checkpoint`): memory O(T·N²) per trial
        instead of O(T·N³), about 30 % more work.

    Returns
    -------
    array, shape (T,)
        Equal to the numpy decoder's ``FilterResult.loglik`` for the same
        model and prior (as long as that decoder needed no covariance repair).
    """
    if spec.filter == "ukf":
        n = params.W.shape[-1]
        mean_weights, cov_weights, spread = merwe_weights(n, spec.alpha, spec.beta, spec.kappa)
        weights = (jnp.asarray(mean_weights), jnp.asarray(cov_weights), spread)
        step: Callable = partial(_ukf_step, params, spec, weights)
    elif spec.filter == "ekf":
        step = partial(_ekf_step, params, spec, None)
    else:
        raise ValueError(f"filter must be one of {FILTERS}, got {spec.filter!r}")
    if checkpoint:
        step = jax.checkpoint(step)
    observed = ~jnp.isnan(observations)
    filled = jnp.where(observed, observations, 0.0)  # NaN must not reach the arithmetic, or its gradient
    _, values = jax.lax.scan(step, (params.mean0, params.cov0), (filled, observed))
    return values


def bank_loglik(params: ModelParams, observations: jax.Array, spec: EvidenceSpec) -> jax.Array:
    """Log evidence increments of every model on every trial, shape (K, B, T).

    ``params`` carries a leading model axis K on every field; ``observations``
    is (B, T, m).
    """
    per_trial = jax.vmap(partial(loglik, spec=spec), in_axes=(None, 0))
    return jax.vmap(per_trial, in_axes=(0, None))(params, observations)
