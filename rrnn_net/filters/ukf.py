"""Unscented Kalman filters inverting a GenerativeRNN, batched over trials and sigma points."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, choice
from ..errors import ParameterError
from ..model import GenerativeRNN, _psd_factor
from ._common import cholesky_with_repair
from .base import DiscreteFilter, MeasurementMoments, PredictionState
from .noise import NoiseAdaptation

__all__ = ["UKF", "merwe_weights"]

VARIANTS = ("additive", "augmented")


def merwe_weights(n: int, alpha: float, beta: float, kappa: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Scaled (van der Merwe) sigma-point weights.

    Parameters
    ----------
    n : int
        Dimension of the (possibly augmented) state.
    alpha, beta, kappa : float
        Spread, prior-knowledge and secondary scaling parameters.

    Returns
    -------
    mean_weights, cov_weights : ndarray, shape (2n + 1,)
    spread : float
        √(n + λ), the factor applied to the Cholesky columns; λ = α²(n + κ) − n.

    Examples
    --------
    >>> wm, wc, spread = merwe_weights(2, 1.0, 2.0, 0.0)
    >>> float(wm.sum())
    1.0
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # extreme settings are refused below
        alpha, beta, kappa = np.float64(alpha), np.float64(beta), np.float64(kappa)
        lam = alpha**2 * (n + kappa) - n
        if not n + lam > 0:
            raise ParameterError(f"sigma-point parameters give n + lambda = {n + lam:g} <= 0 (n={n}, "
                                 f"alpha={alpha}, kappa={kappa}); increase alpha or kappa")
        mean_weights = np.full(2 * n + 1, 0.5 / (n + lam))
        cov_weights = mean_weights.copy()
        mean_weights[0] = lam / (n + lam)
        cov_weights[0] = lam / (n + lam) + 1.0 - alpha**2 + beta
        spread = np.sqrt(n + lam)
    if not (np.isfinite(mean_weights).all() and np.isfinite(cov_weights).all() and np.isfinite(spread)):
        raise ParameterError(f"sigma-point parameters alpha={alpha:g}, beta={beta:g}, kappa={kappa:g} give "
                             "non-finite weights; use values of order one")
    return mean_weights, cov_weights, float(spread)


def _sigma_points(mean: np.ndarray, upper_factor: np.ndarray, spread: float) -> np.ndarray:
    """Points [μ, μ + s·L[:, j], μ − s·L[:, j]] for mean (B, n) and upper factor U = Lᵀ (B, n, n) -> (B, 2n+1, n).

    The upper factor's rows are the lower factor's columns, so the offsets are
    read contiguously.
    """
    n = mean.shape[-1]
    offsets = spread * upper_factor
    points = np.empty((mean.shape[0], 2 * n + 1, n))
    points[:, 0] = mean
    np.add(mean[:, None, :], offsets, out=points[:, 1:n + 1])
    np.subtract(mean[:, None, :], offsets, out=points[:, n + 1:])
    return points


def _weighted_cov(weights: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Σ_i w_i a_i b_iᵀ for deviations a (B, P, n), b (B, P, k) -> (B, n, k)."""
    return np.swapaxes(left * weights[:, None], -1, -2) @ right


class UKF(DiscreteFilter):
    r"""Unscented Kalman filter for a :class:`~rrnn_net.model.GenerativeRNN`.

    Parameters
    ----------
    model : GenerativeRNN
    variant : {"additive", "augmented"}
        ``"additive"`` (default): sigma points of dimension N from the Cholesky
        factor of P are pushed through the Δ-step Euler transition; the
        predicted moments are their weighted moments plus Q·Δ; the points are
        then **redrawn** from (μ̂, P̂) (``redraw=True``, as filterpy ≥ 2.0 does,
        which makes the filter exact on linear-Gaussian models with one
        Euler step per sample; with several, Q·Δ added once approximates the
        noise accumulated through the steps, which the EKF propagates exactly) or reused
        (``redraw=False``, filterpy 1.x) and pushed through
        g(x) = M φ(x) + c; S = P_yy + R.

        ``"augmented"``: the form of the rRNN paper's authors (Wan & van der
        Merwe's augmented UKF with Euler integration). With n_a = 2N + m the
        points are

        .. math::
            z_i = [\mu; 0; 0] \pm \sqrt{n_a + \lambda}\,\mathrm{col}_i\big(
                  \mathrm{chol}(\mathrm{blkdiag}(P, Q/Δ, R))\big),

        each point's state part is integrated x ← x + h (f(x) + w_i) over the
        ``substeps`` Euler steps with its own noise w_i held over the interval,
        μ̂ and P̂ are the weighted moments of the propagated states (no added Q),
        the observation points are g(x_i) + v_i, and ŷ, S and P_xy are their
        weighted moments (R enters only through v_i). The update is
        K = P_xy S⁻¹, μ = μ̂ + K ε, P = P̂ − K P_xyᵀ.
    alpha, beta, kappa : float, optional
        Sigma-point parameters, λ = α²(n + κ) − n. Defaults: additive
        α = 1, β = 2, κ = 0 (all weights positive, robust for large N);
        augmented α = √3, β = 2, κ = 1 (the values later recommended by the
        paper's author, dynamax's default). The paper itself used α = 0.01,
        β = 2, κ = 3 − n_a.
    redraw : bool
        Additive variant only: redraw the sigma points before the measurement step.
    noise : {"fixed", "adaptive"} or NoiseAdaptation
        ``"adaptive"`` estimates each channel's observation-noise variance
        online (:mod:`rrnn_net.filters.noise`; ``result.noise_variance``);
        ``"fixed"`` (default) uses the model's R.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN, UKF
    >>> model = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> _, y = model.simulate(50, batch=8, seed=1)
    >>> result = UKF(model).filter(y)
    >>> result.mean.shape, result.total_loglik.shape
    ((8, 50, 4), (8,))
    """

    def __init__(
        self,
        model: GenerativeRNN,
        variant: str = "additive",
        alpha: float | None = None,
        beta: float = 2.0,
        kappa: float | None = None,
        redraw: bool = True,
        *,
        noise: str | NoiseAdaptation = "fixed",
    ) -> None:
        super().__init__(model, noise=noise)
        choice(variant, VARIANTS, "variant")
        if variant == "augmented" and not redraw:
            raise ParameterError("redraw=False only applies to the additive variant")
        self.variant = variant
        self.redraw = bool(redraw)
        additive = variant == "additive"
        if alpha is None:
            alpha = 1.0 if additive else np.sqrt(3.0)
        if kappa is None:
            kappa = 0.0 if additive else 1.0
        self.alpha = _finite_scalar(alpha, "alpha")
        self.beta = _finite_scalar(beta, "beta")
        self.kappa = _finite_scalar(kappa, "kappa")
        if self.alpha <= 0:
            raise ParameterError(f"alpha must be positive, got {self.alpha}")
        n, m = model.n_hidden, model.n_obs
        dimension = n if additive else 2 * n + m
        self.mean_weights, self.cov_weights, self.spread = merwe_weights(dimension, self.alpha, self.beta, self.kappa)
        if additive:
            self._process_cov = model.Q * model.sample_interval
        else:
            self._process_noise, self._observation_noise = self._augmented_noise_points()

    def _augmented_noise_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Noise parts w_i (P, N) and v_i (P, m) of the augmented points; the same for every trial and step."""
        model = self.model
        n, m = model.n_hidden, model.n_obs
        n_aug = 2 * n + m
        # w_i is held over the whole interval: x gains Δ·w_i, so Var(w) = Q/Δ gives the process variance Q·Δ
        # of a sample (Q/h would give substeps times too much when there are several Euler steps).
        process_offsets = self.spread * _psd_factor(model.Q / model.sample_interval).T  # rows = factor columns
        observation_offsets = self.spread * np.linalg.cholesky(model.R).T
        process = np.zeros((2 * n_aug + 1, n))
        observation = np.zeros((2 * n_aug + 1, m))
        for sign, start in ((1.0, 1), (-1.0, 1 + n_aug)):
            process[start + n:start + 2 * n] = sign * process_offsets
            observation[start + 2 * n:start + n_aug] = sign * observation_offsets
        return process, observation

    # ----------------------------------------------------------- additive
    def _predict_additive(self, mean: np.ndarray, cov: np.ndarray,
                         repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, PredictionState]:
        model = self.model
        cov, factor = cholesky_with_repair(cov, repairs, upper=True)
        points = model.transition(_sigma_points(mean, factor, self.spread))
        mean_prior = self.mean_weights @ points
        deviations = points - mean_prior[:, None]
        cov_prior = _weighted_cov(self.cov_weights, deviations, deviations) + self._process_cov
        return mean_prior, cov_prior, (points, factor)

    def _moments_additive(self, mean_prior: np.ndarray, cov_prior: np.ndarray, state: PredictionState,
                         repairs: np.ndarray) -> MeasurementMoments:
        points, _ = state
        if not self.redraw:
            obs_points = self.model.observe(points)
            predicted_obs = self.mean_weights @ obs_points
            obs_deviations = obs_points - predicted_obs[:, None]
            cross_cov = _weighted_cov(self.cov_weights, points - mean_prior[:, None], obs_deviations)
        else:
            cov_prior, factor = cholesky_with_repair(cov_prior, repairs, upper=True)
            obs_points = self.model.observe(_sigma_points(mean_prior, factor, self.spread))
            predicted_obs = self.mean_weights @ obs_points
            obs_deviations = obs_points - predicted_obs[:, None]
            # Redrawn points sit at μ̂ ± s L_j with equal weights w, so
            # P_xy = Σ_j w s L_j (y⁺_j − y⁻_j)ᵀ: one small product instead of a weighted sum over points.
            n = mean_prior.shape[-1]
            spread_difference = obs_points[:, 1:n + 1] - obs_points[:, n + 1:]
            cross_cov = (self.cov_weights[1] * self.spread) * (factor.mT @ spread_difference)
        innovation_cov = _weighted_cov(self.cov_weights, obs_deviations, obs_deviations) + self.model.R
        return MeasurementMoments(predicted_obs, innovation_cov, cross_cov)

    # ---------------------------------------------------------- augmented
    def _predict_augmented(self, mean: np.ndarray, cov: np.ndarray,
                          repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, PredictionState]:
        model = self.model
        n = model.n_hidden
        cov, factor = cholesky_with_repair(cov, repairs, upper=True)
        points = np.repeat(mean[:, None, :], self.mean_weights.size, axis=1)
        offsets = self.spread * factor
        n_aug = (self.mean_weights.size - 1) // 2
        points[:, 1:1 + n] += offsets
        points[:, 1 + n_aug:1 + n_aug + n] -= offsets
        h = model.step
        for _ in range(model.substeps):
            points = points + h * (model.drift(points) + self._process_noise)
        mean_prior = self.mean_weights @ points
        deviations = points - mean_prior[:, None]
        cov_prior = _weighted_cov(self.cov_weights, deviations, deviations)
        return mean_prior, cov_prior, (points, factor, deviations)

    def _moments_augmented(self, mean_prior: np.ndarray, cov_prior: np.ndarray, state: PredictionState,
                          repairs: np.ndarray) -> MeasurementMoments:
        points, _, deviations = state
        obs_points = self.model.observe(points) + self._observation_noise
        predicted_obs = self.mean_weights @ obs_points
        obs_deviations = obs_points - predicted_obs[:, None]
        innovation_cov = _weighted_cov(self.cov_weights, obs_deviations, obs_deviations)
        cross_cov = _weighted_cov(self.cov_weights, deviations, obs_deviations)
        return MeasurementMoments(predicted_obs, innovation_cov, cross_cov)

    def predict(self, mean: np.ndarray, cov: np.ndarray,
                repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, PredictionState]:
        if self.variant == "additive":
            return self._predict_additive(mean, cov, repairs)
        return self._predict_augmented(mean, cov, repairs)

    def measurement_moments(self, mean_prior: np.ndarray, cov_prior: np.ndarray, state: PredictionState,
                            repairs: np.ndarray) -> MeasurementMoments:
        if self.variant == "additive":
            return self._moments_additive(mean_prior, cov_prior, state, repairs)
        return self._moments_augmented(mean_prior, cov_prior, state, repairs)

    def transition_cross_cov(self, mean_prior: np.ndarray, state: PredictionState) -> np.ndarray:
        # The state parts of the points before propagation sit at μ ± s·U_j (U the upper factor of P, the
        # same weight w for all of them; noise-only augmented points have a zero state offset), so
        # C = Σ_i w_i (x_i − μ)(x'_i − μ̂)ᵀ = w s Uᵀ (X'⁺ − X'⁻) over the propagated points X'.
        points, factor = state[0], state[1]
        n = factor.shape[-1]
        n_dimension = (self.mean_weights.size - 1) // 2
        difference = points[:, 1:n + 1] - points[:, 1 + n_dimension:1 + n_dimension + n]
        return (self.cov_weights[1] * self.spread) * (factor.mT @ difference)

    def __repr__(self) -> str:
        return (f"UKF({self.model!r}, variant={self.variant!r}, alpha={self.alpha:g}, beta={self.beta:g}, "
                f"kappa={self.kappa:g}, redraw={self.redraw})")


def _finite_scalar(value: object, name: str) -> float:
    array = as_float_array(value, name)
    if array.ndim != 0 or not np.isfinite(array):
        raise ParameterError(f"{name} must be a finite scalar, got {value!r}")
    return float(array)
