"""Input checks shared by the teacher-student modules."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array
from ..errors import NonFiniteError, ShapeError

__all__ = ["as_batch"]


def as_batch(values, name: str, n_channels: int | None = None, *, allow_nan: bool = False) -> np.ndarray:
    """Check a batch-first array (B, T, channels) and return it as float64.

    A 2-D array (B, T) is read as one channel. NaN (a missing sample) is
    refused unless ``allow_nan``; infinity always is.

    Examples
    --------
    >>> as_batch(np.zeros((4, 10)), "X").shape
    (4, 10, 1)
    """
    array = as_float_array(values, name)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or 0 in array.shape:
        raise ShapeError(f"{name} must be batch-first (batch, time, channels) with no empty axis, "
                         f"got shape {np.shape(values)}")
    if n_channels is not None and array.shape[-1] != n_channels:
        raise ShapeError(f"{name} must have {n_channels} channel(s) on its last axis, got shape {array.shape}")
    if np.any(np.isinf(array)):
        raise NonFiniteError(f"{name} contains infinite values")
    if not allow_nan and np.any(np.isnan(array)):
        raise NonFiniteError(f"{name} contains NaN values")
    return array
