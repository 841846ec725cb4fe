"""Training students by BPTT with Adam: one student, or an ensemble of independent students at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from tqdm.auto import tqdm

from .._validation import positive_int, positive_scalar, random_generator
from ..errors import DivergenceError, NonFiniteError, ParameterError, ShapeError
from ._checks import as_batch
from .bptt import ensemble_loss, ensemble_loss_and_gradients, washout_weights
from .optim import Adam, clip_by_global_norm, global_norm
from .students import StudentRNN

__all__ = ["TrainingHistory", "train_bptt", "train_ensemble"]

_CORE_AXES = {"W": 2, "U": 2, "C": 2, "b": 1}


@dataclass
class TrainingHistory:
    """What happened during training.

    For :func:`train_ensemble` every array has an extra last axis E (one
    column per student).

    Attributes
    ----------
    loss : ndarray, shape (epochs,)
        Training loss of each epoch (mean over its minibatches), computed
        before that epoch's updates.
    grad_norm : ndarray, shape (epochs,)
        Global gradient norm of each epoch's last minibatch, before clipping.
    recorded_epochs : ndarray of int, shape (R,)
        Epochs after which ``test_loss`` and ``spectra`` were recorded
        (every ``record_every`` epochs and after the last one).
    test_loss : ndarray, shape (R,) or None
        Loss on the held-out data, when some was given.
    spectra : ndarray, complex, shape (R, N) or None
        Eigenvalues of W, when ``record_spectra`` was set.
    final_loss : float or ndarray of shape (E,)
        Training loss after the last update.
    diverged : ndarray of bool, shape (E,) or None
        Ensemble only: students whose loss became non-finite; their updates stopped there.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    recorded_epochs: np.ndarray
    test_loss: np.ndarray | None
    spectra: np.ndarray | None
    final_loss: float | np.ndarray
    diverged: np.ndarray | None = None


def train_bptt(
    student: StudentRNN,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    epochs: int,
    lr: float = 0.01,
    washout: int = 0,
    seed: int | np.random.Generator | None = None,
    batch_size: int | None = None,
    truncation: int | None = None,
    clip_norm: float | None = None,
    test_data: tuple[ArrayLike, ArrayLike] | None = None,
    record_every: int = 100,
    record_spectra: bool = False,
    progress: bool | None = None,
) -> TrainingHistory:
    """Train a student in place by (truncated) BPTT and Adam on the mean squared error.

    Parameters
    ----------
    student : StudentRNN
        Updated in place.
    X : array_like, shape (B, T, n_input) or (B, T)
        Training inputs, batch-first.
    Y : array_like, shape (B, T, n_output) or (B, T)
        Training targets.
    epochs : int
        Passes over the training set.
    lr : float
        Adam learning rate.
    washout : int
        Leading time steps left out of the loss.
    seed : int or numpy.random.Generator, optional
        Seeds the order of minibatches (unused for full-batch training).
    batch_size : int, optional
        Sequences per update; ``None`` for full-batch training (one update per epoch).
    truncation : int, optional
        Chunk length of truncated BPTT; ``None`` for full BPTT.
    clip_norm : float, optional
        Clip the gradients to this global norm before each update.
    test_data : (X_test, Y_test), optional
        Held-out sequences whose loss is recorded every ``record_every`` epochs.
    record_every : int
        Interval, in epochs, of the test-loss and spectrum records.
    record_spectra : bool
        Record the eigenvalues of W every ``record_every`` epochs.
    progress : bool, optional
        Show a tqdm progress bar; ``None`` shows one only on a terminal.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    NonFiniteError
        When the loss or the gradients stop being finite (lower ``lr`` or set ``clip_norm``).

    Examples
    --------
    >>> from rrnn_net.teacher import IIRTeacher, StudentRNN
    >>> teacher = IIRTeacher([0.5])
    >>> X = np.random.default_rng(0).standard_normal((20, 60, 1))
    >>> student = StudentRNN(1, 1, 1, seed=0)
    >>> history = train_bptt(student, X, teacher.simulate(X), epochs=300, lr=0.05, progress=False)
    >>> bool(abs(student.W[0, 0] - 0.5) < 0.01)
    True
    """
    if not isinstance(student, StudentRNN):
        raise ParameterError(f"student must be a StudentRNN, got {type(student).__name__}")
    inputs, targets = _time_major(X, Y, student)
    test = None
    if test_data is not None:
        test = _time_major(*_pair(test_data), student)
    params = {name: value.copy() for name, value in student.parameters().items()}
    history = _train(
        params, student.activation, inputs, targets, test, epochs=epochs, lr=lr, washout=washout, seed=seed,
        batch_size=batch_size, truncation=truncation, clip_norm=clip_norm, record_every=record_every,
        record_spectra=record_spectra, progress=progress, stop_on_divergence=True,
    )
    student.set_parameters(params)
    return history


def train_ensemble(
    students: Sequence[StudentRNN],
    X: ArrayLike,
    Y: ArrayLike,
    *,
    epochs: int,
    lr: float = 0.01,
    washout: int = 0,
    seed: int | np.random.Generator | None = None,
    batch_size: int | None = None,
    truncation: int | None = None,
    clip_norm: float | None = None,
    test_data: tuple[ArrayLike, ArrayLike] | None = None,
    record_every: int = 100,
    record_spectra: bool = False,
    progress: bool | None = None,
) -> TrainingHistory:
    """Train E independent students at once, each on its own data, vectorised over the students.

    Equivalent to calling :func:`train_bptt` on each student with its own
    data (up to floating-point rounding), but one pass of the time loop
    serves all of them. A student whose loss becomes non-finite stops being
    updated and is flagged in ``history.diverged``; the others go on.

    Parameters
    ----------
    students : sequence of StudentRNN
        E students of identical sizes, activation and bias; updated in place.
    X : array_like, shape (E, B, T, n_input)
        Inputs of each student.
    Y : array_like, shape (E, B, T, n_output)
        Targets of each student.
    test_data : (X_test, Y_test), optional
        Shaped like ``X`` and ``Y``.
    **others
        As for :func:`train_bptt`.

    Returns
    -------
    TrainingHistory
        Arrays with a last axis of size E.

    Examples
    --------
    >>> from rrnn_net.teacher import StudentRNN
    >>> students = [StudentRNN(1, 2, 1, seed=s) for s in range(3)]
    >>> X = np.random.default_rng(0).standard_normal((3, 10, 40, 1))
    >>> train_ensemble(students, X, 0.5 * X, epochs=5, progress=False).loss.shape
    (5, 3)
    """
    students = list(students)
    if not students or not all(isinstance(s, StudentRNN) for s in students):
        raise ParameterError("students must be a non-empty sequence of StudentRNN")
    first = students[0]
    def signature(student: StudentRNN) -> tuple[int, int, int, str, bool]:
        return student.n_input, student.n_hidden, student.n_output, student.activation, student.b is not None

    for student in students:
        if signature(student) != signature(first):
            raise ParameterError("the students of an ensemble must share sizes, activation and bias")
    inputs, targets = _ensemble_time_major(X, Y, first, len(students))
    test = None
    if test_data is not None:
        test = _ensemble_time_major(*_pair(test_data), first, len(students))
    params = {name: np.stack([s.parameters()[name] for s in students]) for name in first.parameters()}
    history = _train(
        params, first.activation, inputs, targets, test, epochs=epochs, lr=lr, washout=washout, seed=seed,
        batch_size=batch_size, truncation=truncation, clip_norm=clip_norm, record_every=record_every,
        record_spectra=record_spectra, progress=progress, stop_on_divergence=False,
    )
    for index, student in enumerate(students):
        student.set_parameters({name: value[index] for name, value in params.items()})
    return history


def _pair(test_data: object) -> tuple[ArrayLike, ArrayLike]:
    if not isinstance(test_data, (tuple, list)) or len(test_data) != 2:
        raise ParameterError("test_data must be a pair (X_test, Y_test)")
    return test_data[0], test_data[1]


def _time_major(X: ArrayLike, Y: ArrayLike, student: StudentRNN) -> tuple[np.ndarray, np.ndarray]:
    """Checked (B, T, ch) data as contiguous time-major (T, B, ch) arrays."""
    X = as_batch(X, "X", student.n_input)
    Y = as_batch(Y, "Y", student.n_output)
    if X.shape[:2] != Y.shape[:2]:
        raise ShapeError(f"X and Y must share batch and time axes, got {X.shape} and {Y.shape}")
    return np.ascontiguousarray(np.swapaxes(X, 0, 1)), np.ascontiguousarray(np.swapaxes(Y, 0, 1))


def _ensemble_time_major(X: ArrayLike, Y: ArrayLike, student: StudentRNN,
                         n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Checked (E, B, T, ch) data as contiguous (E, T, B, ch) arrays."""
    arrays: list[np.ndarray] = []
    for name, value, channels in (("X", X, student.n_input), ("Y", Y, student.n_output)):
        value = np.asarray(value, dtype=np.float64)
        if value.ndim != 4 or value.shape[0] != n_models or value.shape[-1] != channels or 0 in value.shape:
            raise ShapeError(f"{name} must have shape ({n_models}, B, T, {channels}), got {value.shape}")
        if not np.all(np.isfinite(value)):
            raise NonFiniteError(f"{name} contains NaN or infinite values")
        arrays.append(np.ascontiguousarray(np.swapaxes(value, 1, 2)))
    if arrays[0].shape[:3] != arrays[1].shape[:3]:
        raise ShapeError(f"X and Y must share model, batch and time axes, got {np.shape(X)} and {np.shape(Y)}")
    return arrays[0], arrays[1]


def _train(
    params: dict[str, np.ndarray],
    activation: str,
    inputs: np.ndarray,
    targets: np.ndarray,
    test: tuple[np.ndarray, np.ndarray] | None,
    *,
    epochs: int,
    lr: float,
    washout: int,
    seed: int | np.random.Generator | None,
    batch_size: int | None,
    truncation: int | None,
    clip_norm: float | None,
    record_every: int,
    record_spectra: bool,
    progress: bool | None,
    stop_on_divergence: bool,
) -> TrainingHistory:
    """The epoch loop shared by :func:`train_bptt` and :func:`train_ensemble` (time-major data)."""
    epochs = positive_int(epochs, "epochs")
    record_every = positive_int(record_every, "record_every")
    if truncation is not None:
        truncation = positive_int(truncation, "truncation")
    if clip_norm is not None:
        clip_norm = positive_scalar(clip_norm, "clip_norm")
    n_steps, n_sequences = inputs.shape[-3:-1]
    batch_size = n_sequences if batch_size is None else min(positive_int(batch_size, "batch_size"), n_sequences)
    time_weights = washout_weights(n_steps, washout)
    ensemble_shape = params["W"].shape[:-2]
    rng = random_generator(seed)
    optimiser = Adam(params, lr=lr)
    core_axes = {name: _CORE_AXES[name] for name in params}
    active = np.ones(ensemble_shape, dtype=bool)
    workspace: dict = {}

    # The held-out data with their time weights, washout included.
    test_set = None if test is None else (*test, washout_weights(test[0].shape[-3], washout))

    loss_history = np.empty((epochs, *ensemble_shape))
    norm_history = np.empty((epochs, *ensemble_shape))
    recorded: list[int] = []
    test_losses: list[np.ndarray] = []
    spectra: list[np.ndarray] = []
    # Diverging students overflow; that is detected below and must not warn (or, in tests, raise).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in tqdm(range(epochs), disable=None if progress is None else not progress, desc="BPTT"):
            order = rng.permutation(n_sequences) if batch_size < n_sequences else None
            epoch_loss = np.zeros(ensemble_shape)
            for start in range(0, n_sequences, batch_size):
                if order is None:
                    batch_in, batch_out = inputs, targets
                else:
                    chosen = order[start:start + batch_size]
                    batch_in, batch_out = np.take(inputs, chosen, axis=-2), np.take(targets, chosen, axis=-2)
                loss, grads = ensemble_loss_and_gradients(params, batch_in, batch_out, time_weights, activation,
                                                          truncation, workspace)
                norm = global_norm(grads, core_axes)
                finite = np.isfinite(loss) & np.isfinite(norm)
                epoch_loss += loss * (batch_in.shape[-2] / n_sequences)
                if not np.all(finite[active]):
                    if stop_on_divergence:
                        raise DivergenceError(f"training diverged at epoch {epoch} (non-finite loss or gradient); "
                                             "lower lr or set clip_norm")
                    active &= finite
                if clip_norm is not None:
                    grads, _ = clip_by_global_norm(grads, clip_norm, core_axes, norm)
                optimiser.step(grads, active=None if np.all(active) else active)
            loss_history[epoch] = np.where(active, epoch_loss, np.nan)
            norm_history[epoch] = norm
            if (epoch + 1) % record_every == 0 or epoch + 1 == epochs:
                recorded.append(epoch + 1)
                if test_set is not None:
                    test_losses.append(ensemble_loss(params, *test_set, activation))
                if record_spectra:
                    spectra.append(np.linalg.eigvals(params["W"]))
        final_loss = ensemble_loss(params, inputs, targets, time_weights, activation)
    return TrainingHistory(
        loss=loss_history,
        grad_norm=norm_history,
        recorded_epochs=np.array(recorded),
        test_loss=np.array(test_losses) if test is not None else None,
        spectra=np.array(spectra) if record_spectra else None,
        final_loss=float(final_loss) if not ensemble_shape else np.where(active, final_loss, np.nan),
        diverged=None if not ensemble_shape else ~active,
    )
