"""Teachers: systems whose input-output map a student RNN is trained to reproduce.

Every teacher has ``n_input``, ``n_output`` and ``simulate(X) -> Y`` on batch-first
arrays (B, T, channels), starting from rest.

- :class:`IIRTeacher`: an all-pole IIR filter y_t = x_t − a_1 y_{t−1} − … − a_n y_{t−n}
  (zeros at the origin, gain 1), with sampled poles (:func:`sample_poles`).
- :class:`WienerTeacher`: the same filter followed by a static nonlinearity
  applied to the targets, y_t = tanh(g s_t)/g.
- :class:`GenerativeRNNTeacher`: any :class:`~rrnn_net.model.GenerativeRNN`,
  the input driving its hidden state.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from .._validation import (
    as_float_array,
    check_model,
    finite_array,
    positive_int,
    positive_scalar,
    random_generator,
)
from ..errors import ParameterError, ShapeError
from ..model import GenerativeRNN, _psd_factor
from ._checks import as_batch
from .students import StudentRNN

__all__ = ["sample_poles", "IIRTeacher", "WienerTeacher", "GenerativeRNNTeacher"]


class Teacher(Protocol):
    """What every teacher has (the module docstring): channel counts and ``simulate`` on (B, T, channels)."""

    @property
    def n_input(self) -> int: ...

    @property
    def n_output(self) -> int: ...

    def simulate(self, x: ArrayLike) -> np.ndarray: ...


def sample_poles(
    order: int,
    rng: np.random.Generator | int | None = None,
    *,
    min_radius: float = 0.0,
    max_radius: float = 1.0,
) -> np.ndarray:
    """Poles of a stable real all-pole filter, uniform over (an annulus of) the unit disk.

    Conjugate pairs p, p̄ are drawn uniformly *in area* over
    min_radius ≤ |p| < max_radius, upper half-plane (|p| = √U(r_min², r_max²),
    angle U(0, π)); when ``order`` is odd one real pole is added, uniform in
    [min_radius, max_radius).

    Parameters
    ----------
    order : int
        Number of poles n.
    rng : numpy.random.Generator or int, optional
        Generator or seed.
    min_radius, max_radius : float
        Radius bounds, 0 ≤ min_radius < max_radius ≤ 1.

    Returns
    -------
    ndarray, complex, shape (order,)
        Pairs adjacent (p, p̄, …), the real pole (if any) last.

    Examples
    --------
    >>> poles = sample_poles(5, np.random.default_rng(0))
    >>> poles.shape, bool(np.all(np.abs(poles) < 1)), int(np.sum(poles.imag == 0))
    ((5,), True, 1)
    """
    order = positive_int(order, "order")
    if not 0.0 <= min_radius < max_radius <= 1.0:
        raise ParameterError(f"need 0 <= min_radius < max_radius <= 1, got {min_radius}, {max_radius}")
    rng = random_generator(rng, "rng")
    n_pairs = order // 2
    radius = np.sqrt(rng.uniform(min_radius**2, max_radius**2, n_pairs))
    angle = rng.uniform(0.0, np.pi, n_pairs)
    upper = radius * np.exp(1j * angle)
    poles = np.empty(order, dtype=complex)
    poles[0:2 * n_pairs:2] = upper
    poles[1:2 * n_pairs:2] = upper.conj()
    if order % 2:
        poles[-1] = rng.uniform(min_radius, max_radius)
    return poles


class IIRTeacher:
    """All-pole IIR filter H(z) = 1 / Π_k (1 − p_k z⁻¹): zeros at the origin, gain 1.

    Parameters
    ----------
    poles : array_like, shape (n,)
        Stable poles (|p| < 1), closed under complex conjugation so that the
        coefficients are real.

    Examples
    --------
    >>> teacher = IIRTeacher(sample_poles(3, 0))
    >>> b, a = teacher.coefficients()
    >>> b.tolist(), a.shape
    ([1.0], (4,))
    >>> teacher.simulate(np.ones((2, 5))).shape
    (2, 5)
    """

    n_input = 1
    n_output = 1

    def __init__(self, poles: ArrayLike) -> None:
        poles = np.atleast_1d(np.asarray(poles, dtype=complex))
        if poles.ndim != 1 or poles.size == 0:
            raise ShapeError(f"poles must be a non-empty 1-D array, got shape {poles.shape}")
        if not np.all(np.isfinite(poles)):
            raise ParameterError("poles must be finite")
        if np.any(np.abs(poles) >= 1.0):
            raise ParameterError(f"poles must lie inside the unit circle (stable teacher), largest |p| = "
                                 f"{np.abs(poles).max():.6g}")
        denominator = np.poly(poles)
        if np.max(np.abs(denominator.imag)) > 1e-10:
            raise ParameterError("poles must come in complex-conjugate pairs (real filter coefficients)")
        self.poles = poles
        self._a = denominator.real
        self._a.setflags(write=False)

    @property
    def order(self) -> int:
        """Number of poles n."""
        return self.poles.size

    def coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """(b, a) in scipy.signal.lfilter's convention: b = [1], a = [1, a_1, …, a_n]."""
        return np.ones(1), self._a.copy()

    def simulate(self, x: ArrayLike) -> np.ndarray:
        """Filter input sequences from rest: the teacher's targets.

        Parameters
        ----------
        x : array_like, shape (B, T) or (B, T, 1)

        Returns
        -------
        ndarray, shape of ``x``
        """
        x_array = as_float_array(x, "x")
        X = as_batch(x_array, "x", 1)
        y = signal.lfilter(*self.coefficients(), X[..., 0], axis=1)
        return y.reshape(x_array.shape)

    def impulse_response(self, n_steps: int) -> np.ndarray:
        """h_0 .. h_{T−1}, the response to a unit impulse at t = 0; shape (n_steps,)."""
        impulse = np.zeros(positive_int(n_steps, "n_steps"))
        impulse[0] = 1.0
        return signal.lfilter(*self.coefficients(), impulse)

    def state_space(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Companion form (A, B, C, D) in scipy's convention, state s_t = [y_{t−1}, …, y_{t−n}].

        s_{t+1} = A s_t + B x_t and y_t = C s_t + D x_t, with A's first row
        −a_1 … −a_n and ones on its subdiagonal, B = e_1, C = −a, D = 1; its
        transfer function is the filter's (``scipy.signal.ss2tf`` gives back
        b, a up to trailing zeros of b).
        """
        n = self.order
        A = np.zeros((n, n))
        A[0] = -self._a[1:]
        A[1:, :-1] = np.eye(n - 1)
        B = np.zeros((n, 1))
        B[0, 0] = 1.0
        return A, B, -self._a[1:][None, :], np.ones((1, 1))

    def to_rnn(self) -> StudentRNN:
        """A linear :class:`StudentRNN` that *is* this filter (hidden state h_t = [y_t, …, y_{t−n+1}]).

        W is the companion matrix, U = e_1, C = e_1ᵀ; its eigenvalues are the
        poles and it reproduces :meth:`simulate` to rounding error.
        """
        A = self.state_space()[0]
        n = self.order
        U = np.zeros((n, 1))
        U[0, 0] = 1.0
        return StudentRNN.from_weights(A, U, U.T, activation="linear")

    def frequency_response(self, frequencies: ArrayLike) -> np.ndarray:
        """H(e^{iω}) at angular frequencies ω (rad/sample); complex, shape (F,)."""
        omega = finite_array(frequencies, "frequencies")
        if omega.ndim != 1:
            raise ShapeError(f"frequencies must be 1-D, got shape {omega.shape}")
        return signal.freqz(*self.coefficients(), worN=omega)[1]

    def __repr__(self) -> str:
        return f"IIRTeacher(order={self.order}, max|p|={np.abs(self.poles).max():.3f})"


class WienerTeacher:
    """A Wiener system: the all-pole filter followed by a saturating nonlinearity on its output.

    y_t = tanh(g s_t) / g with s the output of ``linear``. The nonlinearity is
    part of the targets (a linear student cannot fit them exactly); ``gain``
    g sets how strongly it bends (y → s as g → 0).

    Parameters
    ----------
    linear : IIRTeacher
    gain : float
        g > 0.

    Examples
    --------
    >>> teacher = WienerTeacher(IIRTeacher([0.5]), gain=1.0)
    >>> x = np.ones((1, 3))
    >>> bool(np.allclose(teacher.simulate(x), np.tanh(teacher.linear.simulate(x))))
    True
    """

    n_input = 1
    n_output = 1

    def __init__(self, linear: IIRTeacher, gain: float = 1.0) -> None:
        if not isinstance(linear, IIRTeacher):
            raise ParameterError(f"linear must be an IIRTeacher, got {type(linear).__name__}")
        self.linear = linear
        self.gain = positive_scalar(gain, "gain")

    @property
    def poles(self) -> np.ndarray:
        """Poles of the linear part."""
        return self.linear.poles

    def simulate(self, x: ArrayLike) -> np.ndarray:
        """Targets tanh(g s)/g for inputs shaped (B, T) or (B, T, 1); shape of ``x``."""
        return np.tanh(self.gain * self.linear.simulate(x)) / self.gain

    def __repr__(self) -> str:
        return f"WienerTeacher({self.linear!r}, gain={self.gain:g})"


class GenerativeRNNTeacher:
    """A :class:`~rrnn_net.model.GenerativeRNN` driven by an input, as a teacher.

    Over each sampling interval the input sample u_k is held and drives the
    hidden state through ``input_weights`` B; the target is the noise-free
    observation y_k = M φ(x_k) + c:

        x ← x + h ((−x + W φ(x) + b)/τ + B u_k)        (each of the ``substeps`` Euler steps)

    By default B = F/√Δ with F Fᵀ = Q, so unit white-noise input plays the
    part of the model's process noise (held over each sample). The state
    starts at ``x0`` (default 0) one interval before the first sample.

    Parameters
    ----------
    model : GenerativeRNN
    input_weights : array_like, shape (N, n_input), optional
    x0 : array_like, shape (N,), optional

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> teacher = GenerativeRNNTeacher(GenerativeRNN.oscillator(4, 2, seed=0))
    >>> teacher.simulate(np.zeros((3, 20, teacher.n_input))).shape
    (3, 20, 2)
    """

    def __init__(self, model: GenerativeRNN, input_weights: ArrayLike | None = None,
                 x0: ArrayLike | None = None) -> None:
        check_model(model)
        n = model.n_hidden
        if input_weights is None:
            input_weights = _psd_factor(model.Q) / np.sqrt(model.sample_interval)
            if not np.any(input_weights):
                raise ParameterError("the model has Q = 0: give input_weights to drive it")
        input_weights = finite_array(input_weights, "input_weights")
        if input_weights.ndim != 2 or input_weights.shape[0] != n or input_weights.shape[1] == 0:
            raise ShapeError(f"input_weights must have shape ({n}, n_input), got {input_weights.shape}")
        self.model = model
        self.input_weights = input_weights
        self.x0 = np.zeros(n) if x0 is None else finite_array(x0, "x0", (n,))

    @property
    def n_input(self) -> int:
        """Input channels."""
        return self.input_weights.shape[1]

    @property
    def n_output(self) -> int:
        """Observed channels m."""
        return self.model.n_obs

    def simulate(self, x: ArrayLike) -> np.ndarray:
        """Noise-free observations (B, T, m) for inputs (B, T, n_input)."""
        X = as_batch(x, "x", self.n_input)
        model = self.model
        h = model.step
        drive = X @ self.input_weights.T
        state = np.broadcast_to(self.x0, (X.shape[0], model.n_hidden)).copy()
        states = np.empty((*X.shape[:2], model.n_hidden))
        for k in range(X.shape[1]):
            for _ in range(model.substeps):
                state = model.euler_step(state) + h * drive[:, k]
            states[:, k] = state
        return model.observe(states)

    def __repr__(self) -> str:
        return f"GenerativeRNNTeacher({self.model!r}, n_input={self.n_input})"
