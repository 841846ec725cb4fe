"""rrnn_net: recognizing recurrent neural networks (Bitzer & Kiebel 2012) as explicit, runnable graphs.

A :class:`GenerativeRNN` describes a signal; its Bayesian inverse (the rRNN) is
available as batched numpy decoders (:class:`UKF`, :class:`EKF`,
:class:`ContinuousFilter`).
"""

from .errors import (
    CovarianceError,
    NonFiniteError,
    ParameterError,
    RRNNError,
    ShapeError,
    UnstableSettingError,
)
from .filters import EKF, UKF, ContinuousFilter, FilterResult
from .model import GenerativeRNN

__version__ = "0.1.0"

__all__ = [
    "GenerativeRNN",
    "UKF",
    "EKF",
    "ContinuousFilter",
    "FilterResult",
    "RRNNError",
    "ParameterError",
    "ShapeError",
    "NonFiniteError",
    "CovarianceError",
    "UnstableSettingError",
]
