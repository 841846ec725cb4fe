"""Discrete-time student RNNs: h_t = φ(W h_{t−1} + U x_t + b), y_t = C h_t.

φ is the identity (``"linear"``) or tanh. The state before the first input is
h_0 = 0, so a student and an all-pole teacher started from rest are compared
on equal terms.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import choice, finite_array, positive_int, random_generator
from ..errors import ParameterError, ShapeError
from ._checks import as_batch
from .bptt import forward

__all__ = ["StudentRNN", "ACTIVATIONS", "INITIALISATIONS"]

ACTIVATIONS = ("linear", "tanh")
INITIALISATIONS = ("uniform", "normal", "orthogonal")


class StudentRNN:
    """A discrete-time RNN student, linear or tanh.

    Parameters
    ----------
    n_input, n_hidden, n_output : int
        Input channels, hidden units N and output channels.
    activation : {"linear", "tanh"}
        φ in h_t = φ(W h_{t−1} + U x_t + b).
    bias : bool
        Learn a hidden bias b (default off: the teacher filters have none).
    init : {"uniform", "normal", "orthogonal"}
        ``"uniform"``: every weight ~ U(−k, k) with k = 1/√N, PyTorch's
        ``nn.RNN`` / ``nn.Linear`` default (C uses fan-in N too).
        ``"normal"``: W ~ N(0, gain²/N), U ~ N(0, 1/n_input), C ~ N(0, 1/N).
        ``"orthogonal"``: W = gain·Q with Q a Haar-random orthogonal matrix;
        U and C as for ``"normal"``.
    gain : float
        Scale of W for ``"normal"`` and ``"orthogonal"`` (spectral radius ≈ gain).
    seed : int or numpy.random.Generator, optional

    Attributes
    ----------
    W : ndarray, shape (N, N)
    U : ndarray, shape (N, n_input)
    C : ndarray, shape (n_output, N)
    b : ndarray, shape (N,), or None without bias

    Examples
    --------
    >>> student = StudentRNN(1, 5, 1, activation="tanh", seed=0)
    >>> student.predict(np.zeros((2, 30, 1))).shape
    (2, 30, 1)
    """

    def __init__(
        self,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        activation: str = "linear",
        bias: bool = False,
        init: str = "uniform",
        gain: float = 1.0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        n_input = positive_int(n_input, "n_input")
        n_hidden = positive_int(n_hidden, "n_hidden")
        n_output = positive_int(n_output, "n_output")
        choice(activation, ACTIVATIONS, "activation")
        choice(init, INITIALISATIONS, "init")
        if not np.isfinite(gain) or gain <= 0:
            raise ParameterError(f"gain must be a positive finite number, got {gain!r}")
        self.activation = activation
        rng = random_generator(seed)
        if init == "uniform":
            bound = 1.0 / np.sqrt(n_hidden)
            self.W = rng.uniform(-bound, bound, (n_hidden, n_hidden))
            self.U = rng.uniform(-bound, bound, (n_hidden, n_input))
            self.C = rng.uniform(-bound, bound, (n_output, n_hidden))
            self.b = rng.uniform(-bound, bound, n_hidden) if bias else None
        else:
            if init == "normal":
                self.W = rng.standard_normal((n_hidden, n_hidden)) * (gain / np.sqrt(n_hidden))
            else:
                self.W = gain * _haar_orthogonal(n_hidden, rng)
            self.U = rng.standard_normal((n_hidden, n_input)) / np.sqrt(n_input)
            self.C = rng.standard_normal((n_output, n_hidden)) / np.sqrt(n_hidden)
            self.b = np.zeros(n_hidden) if bias else None

    # ------------------------------------------------------------ parameters
    @classmethod
    def from_weights(cls, W: ArrayLike, U: ArrayLike, C: ArrayLike, b: ArrayLike | None = None, *,
                     activation: str = "linear") -> StudentRNN:
        """A student with the given weights (validated, copied).

        Examples
        --------
        >>> rnn = StudentRNN.from_weights(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)))
        >>> rnn.n_hidden
        2
        """
        W = finite_array(W, "W")
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ShapeError(f"W must be a non-empty square matrix, got shape {W.shape}")
        n = W.shape[0]
        U = finite_array(U, "U")
        if U.ndim != 2 or U.shape[0] != n or U.shape[1] == 0:
            raise ShapeError(f"U must have shape ({n}, n_input), got {U.shape}")
        C = finite_array(C, "C")
        if C.ndim != 2 or C.shape[1] != n or C.shape[0] == 0:
            raise ShapeError(f"C must have shape (n_output, {n}), got {C.shape}")
        student = cls(U.shape[1], n, C.shape[0], activation=activation, bias=b is not None, seed=0)
        student.set_parameters({"W": W, "U": U, "C": C} | ({} if b is None else {"b": finite_array(b, "b", (n,))}))
        return student

    @property
    def n_hidden(self) -> int:
        """Number of hidden units N."""
        return self.W.shape[0]

    @property
    def n_input(self) -> int:
        """Number of input channels."""
        return self.U.shape[1]

    @property
    def n_output(self) -> int:
        """Number of output channels."""
        return self.C.shape[0]

    def parameters(self) -> dict[str, np.ndarray]:
        """The trainable arrays keyed by name ("W", "U", "C" and "b" with a bias); not copies."""
        params = {"W": self.W, "U": self.U, "C": self.C}
        if self.b is not None:
            params["b"] = self.b
        return params

    def set_parameters(self, params: dict[str, np.ndarray]) -> None:
        """Replace the trainable arrays (same names and shapes as :meth:`parameters`), copying them."""
        current = self.parameters()
        if set(params) != set(current):
            raise ParameterError(f"expected parameters {sorted(current)}, got {sorted(params)}")
        for name, value in params.items():
            value = finite_array(value, name, current[name].shape)
            setattr(self, name, value.copy())

    def copy(self) -> StudentRNN:
        """An independent copy."""
        return StudentRNN.from_weights(self.W, self.U, self.C, self.b, activation=self.activation)

    # --------------------------------------------------------------- running
    def run(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states and outputs for inputs X.

        Parameters
        ----------
        X : array_like, shape (B, T, n_input) or (B, T) when n_input = 1

        Returns
        -------
        H : ndarray, shape (B, T, N)
            h_1 .. h_T.
        Y : ndarray, shape (B, T, n_output)
        """
        X = as_batch(X, "X", self.n_input)
        states = forward(self.parameters(), np.swapaxes(X, 0, 1), self.activation)
        H = np.ascontiguousarray(np.swapaxes(states[1:], 0, 1))
        return H, H @ self.C.T

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Outputs y_1 .. y_T, shape (B, T, n_output), for inputs (B, T, n_input)."""
        return self.run(X)[1]

    def jacobians(self, H: ArrayLike) -> np.ndarray:
        """∂h_t/∂h_{t−1} = diag(φ'(a_t)) W along a trajectory of states.

        For tanh the derivative is written with the state itself,
        φ'(a_t) = 1 − h_t² (not 1 − tanh(h_t²)).

        Parameters
        ----------
        H : array_like, shape (..., N)
            States h_t (outputs of :meth:`run`).

        Returns
        -------
        ndarray, shape (..., N, N)
        """
        H = finite_array(H, "H")
        if H.shape[-1:] != (self.n_hidden,):
            raise ShapeError(f"H must have a last axis of size {self.n_hidden}, got shape {H.shape}")
        if self.activation == "linear":
            return np.broadcast_to(self.W, (*H.shape, self.n_hidden)).copy()
        return (1.0 - H**2)[..., :, None] * self.W

    # ------------------------------------------------------- linear systems
    def rest_state(self, max_iter: int = 10_000, tol: float = 1e-12) -> np.ndarray:
        """The state the student settles in with zero input (h* = φ(W h* + b)), shape (N,).

        Zero without a bias. With a bias it is found by iterating the map from 0;
        :class:`ParameterError` if that does not converge.
        """
        if self.b is None:
            return np.zeros(self.n_hidden)
        h = np.zeros(self.n_hidden)
        for _ in range(max_iter):
            pre = self.W @ h + self.b
            new = np.tanh(pre) if self.activation == "tanh" else pre
            if not np.all(np.isfinite(new)):
                break
            if np.max(np.abs(new - h)) < tol:
                return new
            h = new
        raise ParameterError("the student has no attracting rest state with zero input")

    def state_space(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(A, B, C, D) of the student linearised at its rest state, scipy convention.

        With s_t = h_{t−1}: s_{t+1} = A s_t + B x_t, y_t = C s_t + D x_t, where
        A = J W, B = J U, C = C_out J W, D = C_out J U and J = diag(φ'(a*)) at the
        rest state (J = I for a linear student). The transfer function is
        H(z) = z C_out (zI − J W)⁻¹ J U; its poles are the eigenvalues of J W
        (of W itself for a linear student).
        """
        slope = np.ones(self.n_hidden)
        if self.activation == "tanh":
            slope = 1.0 - self.rest_state() ** 2
        A = slope[:, None] * self.W
        B = slope[:, None] * self.U
        return A, B, self.C @ A, self.C @ B

    def frequency_response(self, frequencies: ArrayLike) -> np.ndarray:
        """H(e^{iω}) of :meth:`state_space` at angular frequencies ω (rad/sample).

        Parameters
        ----------
        frequencies : array_like, shape (F,)

        Returns
        -------
        ndarray, complex, shape (F, n_output, n_input)
        """
        omega = finite_array(frequencies, "frequencies")
        if omega.ndim != 1:
            raise ShapeError(f"frequencies must be 1-D, got shape {omega.shape}")
        A, B, C, D = self.state_space()
        z = np.exp(1j * omega)[:, None, None]
        resolvent_b = np.linalg.solve(z * np.eye(self.n_hidden) - A, np.broadcast_to(B, (omega.size, *B.shape)))
        return C @ resolvent_b + D

    def __repr__(self) -> str:
        return (f"StudentRNN(n_input={self.n_input}, n_hidden={self.n_hidden}, n_output={self.n_output}, "
                f"activation={self.activation!r}, bias={self.b is not None})")


def _haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal matrix: QR of a Gaussian matrix with the signs of R's diagonal fixed."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))
