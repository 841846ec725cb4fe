"""Fitting a :class:`~rrnn_net.GenerativeRNN` to recorded multichannel sequences by multi-step BPTT.

Fast, and a good start: :func:`~rrnn_net.learning.fit_bank` and
:func:`~rrnn_net.learning.fit_evidence` begin maximum-likelihood learning
from this fit, and :class:`~rrnn_net.RRNNClassifier` uses it alone with
``objective="multistep"``. It reuses the teacher-student module's BPTT
machinery (:mod:`rrnn_net.teacher.leaky_bptt`, Adam).

The model is the continuous-time leaky tanh RNN the decoders invert,
Euler-discretised exactly as :class:`~rrnn_net.GenerativeRNN` does it, so the
fitted model goes to :class:`~rrnn_net.UKF` (or the graph compiler) unchanged.

Method (multiple shooting with a horizon curriculum):

1. Channels are standardised (NaN-aware); the fit runs in standard units
   and M, c, R are mapped back at the end.
2. Each sequence is cut into windows of ``horizon`` samples. Every window has
   its own learned initial state (one interval before its first sample);
   W, b, M, c are shared. The loss is the mean squared multi-step prediction
   error over the observed (non-NaN) entries.
3. The horizon grows stage by stage (default 4 → 8 → 16 → 32 samples, at
   most T/2): short windows first give well-conditioned gradients, longer
   ones make the dynamics carry the signal on their own. At each stage
   change the new windows start from the states the previous stage
   predicted there.
4. Noise: R is the variance of the final stage's prediction residuals per
   channel (diagonal). Q comes from the state noise: the jump d between the
   state a window predicts at its end and the state the next window starts
   from is the noise of ``horizon`` one-step transitions, so
   Q = E[d dᵀ] / (horizon · Δ) (plus a small floor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from .._validation import check_euler_step, nonnegative_weight, positive_int, positive_scalar, random_generator
from ..errors import DivergenceError, ParameterError, ShapeError
from ..model import GenerativeRNN
from ..teacher._checks import as_batch
from ..teacher.leaky_bptt import leaky_loss_and_gradients
from ..teacher.optim import Adam, clip_by_global_norm

__all__ = ["GenerativeRNNFitter", "fit_generative_rnn", "as_recordings"]


def as_recordings(sequences: ArrayLike, name: str = "sequences") -> np.ndarray:
    """Unlabelled recordings (B, T, m) as float64, NaN marking missing samples; a 2-D array is refused.

    The decoders read a 2-D array as one recording (T, m), the classifiers as
    single-channel sequences (B, T): a fit must not guess which is meant.

    Raises
    ------
    ShapeError
        Not 3-D (the message names both readings of a 2-D array), or an empty axis.
    """
    try:
        shape = np.shape(sequences)
    except ValueError:  # ragged nesting: the check below names it
        shape = ()
    if len(shape) == 2:
        raise ShapeError(f"{name} must have shape (B, T, m), got {shape}: pass one recording (T, m) as y[None], "
                         "or B single-channel sequences (B, T) as y[..., None]")
    return as_batch(sequences, name, allow_nan=True)


@dataclass
class GenerativeRNNFitter:
    """Fits a GenerativeRNN to sequences (B, T, m); see the module docstring for the method.

    Parameters
    ----------
    n_hidden : int
        Hidden units N of the fitted model.
    sample_interval : float
        Sampling interval Δ of the data (s).
    tau : float
        Time constant τ of the model (s); kept fixed.
    substeps : int
        Euler substeps per sample (h = sample_interval/substeps must be below 2τ).
    horizons : sequence of int
        Window lengths of the curriculum stages, in samples (capped at T/2).
    epochs_per_stage : int
        Adam steps per stage (full batch: all windows of all sequences).
    lr : float
        Adam learning rate.
    clip_norm : float
        Global gradient-norm clipping (long horizons can explode).
    weight_decay : float
        L2 penalty on W, keeping the fitted dynamics moderate.
    spectral_radius : float
        Spectral radius of the random initial W.
    min_variance : float
        Floor of the noise variances, in standardised units.
    seed : int or numpy.random.Generator, optional
    progress : bool, optional
        tqdm progress bar; ``None``: only on a terminal.

    Attributes (after :meth:`fit`)
    ------------------------------
    model_ : GenerativeRNN
    loss_history_ : ndarray, shape (n_stages · epochs_per_stage,)
        Training loss in standardised units (a normalised MSE).
    stage_horizons_ : list of int
        The horizon of each stage actually run.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> truth = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> _, y = truth.simulate(60, batch=8, seed=1)
    >>> fitter = GenerativeRNNFitter(4, sample_interval=truth.sample_interval, tau=truth.tau, epochs_per_stage=20,
    ...                              progress=False)
    >>> fitter.fit(y).model_.n_hidden
    4
    """

    n_hidden: int
    sample_interval: float
    tau: float
    substeps: int = 1
    horizons: Sequence[int] = (4, 8, 16, 32)
    epochs_per_stage: int = 300
    lr: float = 0.01
    clip_norm: float = 1.0
    weight_decay: float = 1e-4
    spectral_radius: float = 0.9
    min_variance: float = 1e-6
    seed: int | np.random.Generator | None = None
    progress: bool | None = None

    def _check(self) -> None:
        positive_int(self.n_hidden, "n_hidden")
        positive_scalar(self.sample_interval, "sample_interval")
        positive_scalar(self.tau, "tau")
        positive_int(self.substeps, "substeps")
        positive_int(self.epochs_per_stage, "epochs_per_stage")
        positive_scalar(self.lr, "lr")
        positive_scalar(self.clip_norm, "clip_norm")
        positive_scalar(self.spectral_radius, "spectral_radius")
        positive_scalar(self.min_variance, "min_variance")
        nonnegative_weight(self.weight_decay, "weight_decay")
        if not self.horizons:
            raise ParameterError("horizons must name at least one stage")
        for horizon in self.horizons:
            positive_int(horizon, "horizons[i]")
        check_euler_step(self.sample_interval / self.substeps, self.tau)

    def fit(self, sequences: ArrayLike) -> GenerativeRNNFitter:
        """Fit the model to ``sequences`` (B, T, m); NaN marks a missing sample. Returns ``self``."""
        self._check()
        data = as_recordings(sequences)
        observed = ~np.isnan(data)
        if not np.all(observed.any(axis=(0, 1))):
            raise ParameterError("every channel needs at least one observed (non-NaN) sample")
        if data.shape[1] < 2:
            raise ShapeError(f"sequences need at least 2 samples, got shape {data.shape}")
        mean = np.nanmean(data, axis=(0, 1))
        std = np.nanstd(data, axis=(0, 1))
        std = np.where(std > 0, std, 1.0)
        standard = (data - mean) / std
        n_seq, n_steps, n_obs = standard.shape
        n = self.n_hidden
        rng = random_generator(self.seed)
        W = rng.standard_normal((n, n))
        W *= self.spectral_radius / np.max(np.abs(np.linalg.eigvals(W)))
        params = {"W": W, "b": np.zeros(n), "M": rng.standard_normal((n_obs, n)) / np.sqrt(n),
                  "c": np.zeros(n_obs)}
        leak = self.sample_interval / self.substeps / self.tau
        # State one interval before each sample, per sequence; refined stage by stage.
        prior_states = 0.1 * rng.standard_normal((n_seq, n_steps, n))
        # Capped at T/2 so that every sequence has a window joint to measure the state noise at.
        horizons = [min(positive_int(h, "horizons[i]"), n_steps // 2) for h in self.horizons]
        losses: list[float] = []
        bar = tqdm(total=len(horizons) * self.epochs_per_stage, disable=None if self.progress is None
                   else not self.progress, desc="fit GenerativeRNN")
        for horizon in horizons:
            windows = _windows(standard, horizon)  # (L, K, m) time-major
            initial_states = prior_states[:, ::horizon].reshape(-1, n)
            trainable = params | {"initial_states": initial_states}
            optimiser = Adam(trainable, lr=self.lr)
            for _ in range(self.epochs_per_stage):
                loss, grads, state_grad, _ = leaky_loss_and_gradients(params, initial_states, windows, leak=leak,
                                                                      substeps=self.substeps)
                grads["W"] = grads["W"] + 2.0 * self.weight_decay * params["W"]
                grads["initial_states"] = state_grad
                if not np.isfinite(loss):
                    raise DivergenceError("the fit diverged (non-finite loss); lower lr or the horizons")
                grads, _ = clip_by_global_norm(grads, self.clip_norm, {k: v.ndim for k, v in grads.items()})
                optimiser.step(grads)
                losses.append(loss)
                bar.update()
            _, _, _, window_states = leaky_loss_and_gradients(params, initial_states, windows, leak=leak,
                                                              substeps=self.substeps)
            prior_states = _stitch(initial_states, window_states, n_seq, n_steps)
        bar.close()
        self.model_ = self._noise_model(params, windows, initial_states, window_states, n_seq, mean, std)
        self.loss_history_ = np.array(losses)
        self.stage_horizons_ = horizons
        return self

    def _noise_model(self, params: dict[str, np.ndarray], windows: np.ndarray, initial_states: np.ndarray,
                     window_states: np.ndarray, n_seq: int, mean: np.ndarray, std: np.ndarray) -> GenerativeRNN:
        """The fitted GenerativeRNN in data units, R from the residuals, Q from the jumps at window joints.

        ``windows`` (L, K, m), ``initial_states`` (K, N) and ``window_states``
        (L, K, N) are the last stage's data, learned initial states and rollouts.
        """
        horizon, _, n = window_states.shape
        predicted = np.tanh(window_states) @ params["M"].T + params["c"]
        residual_var = np.nanmean((windows - predicted) ** 2, axis=(0, 1))
        R = np.diag(np.maximum(residual_var, self.min_variance) * std**2)
        # Jump at each joint: next window's initial state minus this window's last predicted state.
        last = window_states[-1].reshape(n_seq, -1, n)[:, :-1]
        following = initial_states.reshape(n_seq, -1, n)[:, 1:]
        jumps = (following - last).reshape(-1, n)
        interval = self.sample_interval
        Q = jumps.T @ jumps / (jumps.shape[0] * horizon * interval) + (self.min_variance / interval) * np.eye(n)
        return GenerativeRNN(
            W=params["W"], b=params["b"], M=std[:, None] * params["M"], c=std * params["c"] + mean,
            tau=self.tau, sample_interval=self.sample_interval, substeps=self.substeps, Q=Q, R=R, activation="tanh",
        )


def _windows(standard: np.ndarray, horizon: int) -> np.ndarray:
    """Cut (B, T, m) into windows of ``horizon`` samples, NaN-padded: time-major (horizon, B·n_windows, m)."""
    n_seq, n_steps, n_obs = standard.shape
    n_windows = -(-n_steps // horizon)
    padded = np.full((n_seq, n_windows * horizon, n_obs), np.nan)
    padded[:, :n_steps] = standard
    return np.ascontiguousarray(padded.reshape(n_seq * n_windows, horizon, n_obs).transpose(1, 0, 2))


def _stitch(initial_states: np.ndarray, window_states: np.ndarray, n_seq: int, n_steps: int) -> np.ndarray:
    """State one interval before every sample (B, T, N): a window's initial state, then its predictions."""
    n = window_states.shape[-1]
    before = np.concatenate([initial_states[None], window_states[:-1]])  # (L, K, N)
    per_sequence = before.transpose(1, 0, 2).reshape(n_seq, -1, n)
    return per_sequence[:, :n_steps]


def fit_generative_rnn(
    sequences: ArrayLike,
    n_hidden: int,
    *,
    sample_interval: float,
    tau: float,
    substeps: int = 1,
    horizons: Sequence[int] = (4, 8, 16, 32),
    epochs_per_stage: int = 300,
    lr: float = 0.01,
    seed: int | np.random.Generator | None = None,
    progress: bool | None = None,
    **options: float,
) -> GenerativeRNN:
    """Fit a GenerativeRNN to sequences by multi-step prediction (see :class:`GenerativeRNNFitter`).

    Parameters
    ----------
    sequences : array_like, shape (B, T, m)
        Recorded sequences, batch-first; NaN marks a missing sample.
    n_hidden : int
    sample_interval, tau : float
        Sampling interval of the data and the model's time constant (s).
    substeps, horizons, epochs_per_stage, lr, seed, progress
        See :class:`GenerativeRNNFitter`.
    **options
        Other :class:`GenerativeRNNFitter` settings (``clip_norm``,
        ``weight_decay``, ``spectral_radius``, ``min_variance``).

    Returns
    -------
    GenerativeRNN
        tanh model in data units with Q (per unit time) and R (diagonal)
        estimated from the fit; ready for :class:`~rrnn_net.UKF`.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN, UKF
    >>> truth = GenerativeRNN.oscillator(4, 2, seed=0)
    >>> _, y = truth.simulate(60, batch=8, seed=1)
    >>> model = fit_generative_rnn(y, 4, sample_interval=truth.sample_interval, tau=truth.tau, epochs_per_stage=20,
    ...                            progress=False)
    >>> UKF(model).filter(y).mean.shape
    (8, 60, 4)
    """
    if not isinstance(horizons, Sequence) or isinstance(horizons, str):
        raise ParameterError("horizons must be a sequence of window lengths")
    unknown = set(options) - {"clip_norm", "weight_decay", "spectral_radius", "min_variance"}
    if unknown:
        raise ParameterError(f"unknown fit options {sorted(unknown)}")
    fitter = GenerativeRNNFitter(n_hidden, sample_interval=sample_interval, tau=tau, substeps=substeps,
                                 horizons=tuple(horizons),
                                 epochs_per_stage=epochs_per_stage, lr=lr, seed=seed, progress=progress, **options)
    return fitter.fit(sequences).model_
