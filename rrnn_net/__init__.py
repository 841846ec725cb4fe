"""rrnn_net: recognizing recurrent neural networks (Bitzer & Kiebel 2012) as explicit, runnable graphs.

A :class:`GenerativeRNN` describes a signal; its Bayesian inverse (the rRNN) is
available as batched numpy decoders (:class:`UKF`, :class:`EKF`,
:class:`ContinuousFilter`), compiles into a networkx graph
(:func:`compile_rrnn`) and runs on a backend (``rrnn_net.backends.run``:
Brian2, or the numpy reference evaluation; imported on demand because Brian2
is slow to import). A bank of rRNNs
recognises sequences online (:class:`RRNNClassifier`).
"""

from .errors import (
    CircuitError,
    CovarianceError,
    DecodeError,
    DivergenceError,
    MissingFolderError,
    ModelTypeError,
    NonFiniteError,
    NotFittedError,
    NotNumericError,
    OutOfMemoryError,
    OutputConflictError,
    ParameterError,
    RRNNError,
    ShapeError,
    SweepError,
    UnitError,
    UnsafeDirectoryError,
    UnstableSettingError,
)
from .filters import EKF, UKF, ContinuousFilter, FilterResult
from .graph import GraphSchemaError, compile_baseline, compile_rrnn, load_graph, save_graph
from .model import GenerativeRNN
from .recognition import RRNNClassifier

__version__ = "0.1.0"

__all__ = [
    "GenerativeRNN",
    "UKF",
    "EKF",
    "ContinuousFilter",
    "FilterResult",
    "compile_rrnn",
    "compile_baseline",
    "save_graph",
    "load_graph",
    "GraphSchemaError",
    "RRNNClassifier",
    "RRNNError",
    "ParameterError",
    "ShapeError",
    "NonFiniteError",
    "CovarianceError",
    "UnstableSettingError",
    "DivergenceError",
    "ModelTypeError",
    "NotNumericError",
    "NotFittedError",
    "UnitError",
    "DecodeError",
    "CircuitError",
    "OutputConflictError",
    "MissingFolderError",
    "UnsafeDirectoryError",
    "OutOfMemoryError",
    "SweepError",
]
