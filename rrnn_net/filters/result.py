"""The result type shared by every decoder (numpy filters and the Brian2 backend)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["FilterResult"]


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
    extras: dict = field(default_factory=dict)

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
        values = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, np.ndarray) and value.ndim >= 1:
                if value.shape[0] != 1:
                    raise ValueError("unbatched() needs a batch of exactly one trial")
                value = value[0]
            values[item.name] = value
        return FilterResult(**values)
