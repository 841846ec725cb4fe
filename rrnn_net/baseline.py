"""Conventional-RNN baselines for the rRNN comparisons (DESIGN.md section 6).

(a) :class:`OpenLoopDecoder` — the generative RNN run free from a guessed
    initial state, ignoring the observations: what a conventional RNN
    generator predicts without inference. Same result type as the filters.

(b) :class:`InputDrivenRNN` — a continuous-time leaky RNN driven by the
    observations (docs/graph_spec.md, "Baseline"):

        τ dx/dt = −x + W φ(x) + U u + b,      o = C φ(x) + d,

    Euler at h = sample_interval/substeps, sample u_k held over (t_{k−1}, t_k], output
    o_k read at t_k. Built as an echo-state reservoir (random W scaled to a
    spectral radius, random U) with a ridge-regression readout, it decodes
    hidden states of a GenerativeRNN or, through :class:`ReservoirClassifier`,
    class probabilities.

Observations follow the filters' conventions: (B, T, m) or (T, m), NaN for a
missing sample. The input-driven RNN holds the last observed value of a
channel over a gap (zero before its first observation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Tags

from ._validation import (
    check_euler_step,
    check_model,
    check_observations,
    choice,
    finite_array,
    positive_int,
    positive_scalar,
    random_generator,
    substep_count,
)
from .datasets import check_sequences
from .errors import NotFittedError, ParameterError, ShapeError
from .filters import FilterResult
from .filters._common import MaskedInnovation
from .model import ACTIVATIONS, GenerativeRNN
from .recognition import check_targets, fit_on_a_copy, sequence_classifier_tags

__all__ = ["open_loop", "OpenLoopDecoder", "InputDrivenRNN", "ReservoirClassifier", "hold_missing"]


# ----------------------------------------------------------------- open loop
def open_loop(model: GenerativeRNN, x0: ArrayLike, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free states and observations of the model run free from ``x0``.

    Parameters
    ----------
    model : GenerativeRNN
    x0 : array_like, shape (N,) or (B, N)
        State at t = 0, one interval before the first sample.
    n_steps : int

    Returns
    -------
    states : ndarray, shape (B, T, N) or (T, N)
    observations : ndarray, shape (B, T, m) or (T, m)

    Examples
    --------
    >>> model = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> states, y = open_loop(model, np.zeros(4), 10)
    >>> states.shape, y.shape
    ((10, 4), (10, 2))
    """
    check_model(model)
    states = model.run_open_loop(x0, n_steps)
    return states, model.observe(states)


class OpenLoopDecoder:
    """Baseline (a): the generative model run open loop, reported like a filter.

    The state never uses the observations: predicted and posterior states are
    the free-running trajectory from ``mean0`` (the guessed initial state),
    the prediction error is y − g(x_t), and the per-step log-likelihood is
    log N(ε_t; 0, R) over the observed channels (no state uncertainty, so
    S_t = R).

    Parameters
    ----------
    model : GenerativeRNN

    Examples
    --------
    >>> model = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> _, y = model.simulate(30, batch=5, seed=1)
    >>> OpenLoopDecoder(model).filter(y).prediction_error.shape
    (5, 30, 2)
    """

    def __init__(self, model: GenerativeRNN) -> None:
        check_model(model)
        self.model = model

    def filter(self, observations: ArrayLike, *, mean0: ArrayLike | None = None) -> FilterResult:
        """Run the model free over the length of ``observations`` and score it.

        Parameters
        ----------
        observations : array_like, shape (T, m) or (B, T, m)
            NaN entries are missing samples (no error, no likelihood term).
        mean0 : array_like, shape (N,) or (B, N), optional
            Guessed state at t = 0 (default zeros).

        Returns
        -------
        FilterResult
            ``cov`` and ``innovation_cov`` are None; ``state_prediction_error`` is zero.
        """
        model = self.model
        y, batched = check_observations(observations, model.n_obs)
        batch, n_steps, _ = y.shape
        if mean0 is None:
            x0 = np.zeros((batch, model.n_hidden))
        else:
            x0 = finite_array(mean0, "mean0")
            if x0.shape not in ((model.n_hidden,), (batch, model.n_hidden)):
                raise ShapeError(f"mean0 must have shape ({model.n_hidden},) or ({batch}, {model.n_hidden}), "
                                 f"got {x0.shape}")
            x0 = np.broadcast_to(x0, (batch, model.n_hidden))
        states = model.run_open_loop(x0, n_steps)
        predicted_obs = model.observe(states)
        loglik = np.empty((batch, n_steps))
        repairs = np.zeros(batch, dtype=np.int64)
        no_cross = np.zeros((batch, model.n_hidden, model.n_obs))
        noise = np.broadcast_to(model.R, (batch, model.n_obs, model.n_obs))
        for k, mask in enumerate(MaskedInnovation.per_step(y)):
            error = mask.error(y[:, k], predicted_obs[:, k])
            loglik[:, k] = mask.gain_and_loglik(no_cross, mask.innovation_cov(noise), error, repairs)[1]
        result = FilterResult(
            predicted_state=states, predicted_obs=predicted_obs, prediction_error=y - predicted_obs,
            state_prediction_error=np.zeros_like(states), mean=states, loglik=loglik, n_psd_repairs=repairs,
        )
        return result if batched else result.unbatched()


# ---------------------------------------------------------- input-driven RNN
def hold_missing(inputs: np.ndarray) -> np.ndarray:
    """Replace NaN by the channel's last observed value in that trial (0 before its first one).

    Parameters
    ----------
    inputs : ndarray, shape (B, T, k)

    Returns
    -------
    ndarray, shape (B, T, k)

    Examples
    --------
    >>> hold_missing(np.array([[[np.nan], [1.0], [np.nan], [3.0]]]))[0, :, 0].tolist()
    [0.0, 1.0, 1.0, 3.0]
    """
    observed = ~np.isnan(inputs)
    if observed.all():
        return inputs
    time_index = np.where(observed, np.arange(inputs.shape[1])[None, :, None], 0)
    last = np.maximum.accumulate(time_index, axis=1)
    held = np.take_along_axis(inputs, last, axis=1)
    return np.where(np.logical_or.accumulate(observed, axis=1), held, 0.0)


@dataclass(frozen=True, eq=False, init=False)
class InputDrivenRNN:
    """Continuous-time leaky RNN driven by an input: τ dx/dt = −x + W φ(x) + U u + b, o = C φ(x) + d.

    Parameters
    ----------
    W : array_like, shape (N, N)
    U : array_like, shape (N, k)
        Input weights.
    C : array_like, shape (q, N)
        Readout weights.
    b : array_like, shape (N,), optional
    d : array_like, shape (q,), optional
        Output offset.
    tau, sample_interval : float
        Time constant and sampling interval of the input (s).
    substeps : int
        Euler steps per sample, h = sample_interval/substeps < 2τ.
    x0 : array_like, shape (N,), optional
        State at t = 0 (default zeros).
    activation : {"tanh", "linear"}

    Examples
    --------
    >>> rnn = InputDrivenRNN.reservoir(2, 20, 3, tau=0.05, sample_interval=0.01, seed=0)
    >>> states, outputs = rnn.run(np.zeros((4, 30, 2)))
    >>> states.shape, outputs.shape
    ((4, 30, 20), (4, 30, 3))
    """

    W: np.ndarray
    U: np.ndarray
    C: np.ndarray
    b: np.ndarray
    d: np.ndarray
    tau: float
    sample_interval: float
    substeps: int
    x0: np.ndarray
    activation: str

    # A written __init__ rather than the dataclass's: the arguments are array-likes and optional values, the
    # attributes the validated arrays and numbers, and the two need different types.
    def __init__(
        self,
        W: ArrayLike,
        U: ArrayLike,
        C: ArrayLike,
        b: ArrayLike | None = None,
        d: ArrayLike | None = None,
        tau: float = 0.05,
        sample_interval: float = 0.01,
        substeps: int = 1,
        x0: ArrayLike | None = None,
        activation: str = "tanh",
    ) -> None:
        W = finite_array(W, "W")
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
            raise ShapeError(f"W must be a non-empty square (N, N) matrix, got shape {W.shape}")
        n = W.shape[0]
        U = finite_array(U, "U")
        if U.ndim != 2 or U.shape[0] != n or U.shape[1] == 0:
            raise ShapeError(f"U must have shape ({n}, k) with k >= 1, got {U.shape}")
        C = finite_array(C, "C")
        if C.ndim != 2 or C.shape[1] != n or C.shape[0] == 0:
            raise ShapeError(f"C must have shape (q, {n}) with q >= 1, got {C.shape}")
        b = np.zeros(n) if b is None else finite_array(b, "b", (n,))
        d = np.zeros(C.shape[0]) if d is None else finite_array(d, "d", (C.shape[0],))
        x0 = np.zeros(n) if x0 is None else finite_array(x0, "x0", (n,))
        tau = positive_scalar(tau, "tau", unit="second")
        sample_interval = positive_scalar(sample_interval, "sample_interval", unit="second")
        substeps = substep_count(substeps)
        choice(activation, ACTIVATIONS, "activation")
        check_euler_step(sample_interval / substeps, tau)
        for name, value in (("W", W), ("U", U), ("C", C), ("b", b), ("d", d), ("x0", x0)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "sample_interval", sample_interval)
        object.__setattr__(self, "substeps", substeps)
        object.__setattr__(self, "activation", activation)

    @property
    def n_hidden(self) -> int:
        """Hidden units N."""
        return self.W.shape[0]

    @property
    def n_input(self) -> int:
        """Input channels k."""
        return self.U.shape[1]

    @property
    def n_output(self) -> int:
        """Output channels q."""
        return self.C.shape[0]

    def rate(self, x: np.ndarray) -> np.ndarray:
        """φ(x)."""
        return np.tanh(x) if self.activation == "tanh" else x

    @classmethod
    def reservoir(
        cls,
        n_input: int,
        n_hidden: int,
        n_output: int,
        *,
        tau: float,
        sample_interval: float,
        substeps: int = 1,
        spectral_radius: float = 0.9,
        input_scale: float = 1.0,
        bias_scale: float = 0.0,
        activation: str = "tanh",
        seed: int | np.random.Generator | None = None,
    ) -> InputDrivenRNN:
        """An echo-state reservoir: Gaussian W scaled to ``spectral_radius``, U ~ N(0, input_scale²/k).

        With ρ(W) < 1 the leaky dynamics forget their initial state (echo-state
        property). The readout starts at zero; fit it with :meth:`fit_readout`.
        """
        n_input, n_hidden, n_output = (positive_int(v, name) for v, name in
                                 ((n_input, "n_input"), (n_hidden, "n_hidden"), (n_output, "n_output")))
        radius = positive_scalar(spectral_radius, "spectral_radius")
        scale = positive_scalar(input_scale, "input_scale")
        bias_scale = float(finite_array(bias_scale, "bias_scale", ()))
        if bias_scale < 0:
            raise ParameterError(f"bias_scale must be a non-negative number, got {bias_scale!r}")
        rng = random_generator(seed)
        W = rng.standard_normal((n_hidden, n_hidden))
        W *= radius / np.max(np.abs(np.linalg.eigvals(W)))
        U = rng.standard_normal((n_hidden, n_input)) * (scale / np.sqrt(n_input))
        b = bias_scale * rng.standard_normal(n_hidden)
        return cls(W=W, U=U, C=np.zeros((n_output, n_hidden)), b=b, tau=tau, sample_interval=sample_interval,
                   substeps=substeps,
                   activation=activation)

    def run(self, inputs: ArrayLike, *, x0: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Drive the network with ``inputs``.

        Parameters
        ----------
        inputs : array_like, shape (T, k) or (B, T, k)
            Sample u_k is held over (t_{k−1}, t_k]; NaN holds the channel's
            last observed value (0 before its first one).
        x0 : array_like, shape (N,) or (B, N), optional
            State at t = 0 (default ``self.x0``).

        Returns
        -------
        states : ndarray, shape (B, T, N) or (T, N)
            x(t_k) at the sample times.
        outputs : ndarray, shape (B, T, q) or (T, q)
            o_k = C φ(x(t_k)) + d.
        """
        u, batched = check_observations(inputs, self.n_input, name="inputs")
        batch, n_steps, _ = u.shape
        x = self._initial_state(x0, batch)
        leak = self.sample_interval / self.substeps / self.tau
        drive = leak * (hold_missing(u) @ self.U.T + self.b)
        recurrent_t = leak * self.W.T
        states = np.empty((batch, n_steps, self.n_hidden))
        for k in range(n_steps):
            for _ in range(self.substeps):
                x = (1.0 - leak) * x + self.rate(x) @ recurrent_t + drive[:, k]
            states[:, k] = x
        outputs = self.rate(states) @ self.C.T + self.d
        return (states, outputs) if batched else (states[0], outputs[0])

    def predict(self, inputs: ArrayLike, *, x0: ArrayLike | None = None) -> np.ndarray:
        """Outputs o_k only: (B, T, q) or (T, q)."""
        return self.run(inputs, x0=x0)[1]

    def _initial_state(self, x0: ArrayLike | None, batch: int) -> np.ndarray:
        if x0 is None:
            return np.broadcast_to(self.x0, (batch, self.n_hidden)).copy()
        x0 = finite_array(x0, "x0")
        if x0.shape not in ((self.n_hidden,), (batch, self.n_hidden)):
            raise ShapeError(f"x0 must have shape ({self.n_hidden},) or ({batch}, {self.n_hidden}), got {x0.shape}")
        return np.broadcast_to(x0, (batch, self.n_hidden)).copy()

    def fit_readout(self, inputs: ArrayLike, targets: ArrayLike, *, ridge: float = 1e-6,
                    washout: int = 0) -> InputDrivenRNN:
        """A copy with C, d fitted by ridge regression of ``targets`` on the rates φ(x(t_k)).

        Parameters
        ----------
        inputs : array_like, shape (T, k) or (B, T, k)
        targets : array_like, shape (T, q) or (B, T, q)
            E.g. hidden states of a GenerativeRNN, or one-hot labels. Time
            points with any NaN target are left out.
        ridge : float
            L2 penalty on C (not on d), relative to the mean feature variance.
        washout : int
            Leading samples left out (the reservoir's initial transient).

        Returns
        -------
        InputDrivenRNN
        """
        states = self.run(inputs)[0]
        if states.ndim == 2:
            states = states[None]
        Y = check_observations(targets, name="targets")[0]
        if Y.shape[:2] != states.shape[:2]:
            raise ShapeError(f"targets must have shape (B, T, q) matching inputs {states.shape[:2]}, got {Y.shape}")
        if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or not 0 <= washout < Y.shape[1]:
            raise ParameterError(f"washout must be an integer in [0, {Y.shape[1]}), got {washout!r}")
        ridge = float(ridge)
        if not np.isfinite(ridge) or ridge < 0:
            raise ParameterError(f"ridge must be a non-negative number, got {ridge!r}")
        features = self.rate(states[:, washout:]).reshape(-1, self.n_hidden)
        Y = Y[:, washout:].reshape(-1, Y.shape[-1])
        keep = ~np.isnan(Y).any(axis=1)
        if keep.sum() < 2:
            raise ParameterError("fewer than two time points with complete targets")
        features, Y = features[keep], Y[keep]
        C, d = _ridge(features, Y, ridge)
        return replace(self, C=C, d=d)


def _ridge(features: np.ndarray, targets: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression targets ≈ features Cᵀ + d, penalty ridge·mean variance·‖C‖², intercept unpenalised."""
    feature_mean = features.mean(axis=0)
    target_mean = targets.mean(axis=0)
    centred = features - feature_mean
    gram = centred.T @ centred
    penalty = ridge * max(np.trace(gram) / gram.shape[0], np.finfo(float).tiny)
    C = np.linalg.solve(gram + penalty * np.eye(gram.shape[0]), centred.T @ (targets - target_mean)).T
    return C, target_mean - C @ feature_mean


class ReservoirClassifier(ClassifierMixin, BaseEstimator):
    """Baseline (b) as a classifier: an echo-state reservoir reading observations, softmax readout.

    The readout is fitted by ridge regression to one-hot labels at every
    sample after the washout; class probabilities are the softmax of the
    outputs times an inverse temperature chosen to minimise the training
    cross-entropy (temperature scaling), so they are calibrated rather than
    raw regression outputs. Inputs are standardised per channel with the
    training statistics. Data come as for :class:`~rrnn_net.RRNNClassifier`
    (aeon's layout); both are scikit-learn classifiers.

    Parameters
    ----------
    n_hidden : int
        Reservoir units.
    sample_interval : float
        Δ in seconds between samples of the recordings.
    tau : float, optional
        Reservoir time constant in seconds (default 2Δ).
    substeps : int
    spectral_radius, input_scale : float
        See :meth:`InputDrivenRNN.reservoir`.
    ridge : float
    washout : int
        Leading samples of each training sequence left out of the readout fit.
    accumulate : bool
        How :meth:`predict_proba` reads a sequence: True (default) multiplies
        the instantaneous probabilities over the samples seen so far and
        renormalises — the posterior if the readout's outputs were independent
        evidence given the class, the stronger reading for whole-sequence
        decisions; False takes the readout at the last sample.
    seed : int
        Seed of the reservoir's random weights.

    Attributes (after :meth:`fit`)
    ------------------------------
    classes_ : ndarray, shape (n_classes,)
    n_features_in_ : int
        Channels of the sequences.
    network_ : InputDrivenRNN
    inverse_temperature_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 2, 30)) + np.repeat([0.0, 1.0], 10)[:, None, None]
    >>> labels = np.repeat(["a", "b"], 10)
    >>> clf = ReservoirClassifier(30, sample_interval=0.01, tau=0.05, seed=0).fit(X, labels)
    >>> clf.predict_proba(X).shape, clf.predict_proba_online(X).shape, float(clf.score(X, labels))
    ((20, 2), (20, 30, 2), 1.0)
    """

    def __init__(
        self,
        n_hidden: int = 100,
        *,
        sample_interval: float = 0.1,
        tau: float | None = None,
        substeps: int = 1,
        spectral_radius: float = 0.9,
        input_scale: float = 1.0,
        ridge: float = 1e-3,
        washout: int = 0,
        accumulate: bool = True,
        seed: int = 0,
    ) -> None:
        self.n_hidden = n_hidden
        self.sample_interval = sample_interval
        self.tau = tau
        self.substeps = substeps
        self.spectral_radius = spectral_radius
        self.input_scale = input_scale
        self.ridge = ridge
        self.washout = washout
        self.accumulate = accumulate
        self.seed = seed

    def __sklearn_tags__(self) -> Tags:
        return sequence_classifier_tags(super().__sklearn_tags__())

    def fit(self, X: ArrayLike, y: ArrayLike) -> ReservoirClassifier:
        """Fit the readout.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_channels, n_timepoints), or list of (n_channels, n_timepoints_i)
            A 2-D array is univariate. NaN marks missing samples (the reservoir holds the last value).
        y : array_like, shape (n_samples,)

        A fit that raises leaves the classifier as it was.
        """
        return fit_on_a_copy(self, X, y)

    def _fit(self, X: ArrayLike, y: ArrayLike) -> None:
        u = np.swapaxes(check_sequences(X), 1, 2)
        labels = check_targets(y, u.shape[0])
        self.classes_, index = np.unique(labels, return_inverse=True)
        if self.classes_.size < 2:
            raise ParameterError(f"fit needs at least two classes, got 1 class ({self.classes_[0]!r})")
        if not isinstance(self.washout, (int, np.integer)) or not 0 <= self.washout < u.shape[1]:
            raise ParameterError(f"washout must be an integer in [0, {u.shape[1]}), got {self.washout!r}")
        self.n_features_in_ = u.shape[-1]
        self.input_mean_ = np.nan_to_num(np.nanmean(u, axis=(0, 1))) if np.isfinite(u).any() else np.zeros(
            u.shape[-1])
        std = np.nan_to_num(np.nanstd(u, axis=(0, 1))) if np.isfinite(u).any() else np.zeros(u.shape[-1])
        self.input_std_ = np.where(std > 0, std, 1.0)
        tau = 2.0 * self.sample_interval if self.tau is None else self.tau
        reservoir = InputDrivenRNN.reservoir(
            u.shape[-1], self.n_hidden, self.classes_.size, tau=tau, sample_interval=self.sample_interval,
            substeps=self.substeps, spectral_radius=self.spectral_radius, input_scale=self.input_scale,
            seed=self.seed,
        )
        # Standardisation is folded into the input weights and bias, so the network itself reads raw data.
        U = reservoir.U / self.input_std_
        reservoir = replace(reservoir, U=U, b=reservoir.b - U @ self.input_mean_)
        one_hot = np.broadcast_to(np.eye(self.classes_.size)[index][:, None, :],
                                  (u.shape[0], u.shape[1], self.classes_.size))
        self.network_ = reservoir.fit_readout(u, one_hot, ridge=self.ridge, washout=self.washout)
        outputs = self.network_.predict(u)[:, self.washout:]
        targets = index[:, None].repeat(outputs.shape[1], axis=1)

        def cross_entropy(log_beta: float) -> float:
            logits = np.exp(log_beta) * outputs
            log_norm = _logsumexp(logits)
            return float(np.mean(log_norm - np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]))

        best = optimize.minimize_scalar(cross_entropy, bounds=(-5.0, 8.0), method="bounded")
        self.inverse_temperature_ = float(np.exp(best.x))

    def predict_proba_online(self, X: ArrayLike, *, accumulate: bool | None = None) -> np.ndarray:
        """Class probabilities after each sample, shape (n_samples, n_timepoints, n_classes).

        ``accumulate`` (default: the constructor's) as in the class
        description. Samples missing in every channel (e.g. after the end of
        a shorter sequence in a list) add no evidence to the accumulated reading.
        """
        if not hasattr(self, "network_"):
            raise NotFittedError("this ReservoirClassifier is not fitted yet; call fit(X, y) first")
        u = np.swapaxes(check_sequences(X, self.n_features_in_), 1, 2)
        logits = self.inverse_temperature_ * self.network_.predict(u)
        log_proba = logits - _logsumexp(logits)[..., None]
        if self.accumulate if accumulate is None else accumulate:
            log_proba = np.where(np.isnan(u).all(axis=-1, keepdims=True), 0.0, log_proba)
            log_proba = np.cumsum(log_proba, axis=-2)
            log_proba = log_proba - _logsumexp(log_proba)[..., None]
        return np.exp(log_proba)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities at the end of each sequence, shape (n_samples, n_classes)."""
        return self.predict_proba_online(X)[:, -1]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class at the end of each sequence, shape (n_samples,)."""
        proba = self.predict_proba(X)  # first: it checks that the classifier is fitted
        return self.classes_[np.argmax(proba, axis=-1)]


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    peak = logits.max(axis=-1, keepdims=True)
    return (peak + np.log(np.exp(logits - peak).sum(axis=-1, keepdims=True)))[..., 0]
