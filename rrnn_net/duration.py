"""How long a recording of each class lasts: the length part of a class's generative model.

A generative RNN scores the samples of a recording, p(y_1..T | k), but says
nothing about T. Where the recordings of a class have a typical length (a
gesture, an uttered vowel) the length is evidence too, and a generative
classifier that ignores it throws it away. :class:`DurationModel` completes
each class model with a log-normal length, log T | k ~ N(μ_k, s²), with the
class means μ_k and one pooled spread s (the spread belongs to how precisely
anything is timed, as the noise levels belong to the sensors; cf.
``tying="noise"``). Then p(y_1..T, T | k) = p(y_1..T | k) p(T | k).

Online, after t samples of a recording that has not ended, what is known is
T ≥ t: :meth:`DurationModel.log_prob_online` gives log P(T ≥ t | k) before
a recording's last sample and log p(T | k) from it on. Where every class
has the same μ_k (equal-length training recordings) the term is the same
for every class and changes no posterior.

Lengths are counted in samples, ``t`` samples lasting t·Δ; a log-normal
length is scale-free, so the model in seconds is the same up to the shift
log Δ of every μ_k. Measured in docs/learning.md ("Recording lengths").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from ._validation import as_float_array, positive_int
from .errors import NonFiniteError, ParameterError, ShapeError

__all__ = ["LOG_STD_FLOOR", "DurationModel", "fit_duration_model"]

#: Smallest spread s of log T: lengths within a class never count as more precise than ±5 %.
LOG_STD_FLOOR = 0.05


@dataclass(frozen=True)
class DurationModel:
    """Log-normal length of each class's recordings: log T | k ~ N(log_mean[k], log_std²).

    Parameters
    ----------
    log_mean : ndarray, shape (n_classes,)
        μ_k, the mean log length in samples of class k's recordings.
    log_std : float
        s, the predictive spread of log T (the same for every class), > 0.

    Examples
    --------
    Two classes lasting about 50 and 200 samples; a recording of 60 samples,
    the posterior from its length alone after 10, 55 and all 60 samples:

    >>> from scipy.special import softmax
    >>> model = DurationModel(log_mean=np.log([50.0, 200.0]), log_std=0.2)
    >>> np.round(softmax(model.log_prob_online([60], 60), axis=-1)[0, [9, 54, 59]], 2)
    array([[0.5 , 0.5 ],
           [0.25, 0.75],
           [1.  , 0.  ]])
    """

    log_mean: np.ndarray
    log_std: float

    def __post_init__(self) -> None:
        log_mean = as_float_array(self.log_mean, "log_mean")
        if log_mean.ndim != 1 or log_mean.size == 0:
            raise ShapeError(f"log_mean must be one mean log length per class (n_classes,), got shape "
                             f"{log_mean.shape}")
        if not np.all(np.isfinite(log_mean)):
            raise NonFiniteError("log_mean must be finite")
        log_std = as_float_array(self.log_std, "log_std")
        if log_std.ndim != 0 or not np.isfinite(log_std) or log_std <= 0:
            raise ParameterError(f"log_std must be a finite number > 0, got {self.log_std!r}")
        object.__setattr__(self, "log_mean", log_mean)
        object.__setattr__(self, "log_std", float(log_std))

    @property
    def n_classes(self) -> int:
        return int(self.log_mean.size)

    def log_prob(self, lengths: ArrayLike) -> np.ndarray:
        """log p(T = length | k), shape (n_sequences, n_classes): the log-normal density at each length."""
        lengths = _check_lengths(lengths)
        log_length = np.log(lengths)[:, None]
        return (norm.logpdf((log_length - self.log_mean) / self.log_std) - np.log(self.log_std) - log_length)

    def log_prob_online(self, lengths: ArrayLike, n_timepoints: int) -> np.ndarray:
        """What each class's length model says after every sample, shape (n_sequences, n_timepoints, n_classes).

        After t < length samples: log P(T ≥ t | k) (the recording goes on);
        after t ≥ length samples: log p(T = length | k) (it ended there).

        Parameters
        ----------
        lengths : array_like of int, shape (n_sequences,)
            Samples of each recording, at most ``n_timepoints``.
        n_timepoints : int
            Samples of the (padded) batch.
        """
        lengths = _check_lengths(lengths)
        n_timepoints = positive_int(n_timepoints, "n_timepoints")
        if np.any(lengths > n_timepoints):
            raise ShapeError(f"lengths must be at most n_timepoints = {n_timepoints}, got {int(lengths.max())}")
        samples = np.arange(1, n_timepoints + 1, dtype=float)
        # P(T ≥ t) of a length counted in whole samples: the log-normal's mass above t − ½.
        going_on = norm.logsf((np.log(samples - 0.5)[:, None] - self.log_mean) / self.log_std)  # (T, K)
        ended = self.log_prob(lengths)  # (n, K)
        before_end = samples[None, :] < lengths[:, None]  # (n, T)
        return np.where(before_end[..., None], going_on[None], ended[:, None, :])


def fit_duration_model(lengths: ArrayLike, codes: ArrayLike, n_classes: int) -> DurationModel:
    """The log-normal length of each class, from its recordings' lengths.

    μ_k is the mean log length of class k; the spread pools the classes,
    s² = Σ (log T − μ_k)² / (n − K), floored at :data:`LOG_STD_FLOOR`, and is
    widened to s·√(1 + K/n) for the uncertainty of the estimated means (the
    predictive spread of a new recording, averaged over the classes so that
    equal means stay equal terms).

    Parameters
    ----------
    lengths : array_like of int, shape (n_sequences,)
        Samples of each training recording (> 0).
    codes : array_like of int, shape (n_sequences,)
        Class index of each, in [0, n_classes); every class needs a recording.
    n_classes : int

    Returns
    -------
    DurationModel

    Examples
    --------
    >>> model = fit_duration_model([40, 60, 200, 300], [0, 0, 1, 1], 2)
    >>> np.round(np.exp(model.log_mean))
    array([ 49., 245.])
    """
    lengths = _check_lengths(lengths)
    n_classes = positive_int(n_classes, "n_classes")
    codes = np.asarray(codes)
    if codes.shape != lengths.shape:
        raise ShapeError(f"codes must have one class index per length {lengths.shape}, got shape {codes.shape}")
    if not np.issubdtype(codes.dtype, np.integer) or np.any((codes < 0) | (codes >= n_classes)):
        raise ParameterError(f"codes must be class indices in [0, {n_classes})")
    counts = np.bincount(codes, minlength=n_classes)
    if np.any(counts == 0):
        raise ParameterError(f"every class needs a recording; class(es) {np.flatnonzero(counts == 0).tolist()} "
                             f"have none")
    log_length = np.log(lengths)
    log_mean = np.bincount(codes, weights=log_length, minlength=n_classes) / counts
    residual = log_length - log_mean[codes]
    spread = np.sqrt(np.sum(residual**2) / max(lengths.size - n_classes, 1))
    return DurationModel(log_mean=log_mean,
                         log_std=max(spread, LOG_STD_FLOOR) * np.sqrt(1.0 + n_classes / lengths.size))


def _check_lengths(lengths: ArrayLike) -> np.ndarray:
    array = as_float_array(lengths, "lengths")
    if array.ndim != 1 or array.size == 0:
        raise ShapeError(f"lengths must be one length per sequence (n_sequences,), got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 1) or np.any(array != np.round(array)):
        raise ParameterError("lengths must be whole numbers of samples >= 1")
    return array
