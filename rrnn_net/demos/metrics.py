"""Small metrics shared by the demos."""

from __future__ import annotations

import numpy as np


def time_to_tolerance(curve: np.ndarray, tolerance: float, sample_interval: float) -> float | None:
    """First time (in the unit of ``sample_interval``) from which ``curve`` stays below ``tolerance``.

    Sample k (0-based) lies at (k + 1)·``sample_interval``. None when the
    curve is still at or above the tolerance at its last sample.
    """
    above = np.nonzero(curve >= tolerance)[0]
    if above.size == 0:
        return 0.0
    if above[-1] == curve.size - 1:
        return None
    return float((above[-1] + 2) * sample_interval)
