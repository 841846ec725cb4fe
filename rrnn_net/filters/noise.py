"""Online estimation of the observation noise: a variational-Bayes adaptive Kalman update.

With ``noise="adaptive"`` a discrete filter treats each channel's observation
noise variance r_j as unknown, with an inverse-gamma belief IG(α_j, β_j)
carried from sample to sample (Särkkä & Nummenmaa 2009, IEEE TAC 54:596):

* prediction: α⁻ = ρ α, β⁻ = ρ β with ρ = exp(−Δ/memory), so the belief
  forgets old samples over ``memory`` seconds;
* update of an observed channel: α = α⁻ + ½ and, starting from r̂ = β⁻/α and
  iterated a few times with S = H P̂ Hᵀ + diag(r̂), gain P_xy S⁻¹ and
  β = β⁻ + ½ [(r̂ S⁻¹ ε)_j² + r̂_j − r̂_j² (S⁻¹)_jj], r̂ = β/α:
  β gains ½ E[(y_j − h_j(x))²] under the updated state (for a nonlinear h the
  filter's own linearisation: H P̂ Hᵀ = S_model − R).

The state update uses the final r̂; the evidence of the sample is log N(ε; 0,
H P̂ Hᵀ + diag(β⁻/α⁻)), a proper predictive density with the noise predicted
before the sample was seen. The prior at t = 0 is centred on the model's R,
weighted like ``prior_samples`` samples.

The continuous filter (and the compiled network) runs the same belief as
differential equations, one channel at a time, so that each channel's
precision unit needs only its own error and gate
(:class:`ContinuousNoiseBelief`): per unit time, with r̂ = β/α,

* dα/dt = g_j / (2Δ) − α/memory,
* dβ/dt = g_j ε_j² / (2Δ) − β/memory,

so that per sample α gains ½ and β half the interval's mean of ε_j². The
error of a held sample shrinks over its interval as the filter corrects
towards it, and that mean is an unbiased estimate of r: for one channel of a
linear model with a static state, ε(t) = ε₀/(1 + ρ t/Δ) with ρ = v₀/r (v₀ the
predicted variance of the observation, E ε₀² = r + v₀), so
E[(1/Δ)∫ε² dt] = (r + v₀)/(1 + ρ) = r. The predicted variance thus enters
through the filter's own correction, with no unit computing it (the
discrete update's posterior residual and variance, applied at every instant
of the interval, would count that correction twice and underestimate r by
a quarter at ρ = 1). The error units weigh ε by λ_j = α/(β Δ), and the
evidence rate gains the normaliser −½ g_j log(2π r̂)/Δ, which no longer is a
constant.

Examples
--------
>>> import numpy as np
>>> from rrnn_net import UKF, GenerativeRNN
>>> model = GenerativeRNN.oscillator(4, 2, observation_noise=0.01, seed=0)
>>> _, y = model.simulate(400, seed=1)
>>> noisy = y + np.random.default_rng(2).normal(0.0, 0.3, y.shape)  # r = 0.09 + 0.01, not 0.01
>>> result = UKF(model, noise="adaptive").filter(noisy)
>>> bool(np.all(np.abs(result.noise_variance[0, -100:].mean(axis=0) / 0.1 - 1) < 0.3))  # (B, T, m)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import positive_int, positive_scalar, shorten
from ..errors import ParameterError
from ..model import GenerativeRNN
from ._common import MaskedInnovation

__all__ = ["NOISE_MODES", "ContinuousNoiseBelief", "NoiseAdaptation", "noise_adaptation"]

#: The observation-noise modes of the discrete filters.
NOISE_MODES = ("fixed", "adaptive")


@dataclass(frozen=True)
class NoiseAdaptation:
    """Settings of the online noise estimate.

    Attributes
    ----------
    memory : float
        Forgetting time constant in seconds: the estimate follows changes of
        the noise on this time scale (ρ = exp(−Δ/memory) per sample).
    prior_samples : float
        Weight of the prior (centred on the model's R) in samples, 2 α₀.
    iterations : int
        Fixed-point iterations of the variational update per sample.
    """

    memory: float = 2.0
    prior_samples: float = 10.0
    iterations: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "memory", positive_scalar(self.memory, "memory", unit="second"))
        object.__setattr__(self, "prior_samples", positive_scalar(self.prior_samples, "prior_samples"))
        object.__setattr__(self, "iterations", positive_int(self.iterations, "iterations"))


def noise_adaptation(noise: str | NoiseAdaptation, model: GenerativeRNN) -> NoiseAdaptation | None:
    """``None`` for ``"fixed"``, the settings for ``"adaptive"`` or a :class:`NoiseAdaptation`.

    Raises
    ------
    ParameterError
        An unknown mode, or adaptation for a model whose R is not diagonal
        (the estimate has one variance per channel).
    """
    if isinstance(noise, NoiseAdaptation):
        settings = noise
    elif not isinstance(noise, str) or noise not in NOISE_MODES:
        raise ParameterError(f"noise must be one of {NOISE_MODES} or a NoiseAdaptation, got {shorten(noise)}")
    elif noise == "fixed":
        return None
    else:
        settings = NoiseAdaptation()
    if np.any(model.R != np.diag(np.diag(model.R))):
        raise ParameterError("noise='adaptive' estimates one variance per channel: the model's R must be diagonal")
    return settings


class NoiseBelief:
    """The inverse-gamma beliefs (α, β) of a batch, shape (B, m) each, and the variational update."""

    def __init__(self, settings: NoiseAdaptation, model: GenerativeRNN, batch: int) -> None:
        self.settings = settings
        self.model_noise = np.diag(model.R)
        self.alpha = np.full((batch, model.n_obs), settings.prior_samples / 2.0)
        self.beta = self.alpha * self.model_noise
        self.retain = math.exp(-model.sample_interval / settings.memory)

    def update(self, mask: MaskedInnovation, innovation_cov: np.ndarray, cross_cov: np.ndarray, error: np.ndarray,
               repairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One sample: gain (B, n, m), evidence (B,), S (B, m, m) and the noise estimate r̂ (B, m).

        ``innovation_cov`` is the model's S (with its R), ``cross_cov`` and
        ``error`` are already masked. The iteration is Särkkä & Nummenmaa's:
        the gain of the last pass uses r̂ = β/α from the pass before.
        """
        observed = mask.observed.astype(np.float64)
        alpha_prior, beta_prior = self.retain * self.alpha, self.retain * self.beta
        self.alpha = alpha_prior + 0.5 * observed
        projected = innovation_cov - np.diag(self.model_noise)  # H P̂ Hᵀ
        # The evidence: the noise as predicted before the sample was seen.
        predicted = mask.innovation_cov(_with_noise(projected, beta_prior / alpha_prior))
        _, loglik, _ = mask.gain_and_loglik(cross_cov, predicted, error, repairs)
        noise = beta_prior / self.alpha
        for _ in range(self.settings.iterations):
            # H P̂ Hᵀ + diag(r̂) with r̂ > 0 is positive definite: one inverse serves gain and update.
            S = mask.innovation_cov(_with_noise(projected, noise))
            precision = np.linalg.inv(S)
            gain = cross_cov @ precision
            residual = noise * (precision @ error[..., None])[..., 0]  # y − H μ = R S⁻¹ ε
            spread = noise - noise**2 * np.diagonal(precision, axis1=-2, axis2=-1)  # diag(H P Hᵀ) = R − R S⁻¹ R
            self.beta = beta_prior + 0.5 * observed * (residual**2 + spread)
            noise = self.beta / self.alpha
        return gain, loglik, S, noise


def _with_noise(projected: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """H P̂ Hᵀ (B, m, m) plus diag(r̂) (B, m)."""
    return projected + noise[..., :, None] * np.eye(noise.shape[-1])


class ContinuousNoiseBelief:
    """The inverse-gamma beliefs (α, β), shape (B, m) each, as the continuous filter integrates them.

    Parameters
    ----------
    settings : NoiseAdaptation
        ``iterations`` does not apply (the update is a differential equation).
    model : GenerativeRNN
        Its diagonal R centres the prior; Δ scales the rates.
    batch : int
    """

    def __init__(self, settings: NoiseAdaptation, model: GenerativeRNN, batch: int) -> None:
        self.settings = settings
        self.sample_interval = model.sample_interval
        self.alpha = np.full((batch, model.n_obs), settings.prior_samples / 2.0)
        self.beta = self.alpha * np.diag(model.R)

    @property
    def noise(self) -> np.ndarray:
        """r̂ = β/α (B, m)."""
        return self.beta / self.alpha

    def precision(self, observed: np.ndarray) -> np.ndarray:
        """Λ = diag(g_j α/(β Δ)) (B, m, m) of the observed channels."""
        rate = np.where(observed, self.alpha / (self.beta * self.sample_interval), 0.0)
        return rate[..., :, None] * np.eye(rate.shape[-1])

    def derivatives(self, error: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """dα/dt, dβ/dt and the evidence normaliser rate −½ Σ_j g_j log(2π r̂_j)/Δ, shapes (B, m), (B, m), (B,).

        ``error`` is ε (zero where missing), (B, m), at the start of the step.
        """
        gate = observed.astype(np.float64)
        interval, memory = self.sample_interval, self.settings.memory
        d_alpha = gate / (2.0 * interval) - self.alpha / memory
        d_beta = gate * error**2 / (2.0 * interval) - self.beta / memory
        normaliser = -0.5 * np.sum(gate * np.log(2.0 * np.pi * self.noise), axis=-1) / interval
        return d_alpha, d_beta, normaliser
