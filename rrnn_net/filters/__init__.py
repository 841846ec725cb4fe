"""Batched numpy decoders that invert a GenerativeRNN.

All take observations (T, m) or (B, T, m) with NaN for missing samples and
return a :class:`FilterResult`. UKF and EKF can estimate the observation
noise online (``noise="adaptive"``, :mod:`~rrnn_net.filters.noise`).
:func:`filter_in_chunks` runs one over a long
recording in time chunks; :mod:`~rrnn_net.filters.stability` and
:func:`average_filter_gain` describe the continuous filter the compiled network
runs.
"""

from .chunked import filter_chunks, filter_in_chunks
from .continuous import ContinuousFilter, ContinuousRHS
from .ekf import EKF
from .gain import GAIN_AVERAGE_DEFAULTS, average_filter_gain
from .noise import NOISE_MODES, NoiseAdaptation
from .result import FilterResult, SmootherResult
from .ukf import UKF, merwe_weights

__all__ = ["UKF", "EKF", "ContinuousFilter", "ContinuousRHS", "FilterResult", "SmootherResult", "merwe_weights",
           "filter_chunks", "filter_in_chunks", "average_filter_gain", "GAIN_AVERAGE_DEFAULTS", "NoiseAdaptation",
           "NOISE_MODES"]
