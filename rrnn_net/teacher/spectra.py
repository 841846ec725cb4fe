"""Spectral analysis of trained students against their teachers.

- :func:`match_spectra`: optimal one-to-one (Hungarian) matching of teacher
  poles to student eigenvalues, with per-pair distances. Greedy matching
  (nearest eigenvalue first) can steal a pole's partner and mis-score a run.
- :func:`student_zpk`, :func:`transfer_function_error`: the student's whole
  transfer function (poles *and* zeros, from its state-space form), since an
  eigenvalue far from every pole may be cancelled by a zero and not matter.
- :func:`lyapunov_exponents`: by QR re-orthonormalisation of Jacobian
  products along a driven trajectory (not eigenvalues of single-step Jacobians).
- :func:`plot_spectra`: polar plot of poles and eigenvalues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, signal

from .._validation import positive_int
from ..errors import ParameterError, ShapeError
from ._checks import as_batch
from .students import StudentRNN

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "SpectrumMatch",
    "match_spectra",
    "spectral_radius_error",
    "student_zpk",
    "transfer_function_error",
    "lyapunov_exponents",
    "plot_spectra",
]


class _FrequencyResponse(Protocol):
    """A teacher whose frequency response is known (:meth:`~rrnn_net.teacher.IIRTeacher.frequency_response`)."""

    def frequency_response(self, frequencies: np.ndarray) -> ArrayLike: ...


def _complex_vector(values: ArrayLike, name: str) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=complex))
    if array.ndim != 1 or array.size == 0:
        raise ShapeError(f"{name} must be a non-empty 1-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return array


@dataclass(frozen=True)
class SpectrumMatch:
    """One-to-one matching of reference values (teacher poles) to estimates (student eigenvalues).

    Attributes
    ----------
    reference : ndarray, complex, shape (n,)
    estimate : ndarray, complex, shape (k,)
    reference_index, estimate_index : ndarray of int, shape (min(n, k),)
        Matched pairs: ``reference[reference_index[i]]`` ↔ ``estimate[estimate_index[i]]``.
    distances : ndarray, shape (min(n, k),)
        |reference − estimate| of each pair.
    """

    reference: np.ndarray
    estimate: np.ndarray
    reference_index: np.ndarray
    estimate_index: np.ndarray
    distances: np.ndarray

    @property
    def reference_distance(self) -> np.ndarray:
        """Distance of each reference value to its partner, shape (n,); inf when it has none."""
        out = np.full(self.reference.size, np.inf)
        out[self.reference_index] = self.distances
        return out

    def recovered(self, threshold: float) -> np.ndarray:
        """Which reference values have a partner within ``threshold``, shape (n,) bool."""
        return self.reference_distance <= threshold

    def n_within(self, threshold: float) -> int:
        """How many reference values have a partner within ``threshold``."""
        return int(np.sum(self.recovered(threshold)))

    def all_within(self, threshold: float) -> bool:
        """Every reference value has a partner within ``threshold``."""
        return bool(np.all(self.recovered(threshold)))

    @property
    def dominant_distance(self) -> float:
        """Distance of the largest-modulus reference value to its partner (inf if unmatched)."""
        return float(self.reference_distance[np.argmax(np.abs(self.reference))])


def match_spectra(reference: ArrayLike, estimate: ArrayLike) -> SpectrumMatch:
    """Match reference values to estimates one-to-one, minimising the total distance.

    Uses the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``)
    on the matrix of distances |r_i − e_j|. With more estimates than
    references (an over-parameterised student) the surplus estimates stay
    unmatched; with fewer, the surplus references do (distance inf in
    :attr:`SpectrumMatch.reference_distance`).

    Parameters
    ----------
    reference : array_like, complex, shape (n,)
        E.g. the teacher poles.
    estimate : array_like, complex, shape (k,)
        E.g. ``np.linalg.eigvals(student.W)``.

    Returns
    -------
    SpectrumMatch

    Examples
    --------
    >>> m = match_spectra([0.5, 0.9], [0.88, 0.45, 0.0])
    >>> m.reference_distance.round(2).tolist()
    [0.05, 0.02]
    """
    reference = _complex_vector(reference, "reference")
    estimate = _complex_vector(estimate, "estimate")
    cost = np.abs(reference[:, None] - estimate[None, :])
    rows, cols = optimize.linear_sum_assignment(cost)
    return SpectrumMatch(reference, estimate, rows, cols, cost[rows, cols])


def spectral_radius_error(reference: ArrayLike, estimate: ArrayLike) -> float:
    """max|estimate| − max|reference|: positive when the student's spectral radius is too large.

    Examples
    --------
    >>> round(spectral_radius_error([0.9, 0.1], [0.92, -0.3]), 3)
    0.02
    """
    return float(np.abs(_complex_vector(estimate, "estimate")).max()
                 - np.abs(_complex_vector(reference, "reference")).max())


def student_zpk(student: StudentRNN) -> tuple[np.ndarray, np.ndarray, float]:
    """Zeros, poles and gain of a single-input single-output student's transfer function.

    From the state-space form (:meth:`StudentRNN.state_space`, linearised at
    the rest state for tanh students) via ``scipy.signal.ss2zpk``. The poles
    are the eigenvalues of W (J W for tanh); zeros near a pole cancel it.
    """
    if not isinstance(student, StudentRNN):
        raise ParameterError(f"student must be a StudentRNN, got {type(student).__name__}")
    if student.n_input != 1 or student.n_output != 1:
        raise ShapeError(f"student_zpk needs a single-input single-output student, got {student!r}")
    zeros, poles, gain = signal.ss2zpk(*student.state_space())
    return np.asarray(zeros), np.asarray(poles), float(gain)


def transfer_function_error(teacher: _FrequencyResponse, student: StudentRNN, n_frequencies: int = 512) -> float:
    """Relative L2 distance between the teacher's and the student's frequency responses on [0, π).

    sqrt(Σ_ω |H_s − H_t|²) / sqrt(Σ_ω |H_t|²) over an even grid of ω; the
    whole transfer function (poles and zeros) counts, not only eigenvalues.

    Parameters
    ----------
    teacher : object with ``frequency_response(omega)`` (e.g. IIRTeacher)
    student : StudentRNN, single input and output
    n_frequencies : int
    """
    n_frequencies = positive_int(n_frequencies, "n_frequencies")
    omega = np.linspace(0.0, np.pi, n_frequencies, endpoint=False)
    target = np.asarray(teacher.frequency_response(omega)).reshape(n_frequencies)
    if student.n_input != 1 or student.n_output != 1:
        raise ShapeError(f"transfer_function_error needs a single-input single-output student, got {student!r}")
    response = student.frequency_response(omega)[:, 0, 0]
    return float(np.linalg.norm(response - target) / np.linalg.norm(target))


def lyapunov_exponents(student: StudentRNN, X: ArrayLike, *, washout: int = 0) -> np.ndarray:
    """Lyapunov exponents of a student driven by inputs X, by QR on products of Jacobians.

    Along each trajectory the tangent basis is propagated by the Jacobians
    J_t = ∂h_t/∂h_{t−1} = diag(1 − h_t²) W and re-orthonormalised each step
    (Q_t R_t = J_t Q_{t−1}); the exponents are the time averages of
    log|diag R_t| (Benettin et al. 1980). For a linear student they equal
    log|eigenvalues of W|.

    Parameters
    ----------
    student : StudentRNN
    X : array_like, shape (B, T, n_input) or (B, T)
    washout : int
        Steps run before the averaging starts (transient of the basis).

    Returns
    -------
    ndarray, shape (B, N)
        Exponents per trajectory, in nats per step, sorted in descending
        order; −inf for a direction the map collapses exactly.

    Examples
    --------
    >>> student = StudentRNN.from_weights(np.diag([0.5, 0.25]), np.ones((2, 1)), np.ones((1, 2)))
    >>> np.allclose(lyapunov_exponents(student, np.zeros((1, 50, 1))), np.log([[0.5, 0.25]]))
    True
    """
    X = as_batch(X, "X", student.n_input)
    batch, n_steps = X.shape[:2]
    if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or not 0 <= washout < n_steps:
        raise ParameterError(f"washout must be an integer in [0, {n_steps}), got {washout!r}")
    H, _ = student.run(X)
    n = student.n_hidden
    basis = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    log_growth = np.zeros((batch, n))
    with np.errstate(divide="ignore"):  # log 0 = −inf is the right exponent of a collapsed direction
        for t in range(n_steps):
            basis, triangular = np.linalg.qr(student.jacobians(H[:, t]) @ basis)
            if t >= washout:
                log_growth += np.log(np.abs(np.diagonal(triangular, axis1=-2, axis2=-1)))
    return -np.sort(-log_growth / (n_steps - washout), axis=-1)


def plot_spectra(ax: Axes, reference: ArrayLike, estimates: ArrayLike | Sequence[ArrayLike], *,
                 threshold: float | None = None, label: str = "student eigenvalues", color: str = "tab:blue") -> Axes:
    """Polar plot of reference poles (black crosses) and one or more sets of estimates (dots).

    Each estimate set is joined to its Hungarian partners by thin lines; with
    ``threshold``, partners farther than it are drawn red.

    Parameters
    ----------
    ax : matplotlib polar Axes
        E.g. ``Figure().add_subplot(projection="polar")``.
    reference : array_like, complex, shape (n,)
    estimates : array_like, complex, shape (k,), or a sequence of such arrays (or a 2-D array, one set per row)
    threshold : float, optional
    label : str
    color : str
        Colour of the estimates.

    Returns
    -------
    ax
    """
    reference = _complex_vector(reference, "reference")
    if (isinstance(estimates, np.ndarray) and estimates.ndim == 2) or (
            isinstance(estimates, (list, tuple)) and estimates and np.ndim(estimates[0]) == 1):
        estimate_sets = list(estimates)
    else:
        estimate_sets = [estimates]
    angles = np.linspace(0, 2 * np.pi, 200)
    ax.plot(angles, np.ones_like(angles), color="0.6", lw=0.8)
    for index, values in enumerate(estimate_sets):
        values = _complex_vector(values, "estimates")
        match = match_spectra(reference, values)
        for r, e, d in zip(match.reference_index, match.estimate_index, match.distances, strict=True):
            far = threshold is not None and d > threshold
            ax.plot([np.angle(reference[r]), np.angle(values[e])], [abs(reference[r]), abs(values[e])],
                    color="tab:red" if far else "0.7", lw=0.6)
        ax.scatter(np.angle(values), np.abs(values), s=14, color=color, alpha=0.6,
                   label=label if index == 0 else None, zorder=3)
    ax.scatter(np.angle(reference), np.abs(reference), marker="x", s=50, color="black", label="teacher poles",
               zorder=4)
    ax.set_ylim(0, max(1.05, float(np.max(np.abs(reference))) * 1.05))
    return ax
