"""The teacher-student modules' reading of input arrays: batch-first, a 2-D array is one channel."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_observations

__all__ = ["as_batch"]


def as_batch(values: ArrayLike, name: str, n_channels: int | None = None, *, allow_nan: bool = False) -> np.ndarray:
    """Check a batch-first array (B, T, channels) and return it as float64.

    A 2-D array (B, T) is read as one channel. NaN (a missing sample) is
    refused unless ``allow_nan``; infinity always is.

    Examples
    --------
    >>> as_batch(np.zeros((4, 10)), "X").shape
    (4, 10, 1)
    """
    return check_observations(values, n_channels, name=name, allow_nan=allow_nan, two_d="channel")[0]
