"""The time loop shared by the discrete (predict, then update) decoders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..errors import CovarianceError
from ..model import GenerativeRNN
from ._common import MaskedInnovation, batched_observations, initial_belief, symmetrize
from .result import FilterResult

__all__ = ["DiscreteFilter", "MeasurementMoments"]


@dataclass
class MeasurementMoments:
    """What a filter's measurement step needs, before masking: ŷ (B, m), S (B, m, m), P_xy (B, n, m)."""

    predicted_obs: np.ndarray
    innovation_cov: np.ndarray
    cross_cov: np.ndarray


class DiscreteFilter(ABC):
    """Base class: subclasses provide :meth:`predict` and :meth:`measurement_moments`.

    The update is the same for every Gaussian filter: K = P_xy S⁻¹,
    μ = μ̂ + K ε, P = P̂ − K S Kᵀ (symmetrised), restricted to the observed
    channels of each trial (see :class:`~rrnn_net.filters._common.MaskedInnovation`).
    """

    def __init__(self, model: GenerativeRNN) -> None:
        if not isinstance(model, GenerativeRNN):
            raise TypeError(f"model must be a GenerativeRNN, got {type(model).__name__}")
        self.model = model

    @abstractmethod
    def predict(self, mean: np.ndarray, cov: np.ndarray, repairs: np.ndarray):
        """Return (μ̂ (B, n), P̂ (B, n, n), state) for one sampling interval.

        ``state`` is whatever :meth:`measurement_moments` needs besides the
        moments (e.g. propagated sigma points).
        """

    @abstractmethod
    def measurement_moments(self, predicted_mean, predicted_cov, state, repairs) -> MeasurementMoments:
        """Return the predicted observation and its moments given the prediction."""

    def filter(
        self,
        observations,
        *,
        mean0=None,
        cov0=None,
        keep_cov: bool = False,
        keep_innovation_cov: bool = False,
    ) -> FilterResult:
        """Filter a batch of observation sequences.

        Parameters
        ----------
        observations : array_like, shape (T, m) or (B, T, m)
            NaN entries are missing samples: that channel gets no update.
        mean0 : array_like, shape (N,) or (B, N), optional
            Prior mean at t = 0, one interval before the first sample (default zeros).
        cov0 : array_like, shape (N, N) or (B, N, N), optional
            Prior covariance at t = 0 (default identity).
        keep_cov, keep_innovation_cov : bool
            Store P_t (B, T, N, N) and S_t (B, T, m, m) in the result.

        Returns
        -------
        FilterResult
            Per-step arrays; without the batch axis when ``observations`` was 2-D.
        """
        y, batched = batched_observations(observations, self.model)
        batch, n_steps, n_obs = y.shape
        n = self.model.n_hidden
        mean, cov = initial_belief(self.model, batch, mean0, cov0)
        repairs = np.zeros(batch, dtype=np.int64)

        predicted_state = np.empty((batch, n_steps, n))
        predicted_obs = np.empty((batch, n_steps, n_obs))
        correction = np.empty((batch, n_steps, n))
        means = np.empty((batch, n_steps, n))
        loglik = np.empty((batch, n_steps))
        covs = np.empty((batch, n_steps, n, n)) if keep_cov else None
        innovation_covs = np.empty((batch, n_steps, n_obs, n_obs)) if keep_innovation_cov else None

        masks = MaskedInnovation.per_step(y)
        for k in range(n_steps):
            mean_prior, cov_prior, state = self.predict(mean, cov, repairs)
            moments = self.measurement_moments(mean_prior, cov_prior, state, repairs)
            mask = masks[k]
            error = mask.error(y[:, k], moments.predicted_obs)
            gain, loglik[:, k], S = mask.gain_and_loglik(
                mask.cross_cov(moments.cross_cov), mask.innovation_cov(moments.innovation_cov), error, repairs
            )
            correction[:, k] = (gain @ error[..., None])[..., 0]
            mean = mean_prior + correction[:, k]
            cov = symmetrize(cov_prior - gain @ S @ gain.mT)
            if not np.isfinite(mean).all():
                raise CovarianceError(f"{type(self).__name__} diverged at sample {k}: the state estimate "
                                      "is no longer finite")
            predicted_state[:, k] = mean_prior
            predicted_obs[:, k] = moments.predicted_obs
            means[:, k] = mean
            if keep_cov:
                covs[:, k] = cov
            if keep_innovation_cov:
                innovation_covs[:, k] = moments.innovation_cov

        result = FilterResult(
            predicted_state=predicted_state,
            predicted_obs=predicted_obs,
            prediction_error=y - predicted_obs,
            state_prediction_error=correction,
            mean=means,
            loglik=loglik,
            cov=covs,
            innovation_cov=innovation_covs,
            n_psd_repairs=repairs,
        )
        return result if batched else result.unbatched()
