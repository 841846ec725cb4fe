"""Pieces shared by the discrete decoders: prior checks, masked updates, SPD repair."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import lapack

from .._validation import check_covariance, finite_array
from ..errors import DivergenceError, ShapeError
from ..model import GenerativeRNN

_LOG_2PI = np.log(2.0 * np.pi)


def initial_belief(model: GenerativeRNN, batch: int, mean0: ArrayLike | None,
                   cov0: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """Prior mean (B, N) and covariance (B, N, N) at t = 0; defaults N(0, I)."""
    n = model.n_hidden
    if mean0 is None:
        mean = np.zeros((batch, n))
    else:
        mean0 = finite_array(mean0, "mean0")
        if mean0.shape not in ((n,), (batch, n)):
            raise ShapeError(f"mean0 must have shape ({n},) or ({batch}, {n}), got {mean0.shape}")
        mean = np.broadcast_to(mean0, (batch, n)).copy()
    if cov0 is None:
        cov = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    else:
        cov0 = finite_array(cov0, "cov0")
        if cov0.shape not in ((n, n), (batch, n, n)):
            raise ShapeError(f"cov0 must have shape ({n}, {n}) or ({batch}, {n}, {n}), got {cov0.shape}")
        check_covariance(cov0, "cov0", definite=True)
        cov = np.broadcast_to(cov0, (batch, n, n)).copy()
    return mean, cov


def divergence_error(decoder: str, sample: int, observations: np.ndarray, *, state_finite: bool) -> DivergenceError:
    """The error for a run whose state estimate or log-likelihood stopped being finite at ``sample``.

    With the state still finite only the evidence overflowed: the squared
    prediction error of observations far outside the model's range, so the
    data is named, not the filter. Otherwise the filter diverged; the size
    of the observations is given too, as they may be the cause.

    Parameters
    ----------
    decoder : str
        Who ran (``"UKF"``), for the message.
    sample : int
        The sample (0-based) at which it happened.
    observations : ndarray
        The observations of that sample, every trial (NaN = missing).
    state_finite : bool
        Whether the state estimate is still finite.
    """
    observed = np.abs(observations[~np.isnan(observations)])
    largest = f"{observed.max():.3g}" if observed.size else "nothing (all missing)"
    if state_finite:
        return DivergenceError(
            f"{decoder}: the log-likelihood of sample {sample} is not finite although the state estimate is: the "
            f"observations there reach |y| = {largest}, too far from the model's predictions for float64 "
            "arithmetic; check the data's units or scale (standardise it)", sample=sample)
    return DivergenceError(f"{decoder} diverged at sample {sample}: the state estimate is no longer finite "
                           f"(the observations there reach |y| = {largest}; data far outside the model's range "
                           "diverges it too: check their units or scale)", sample=sample)


def symmetrize(matrix: np.ndarray) -> np.ndarray:
    """(A + Aᵀ)/2 over the last two axes."""
    return 0.5 * (matrix + matrix.mT)


def cholesky(cov: np.ndarray, upper: bool = False) -> np.ndarray:
    """Cholesky factors of (B, n, n), lower (L Lᵀ = cov) or upper (Uᵀ U = cov).

    Raises ``numpy.linalg.LinAlgError`` when one fails.

    A single trial goes straight to LAPACK: numpy's wrapper costs more than
    the factorisation itself at these sizes, and one-trial filtering is a hot path.
    """
    if cov.shape[0] == 1:
        factor, info = lapack.dpotrf(cov[0], lower=0 if upper else 1, clean=1)
        if info != 0:
            raise np.linalg.LinAlgError("matrix is not positive definite")
        return factor[None]
    return np.linalg.cholesky(cov, upper=upper)


def cholesky_with_repair(
    cov: np.ndarray, repairs: np.ndarray, upper: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky factors (lower, or upper) of a batch of covariances (B, n, n), repairing failures.

    A matrix whose factorisation fails is replaced by its nearest symmetric
    matrix with eigenvalues floored at a small positive value, and the repair
    is counted in ``repairs`` (B,) in place. Returns the (possibly repaired)
    covariances and their factors.
    """
    try:
        return cov, cholesky(cov, upper)
    except np.linalg.LinAlgError:
        pass
    eigenvalues, eigenvectors = np.linalg.eigh(symmetrize(cov))
    scale = np.maximum(np.abs(eigenvalues).max(axis=-1, keepdims=True), 1.0)
    floor = 1e-9 * scale
    broken = np.any(eigenvalues <= floor, axis=-1)
    eigenvalues = np.maximum(eigenvalues, floor)
    repaired = (eigenvectors * eigenvalues[..., None, :]) @ eigenvectors.mT
    cov = np.where(broken[:, None, None], symmetrize(repaired), cov)
    repairs += broken
    return cov, cholesky(cov, upper)


class MaskedInnovation:
    """Innovation statistics restricted to the observed channels of each trial.

    For a trial whose channels ``o`` are observed and ``u`` missing, the exact
    update uses only S_oo. Rather than looping over trials, rows and columns of
    the missing channels are replaced by the identity in S (so S becomes
    block-diagonal [S_oo, I]) and their errors and cross-covariances by zero:
    the gain then has zero columns for missing channels and equals
    P_xo S_oo⁻¹ on the observed ones, and the log-determinant and quadratic
    form reduce to those of S_oo.
    """

    def __init__(self, observed: np.ndarray) -> None:
        self.observed = observed  # (B, m) bool
        self.all_observed = bool(observed.all())
        self.n_observed = observed.sum(axis=-1)

    def error(self, y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """ε with zeros on missing channels (B, m)."""
        if self.all_observed:
            return y - predicted
        return np.where(self.observed, y - predicted, 0.0)

    def innovation_cov(self, S: np.ndarray) -> np.ndarray:
        """S with missing rows/columns replaced by the identity (B, m, m)."""
        if self.all_observed:
            return S
        both = self.observed[:, :, None] & self.observed[:, None, :]
        return np.where(both, S, np.eye(S.shape[-1]))

    def cross_cov(self, cross: np.ndarray) -> np.ndarray:
        """P_xy with missing columns zeroed (B, n, m)."""
        if self.all_observed:
            return cross
        return cross * self.observed[:, None, :]

    @classmethod
    def per_step(cls, y: np.ndarray) -> list[MaskedInnovation]:
        """One mask per sample of observations (B, T, m)."""
        observed = ~np.isnan(y)
        return [cls(observed[:, k]) for k in range(y.shape[1])]

    def gain_and_loglik(
        self, cross: np.ndarray, S: np.ndarray, error: np.ndarray, repairs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kalman gain K = P_xy S⁻¹ (B, n, m), log N(ε; 0, S) over observed channels (B,), and S.

        ``cross``, ``S`` and ``error`` must already be masked. An S that is not
        positive definite is repaired and counted in ``repairs``.
        """
        S, factor = cholesky_with_repair(S, repairs)
        # m is small: one explicit inverse serves both the gain and the quadratic form.
        precision = np.linalg.inv(S)
        gain = cross @ precision
        mahalanobis = np.sum(error * (precision @ error[..., None])[..., 0], axis=-1)
        log_det = 2.0 * np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1)
        loglik = -0.5 * (mahalanobis + log_det + self.n_observed * _LOG_2PI)
        return gain, loglik, S
