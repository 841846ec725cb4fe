"""The time loop shared by the discrete (predict, then update) decoders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_model, check_observations, recorded_outputs
from ..model import GenerativeRNN
from ._common import MaskedInnovation, divergence_error, initial_belief, symmetrize
from .noise import NoiseAdaptation, NoiseBelief, noise_adaptation
from .result import FilterResult, SmootherResult

__all__ = ["DiscreteFilter", "MeasurementMoments"]

#: What a filter's :meth:`~DiscreteFilter.predict` passes on to its measurement step besides the moments (its
#: propagated sigma points, the EKF's Jacobian, ...).
PredictionState: TypeAlias = tuple[np.ndarray, ...]


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

    def __init__(self, model: GenerativeRNN, *, noise: str | NoiseAdaptation = "fixed") -> None:
        check_model(model)
        self.model = model
        self.noise = noise_adaptation(noise, model)

    @abstractmethod
    def predict(self, mean: np.ndarray, cov: np.ndarray,
                repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, PredictionState]:
        """Return (μ̂ (B, n), P̂ (B, n, n), state) for one sampling interval.

        ``state`` is whatever :meth:`measurement_moments` needs besides the
        moments (e.g. propagated sigma points).
        """

    @abstractmethod
    def measurement_moments(self, predicted_mean: np.ndarray, predicted_cov: np.ndarray, state: PredictionState,
                            repairs: np.ndarray) -> MeasurementMoments:
        """Return the predicted observation and its moments given the prediction."""

    @abstractmethod
    def transition_cross_cov(self, mean_prior: np.ndarray, state: PredictionState) -> np.ndarray:
        """Cov(x_{k−1}, x_k | y_<k), shape (B, n, n), from the state :meth:`predict` returned.

        The smoother's gain is this cross-covariance times P̂_k⁻¹.
        """

    def filter(
        self,
        observations: ArrayLike,
        *,
        mean0: ArrayLike | None = None,
        cov0: ArrayLike | None = None,
        record: str | Iterable[str] = (),
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
        record : str or iterable of {"covariance", "innovation_covariance"}
            Also keep P_t (B, T, N, N) in ``cov`` and S_t (B, T, m, m) in
            ``innovation_cov`` (the backends' ``record="covariance"`` likewise).

        Returns
        -------
        FilterResult
            Per-step arrays; without the batch axis when ``observations`` was 2-D.
        """
        kept = recorded_outputs(record, ("covariance", "innovation_covariance"))
        result, batched, _ = self._forward(observations, mean0, cov0, keep_cov="covariance" in kept,
                                           keep_innovation_cov="innovation_covariance" in kept, smoothing=False)
        return result if batched else result.unbatched()

    def _forward(
        self, observations: ArrayLike, mean0: ArrayLike | None, cov0: ArrayLike | None, *, keep_cov: bool,
        keep_innovation_cov: bool, smoothing: bool,
    ) -> tuple[FilterResult, bool, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None]:
        """The filter's time loop; with ``smoothing`` also the predictions and cross-covariances the RTS pass needs.

        Returns the batched FilterResult, whether the input was batched, and
        (mean0, cov0, P̂ (B, T, n, n), C (B, T, n, n)) or None.
        """
        y, batched = check_observations(observations, self.model.n_obs)
        batch, n_steps, n_obs = y.shape
        n = self.model.n_hidden
        mean, cov = initial_belief(self.model, batch, mean0, cov0)
        repairs = np.zeros(batch, dtype=np.int64)

        predicted_state = np.empty((batch, n_steps, n))
        predicted_obs = np.empty((batch, n_steps, n_obs))
        correction = np.empty((batch, n_steps, n))
        means = np.empty((batch, n_steps, n))
        loglik = np.empty((batch, n_steps))
        keep_cov = keep_cov or smoothing
        covs = np.empty((batch, n_steps, n, n)) if keep_cov else None
        if smoothing:
            prior = (mean.copy(), cov.copy())
            predicted_covs = np.empty((batch, n_steps, n, n))
            cross_covs = np.empty((batch, n_steps, n, n))
        innovation_covs = np.empty((batch, n_steps, n_obs, n_obs)) if keep_innovation_cov else None
        belief = None if self.noise is None else NoiseBelief(self.noise, self.model, batch)
        noise_variances = None if belief is None else np.empty((batch, n_steps, n_obs))

        masks = MaskedInnovation.per_step(y)
        for k in range(n_steps):
            mean_prior, cov_prior, state = self.predict(mean, cov, repairs)
            moments = self.measurement_moments(mean_prior, cov_prior, state, repairs)
            if smoothing:
                predicted_covs[:, k] = cov_prior
                cross_covs[:, k] = self.transition_cross_cov(mean_prior, state)
            mask = masks[k]
            error = mask.error(y[:, k], moments.predicted_obs)
            # Observations far outside the model's range overflow the squared errors: the check below reports
            # that, naming the data, rather than numpy's bare warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                if belief is None:
                    gain, loglik[:, k], S = mask.gain_and_loglik(
                        mask.cross_cov(moments.cross_cov), mask.innovation_cov(moments.innovation_cov), error,
                        repairs)
                else:
                    assert noise_variances is not None  # allocated with the belief
                    gain, loglik[:, k], S, noise_variances[:, k] = belief.update(
                        mask, moments.innovation_cov, mask.cross_cov(moments.cross_cov), error, repairs)
            correction[:, k] = (gain @ error[..., None])[..., 0]
            mean = mean_prior + correction[:, k]
            cov = symmetrize(cov_prior - gain @ S @ gain.mT)
            state_finite = np.isfinite(mean).all()
            if not (state_finite and np.isfinite(loglik[:, k]).all()):
                raise divergence_error(type(self).__name__, k, y[:, k], state_finite=state_finite)
            predicted_state[:, k] = mean_prior
            predicted_obs[:, k] = moments.predicted_obs
            means[:, k] = mean
            if covs is not None:
                covs[:, k] = cov
            if innovation_covs is not None:
                innovation_covs[:, k] = S if belief is not None else moments.innovation_cov

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
            noise_variance=noise_variances,
        )
        smoothing_terms = (*prior, predicted_covs, cross_covs) if smoothing else None
        return result, batched, smoothing_terms

    def smooth(self, observations: ArrayLike, *, mean0: ArrayLike | None = None,
               cov0: ArrayLike | None = None) -> SmootherResult:
        """Rauch–Tung–Striebel smoothing: the state given *all* observations, after one forward filter pass.

        With filtered (μ_k, P_k), predicted (μ̂_{k+1}, P̂_{k+1}) and the
        filter's cross-covariance C_{k+1} = Cov(x_k, x_{k+1} | y_1..k), the
        backward pass is G_k = C_{k+1} P̂_{k+1}⁻¹,
        μˢ_k = μ_k + G_k (μˢ_{k+1} − μ̂_{k+1}),
        Pˢ_k = P_k + G_k (Pˢ_{k+1} − P̂_{k+1}) G_kᵀ — for the UKF the unscented
        RTS smoother (Särkkä 2008, C from the sigma points), for the EKF the
        extended one (C = P_k F_kᵀ). Exact on linear-Gaussian models. Missing
        samples (NaN) need nothing special: the filter already skipped them.

        Parameters
        ----------
        observations : array_like, shape (T, m) or (B, T, m)
        mean0, cov0 : array_like, optional
            Prior at t = 0, as for :meth:`filter`.

        Returns
        -------
        SmootherResult
            Smoothed means and covariances at the sample times, the smoothed
            state at t = 0, lag-one covariances, and the forward FilterResult.
        """
        filtered, batched, smoothing_terms = self._forward(
            observations, mean0, cov0, keep_cov=False, keep_innovation_cov=False, smoothing=True)
        assert smoothing_terms is not None and filtered.cov is not None  # both kept when smoothing
        mean_start, cov_start, predicted_covs, cross_covs = smoothing_terms
        means = filtered.mean.copy()
        covs = filtered.cov.copy()
        lag_one = np.empty_like(covs)
        n_steps = means.shape[1]
        mean_next, cov_next = means[:, -1], covs[:, -1]
        for k in range(n_steps - 1, -1, -1):
            # G = C P̂⁻¹ with P̂ symmetric: solve P̂ Gᵀ = Cᵀ.
            gain = np.linalg.solve(predicted_covs[:, k], cross_covs[:, k].mT).mT
            mean_before = filtered.mean[:, k - 1] if k > 0 else mean_start
            cov_before = filtered.cov[:, k - 1] if k > 0 else cov_start
            lag_one[:, k] = gain @ cov_next
            mean_next = mean_before + (gain @ (mean_next - filtered.predicted_state[:, k])[..., None])[..., 0]
            cov_next = symmetrize(cov_before + gain @ (cov_next - predicted_covs[:, k]) @ gain.mT)
            if k > 0:
                means[:, k - 1], covs[:, k - 1] = mean_next, cov_next
        result = SmootherResult(mean=means, cov=covs, lag_one_cov=lag_one, initial_mean=mean_next,
                                initial_cov=cov_next, filtered=filtered)
        return result if batched else result.unbatched()
