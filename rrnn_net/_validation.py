"""Small checks shared by the model and the decoders.

Each helper names the offending parameter in its error message so that a user
sees *which* argument is wrong, not where deep inside numpy it failed.
"""

from __future__ import annotations

import math
import operator
import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from .errors import (
    CovarianceError,
    ModelTypeError,
    NonFiniteError,
    NotNumericError,
    OutOfMemoryError,
    ParameterError,
    ShapeError,
    UnitError,
    UnstableSettingError,
)

#: What :func:`numpy.random.default_rng` takes as a seed (and so :func:`random_generator`).
SeedLike: TypeAlias = (int | Sequence[int] | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator
                       | None)


#: Units a public argument may carry as a Brian2 quantity (times in seconds, rates in hertz), by name.
UNITS = ("second", "hertz")


def strip_unit(value: object, name: str, unit: str | None = None) -> object:
    """``value`` without its Brian2 unit, in seconds or hertz; a plain number passes unchanged.

    Brian2 is not imported here: a quantity can only come from a caller who
    already imported it.

    Raises
    ------
    UnitError
        A quantity of another dimension than ``unit`` (a dimensionless one is
        a plain number), or a dimensioned quantity where ``unit`` is None.
    """
    brian2 = sys.modules.get("brian2")
    if brian2 is None or not isinstance(value, brian2.Quantity):
        return value
    if value.is_dimensionless:
        return np.asarray(value)
    expected = getattr(brian2, unit) if unit in UNITS else None
    if expected is None:
        raise UnitError(f"{name} is a pure number, got a quantity with units: {shorten(value)}")
    if not value.has_same_dimensions(expected):
        what = "a time" if unit == "second" else "a rate"
        raise UnitError(f"{name} must be {what} (in {unit}s or as a plain number of {unit}s), got {shorten(value)}")
    return np.asarray(value / expected)


def as_float_array(value: object, name: str, *, unit: str | None = None) -> np.ndarray:
    """``value`` as a new float64 array; text and complex numbers are refused, not converted.

    numpy would read ``"0.1"`` as 0.1 and drop an imaginary part with only a
    ``ComplexWarning``: both hide a caller's mistake, so both are errors here.

    Raises
    ------
    NotNumericError
        Not numbers: text (also inside a list), complex values, other objects
        (a :class:`ParameterError` and a ``TypeError``).
    ParameterError
        Ragged nesting.

    Examples
    --------
    >>> as_float_array([1, 2.5], "x")
    array([1. , 2.5])
    >>> as_float_array("0.1", "sample_interval")
    Traceback (most recent call last):
    ...
    rrnn_net.errors.NotNumericError: sample_interval must be numeric, not text: '0.1'
    >>> as_float_array([1 + 2j], "observations")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rrnn_net.errors.NotNumericError: observations must be real numbers (Complex data not supported): got (1+2j); ...
    """
    value = strip_unit(value, name, unit)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None
    # Objects only come from mixed or unusual lists (rare, so a pass over their items costs nothing that matters).
    items = array.ravel().tolist() if array.dtype.kind in "USVOc" else []
    text = [item for item in items if isinstance(item, (str, bytes))]
    if text:
        example = next((item for item in text if not _is_number_text(item)), text[0])
        raise NotNumericError(f"{name} must be numeric, not text: {shorten(example)}")
    complex_items = [item for item in items if isinstance(item, complex)]  # tolist() gives Python complex
    if complex_items or array.dtype.kind == "c":  # the dtype too: an empty complex array holds no item to show
        number = next((item for item in complex_items if item.imag), complex_items[0] if complex_items else "none")
        # scikit-learn's phrase, which its estimator checks look for.
        raise NotNumericError(f"{name} must be real numbers (Complex data not supported): got {number}; "
                              "pass .real or abs() explicitly if that is what you mean")
    try:
        return np.array(array, dtype=np.float64)
    except TypeError as exc:  # objects that are not numbers
        raise NotNumericError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None
    except ValueError as exc:
        raise ParameterError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None


def _is_number_text(text: str | bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def finite_array(value: object, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A float64 array with only finite entries and, optionally, a given shape."""
    array = as_float_array(value, name)
    if shape is not None and array.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise NonFiniteError(f"{name} contains NaN or infinite values")
    return array


def check_observations(
    values: ArrayLike,
    n_channels: int | None = None,
    *,
    name: str = "observations",
    allow_nan: bool = True,
    two_d: str | None = "trial",
    channels_first: bool = False,
) -> tuple[np.ndarray, bool]:
    """Check observed sequences and return them as one float64 batch, and whether the input was a batch.

    Every decoder, classifier, trainer and backend checks its observations
    here, so all of them accept the same shapes and word their errors alike.

    Parameters
    ----------
    values : array_like, shape (B, T, m)
        B sequences of T samples of m channels (``channels_first``: (B, m, T),
        aeon's ``(n_samples, n_channels, n_timepoints)``). A 2-D array is read
        as ``two_d`` says.
    n_channels : int, optional
        The m required; any m when None.
    name : str
        Name of the argument in error messages.
    allow_nan : bool
        NaN marks a missing sample (default); False refuses it. Infinity is
        always refused.
    two_d : {"trial", "channel", None}
        A 2-D array is one trial (T, m) (default), a batch of one channel
        (B, T), or refused (None).
    channels_first : bool
        The layout is (B, m, T) instead of batch-first (B, T, m).

    Returns
    -------
    ndarray, shape (B, T, m), or (B, m, T) when ``channels_first``
        A new float64 array; a 2-D input gains the axis it lacked (of size 1).
    bool
        False when a 2-D array was read as one trial, True otherwise.

    Raises
    ------
    ShapeError
        Not 3-D (nor 2-D as allowed), an empty axis, or not ``n_channels`` channels.
    NonFiniteError
        Infinite values, or NaN when ``allow_nan`` is False.

    Examples
    --------
    >>> y, batched = check_observations(np.zeros((50, 2)), 2)
    >>> y.shape, batched
    ((1, 50, 2), False)
    >>> check_observations(np.zeros((4, 50)), 1, two_d="channel")[0].shape
    (4, 50, 1)
    >>> check_observations(np.zeros((50, 3)), 2)
    Traceback (most recent call last):
    ...
    rrnn_net.errors.ShapeError: observations must have shape (T, 2) or (B, T, 2), got (50, 3) (3 channel(s) per sample)
    """
    if two_d not in ("trial", "channel", None):
        raise ParameterError(f"two_d must be 'trial', 'channel' or None, got {two_d!r}")
    array = as_float_array(values, name)
    one_trial = array.ndim == 2 and two_d == "trial"
    channel_axis = 1 if channels_first else 2
    axes = ["n_samples", "n_channels", "n_timepoints"] if channels_first else ["B", "T", "m"]
    if n_channels is not None:
        axes[channel_axis] = str(n_channels)
    shapes = f"({', '.join(axes)})"
    if two_d is not None:
        missing = 0 if two_d == "trial" else channel_axis
        shapes = f"({', '.join(axis for index, axis in enumerate(axes) if index != missing)}) or {shapes}"
        if array.ndim == 2:
            array = np.expand_dims(array, missing)
    if array.ndim != 3 or 0 in array.shape:
        raise ShapeError(f"{name} must have shape {shapes} with no empty axis, got {np.shape(values)}")
    if n_channels is not None and array.shape[channel_axis] != n_channels:
        raise ShapeError(f"{name} must have shape {shapes}, got {np.shape(values)} "
                         f"({array.shape[channel_axis]} channel(s) per sample)")
    if np.isinf(array).any():
        raise NonFiniteError(f"{name} must not contain infinite values (NaN marks a missing sample)")
    if not allow_nan and np.isnan(array).any():
        raise NonFiniteError(f"{name} must not contain NaN (no missing samples here)")
    return array, not one_trial


def positive_scalar(value: object, name: str, *, unit: str | None = None) -> float:
    """A finite float strictly greater than zero; with ``unit`` (``"second"``, ``"hertz"``) also a Brian2 quantity."""
    array = as_float_array(value, name, unit=unit)
    if array.ndim != 0:
        raise ShapeError(f"{name} must be a scalar, got shape {array.shape}")
    if not np.isfinite(array):
        raise NonFiniteError(f"{name} must be finite, got {float(array)}")
    if array <= 0:
        raise ParameterError(f"{name} must be positive, got {float(array)}")
    return float(array)


def nonnegative_weight(value: object, name: str) -> float:
    """A finite real number >= 0 (a weight or penalty factor; a bool is refused, not read as 0 or 1)."""
    if not (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and np.isfinite(value) and value >= 0):
        raise ParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def choice(value: object, allowed: Collection[str], name: str) -> str:
    """``value`` when it is one of the strings ``allowed``; anything else (an array, a number) is refused by name."""
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(f"{name} must be one of {tuple(allowed)}, got {shorten(value)}")
    return value


def positive_int(value: object, name: str) -> int:
    """An integer >= 1 (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value}")
    return int(value)


def covariance_matrix(value: object, name: str, size: int, *, definite: bool) -> np.ndarray:
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
                                   "use more substeps, a smaller step or a larger tau")


#: The most Euler steps per sample (``substeps``, or Δ/h of a given step). Finer steps only cost time: at
#: this many the Euler error is far below any model's noise, while a typo such as 10**9 would run for days.
MAX_STEPS_PER_SAMPLE = 10_000


def substep_count(value: object, name: str = "substeps") -> int:
    """An integer number of Euler steps per sample, 1 .. :data:`MAX_STEPS_PER_SAMPLE`."""
    steps = positive_int(value, name)
    if steps > MAX_STEPS_PER_SAMPLE:
        raise ParameterError(f"{name} must be at most {MAX_STEPS_PER_SAMPLE} Euler steps per sample, got {steps}")
    return steps


def steps_per_interval(interval: float, step: float) -> int:
    """Number of Euler steps of length ``step`` in one sampling ``interval``; they must divide exactly.

    Raises
    ------
    UnstableSettingError
        The step does not divide the interval.
    ParameterError
        More than :data:`MAX_STEPS_PER_SAMPLE` steps.
    """
    ratio = interval / step
    if not ratio < MAX_STEPS_PER_SAMPLE + 0.5:  # also an infinite ratio from a subnormal step
        raise ParameterError(f"the step {step:g} s gives {ratio:.0f} Euler steps per sampling interval "
                             f"{interval:g} s; at most {MAX_STEPS_PER_SAMPLE} are allowed")
    steps = round(ratio)
    if steps < 1 or abs(ratio - steps) > 1e-9 * ratio:
        raise UnstableSettingError(f"the step {step:g} s must divide the sampling interval {interval:g} s")
    return steps


def check_seed(seed: object, name: str = "seed") -> int:
    """An integer seed >= 0 (Python or numpy integer; bools refused), as JSON and numpy both take it."""
    if isinstance(seed, bool):
        raise ParameterError(f"{name} must be an integer >= 0, got {seed!r}")
    try:
        value = operator.index(seed)  # type: ignore[arg-type]  # anything without __index__ is refused below
    except TypeError:
        raise ParameterError(f"{name} must be an integer >= 0, got {shorten(seed)}") from None
    if value < 0:
        raise ParameterError(f"{name} must be an integer >= 0, got {value}")
    return value


def random_generator(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, with a seed numpy refuses reported as :class:`ParameterError`.

    Parameters
    ----------
    seed : None, int >= 0, sequence of such ints, SeedSequence, BitGenerator or Generator
        What :func:`numpy.random.default_rng` accepts.

    Examples
    --------
    >>> random_generator(-1)
    Traceback (most recent call last):
    ...
    rrnn_net.errors.ParameterError: seed must be None, an integer >= 0 or a numpy Generator, got -1
    """
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be None, an integer >= 0 or a numpy Generator, got {seed!r}") from None


def check_keyword_options(options: object, function: Callable[..., Any], *, name: str, what: str,
                          positional: int = 0, taken: Iterable[str] = ()) -> dict[str, Any]:
    """``options`` as a dict, refused unless every key is a keyword argument of ``function``.

    Parameters
    ----------
    options : mapping or None
        The keyword arguments to pass on (None: none).
    function : callable
        Where they go; with a ``**kwargs`` parameter any name is accepted.
    name : str
        The argument that holds them, for the message (``"fit_options"``).
    what : str
        What takes them, for the message (``"fit_bank"``, ``"the reference backend"``).
    positional : int
        How many leading parameters of ``function`` the caller passes by position (never options).
    taken : iterable of str
        Keyword arguments the caller passes itself; giving them again is refused too.

    Raises
    ------
    ParameterError
        Not a mapping, a name ``function`` does not take, or a name in ``taken``.
    """
    import inspect

    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ParameterError(f"{name} must be a dict of keyword arguments, got {type(options).__name__}")
    clash = sorted(set(options) & set(taken))
    if clash:
        raise ParameterError(f"{name} {clash}: these are already passed to {what}; set them directly instead")
    parameters = list(inspect.signature(function).parameters.values())[positional:]
    if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
        return dict(options)
    accepted = {parameter.name for parameter in parameters
                if parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)}
    unknown = sorted(map(str, set(options) - accepted))
    if unknown:
        raise ParameterError(f"{name} {unknown}: not taken by {what}, which takes {sorted(accepted - set(taken))}")
    return dict(options)


def check_array_size(shapes: Iterable[tuple[int, ...]], what: str) -> None:
    """Refuse float64 arrays of ``shapes`` that would not fit in this machine's memory, before allocating them.

    Raises
    ------
    OutOfMemoryError
        Their bytes exceed the physical memory (where the system reports it).
    """
    n_bytes = 8 * sum(math.prod(shape) for shape in shapes)
    available = _physical_memory()
    if available is not None and n_bytes > available:
        raise OutOfMemoryError(f"{what} needs {_format_bytes(n_bytes)} of float64 arrays; this machine has "
                               f"{_format_bytes(available)} of memory")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def _format_bytes(n_bytes: int) -> str:
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = min(int(math.log(max(n_bytes, 1), 1024)), len(units) - 1)
    return f"{n_bytes / 1024**power:.3g} {units[power]}"


def check_model(model: object, name: str = "model") -> None:
    """Raise :class:`~rrnn_net.errors.ModelTypeError` unless ``model`` is a GenerativeRNN."""
    from .model import GenerativeRNN  # model.py imports this module

    if not isinstance(model, GenerativeRNN):
        raise ModelTypeError(f"{name} must be a GenerativeRNN, got {type(model).__name__}")


def recorded_outputs(record: str | Iterable[str], allowed: Collection[str]) -> frozenset[str]:
    """The names in ``record`` (one name or an iterable of names), each one of ``allowed``.

    Every decoder and backend takes its optional outputs this way
    (``record="covariance"``).

    Raises
    ------
    ParameterError
        A name that is not allowed.

    Examples
    --------
    >>> sorted(recorded_outputs("covariance", ("covariance", "innovation_covariance")))
    ['covariance']
    """
    # Read once: an iterator is used up by one pass.
    given = (record,) if isinstance(record, str) else tuple(record) if hasattr(record, "__iter__") else None
    if given is None or not all(isinstance(name, str) for name in given):
        raise ParameterError(f"record must be a name or an iterable of names, got {record!r}")
    names = frozenset(given)
    unknown = sorted(map(str, names - set(allowed)))
    if unknown:
        raise ParameterError(f"record names {unknown}, which cannot be recorded here (allowed: {sorted(allowed)})")
    return names
