"""The time-averaged Kalman gain of the continuous filter, the gain of the fixed-gain network."""

from __future__ import annotations

import numpy as np

from .._validation import check_seed, positive_int
from ..errors import ParameterError
from ..model import GenerativeRNN
from .chunked import filter_chunks
from .continuous import ContinuousFilter

__all__ = ["GAIN_AVERAGE_DEFAULTS", "average_filter_gain"]

#: Settings of :func:`average_filter_gain` used when ``compile_rrnn(gain_mode="fixed")`` gets no gain.
GAIN_AVERAGE_DEFAULTS = {"n_steps": 2000, "batch": 8, "burn_in": 200, "seed": 0}

# Samples filtered at a time: memory O(chunk·N²) instead of O(T·N²).
_GAIN_CHUNK = 250


def average_filter_gain(
    model: GenerativeRNN,
    *,
    n_steps: int = GAIN_AVERAGE_DEFAULTS["n_steps"],
    batch: int = GAIN_AVERAGE_DEFAULTS["batch"],
    burn_in: int = GAIN_AVERAGE_DEFAULTS["burn_in"],
    seed: int = GAIN_AVERAGE_DEFAULTS["seed"],
) -> np.ndarray:
    """Time-averaged gain K = ⟨P Gᵀ Λ⟩ of the continuous filter on data simulated from the model.

    The model is simulated for ``batch`` trials of ``n_steps`` samples (noise
    seeded by ``seed``), the :class:`~rrnn_net.ContinuousFilter` runs on them
    from its default prior (:func:`~rrnn_net.filters.stability.default_prior_variance`),
    and the gain P Gᵀ Λ (G = M diag φ'(μ), Λ = (R Δ)⁻¹) at every sample after the first ``burn_in`` ones is averaged
    over samples and trials. The burn-in drops the transient of P from the
    prior. This is the gain the adaptive network settles around on the data
    it was built for; it is the default of ``compile_rrnn(gain_mode="fixed")``.

    Parameters
    ----------
    model : GenerativeRNN
    n_steps, batch, burn_in, seed : int
        Samples per trial, trials, discarded initial samples, noise seed.

    Returns
    -------
    ndarray, shape (N, m)

    Examples
    --------
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> average_filter_gain(model, n_steps=300, batch=2, burn_in=50).shape
    (3, 2)
    """
    n_steps, batch, seed = positive_int(n_steps, "n_steps"), positive_int(batch, "batch"), check_seed(seed)
    if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or not 0 <= burn_in < n_steps:
        raise ParameterError(f"burn_in must be in 0..n_steps-1 = {n_steps - 1}, got {burn_in}")
    _, observations = model.simulate(n_steps, batch=batch, seed=seed)
    continuous = ContinuousFilter(model)
    precision = continuous.rhs.precision
    gain_sum = np.zeros((model.n_hidden, model.n_obs))
    for start, result in filter_chunks(continuous, observations, chunk_size=_GAIN_CHUNK):
        assert result.cov is not None  # filter_chunks records it
        kept = slice(max(burn_in - start, 0), None)
        obs_jacobian = model.M * model.rate_derivative(result.mean[:, kept])[..., None, :]
        gain_sum += np.einsum("btik,btjk->ij", result.cov[:, kept], obs_jacobian) @ precision
    return gain_sum / (batch * (n_steps - burn_in))
