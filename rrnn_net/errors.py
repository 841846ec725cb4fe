"""Exceptions raised by rrnn_net.

Every error the library raises on bad input derives from :class:`RRNNError`
and from the matching built-in (``ValueError``), so callers can catch either.
"""

from __future__ import annotations

__all__ = [
    "RRNNError",
    "ParameterError",
    "ShapeError",
    "NonFiniteError",
    "CovarianceError",
    "UnstableSettingError",
    "DivergenceError",
    "ModelTypeError",
    "DecodeError",
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
    usually cures it) and a :class:`NonFiniteError`.
    """


class ModelTypeError(ParameterError, TypeError):
    """An argument that must be a model (a GenerativeRNN) is something else."""


class DecodeError(RRNNError, ValueError):
    """An observations file that cannot be read, or decoding options that do not fit together.

    ``rrnn decode`` reports it (and every other :class:`RRNNError`) in one line, with exit status 2.
    """
