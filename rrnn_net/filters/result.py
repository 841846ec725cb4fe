"""The result type shared by every decoder (numpy filters and the Brian2 backend)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import numpy as np

__all__ = ["FilterResult", "SmootherResult"]


@dataclass
class FilterResult:
    """Per-step output of a decoder.

    Arrays carry a leading batch axis B when the observations were (B, T, m)
    and none when they were (T, m). Shapes below are for the batched case.

    Attributes
    ----------
    predicted_state : ndarray, shape (B, T, N)
        μ̂_t, the prediction units: the state predicted for sample t before y_t is used.
    predicted_obs : ndarray, shape (B, T, m)
        ŷ_t, the predicted observation.
    prediction_error : ndarray, shape (B, T, m)
        ε_t = y_t − ŷ_t; NaN where the sample was missing.
    state_prediction_error : ndarray, shape (B, T, N)
        μ_t − μ̂_t, the correction the prediction error caused (K_t ε_t).
    mean : ndarray, shape (B, T, N)
        μ_t, the posterior mean after y_t.
    loglik : ndarray, shape (B, T)
        Per-step log-likelihood log p(y_t | y_<t) = log N(ε_t; 0, S_t) over the
        observed channels (0 for an all-missing sample). For the continuous
        filter: the evidence increment −½∫εᵀR_c⁻¹ε dt over the sample interval.
    cov : ndarray, shape (B, T, N, N) or None
        P_t, the posterior covariance (kept on request).
    innovation_cov : ndarray, shape (B, T, m, m) or None
        S_t (kept on request; None for the continuous filter).
    n_psd_repairs : ndarray of int, shape (B,)
        How many times a covariance had to be repaired to stay positive definite.
    noise_variance : ndarray, shape (B, T, m) or None
        The observation-noise variance of each channel estimated online after
        y_t (``noise="adaptive"``; None with the model's fixed R).
    extras : dict
        Decoder-specific extras (e.g. raw Brian2 monitors).
    """

    predicted_state: np.ndarray
    predicted_obs: np.ndarray
    prediction_error: np.ndarray
    state_prediction_error: np.ndarray
    mean: np.ndarray
    loglik: np.ndarray
    cov: np.ndarray | None = None
    innovation_cov: np.ndarray | None = None
    n_psd_repairs: np.ndarray | int = 0
    noise_variance: np.ndarray | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def total_loglik(self) -> np.ndarray | float:
        """Sum of :attr:`loglik` over time: log p(y_1..y_T) per trial, shape (B,) or scalar."""
        return self.loglik.sum(axis=-1)

    @property
    def evidence(self) -> np.ndarray:
        """Accumulated log evidence up to each step (cumulative sum of :attr:`loglik`), shape (B, T)."""
        return np.cumsum(self.loglik, axis=-1)

    def unbatched(self) -> FilterResult:
        """The same result with the batch axis of size one removed."""
        return _unbatched(self)


@dataclass
class SmootherResult:
    """Output of a Rauch–Tung–Striebel smoother: the state given all T observations.

    Shapes below are for the batched case; without the batch axis B when the
    observations were (T, m).

    Attributes
    ----------
    mean : ndarray, shape (B, T, N)
        Smoothed means E[x_t | y_1..T] at the sample times.
    cov : ndarray, shape (B, T, N, N)
        Smoothed covariances Cov(x_t | y_1..T).
    lag_one_cov : ndarray, shape (B, T, N, N)
        Cov(x_{t−1}, x_t | y_1..T); for t = 1 the earlier state is the one at
        t = 0 (one interval before the first sample). EM's Q step needs it.
    initial_mean : ndarray, shape (B, N)
        Smoothed state at t = 0, E[x_0 | y_1..T].
    initial_cov : ndarray, shape (B, N, N)
        Cov(x_0 | y_1..T).
    filtered : FilterResult
        The forward pass (its ``loglik`` is the evidence of the data).
    """

    mean: np.ndarray
    cov: np.ndarray
    lag_one_cov: np.ndarray
    initial_mean: np.ndarray
    initial_cov: np.ndarray
    filtered: FilterResult

    def unbatched(self) -> SmootherResult:
        """The same result with the batch axis of size one removed."""
        return _unbatched(self)


_Result = TypeVar("_Result", FilterResult, SmootherResult)


def _unbatched(result: _Result) -> _Result:
    values: dict[str, Any] = {}
    for item in fields(result):
        value = getattr(result, item.name)
        if isinstance(value, (np.ndarray, FilterResult)):
            value = value.unbatched() if isinstance(value, FilterResult) else _drop_batch(value)
        values[item.name] = value
    return type(result)(**values)


def _drop_batch(value: np.ndarray) -> np.ndarray:
    if value.ndim == 0:
        return value
    if value.shape[0] != 1:
        raise ValueError("unbatched() needs a batch of exactly one trial")
    return value[0]
