"""Exceptions raised by rrnn_net.

Every error the library raises on bad input derives from :class:`RRNNError`
and from the matching built-in (``ValueError``), so callers can catch either.
"""

from __future__ import annotations

import sklearn.exceptions

__all__ = [
    "RRNNError",
    "ParameterError",
    "ShapeError",
    "NonFiniteError",
    "CovarianceError",
    "UnstableSettingError",
    "DivergenceError",
    "ModelTypeError",
    "NotNumericError",
    "UnitError",
    "NotFittedError",
    "DecodeError",
    "CircuitError",
    "OutputConflictError",
    "MissingFolderError",
    "UnsafeDirectoryError",
    "OutOfMemoryError",
    "SweepError",
]


class RRNNError(Exception):
    """Base class of every error rrnn_net raises on purpose."""


class ParameterError(RRNNError, ValueError):
    """A parameter has a wrong value (shape, finiteness, range, type)."""


class ShapeError(ParameterError):
    """An array has the wrong number of dimensions or the wrong sizes."""


class NonFiniteError(ParameterError):
    """A parameter contains NaN or infinity where only finite numbers are allowed."""


class CovarianceError(ParameterError):
    """A covariance matrix is not symmetric or not positive (semi)definite."""


class UnstableSettingError(ParameterError):
    """A numerical setting (step size, time constant) would make integration unstable."""


class DivergenceError(UnstableSettingError, NonFiniteError):
    """A run reached non-finite values: a filter's estimate, Euler on the Riccati equation, a training loss.

    Every decoder and trainer raises this one error when it diverges; it is an
    :class:`UnstableSettingError` (a smaller step, learning rate or prior
    usually cures it) and a :class:`NonFiniteError`. A decoder's error also
    names the data when they are the cause (observations too large for
    float64 arithmetic).

    Attributes
    ----------
    sample : int or None
        The sample (0-based) at which a decoder diverged, when it says.
    """

    def __init__(self, message: str, *, sample: int | None = None) -> None:
        super().__init__(message)
        self.sample = sample


class ModelTypeError(ParameterError, TypeError):
    """An argument that must be a model (a GenerativeRNN) is something else."""


class NotNumericError(ParameterError, TypeError):
    """Numbers were expected and something else came: text, complex values, or other objects."""


class UnitError(ParameterError):
    """A Brian2 quantity of the wrong physical dimension (a voltage for a time constant), or any for a pure number."""


class NotFittedError(RRNNError, sklearn.exceptions.NotFittedError):
    """A classifier was used before ``fit``; scikit-learn's error too, so its tools recognise it."""


class DecodeError(RRNNError, ValueError):
    """An observations file that cannot be read, or decoding options that do not fit together.

    ``rrnn decode`` reports it (and every other :class:`RRNNError`) in one line, with exit status 1.
    """


class CircuitError(RRNNError, RuntimeError):
    """A Brian2 circuit used out of order: driven twice, read before it ran, or run for a length its inputs lack."""


class OutputConflictError(RRNNError, FileExistsError):
    """An output that would replace a file it must not.

    That is an input of the same command, an existing output (the command
    line overwrites only with ``--force``), or a demo folder holding another
    run's files.
    """


class MissingFolderError(RRNNError, FileNotFoundError):
    """An output file whose folder does not exist.

    Raised before any work; nothing is created, so a mistyped path does not
    become a new folder.
    """


class UnsafeDirectoryError(RRNNError, PermissionError):
    """A folder whose contents get executed (a C++ standalone build) that another user could have written to.

    It is owned by someone else, or writable by group or others.
    """


class OutOfMemoryError(RRNNError, MemoryError):
    """A requested result that would not fit in memory; the message says how large it would be."""


class SweepError(RRNNError, RuntimeError):
    """Runs of a sweep raised; the records of the runs that finished are kept.

    Attributes
    ----------
    records : list of dict
        One record per finished run, in grid-then-seed order (as :class:`~rrnn_net.sweep.SweepResult` holds them).
    failures : list of (dict, int, BaseException)
        The parameters, seed and exception of each failed run, in the same order.
    """

    def __init__(self, message: str, records: list[dict], failures: list[tuple[dict, int, BaseException]]) -> None:
        super().__init__(message)
        self.records = records
        self.failures = failures
