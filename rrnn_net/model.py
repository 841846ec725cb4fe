"""The generative model: a continuous-time leaky RNN observed through a linear readout.

The hidden state ``x`` (N units) follows

    dx/dt = (-x + W phi(x) + b) / tau + w(t),     w white noise, covariance Q per unit time

and the m observed channels are sampled every ``sample_interval`` seconds (the sampling
interval Δ):

    y_k = M phi(x(t_k)) + c + v_k,                v_k ~ N(0, R)

with phi = tanh (or the identity, for linear-Gaussian checks). Between samples
the dynamics are integrated with ``substeps`` Euler(-Maruyama) steps of
``h = sample_interval / substeps`` (``step``); this discretisation *is* the model, the decoders invert
exactly it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._files import output_file, read_npz, write_atomically
from ._validation import (
    check_array_size,
    check_euler_step,
    choice,
    covariance_matrix,
    finite_array,
    positive_int,
    positive_scalar,
    random_generator,
    substep_count,
)
from .errors import ParameterError, ShapeError

__all__ = ["GenerativeRNN", "ACTIVATIONS"]

ACTIVATIONS = ("tanh", "linear")
_FORMAT_VERSION = 2  # 2: sample_interval (version 1 called it dt)


@dataclass(frozen=True, eq=False, init=False)
class GenerativeRNN:
    """Continuous-time leaky RNN used as a generative model of a multichannel signal.

    Parameters
    ----------
    W : array_like, shape (N, N)
        Recurrent weights.
    M : array_like, shape (m, N)
        Readout weights from the rates phi(x) to the observed channels.
    b : array_like, shape (N,), optional
        Input bias of the hidden units (default zeros).
    c : array_like, shape (m,), optional
        Offset of the observations (default zeros).
    tau : float
        Membrane time constant τ in seconds.
    sample_interval : float
        Sampling interval Δ of the observations in seconds (default 0.01).
    Q : float, array_like of shape (N,) or (N, N)
        Process-noise covariance *per unit time* (s⁻¹); positive semidefinite.
    R : float, array_like of shape (m,) or (m, m)
        Observation-noise covariance per sample; positive definite.
    substeps : int
        Euler substeps per sampling interval (integration step h = Δ / substeps), at most
        :data:`~rrnn_net._validation.MAX_STEPS_PER_SAMPLE`.
    activation : {"tanh", "linear"}
        The rate nonlinearity phi.
    dt : float, optional
        Deprecated name of ``sample_interval`` (also readable as ``model.dt``, with a warning); giving both is
        an error.

    Examples
    --------
    >>> model = GenerativeRNN.oscillator(6, 2, seed=0)
    >>> states, observations = model.simulate(100, batch=3, seed=1)
    >>> states.shape, observations.shape
    ((3, 100, 6), (3, 100, 2))
    """

    W: np.ndarray
    M: np.ndarray
    b: np.ndarray
    c: np.ndarray
    tau: float
    sample_interval: float
    Q: np.ndarray
    R: np.ndarray
    substeps: int
    activation: str
    # Derived on construction for the hot paths (see __init__); not parameters of the model.
    _recurrent_t: np.ndarray = field(init=False, repr=False)
    _readout_t: np.ndarray = field(init=False, repr=False)
    _step_recurrent_t: np.ndarray = field(init=False, repr=False)
    _step_bias: np.ndarray = field(init=False, repr=False)
    _step_retain: float = field(init=False, repr=False)

    # A written __init__ rather than the dataclass's: the arguments are array-likes and optional values, the
    # attributes the validated arrays and numbers, and the two need different types.
    def __init__(
        self,
        W: ArrayLike,
        M: ArrayLike,
        b: ArrayLike | None = None,
        c: ArrayLike | None = None,
        tau: float = 0.05,
        sample_interval: float | None = None,  # None: 0.01 s (or dt); tells a given sample_interval from the default
        Q: ArrayLike = 0.01,
        R: ArrayLike = 0.01,
        substeps: int = 1,
        activation: str = "tanh",
        dt: float | None = None,  # version 0.1's name of sample_interval (see the dt property below)
    ) -> None:
        sample_interval = _sample_interval(sample_interval, dt, 0.01, "GenerativeRNN")
        W = finite_array(W, "W")
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ShapeError(f"W must be a non-empty square (N, N) matrix, got shape {W.shape}")
        n_hidden = W.shape[0]
        M = finite_array(M, "M")
        if M.ndim != 2 or M.shape[1] != n_hidden or M.shape[0] == 0:
            raise ShapeError(f"M must have shape (m, {n_hidden}) with m >= 1, got {M.shape}")
        n_obs = M.shape[0]
        b = np.zeros(n_hidden) if b is None else finite_array(b, "b", (n_hidden,))
        c = np.zeros(n_obs) if c is None else finite_array(c, "c", (n_obs,))
        tau = positive_scalar(tau, "tau", unit="second")
        sample_interval = positive_scalar(sample_interval, "sample_interval", unit="second")
        substeps = substep_count(substeps)
        choice(activation, ACTIVATIONS, "activation")
        check_euler_step(sample_interval / substeps, tau)
        Q = covariance_matrix(Q, "Q", n_hidden, definite=False)
        R = covariance_matrix(R, "R", n_obs, definite=True)
        for name, value in (("W", W), ("M", M), ("b", b), ("c", c), ("Q", Q), ("R", R)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "sample_interval", sample_interval)
        object.__setattr__(self, "substeps", substeps)
        object.__setattr__(self, "activation", activation)
        # Contiguous transposes: `rates @ W.T` on a strided view is ~2x slower in BLAS.
        object.__setattr__(self, "_recurrent_t", np.ascontiguousarray(W.T))
        object.__setattr__(self, "_readout_t", np.ascontiguousarray(M.T))
        # Euler step x + h f(x) = (1 - h/τ) x + (h/τ)(W φ(x) + b), pre-scaled to save passes over the points.
        leak = sample_interval / substeps / tau
        object.__setattr__(self, "_step_recurrent_t", np.ascontiguousarray(leak * W.T))
        object.__setattr__(self, "_step_bias", leak * b)
        object.__setattr__(self, "_step_retain", 1.0 - leak)

    # ------------------------------------------------------------------ sizes
    @property
    def n_hidden(self) -> int:
        """Number of hidden units N."""
        return self.W.shape[0]

    @property
    def n_obs(self) -> int:
        """Number of observed channels m."""
        return self.M.shape[0]

    @property
    def step(self) -> float:
        """Euler integration step h = Δ / substeps in seconds."""
        return self.sample_interval / self.substeps

    @property
    def dt(self) -> float:
        """Deprecated name of :attr:`sample_interval`."""
        _warn_dt("GenerativeRNN.dt", "sample_interval")
        return self.sample_interval

    # ------------------------------------------------------------- functions
    def rate(self, x: ArrayLike) -> np.ndarray:
        """phi(x), elementwise; shape of ``x``."""
        return np.tanh(x) if self.activation == "tanh" else np.asarray(x, dtype=np.float64)

    def rate_derivative(self, x: ArrayLike) -> np.ndarray:
        """phi'(x), elementwise; shape of ``x``."""
        if self.activation == "tanh":
            return 1.0 - np.tanh(x) ** 2
        return np.ones_like(x, dtype=np.float64)

    def drift(self, x: np.ndarray) -> np.ndarray:
        """f(x) = (-x + W phi(x) + b) / tau for states of shape (..., N)."""
        return self.drift_from_rate(x, self.rate(x))

    def drift_from_rate(self, x: np.ndarray, rate: np.ndarray) -> np.ndarray:
        """f(x) when phi(x) is already known (saves one tanh on hot paths)."""
        return (rate @ self._recurrent_t + self.b - x) / self.tau

    def euler_step(self, x: np.ndarray) -> np.ndarray:
        """One noise-free Euler substep x + h f(x); shape of ``x``."""
        out = self.rate(x) @ self._step_recurrent_t
        out += self._step_bias
        out += self._step_retain * x
        return out

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Noise-free observation g(x) = M phi(x) + c for states (..., N) -> (..., m)."""
        out = self.rate(x) @ self._readout_t
        out += self.c
        return out

    def drift_jacobian(self, x: np.ndarray) -> np.ndarray:
        """∂f/∂x = (-I + W D) / tau with D = diag(phi'(x)); shape (..., N, N)."""
        slope = self.rate_derivative(x)
        return (self.W * slope[..., None, :] - np.eye(self.n_hidden)) / self.tau

    def observation_jacobian(self, x: np.ndarray) -> np.ndarray:
        """∂g/∂x = M D; shape (..., m, N)."""
        return self.M * self.rate_derivative(x)[..., None, :]

    def transition(self, x: np.ndarray) -> np.ndarray:
        """Noise-free state after one sampling interval (``substeps`` Euler steps); shape of ``x``."""
        for _ in range(self.substeps):
            x = self.euler_step(x)
        return x

    def transition_jacobian(self, x: np.ndarray) -> np.ndarray:
        """Jacobian of :meth:`transition`: the product of the substeps' I + h ∂f/∂x; (..., N, N)."""
        h = self.step
        eye = np.eye(self.n_hidden)
        jacobian = np.broadcast_to(eye, x.shape[:-1] + eye.shape).copy()
        for _ in range(self.substeps):
            jacobian = (eye + h * self.drift_jacobian(x)) @ jacobian
            x = x + h * self.drift(x)
        return jacobian

    # -------------------------------------------------------------- simulate
    def simulate(
        self,
        n_steps: int,
        *,
        batch: int = 1,
        x0: ArrayLike | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw trajectories and noisy observations from the model.

        Parameters
        ----------
        n_steps : int
            Number of samples T.
        batch : int
            Number of independent trials B.
        x0 : array_like, shape (N,) or (B, N), optional
            State at t = 0, one interval before the first sample. Default: a
            draw from N(0, I), the decoders' default prior.
        seed : int or numpy.random.Generator, optional
            Seed of the noise.

        Returns
        -------
        states : ndarray, shape (B, T, N)
            Hidden state at the sample times t_1 .. t_T.
        observations : ndarray, shape (B, T, m)
        """
        n_steps = positive_int(n_steps, "n_steps")
        batch = positive_int(batch, "batch")
        rng = random_generator(seed)
        n = self.n_hidden
        check_array_size([(batch, n_steps, n), (batch, n_steps, self.n_obs)],
                         f"simulate({n_steps}, batch={batch}) of a model with N = {n}, m = {self.n_obs}")
        if x0 is None:
            x = rng.standard_normal((batch, n))
        else:
            x0 = finite_array(x0, "x0")
            if x0.shape not in ((n,), (batch, n)):
                raise ShapeError(f"x0 must have shape ({n},) or ({batch}, {n}), got {x0.shape}")
            x = np.broadcast_to(x0, (batch, n)).copy()
        h = self.step
        process_factor = _psd_factor(self.Q) * np.sqrt(h)
        observation_factor = np.linalg.cholesky(self.R)
        states = np.empty((batch, n_steps, n))
        for k in range(n_steps):
            for _ in range(self.substeps):
                x = x + h * self.drift(x) + rng.standard_normal((batch, n)) @ process_factor.T
            states[:, k] = x
        observations = self.observe(states)
        observations += rng.standard_normal(observations.shape) @ observation_factor.T
        return states, observations

    def run_open_loop(self, x0: ArrayLike, n_steps: int) -> np.ndarray:
        """Noise-free trajectory from ``x0`` (B, N) or (N,): the generator run without input.

        Returns states at t_1 .. t_T with shape (B, T, N), or (T, N) for a 1-D ``x0``.
        """
        n_steps = positive_int(n_steps, "n_steps")
        x0 = finite_array(x0, "x0")
        if x0.shape[-1:] != (self.n_hidden,) or x0.ndim > 2:
            raise ShapeError(f"x0 must have shape (N,) or (B, N) with N = {self.n_hidden}, got {x0.shape}")
        x = np.atleast_2d(x0)
        states = np.empty((x.shape[0], n_steps, self.n_hidden))
        for k in range(n_steps):
            x = self.transition(x)
            states[:, k] = x
        return states[0] if x0.ndim == 1 else states

    # ---------------------------------------------------------- constructors
    @classmethod
    def random(
        cls,
        n_hidden: int,
        n_obs: int,
        *,
        spectral_radius: float = 0.9,
        tau: float = 0.05,
        sample_interval: float | None = None,
        substeps: int = 1,
        process_noise: float = 0.01,
        observation_noise: float = 0.01,
        activation: str = "tanh",
        seed: int | None = None,
        dt: float | None = None,
    ) -> GenerativeRNN:
        """Gaussian random W scaled to ``spectral_radius``, Gaussian readout M / sqrt(N).

        With a spectral radius below about 1.2 such networks usually relax to a
        fixed point; use :meth:`oscillator` for a model whose dynamics keep moving.
        ``sample_interval`` defaults to 0.01 s.
        """
        sample_interval = _sample_interval(sample_interval, dt, 0.01, "GenerativeRNN.random")
        n_hidden = positive_int(n_hidden, "n_hidden")
        n_obs = positive_int(n_obs, "n_obs")
        radius = positive_scalar(spectral_radius, "spectral_radius")
        check_array_size([(n_hidden, n_hidden), (n_obs, n_hidden)], "GenerativeRNN.random")
        rng = random_generator(seed)
        W = rng.standard_normal((n_hidden, n_hidden))
        W *= radius / np.max(np.abs(np.linalg.eigvals(W)))
        M = rng.standard_normal((n_obs, n_hidden)) / np.sqrt(n_hidden)
        return cls(W=W, M=M, tau=tau, sample_interval=sample_interval, substeps=substeps, Q=process_noise,
                   R=observation_noise, activation=activation)

    @classmethod
    def oscillator(
        cls,
        n_hidden: int,
        n_obs: int,
        *,
        frequency: float = 8.0,
        growth: float = 0.6,
        background_radius: float = 0.5,
        tau: float = 0.02,
        sample_interval: float | None = None,
        substeps: int = 1,
        process_noise: float = 0.05,
        observation_noise: float = 0.01,
        seed: int | None = None,
        dt: float | None = None,
    ) -> GenerativeRNN:
        """A tanh RNN with a stable limit cycle, built around one dominant rotation.

        W = (1 + growth) (u uᵀ + v vᵀ) + ω (v uᵀ − u vᵀ) + B, with u, v a random
        orthonormal pair and B a random matrix of spectral radius
        ``background_radius`` acting on the orthogonal complement. Linearised at
        the origin the rotation plane is unstable (real part ``growth``/τ > 0) and
        oscillates at ω/(2πτ) = ``frequency`` Hz; tanh saturation bounds it, giving
        a limit cycle that the other units follow. Saturation lowers the effective
        gain, so the cycle runs slower than ``frequency`` (about 4.5 Hz for the
        defaults). ``sample_interval`` defaults to 0.005 s.
        """
        sample_interval = _sample_interval(sample_interval, dt, 0.005, "GenerativeRNN.oscillator")
        n_hidden = positive_int(n_hidden, "n_hidden")
        n_obs = positive_int(n_obs, "n_obs")
        if n_hidden < 2:
            raise ParameterError("an oscillator needs n_hidden >= 2")
        frequency = positive_scalar(frequency, "frequency", unit="hertz")
        tau = positive_scalar(tau, "tau", unit="second")
        growth = float(finite_array(growth, "growth", ()))
        background_radius = float(finite_array(background_radius, "background_radius", ()))
        if background_radius < 0:
            raise ParameterError(f"background_radius must be >= 0, got {background_radius}")
        check_array_size([(n_hidden, n_hidden)] * 3 + [(n_obs, n_hidden)], "GenerativeRNN.oscillator")
        rng = random_generator(seed)
        basis, _ = np.linalg.qr(rng.standard_normal((n_hidden, n_hidden)))
        u, v = basis[:, 0], basis[:, 1]
        omega = 2 * np.pi * frequency * tau
        rotation = (1 + growth) * (np.outer(u, u) + np.outer(v, v)) + omega * (np.outer(v, u) - np.outer(u, v))
        complement = basis[:, 2:]
        background = np.zeros((n_hidden, n_hidden))
        if n_hidden > 2:
            inner = rng.standard_normal((n_hidden - 2, n_hidden - 2))
            inner *= background_radius / max(np.max(np.abs(np.linalg.eigvals(inner))), 1e-12)
            # Weak coupling from the rotation plane drives the other units so they all move.
            drive = 0.5 * rng.standard_normal((n_hidden - 2, 2))
            background = complement @ (inner @ complement.T + drive @ basis[:, :2].T)
        W = rotation + background
        M = rng.standard_normal((n_obs, n_hidden)) / np.sqrt(n_hidden)
        return cls(W=W, M=M, tau=tau, sample_interval=sample_interval, substeps=substeps, Q=process_noise,
                   R=observation_noise)

    # ----------------------------------------------------------------- I/O
    def to_dict(self) -> dict[str, Any]:
        """Parameters as plain Python lists and numbers (JSON-serialisable)."""
        return {
            "W": self.W.tolist(), "M": self.M.tolist(), "b": self.b.tolist(), "c": self.c.tolist(),
            "tau": self.tau, "sample_interval": self.sample_interval, "Q": self.Q.tolist(), "R": self.R.tolist(),
            "substeps": self.substeps, "activation": self.activation,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model to an ``.npz`` file: float arrays plus a JSON metadata string.

        No pickle is used; :meth:`load` reads it with ``allow_pickle=False``.

        Parameters
        ----------
        path : str or Path
            The file. A name without suffix gets ``.npz``; an existing file
            is replaced (through a temporary file renamed into place, so an
            interrupted save leaves the old file whole).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ParameterError
            ``path`` has another suffix than ``.npz`` or is a folder.
        """
        path = output_file(path, ".npz", what="a GenerativeRNN")
        metadata = {"format": "rrnn_net.GenerativeRNN", "version": _FORMAT_VERSION, "tau": self.tau,
                    "sample_interval": self.sample_interval, "substeps": self.substeps,
                    "activation": self.activation}
        return write_atomically(path, lambda handle: np.savez(
            handle, W=self.W, M=self.M, b=self.b, c=self.c, Q=self.Q, R=self.R,
            metadata=np.array(json.dumps(metadata))))

    @classmethod
    def load(cls, path: str | Path) -> GenerativeRNN:
        """Read a model written by :meth:`save`; validates everything the constructor validates.

        Raises
        ------
        ParameterError
            The file is missing, not a complete ``.npz`` archive (truncated,
            a ``.npy`` array), or not a saved GenerativeRNN (metadata missing
            a setting included); a saved value the constructor refuses (its
            error, the path named).
        """
        data = read_npz(path, "GenerativeRNN")
        try:
            W, M, b, c, Q, R = (data[name] for name in ("W", "M", "b", "c", "Q", "R"))
            metadata = json.loads(str(data["metadata"]))
        except (KeyError, ValueError) as exc:
            raise ParameterError(f"{path} is not a saved GenerativeRNN: {exc}") from None
        if not isinstance(metadata, dict):
            raise ParameterError(f"{path} is not a saved GenerativeRNN: its metadata is a JSON "
                                 f"{type(metadata).__name__}, not an object")
        if metadata.get("format") != "rrnn_net.GenerativeRNN" or metadata.get("version") not in (1, _FORMAT_VERSION):
            raise ParameterError(f"{path}: unknown model format {metadata.get('format')!r} "
                                 f"version {metadata.get('version')!r}")
        interval_name = "sample_interval" if metadata["version"] == _FORMAT_VERSION else "dt"
        # No defaults: a file that lost a setting would otherwise load as a different model.
        missing = [name for name in ("tau", interval_name, "substeps", "activation") if name not in metadata]
        if missing:
            raise ParameterError(f"{path} is not a complete saved GenerativeRNN: its metadata lacks {missing}")
        try:
            return cls(W=W, M=M, b=b, c=c, Q=Q, R=R, tau=metadata["tau"], sample_interval=metadata[interval_name],
                       substeps=metadata["substeps"], activation=metadata["activation"])
        except ParameterError as exc:
            raise type(exc)(f"{path}: {exc}") from None

    def replace(self, **changes: Any) -> GenerativeRNN:
        """A copy with some parameters changed (validated like a new model)."""
        params: dict[str, Any] = {"W": self.W, "M": self.M, "b": self.b, "c": self.c, "tau": self.tau,
                                  "sample_interval": self.sample_interval, "Q": self.Q, "R": self.R,
                                  "substeps": self.substeps, "activation": self.activation}
        unknown = set(changes) - set(params)
        if unknown:
            raise ParameterError(f"unknown GenerativeRNN parameters: {sorted(unknown)}")
        params.update(changes)
        return GenerativeRNN(**params)

    def __reduce__(self) -> tuple[type[GenerativeRNN], tuple]:
        # Pickling, copy and deepcopy rebuild through __init__: the copy is validated and its arrays stay
        # read-only (the default would restore writeable copies of them).
        return (GenerativeRNN, (self.W, self.M, self.b, self.c, self.tau, self.sample_interval, self.Q, self.R,
                                self.substeps, self.activation))

    def __repr__(self) -> str:
        return (f"GenerativeRNN(N={self.n_hidden}, m={self.n_obs}, tau={self.tau:g} s, "
                f"sample_interval={self.sample_interval:g} s, "
                f"substeps={self.substeps}, activation={self.activation!r})")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's and Hypothesis's pretty printers would otherwise list every constructor
        # argument, reading the deprecated ``dt`` property (and warning) on the way.
        printer.text(repr(self))


def _warn_dt(old: str, new: str, stacklevel: int = 3) -> None:
    warnings.warn(f"{old} is deprecated; use {new} (Δ is sample_interval, h is step everywhere)",
                  DeprecationWarning, stacklevel=stacklevel)


def _sample_interval(sample_interval: float | None, dt: float | None, default: float, where: str,
                     stacklevel: int = 3) -> float:
    """The sampling interval of ``where``: ``sample_interval``, else the deprecated ``dt``, else ``default``.

    ``stacklevel`` points the deprecation warning at the caller of ``where`` (3: where calls this function).
    """
    if dt is None:
        return default if sample_interval is None else sample_interval
    if sample_interval is not None:
        raise ParameterError(f"{where}: give the sampling interval once, as sample_interval=..., not also as its "
                             f"deprecated name dt=... (got sample_interval={sample_interval!r}, dt={dt!r})")
    _warn_dt(f"{where}(dt=...)", "sample_interval=...", stacklevel=stacklevel + 1)
    return dt


def _psd_factor(matrix: np.ndarray) -> np.ndarray:
    """A square root F with F Fᵀ = matrix, for a symmetric positive *semi*definite matrix.

    Cholesky when it succeeds (lower-triangular, as the augmented UKF specifies);
    otherwise from the eigendecomposition, which also handles singular matrices
    such as Q = 0.
    """
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(matrix)
        return eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
