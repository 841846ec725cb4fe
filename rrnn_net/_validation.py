"""Small checks shared by the model and the decoders.

Each helper names the offending parameter in its error message so that a user
sees *which* argument is wrong, not where deep inside numpy it failed.
"""

from __future__ import annotations

import numpy as np

from .errors import CovarianceError, NonFiniteError, ParameterError, ShapeError, UnstableSettingError


def as_float_array(value, name: str) -> np.ndarray:
    """Convert ``value`` to a float64 array or raise :class:`ParameterError`."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None
    return array


def finite_array(value, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float64 array with only finite entries and, optionally, a given shape."""
    array = as_float_array(value, name)
    if shape is not None and array.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise NonFiniteError(f"{name} contains NaN or infinite values")
    return array


def positive_scalar(value, name: str) -> float:
    """A finite float strictly greater than zero."""
    array = as_float_array(value, name)
    if array.ndim != 0:
        raise ShapeError(f"{name} must be a scalar, got shape {array.shape}")
    if not np.isfinite(array):
        raise NonFiniteError(f"{name} must be finite, got {float(array)}")
    if array <= 0:
        raise ParameterError(f"{name} must be positive, got {float(array)}")
    return float(array)


def positive_int(value, name: str) -> int:
    """An integer >= 1 (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value}")
    return int(value)


def covariance_matrix(value, name: str, size: int, *, definite: bool) -> np.ndarray:
    """Expand a scalar, vector (diagonal) or matrix into a checked ``size`` x ``size`` covariance.

    Parameters
    ----------
    value : float, array_like of shape (size,) or (size, size)
        Scalar (isotropic), diagonal or full covariance.
    name : str
        Parameter name used in error messages.
    size : int
        Dimension of the covariance.
    definite : bool
        Require positive definiteness (``True``) or only semidefiniteness.
    """
    array = as_float_array(value, name)
    if array.ndim == 0:
        array = np.eye(size) * array
    elif array.ndim == 1:
        if array.shape != (size,):
            raise ShapeError(f"{name} given as a vector must have shape ({size},), got {array.shape}")
        array = np.diag(array)
    elif array.shape != (size, size):
        raise ShapeError(
            f"{name} must be a scalar, a ({size},) vector or a ({size}, {size}) matrix, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise NonFiniteError(f"{name} contains NaN or infinite values")
    check_covariance(array, name, definite=definite)
    return array


def check_covariance(matrix: np.ndarray, name: str, *, definite: bool) -> None:
    """Raise :class:`CovarianceError` unless ``matrix`` (..., n, n) is symmetric PSD (or PD)."""
    scale = max(1.0, float(np.max(np.abs(matrix)))) if matrix.size else 1.0
    if not np.allclose(matrix, np.swapaxes(matrix, -1, -2), rtol=0.0, atol=1e-10 * scale):
        raise CovarianceError(f"{name} must be symmetric")
    eigenvalues = np.linalg.eigvalsh(matrix)
    floor = -1e-12 * scale
    if definite and np.any(eigenvalues <= 0):
        raise CovarianceError(f"{name} must be positive definite (smallest eigenvalue {eigenvalues.min():.3g})")
    if np.any(eigenvalues < floor):
        raise CovarianceError(f"{name} must be positive semidefinite (smallest eigenvalue {eigenvalues.min():.3g})")


def check_euler_step(step: float, tau: float) -> None:
    """Raise :class:`UnstableSettingError` unless the Euler step is below 2τ.

    Forward Euler on the leak term −x/τ is unstable once h ≥ 2τ.
    """
    if step >= 2 * tau:
        raise UnstableSettingError(f"Euler step h = {step:g} s must be below 2*tau = {2 * tau:g} s; "
                                   "use more substeps, a smaller dt or a larger tau")


def steps_per_interval(interval: float, step: float) -> int:
    """Number of Euler steps of length ``step`` in one sampling ``interval``; they must divide exactly."""
    ratio = interval / step
    steps = round(ratio)
    if steps < 1 or abs(ratio - steps) > 1e-9 * ratio:
        raise UnstableSettingError(f"dt = {step:g} s must divide the sampling interval {interval:g} s")
    return steps
