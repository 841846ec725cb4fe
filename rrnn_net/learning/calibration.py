"""Calibration of class posteriors: do predicted probabilities match observed frequencies?"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, positive_int
from ..errors import ParameterError, ShapeError

__all__ = ["expected_calibration_error"]


def expected_calibration_error(proba: ArrayLike, true_index: ArrayLike, *, n_bins: int = 10) -> float:
    """Expected calibration error (ECE) of the top-class confidence, equal-width bins.

    ECE = Σ_b (n_b / n) |accuracy_b − confidence_b| over the bins of the
    predicted class's probability (Guo et al. 2017); 0 for calibrated posteriors.

    Parameters
    ----------
    proba : array_like, shape (n_samples, n_classes)
        Posterior over classes of each sample (rows sum to one).
    true_index : array_like of int, shape (n_samples,)
        Column of the true class.
    n_bins : int
        Bins of (0, 1].

    Returns
    -------
    float

    Examples
    --------
    >>> expected_calibration_error([[0.9, 0.1], [0.8, 0.2]], [0, 1])
    0.45
    """
    proba = as_float_array(proba, "proba")
    true_index = np.asarray(true_index)
    n_bins = positive_int(n_bins, "n_bins")
    if proba.ndim != 2 or true_index.shape != (proba.shape[0],) or proba.shape[0] == 0:
        raise ShapeError(f"proba must be (n_samples, n_classes) and true_index (n_samples,), got {proba.shape} "
                         f"and {true_index.shape}")
    if not np.issubdtype(true_index.dtype, np.integer) or np.any((true_index < 0) | (true_index >= proba.shape[1])):
        raise ParameterError("true_index must hold column indices of proba")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ParameterError("proba must hold finite non-negative probabilities")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == true_index
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    error = 0.0
    for index in np.unique(bins):
        members = bins == index
        error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(round(error, 12))
