"""Extended Kalman filter inverting a GenerativeRNN, batched over trials."""

from __future__ import annotations

import numpy as np

from .base import DiscreteFilter, MeasurementMoments, PredictionState

__all__ = ["EKF"]


class EKF(DiscreteFilter):
    """Extended Kalman filter for a :class:`~rrnn_net.model.GenerativeRNN`.

    Prediction runs the model's Euler substeps on the mean and, for each
    substep of length h, P ← F_h P F_hᵀ + Q h with F_h = I + h (−I + W D)/τ,
    D = diag(φ'(μ)); with one substep this is F_d = I + (Δ/τ)(−I + W D) and
    P̂ = F_d P F_dᵀ + Q Δ. The measurement step linearises g at μ̂:
    G = M D(μ̂), S = G P̂ Gᵀ + R, P_xy = P̂ Gᵀ.

    On a linear model (``activation="linear"``) this is the exact Kalman filter
    of the Euler-discretised model. ``EKF(model, noise="adaptive")`` estimates
    each channel's observation-noise variance online (:mod:`rrnn_net.filters.noise`).

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN, EKF
    >>> model = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> _, y = model.simulate(20, seed=1)
    >>> EKF(model).filter(y[0]).mean.shape
    (20, 4)
    """

    def predict(self, mean: np.ndarray, cov: np.ndarray,
                repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, PredictionState]:
        model = self.model
        h = model.step
        eye = np.eye(model.n_hidden)
        process_cov = model.Q * h
        start_cov = cov
        jacobian = eye
        for _ in range(model.substeps):
            transition = eye + h * model.drift_jacobian(mean)
            cov = transition @ cov @ transition.mT + process_cov
            mean = mean + h * model.drift(mean)
            jacobian = transition @ jacobian
        # Cov(x_{k−1}, x_k) of the linearised map: the process noise of each substep is independent of x_{k−1}.
        return mean, cov, (start_cov, jacobian)

    def transition_cross_cov(self, mean_prior: np.ndarray, state: PredictionState) -> np.ndarray:
        start_cov, jacobian = state
        return start_cov @ jacobian.mT

    def measurement_moments(self, mean_prior: np.ndarray, cov_prior: np.ndarray, state: PredictionState,
                            repairs: np.ndarray) -> MeasurementMoments:
        model = self.model
        jacobian = model.observation_jacobian(mean_prior)
        cross_cov = cov_prior @ jacobian.mT
        innovation_cov = jacobian @ cross_cov + model.R
        return MeasurementMoments(model.observe(mean_prior), innovation_cov, cross_cov)
