"""The continuous-time (extended Kalman–Bucy) filter: the equations the compiled network runs."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    check_euler_step,
    check_model,
    check_observations,
    positive_scalar,
    recorded_outputs,
    steps_per_interval,
)
from ..errors import DivergenceError, ParameterError
from ..model import GenerativeRNN
from ._common import cholesky_with_repair, divergence_error, initial_belief, symmetrize
from .noise import ContinuousNoiseBelief, NoiseAdaptation, noise_adaptation
from .result import FilterResult
from .stability import default_prior_variance

__all__ = ["ContinuousFilter", "ContinuousRHS"]


class ContinuousRHS:
    """Right-hand side of the extended Kalman–Bucy filter for one model.

    With ε = y − M φ(μ) − c, D = diag(φ'(μ)), G = M D, F = (−I + W D)/τ and
    the observation noise as a rate R_c = R·Δ (precision Λ = R_c⁻¹ on the
    observed channels, zero on missing ones):

        dμ/dt = (−μ + W φ(μ) + b)/τ + P Gᵀ Λ ε
        dP/dt = F P + P Fᵀ + Q − P Gᵀ Λ G P
        dℓ/dt = −½ εᵀ Λ ε
    """

    def __init__(self, model: GenerativeRNN) -> None:
        self.model = model
        self.observation_rate_cov = model.R * model.sample_interval
        self.precision = np.linalg.inv(self.observation_rate_cov)

    def masked_precision(self, observed: np.ndarray) -> np.ndarray:
        """Λ (B, m, m): the inverse of R_c restricted to each trial's observed channels, zero elsewhere."""
        batch, n_obs = observed.shape
        if observed.all():
            return np.broadcast_to(self.precision, (batch, n_obs, n_obs))
        both = observed[:, :, None] & observed[:, None, :]
        restricted = np.where(both, self.observation_rate_cov, np.eye(n_obs))
        return np.where(both, np.linalg.inv(restricted), 0.0)

    def __call__(
        self, mean: np.ndarray, cov: np.ndarray, y: np.ndarray, observed: np.ndarray, precision: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Evaluate the right-hand side.

        Parameters
        ----------
        mean : ndarray, shape (B, N)
        cov : ndarray, shape (B, N, N)
        y : ndarray, shape (B, m)
            Observation held over the current interval (any value where missing).
        observed : ndarray of bool, shape (B, m)
        precision : ndarray, shape (B, m, m)
            :meth:`masked_precision` of ``observed``.

        Returns
        -------
        d_mean, d_cov, d_evidence, feedback, predicted_obs
            Shapes (B, N), (B, N, N), (B,), (B, N), (B, m). ``feedback`` is
            P Gᵀ Λ ε, the part of d_mean driven by the prediction error.
        """
        model = self.model
        rate = model.rate(mean)
        slope = 1.0 - rate**2 if model.activation == "tanh" else np.ones_like(mean)
        predicted_obs = rate @ model.M.T + model.c
        error = np.where(observed, y - predicted_obs, 0.0)
        weighted_error = (precision @ error[..., None])[..., 0]  # Λ ε, the precision-weighted error
        obs_jacobian = model.M * slope[:, None, :]  # G = M D, (B, m, N)
        cov_gt = cov @ obs_jacobian.mT  # P Gᵀ, (B, N, m)
        feedback = (cov_gt @ weighted_error[..., None])[..., 0]
        drift_jacobian = (model.W * slope[:, None, :] - np.eye(model.n_hidden)) / model.tau
        f_cov = drift_jacobian @ cov
        d_cov = f_cov + f_cov.mT + model.Q - cov_gt @ precision @ cov_gt.mT
        d_mean = model.drift_from_rate(mean, rate) + feedback
        d_evidence = -0.5 * np.sum(error * weighted_error, axis=-1)
        return d_mean, d_cov, d_evidence, feedback, predicted_obs



class ContinuousFilter:
    """Extended Kalman–Bucy filter integrated by forward Euler.

    Each sample y_k (k = 1..T, time t_k = kΔ) is held over (t_{k−1}, t_k]; the
    filter takes Δ/h Euler steps of the equations of :class:`ContinuousRHS`
    over that interval and reports the state at t_k. This is the exact set of
    equations (and integration scheme) the compiled network runs.

    Parameters
    ----------
    model : GenerativeRNN
    step : float, optional
        Euler step h in seconds; must divide Δ. Default Δ/substeps.
    dt : float, optional
        Deprecated name of ``step``.
    repair_covariance : bool
        Repair a covariance that stops being positive definite (see Notes).
    noise : {"fixed", "adaptive"} or NoiseAdaptation
        ``"adaptive"`` estimates each channel's observation-noise variance
        online, as differential equations of an inverse-gamma belief per
        channel (:class:`~rrnn_net.filters.noise.ContinuousNoiseBelief`, what
        the compiled network's precision units run); ``result.noise_variance``
        holds r̂(t_k) and ``loglik`` then includes the normaliser
        −½ Σ_j log(2π r̂_j) per sample. Needs a diagonal R.

    Notes
    -----
    Per sample the result holds: ``predicted_obs`` and ``prediction_error``
    at the moment y_k arrives (from μ(t_{k−1})), ``state_prediction_error``
    = ∫ P Gᵀ Λ ε dt over the interval (the correction due to the prediction
    error, the continuous analogue of K ε), ``predicted_state`` = μ(t_k)
    minus that correction, and ``loglik`` = −½∫εᵀΛε dt over the interval,
    the model evidence without its normalisation −½ log det(2πR) per
    sample (constant in time; identical for models that share R, to be
    added when comparing models with different R). ``innovation_cov``
    is not defined and stays None.

    Holding each sample over the interval before it is a zero-order hold:
    the state is corrected towards an observation up to Δ old, which leaves
    an error floor of roughly (state speed)·Δ/2 that the discrete filters do
    not have. Sample fast dynamics finely (Δ well below τ).

    Forward Euler on the Riccati equation keeps P positive definite only while
    h·λ_max(P Gᵀ R_c⁻¹ G) < 1 (:mod:`rrnn_net.filters.stability` explains the
    rule and picks a prior that respects it). Even without observations the
    Euler-discretised Lyapunov part can turn P indefinite when P is very
    ill-conditioned. At the end of each sample interval a P that is not
    positive definite is repaired (eigenvalue floor) and counted in
    ``n_psd_repairs``; ``repair_covariance=False`` turns this off, which is
    what the compiled network does (it cannot repair), so compare the two
    with repairs off or where ``n_psd_repairs`` is zero. A run that reaches
    non-finite values raises :class:`~rrnn_net.errors.DivergenceError`.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN, ContinuousFilter
    >>> model = GenerativeRNN.oscillator(4, 2, substeps=4, observation_noise=0.05, seed=0)
    >>> _, y = model.simulate(40, batch=2, seed=1)
    >>> ContinuousFilter(model).filter(y, cov0=0.01 * np.eye(4)).evidence.shape
    (2, 40)
    """

    def __init__(self, model: GenerativeRNN, step: float | None = None, repair_covariance: bool = True, *,
                 noise: str | NoiseAdaptation = "fixed", dt: float | None = None) -> None:
        check_model(model)
        if dt is not None:  # the README of version 0.1 named it dt
            warnings.warn("ContinuousFilter(dt=...) is deprecated; use step=...", DeprecationWarning, stacklevel=2)
            if step is not None:
                raise ParameterError("give the step once: step=..., not also its deprecated name dt=...")
            step = dt
        self.model = model
        self.step = model.step if step is None else positive_scalar(step, "step", unit="second")
        self.steps_per_sample = steps_per_interval(model.sample_interval, self.step)
        check_euler_step(self.step, model.tau)
        self.rhs = ContinuousRHS(model)
        self.repair_covariance = bool(repair_covariance)
        self.noise = noise_adaptation(noise, model)

    def filter(self, observations: ArrayLike, *, mean0: ArrayLike | None = None, cov0: ArrayLike | None = None,
               record: str | Iterable[str] = ()) -> FilterResult:
        """Run the filter over observations (T, m) or (B, T, m); NaN = missing. See :class:`FilterResult`.

        The prior is N(``mean0``, ``cov0``), by default N(0, c·I) with c from
        :func:`~rrnn_net.filters.stability.default_prior_variance` at this
        filter's step: 1, or the broadest variance forward Euler integrates
        stably where 1 is too broad (as in the compiled network).
        ``record="covariance"`` also keeps P(t_k) (B, T, N, N) in ``cov``.
        """
        keep_cov = "covariance" in recorded_outputs(record, ("covariance",))
        model = self.model
        y, batched = check_observations(observations, model.n_obs)
        batch, n_steps, n_obs = y.shape
        n = model.n_hidden
        if cov0 is None:
            cov0 = default_prior_variance(model, step=self.step) * np.eye(n)
        mean, cov = initial_belief(model, batch, mean0, cov0)
        repairs = np.zeros(batch, dtype=np.int64)
        h = self.step
        belief = ContinuousNoiseBelief(self.noise, model, batch) if self.noise is not None else None
        noise_variance = np.empty((batch, n_steps, n_obs)) if belief is not None else None

        predicted_obs = np.empty((batch, n_steps, n_obs))
        correction = np.empty((batch, n_steps, n))
        means = np.empty((batch, n_steps, n))
        loglik = np.empty((batch, n_steps))
        covs = np.empty((batch, n_steps, n, n)) if keep_cov else None

        for k in range(n_steps):
            sample = y[:, k]
            observed = ~np.isnan(sample)
            precision = self.rhs.masked_precision(observed) if belief is None else None
            feedback_integral = np.zeros((batch, n))
            evidence = np.zeros(batch)
            # Overflow only happens when Euler diverges, which is reported below as an error.
            with np.errstate(over="ignore", invalid="ignore"):
                for substep in range(self.steps_per_sample):
                    if belief is not None:
                        precision = belief.precision(observed)
                    assert precision is not None  # the model's, or the noise belief's of this substep
                    d_mean, d_cov, d_evidence, feedback, y_hat = self.rhs(mean, cov, sample, observed, precision)
                    if belief is not None:
                        error = np.where(observed, sample - y_hat, 0.0)
                        d_alpha, d_beta, normaliser = belief.derivatives(error, observed)
                        belief.alpha = belief.alpha + h * d_alpha
                        belief.beta = belief.beta + h * d_beta
                        d_evidence = d_evidence + normaliser
                    if substep == 0:
                        predicted_obs[:, k] = y_hat
                    mean = mean + h * d_mean
                    cov = symmetrize(cov + h * d_cov)
                    evidence += h * d_evidence
                    feedback_integral += h * feedback
            _check_integration(mean, cov, evidence, y[:, k], k)
            if belief is not None:
                assert noise_variance is not None  # allocated with the belief
                noise_variance[:, k] = belief.noise
            if self.repair_covariance:
                cov, _ = cholesky_with_repair(cov, repairs)
            correction[:, k] = feedback_integral
            means[:, k] = mean
            loglik[:, k] = evidence
            if covs is not None:
                covs[:, k] = cov

        result = FilterResult(
            predicted_state=means - correction,
            predicted_obs=predicted_obs,
            prediction_error=y - predicted_obs,
            state_prediction_error=correction,
            mean=means,
            loglik=loglik,
            cov=covs,
            innovation_cov=None,
            n_psd_repairs=repairs,
            noise_variance=noise_variance,
        )
        return result if batched else result.unbatched()


def _check_integration(mean: np.ndarray, cov: np.ndarray, evidence: np.ndarray, observations: np.ndarray,
                       sample: int) -> None:
    """Raise :class:`DivergenceError` when the run has reached non-finite values at ``sample``.

    A non-finite state or covariance is forward Euler diverging; non-finite
    evidence with a finite state is observations too large for float64
    (:func:`~rrnn_net.filters._common.divergence_error` names them).
    """
    if np.isfinite(mean).all() and np.isfinite(cov).all() and not np.isfinite(evidence).all():
        raise divergence_error("ContinuousFilter", sample, observations, state_finite=True)
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise DivergenceError(
            f"the continuous filter diverged at sample {sample}: forward Euler on the Riccati equation is "
            "unstable when h * |P Gᵀ R_c⁻¹ G| > 1; use a smaller step (more substeps), a larger R "
            "or a smaller prior covariance cov0",
            sample=sample,
        )
