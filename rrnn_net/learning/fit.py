"""Maximum-likelihood learning of one GenerativeRNN from recordings, through the rRNN's own evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ModelTypeError, ParameterError
from ..model import GenerativeRNN
from .bank import fit_bank
from .multistep import as_recordings
from .optimise import LearningCurve

__all__ = ["EvidenceFit", "fit_evidence"]


@dataclass
class EvidenceFit:
    """A GenerativeRNN learned by maximum likelihood, with its initial-state prior.

    Attributes
    ----------
    model : GenerativeRNN
        In the units of the data; decode with ``UKF(model).filter(y, mean0=fit.mean0, cov0=fit.cov0)``.
    mean0 : ndarray, shape (N,)
    cov0 : ndarray, shape (N, N)
        The learned prior of the state at t = 0 (diagonal covariance).
    curve : LearningCurve
        Training objective and validation evidence (nats per observed value).
    validation_index : ndarray of int
        The sequences held out to choose the kept step.
    fit_seconds : float
    """

    model: GenerativeRNN
    mean0: np.ndarray
    cov0: np.ndarray
    curve: LearningCurve
    validation_index: np.ndarray
    fit_seconds: float


def fit_evidence(
    sequences: ArrayLike,
    model: GenerativeRNN | int,
    *,
    sample_interval: float | None = None,
    tau: float | None = None,
    substeps: int = 1,
    steps: int = 300,
    learning_rate: float = 0.01,
    validation_fraction: float = 0.2,
    window: int = 256,
    batch_size: int | None = None,
    filter: str = "ukf",
    learn_tau: bool = False,
    init_epochs: int = 100,
    mean0: ArrayLike | None = None,
    cov0: ArrayLike | None = None,
    learn: tuple[str, ...] = ("dynamics", "noise", "prior"),
    seed: int = 0,
    progress: bool | None = None,
) -> EvidenceFit:
    """Maximise the log evidence Σ_t log p(y_t | y_<t) of a GenerativeRNN and its prior on recordings.

    The evidence is the rRNN's own (the UKF's or EKF's, exactly as the numpy
    decoders compute it) and its gradient is exact (JAX). Learned: W, b, M, c,
    the diagonal Q and R (log-parametrised, so they stay positive definite),
    the prior N(mean0, diag) of the state at t = 0 and, with ``learn_tau``,
    τ. The step with the best evidence on the held-out sequences is kept.

    Parameters
    ----------
    sequences : array_like, shape (B, T, m)
        NaN marks missing samples (and padding).
    model : GenerativeRNN or int
        A model to start from, or the number of hidden units N: then the
        start is the multi-step BPTT fit :func:`rrnn_net.learning.fit_generative_rnn`
        (``sample_interval`` is required for it). Learning keeps Q and R
        diagonal: a start model with off-diagonal entries is refused.
    sample_interval, tau, substeps
        Discretisation of a new model (ignored when a model is given); τ
        defaults to 2·sample_interval.
    steps : int
        Adam steps.
    learning_rate : float
    validation_fraction : float
        Share of the sequences held out to choose the kept step (at least 2 sequences are needed).
    mean0, cov0 : array_like, optional
        Starting prior at t = 0, shapes (N,) and (N, N); only the diagonal of
        ``cov0`` is used. Default N(0, 0.5 I).
    learn : tuple of {"dynamics", "noise", "prior"}
        What is learned (default all); e.g. ``("noise",)`` estimates Q and R
        of a model whose dynamics are known.
    window, batch_size, filter, learn_tau, init_epochs, seed, progress
        As for :func:`rrnn_net.learning.fit_bank`.

    Returns
    -------
    EvidenceFit

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN, UKF
    >>> truth = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> _, y = truth.simulate(40, batch=6, seed=1)
    >>> fit = fit_evidence(y, 3, sample_interval=truth.sample_interval, tau=truth.tau, steps=5, init_epochs=5,
    ...                    filter="ekf", progress=False)
    >>> UKF(fit.model).filter(y, mean0=fit.mean0, cov0=fit.cov0).mean.shape
    (6, 40, 3)
    """
    if isinstance(model, GenerativeRNN):
        initial, n_hidden = [model], model.n_hidden
        sample_interval, tau, substeps = model.sample_interval, model.tau, model.substeps
    elif isinstance(model, (int, np.integer)) and not isinstance(model, bool):
        initial, n_hidden = None, model
        if sample_interval is None:
            raise ParameterError("sample_interval is required when fitting a new model")
    else:
        raise ModelTypeError(f"model must be a GenerativeRNN to start from or a number of hidden units, got "
                             f"{type(model).__name__}")
    data = as_recordings(sequences)
    bank = fit_bank(data, np.zeros(data.shape[0], dtype=int), n_hidden, sample_interval=sample_interval, tau=tau,
                    substeps=substeps,
                    objective="evidence", evidence_steps=steps, learning_rate=learning_rate,
                    validation_fraction=validation_fraction,
                    calibrate=False, window=window, batch_size=batch_size, filter=filter, learn_tau=learn_tau,
                    init_epochs=init_epochs, initial_models=initial, seed=seed, progress=progress, learn=learn,
                    initial_prior=None if mean0 is None and cov0 is None else (
                        np.zeros(n_hidden) if mean0 is None else mean0,
                        0.5 * np.eye(n_hidden) if cov0 is None else cov0))
    return EvidenceFit(model=bank.models[0], mean0=bank.mean0[0], cov0=bank.cov0[0], curve=bank.curves["evidence"],
                       validation_index=bank.validation_index, fit_seconds=bank.fit_seconds)
