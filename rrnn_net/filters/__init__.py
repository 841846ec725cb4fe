"""Batched numpy decoders that invert a GenerativeRNN.

All take observations (T, m) or (B, T, m) with NaN for missing samples and
return a :class:`FilterResult`.
"""

from .continuous import ContinuousFilter, ContinuousRHS
from .ekf import EKF
from .result import FilterResult, SmootherResult
from .ukf import UKF, merwe_weights

__all__ = ["UKF", "EKF", "ContinuousFilter", "ContinuousRHS", "FilterResult", "SmootherResult", "merwe_weights"]
