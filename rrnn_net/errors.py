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
