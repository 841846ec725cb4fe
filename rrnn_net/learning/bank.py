"""Learning a bank of generative RNNs for recognition: maximum likelihood, then conditional likelihood.

Recognition compares the evidence ℓ_k(y_1..t) = Σ_s log p(y_s | y_<s, k) of
K class models (:class:`~rrnn_net.RRNNClassifier`). This module learns those
models from labelled sequences, through the rRNN's own filter (the UKF or
EKF evidence of :mod:`rrnn_net.learning.evidence`, differentiated by JAX):

1. **Start**: per class (or, with ``tying="dynamics"``, one shared model)
   the multi-step BPTT fit of :func:`rrnn_net.learning.fit_generative_rnn`.
2. **Evidence** (maximum likelihood): each class model maximises its own
   sequences' log evidence per observed value, over W, b, M, c, Q, R (diagonal,
   log-parametrised), the initial-state prior N(mean0, diag) and, optionally, τ.
   By default Q and R are shared by all classes (``tying="noise"``): a model
   fitted alone to quiet recordings (a person standing) learns a tiny R and
   then loses thousands of nats to a single unexpected movement, while a
   vaguer model wins every sequence; measured on BasicMotions, sharing the
   noise took test accuracy from 0.925 to 1.0.
3. **Conditional likelihood** (``objective="conditional"``, the default):
   the whole bank maximises the posterior log-probability of each training
   sequence's true class, averaged over every prefix y_1..t — the MMI
   training of HMM banks — plus ``evidence_weight`` × the evidence of step 2,
   which keeps every model a generative model of its class.
4. **Calibration**: posteriors (1 − ε) softmax(β ℓ) + ε / K, with one
   evidence scale β > 0 and one contamination ε ∈ [0, 1] chosen to maximise
   the validation log-probability of the true class over all prefixes
   (:func:`fitted_calibration`). β = 1 is exact Bayesian model comparison;
   β < 1 tempers the evidence of misspecified models ("power likelihood"),
   which are otherwise overconfident. ε is the share of recordings the class
   models do not describe: it bounds what a recording the bank gets badly
   wrong costs, so that a few such recordings cannot force β towards 0 and
   leave every other posterior near uniform.

Both stages subtract ``weight_decay`` × ‖W‖², a Gaussian prior on the
recurrent weights against overfitting a handful of recordings per class
(default 0: off).

Every choice — the step of each stage that is kept, and β — is made on a
validation split carved out of the training sequences (stratified by class),
never on test data. Sequences longer than ``window`` samples are learned from
random windows of that length (the prior then describes the state at a
window's start), so the cost per step does not grow with the recording length.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    check_euler_step,
    check_seed,
    choice,
    finite_array,
    nonnegative_weight,
    positive_int,
    positive_scalar,
    random_generator,
)
from ..datasets import observed_lengths
from ..errors import ParameterError, ShapeError, UnstableSettingError
from ..model import GenerativeRNN
from .multistep import fit_generative_rnn
from .optimise import LearningCurve

if TYPE_CHECKING:  # JAX is imported when learning starts, not with this module
    import jax

    from .evidence import EvidenceSpec, ModelParams

__all__ = ["BankFit", "fit_bank", "OBJECTIVES", "LEARNABLE"]

OBJECTIVES = ("conditional", "evidence")
#: Groups of learnable fields: the raw parameter names each stands for.
LEARNABLE = {"dynamics": ("W", "b", "M", "c", "z_tau"), "noise": ("q", "r"), "prior": ("mean0", "p0")}
#: Bounds of the evidence scale β searched by the calibration.
SCALE_BOUNDS = (1e-3, 10.0)


@dataclass
class BankFit:
    """A learned bank of class models, in the units of the data.

    Attributes
    ----------
    classes : ndarray, shape (K,)
        Sorted class labels; model k belongs to ``classes[k]``.
    models : list of GenerativeRNN
        One per class.
    mean0 : ndarray, shape (K, N)
        Learned prior mean of each class model's state at t = 0.
    cov0 : ndarray, shape (K, N, N)
        Learned prior covariance (diagonal).
    evidence_scale : float
        β: class posteriors are (1 − ε) softmax(β ℓ) + ε / K; chosen on the
        validation split by :func:`fitted_calibration`, 1 without calibration.
    contamination : float
        ε, chosen with β (0 without calibration).
    curves : dict of str to LearningCurve
        ``"evidence"`` and, for the conditional objective, ``"conditional"``.
    validation_index : ndarray of int
        Which of the given sequences were held out for validation.
    validation_score : float
        Mean log posterior of the true class over every prefix of the
        validation sequences, at the kept parameters and the (β, ε) that
        maximise it (NaN without validation data): the score that compares
        banks, e.g. of different sizes.
    fit_seconds : float
    early_stopping : bool
        Whether each stage kept the step the validation split preferred
        (else its last step).
    """

    classes: np.ndarray
    models: list[GenerativeRNN]
    mean0: np.ndarray
    cov0: np.ndarray
    evidence_scale: float
    contamination: float
    curves: dict[str, LearningCurve]
    validation_index: np.ndarray
    validation_score: float
    fit_seconds: float
    early_stopping: bool = True


def fit_bank(
    sequences: ArrayLike,
    labels: ArrayLike,
    n_hidden: int,
    *,
    sample_interval: float,
    tau: float | None = None,
    substeps: int = 1,
    objective: str = "conditional",
    tying: str = "noise",
    evidence_weight: float = 0.1,
    weight_decay: float = 0.0,
    evidence_steps: int = 200,
    conditional_steps: int = 100,
    learning_rate: float = 0.01,
    validation_fraction: float = 0.25,
    calibrate: bool = True,
    early_stopping: bool = True,
    window: int = 256,
    batch_size: int | None = None,
    filter: str = "ukf",
    learn_tau: bool = False,
    init_epochs: int = 100,
    initial_models: list[GenerativeRNN] | None = None,
    initial_prior: tuple[ArrayLike, ArrayLike] | None = None,
    learn: tuple[str, ...] = ("dynamics", "noise", "prior"),
    seed: int = 0,
    restart: int = 0,
    progress: bool | None = None,
) -> BankFit:
    """Learn one GenerativeRNN per class (see the module docstring for the method).

    Parameters
    ----------
    sequences : array_like, shape (B, T, m)
        Training sequences, batch-first; NaN marks missing samples and the
        padding of shorter sequences.
    labels : array_like, shape (B,)
        Class of each sequence (any sortable labels; at least two classes).
    n_hidden : int
        Hidden units N of every class model.
    sample_interval : float
        Sampling interval Δ (s).
    tau : float, optional
        Time constant τ (s) of the models (default 2Δ); a starting value when ``learn_tau``.
    substeps : int
        Euler substeps per sample.
    objective : {"conditional", "evidence"}
        Refine the bank discriminatively after maximum likelihood, or stop after it.
    tying : {"none", "noise", "dynamics"}
        Fields shared by all class models (:mod:`rrnn_net.learning.parameters`);
        default: the noise covariances Q and R.
    evidence_weight : float
        Weight of the evidence term in the conditional objective (≥ 0).
    weight_decay : float
        λ ≥ 0 of a Gaussian prior on the recurrent weights: both stages
        maximise their objective (per observed value) − λ ‖W‖², the squared
        Frobenius norm averaged over the class models.
    evidence_steps, conditional_steps : int
        Adam steps of the two stages.
    learning_rate : float
    validation_fraction : float
        Share of each class's sequences held out to choose the kept steps and
        β; 0 < fraction < 1. Classes with fewer than two sequences leave the
        whole bank without validation (last steps kept, β = 1, ε = 0).
    calibrate : bool
        Fit the evidence scale β and contamination ε on the validation split
        (:func:`fitted_calibration`; else β = 1, ε = 0).
    early_stopping : bool
        Keep the step of each stage that the validation split scores best
        (default); False keeps each stage's last step. β is chosen on the
        validation split either way. :class:`~rrnn_net.RRNNClassifier` falls
        back to False where the kept bank is not significantly better than
        chance on its validation split.
    window : int
        Longest stretch of a sequence one gradient step sees.
    batch_size : int, optional
        Sequences per step (default: all).
    filter : {"ukf", "ekf"}
        The filter whose evidence is learned — the one that will decode.
    learn_tau : bool
        Learn τ as well (kept above the Euler step).
    init_epochs : int
        Epochs per stage of the multi-step start.
    initial_models : list of GenerativeRNN, optional
        Start from these models (data units; one per class in sorted label
        order, or one to start every class) instead of the multi-step fit.
        Their n_hidden, sample_interval, τ and substeps override the arguments.
    initial_prior : (mean0, cov0), optional
        Starting prior, shapes (N,) and (N, N) (or with a leading K axis);
        only the diagonal of cov0 is used (the learned prior is diagonal).
        Default N(0, 0.5 I).
    learn : tuple of {"dynamics", "noise", "prior"}
        What is learned: W, b, M, c (and τ with ``learn_tau``); Q and R; the
        prior. The rest keeps its starting value — e.g. ``("noise",)``
        re-estimates the noise of a known model.
    seed : int
    restart : int
        Restart index (≥ 0). Restart r > 0 starts from other initial models
        and draws other training windows, while the validation split stays
        the one ``seed`` draws, so the validation scores of restarts compare.
    progress : bool, optional
        Progress bars (default: only on a terminal).

    Returns
    -------
    BankFit

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.datasets import class_sequences, to_batch_first
    >>> models = [GenerativeRNN.oscillator(3, 2, seed=s, frequency=f) for s, f in ((0, 5.0), (1, 8.0))]
    >>> X, y = class_sequences(models, 6, 40, seed=0)
    >>> bank = fit_bank(to_batch_first(X), y, 3, sample_interval=0.005, tau=0.02, evidence_steps=5, conditional_steps=5,
    ...                 init_epochs=5, filter="ekf", progress=False)
    >>> len(bank.models), bank.mean0.shape
    (2, (2, 3))
    """
    from . import _jax

    start = time.perf_counter()
    data, label_array = _check_data(sequences, labels)
    if initial_models is not None:
        initial_models = _check_initial_models(initial_models, data.shape[2])
        first = initial_models[0]
        n_hidden, sample_interval, tau, substeps = first.n_hidden, first.sample_interval, first.tau, first.substeps
    settings = _Settings.checked(
        n_hidden=n_hidden, sample_interval=sample_interval, tau=tau, substeps=substeps, objective=objective,
        tying=tying, evidence_weight=evidence_weight, weight_decay=weight_decay, evidence_steps=evidence_steps,
        conditional_steps=conditional_steps, learning_rate=learning_rate, validation_fraction=validation_fraction,
        window=window, batch_size=batch_size, filter=filter, init_epochs=init_epochs,
        early_stopping=early_stopping)
    classes, codes = np.unique(label_array, return_inverse=True)
    if classes.size < 2 and objective == "conditional":
        raise ParameterError("the conditional objective needs at least two classes")
    learn = tuple(learn) if isinstance(learn, (tuple, list)) else (learn,)
    if not learn or any(group not in LEARNABLE for group in learn):
        raise ParameterError(f"learn must name groups from {tuple(LEARNABLE)}, got {learn!r}")
    prior = _check_prior(initial_prior, classes.size, settings.n_hidden)
    step = settings.sample_interval / settings.substeps
    shortest_tau = min(model.tau for model in initial_models) if initial_models is not None else settings.tau
    if learn_tau and shortest_tau <= step:  # τ = h (1 + e^z) cannot start there: it would move unasked
        raise UnstableSettingError(f"learn_tau keeps τ above the Euler step h = {step:g} s (τ = h (1 + e^z)), and "
                                   f"the start τ = {shortest_tau:g} s is not: start from a longer τ, or more substeps")
    if initial_models is not None and len(initial_models) not in (1, classes.size):
        raise ParameterError(f"initial_models must hold 1 or {classes.size} models, got {len(initial_models)}")
    with _jax.float64():
        learner = _Learner(data, codes, classes, settings, learn_tau=bool(learn_tau), calibrate=bool(calibrate),
                           seed=seed, restart=check_seed(restart, "restart"), progress=progress)
        return learner.run(start, initial_models, prior, learn)


@dataclass(frozen=True)
class _Settings:
    n_hidden: int
    sample_interval: float
    tau: float
    substeps: int
    objective: str
    tying: str
    evidence_weight: float
    weight_decay: float
    evidence_steps: int
    conditional_steps: int
    learning_rate: float
    validation_fraction: float
    window: int
    batch_size: int | None
    filter: str
    init_epochs: int
    early_stopping: bool

    @classmethod
    def checked(cls, **values: Any) -> _Settings:
        from .evidence import FILTERS
        from .parameters import TYINGS

        for name in ("n_hidden", "substeps", "evidence_steps", "conditional_steps", "window", "init_epochs"):
            values[name] = positive_int(values[name], name)
        values["sample_interval"] = positive_scalar(values["sample_interval"], "sample_interval", unit="second")
        if values["tau"] is None:
            values["tau"] = 2.0 * values["sample_interval"]
        values["tau"] = positive_scalar(values["tau"], "tau", unit="second")
        values["learning_rate"] = positive_scalar(values["learning_rate"], "learning_rate")
        if values["batch_size"] is not None:
            values["batch_size"] = positive_int(values["batch_size"], "batch_size")
        for name in ("evidence_weight", "weight_decay"):
            values[name] = nonnegative_weight(values[name], name)
        if not isinstance(values["early_stopping"], (bool, np.bool_)):  # "no" would be read as True
            raise ParameterError(f"early_stopping must be True or False, got {values['early_stopping']!r}")
        values["early_stopping"] = bool(values["early_stopping"])
        fraction = values["validation_fraction"]
        if not (isinstance(fraction, (int, float, np.floating)) and 0.0 < fraction < 1.0):
            raise ParameterError(f"validation_fraction must lie in (0, 1), got {fraction!r}")
        for name, allowed in (("objective", OBJECTIVES), ("tying", tuple(TYINGS)), ("filter", FILTERS)):
            choice(values[name], allowed, name)
        check_euler_step(values["sample_interval"] / values["substeps"], values["tau"])
        return cls(**values)


def _check_data(sequences: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    from ..teacher._checks import as_batch

    data = as_batch(sequences, "sequences", allow_nan=True)
    label_array = np.asarray(labels)
    if label_array.shape != (data.shape[0],):
        raise ShapeError(f"labels must have shape ({data.shape[0]},), got {label_array.shape}")
    if data.shape[1] < 2:
        raise ShapeError(f"sequences need at least 2 samples, got shape {data.shape}")
    observed = ~np.isnan(data)
    if not observed.any(axis=(1, 2)).all():
        raise ParameterError("every sequence needs at least one observed (non-NaN) sample")
    if not observed.any(axis=(0, 1)).all():
        raise ParameterError("every channel needs at least one observed (non-NaN) sample")
    return data, label_array


def _check_initial_models(given: object, n_obs: int) -> list[GenerativeRNN]:
    candidates = list(given) if isinstance(given, (list, tuple)) else [given]
    models = [model for model in candidates if isinstance(model, GenerativeRNN)]
    if not models or len(models) != len(candidates):
        raise ParameterError("initial_models must be GenerativeRNN instances")
    first = models[0]
    for model in models:
        if model.n_obs != n_obs:
            raise ShapeError(f"initial models observe {model.n_obs} channels, the sequences have {n_obs}")
        if (model.n_hidden, model.sample_interval, model.substeps, model.activation) != (first.n_hidden,
                                                                                         first.sample_interval,
                                                                              first.substeps, first.activation):
            raise ParameterError("initial models must share n_hidden, sample_interval, substeps and activation")
        for name in ("Q", "R"):  # learning holds one log-variance per unit and channel: a full matrix would be cut
            matrix = getattr(model, name)
            if np.any(matrix != np.diag(np.diagonal(matrix))):
                raise ParameterError(f"learning keeps Q and R diagonal, and an initial model's {name} is not: start "
                                     f"from its diagonal, model.replace({name}=np.diag(np.diag(model.{name})))")
    return models


def _check_prior(prior: object, n_models: int, n_hidden: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean0 (K, N), variances (K, N)) from a user's (mean0, cov0), or the default N(0, 0.5 I)."""
    from .._validation import check_covariance, finite_array

    if prior is None:
        return np.zeros((n_models, n_hidden)), np.full((n_models, n_hidden), 0.5)
    if not isinstance(prior, (tuple, list)) or len(prior) != 2:
        raise ParameterError("initial_prior must be a pair (mean0, cov0)")
    mean0, cov0 = finite_array(prior[0], "mean0"), finite_array(prior[1], "cov0")
    if mean0.shape not in ((n_hidden,), (n_models, n_hidden)):
        raise ShapeError(f"mean0 must have shape ({n_hidden},) or ({n_models}, {n_hidden}), got {mean0.shape}")
    if cov0.shape not in ((n_hidden, n_hidden), (n_models, n_hidden, n_hidden)):
        raise ShapeError(f"cov0 must have shape ({n_hidden}, {n_hidden}) or ({n_models}, {n_hidden}, {n_hidden}), "
                         f"got {cov0.shape}")
    check_covariance(cov0, "cov0", definite=True)
    variances = np.diagonal(cov0, axis1=-2, axis2=-1)
    return (np.broadcast_to(mean0, (n_models, n_hidden)).copy(),
            np.broadcast_to(variances, (n_models, n_hidden)).copy())


def _validation_split(codes: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of held-out sequences: round(fraction · n_k) of each class, at least one, never all."""
    counts = np.bincount(codes)
    held_out = np.zeros(codes.size, dtype=bool)
    if counts.min() < 2:
        return held_out
    for code, count in enumerate(counts):
        members = np.flatnonzero(codes == code)
        n_held = min(max(1, round(fraction * count)), count - 1)
        held_out[rng.choice(members, n_held, replace=False)] = True
    return held_out


#: Restart r's initial models are seeded from seed + r × this (more classes than this would share seeds).
_RESTART_STRIDE = 100_003


class _Learner:
    """One run of :func:`fit_bank`: data in standard units, the stages, the map back to data units."""

    def __init__(self, data: np.ndarray, codes: np.ndarray, classes: np.ndarray, settings: _Settings, *,
                 learn_tau: bool, calibrate: bool, seed: int, restart: int, progress: bool | None) -> None:
        self.settings = settings
        self.learn_tau = learn_tau
        self.calibrate = calibrate
        self.progress = progress
        # Restart r > 0 seeds its initial models and windows apart from seed's; the split below stays seed's.
        self.init_seed = seed + _RESTART_STRIDE * restart
        self.rng = random_generator(seed)
        self.classes = classes
        self.n_models = classes.size
        # Standard units: well-conditioned steps whatever the recording's scale.
        self.mean = np.nanmean(data, axis=(0, 1))
        std = np.nanstd(data, axis=(0, 1))
        self.std = np.where(std > 0, std, 1.0)
        standard = (data - self.mean) / self.std
        held_out = _validation_split(codes, settings.validation_fraction, self.rng)
        if restart:
            self.rng = random_generator([seed, restart])
        self.validation_index = np.flatnonzero(held_out)
        self.train, self.train_codes = standard[~held_out], codes[~held_out]
        self.valid, self.valid_codes = standard[held_out], codes[held_out]
        self.train_lengths = observed_lengths(self.train)
        self.template = GenerativeRNN(W=np.zeros((settings.n_hidden,) * 2), M=np.zeros((data.shape[2],
                                      settings.n_hidden)), tau=settings.tau, sample_interval=settings.sample_interval,
                                      substeps=settings.substeps)

    # ------------------------------------------------------------ stages
    def run(self, start: float, initial_models: list[GenerativeRNN] | None, prior: tuple[np.ndarray, np.ndarray],
            learn: tuple[str, ...]) -> BankFit:
        from . import parameters
        from .evidence import EvidenceSpec
        from .optimise import optimise

        settings = self.settings
        if initial_models is None:
            initial_models = self._initial_models()
        else:
            self.template = self.template.replace(activation=initial_models[0].activation)
            initial_models = [self._in_standard_units(model) for model in initial_models]
        self.context = _Context(spec=EvidenceSpec(sample_interval=settings.sample_interval,
                                                  substeps=settings.substeps, filter=settings.filter,
                                                  activation=self.template.activation),
                                n_models=self.n_models, step=self.template.step, tau=settings.tau,
                                evidence_weight=settings.evidence_weight,
                                weight_decay=settings.weight_decay)
        raw = parameters.initial_raw(initial_models, *prior, tying=settings.tying, learn_tau=self.learn_tau)
        learned = {name for group in learn for name in LEARNABLE[group]}
        # Fields that are not learned are constants of the objectives, not leaves the optimiser sees.
        self.frozen = {name: value for name, value in raw.items() if name not in learned}
        raw = {name: value for name, value in raw.items() if name in learned}
        validate_ll = self._validation_loglik() if self.valid.shape[0] else None
        curves: dict[str, LearningCurve] = {}
        raw, curves["evidence"] = optimise(
            _evidence_objective, raw, steps=settings.evidence_steps, learning_rate=settings.learning_rate,
            batches=self._batches, context=self.context, progress=self.progress,
            description="class models: evidence", early_stopping=settings.early_stopping,
            validate=None if validate_ll is None else lambda r: self._evidence_score(validate_ll(r)))
        if settings.objective == "conditional":
            raw, curves["conditional"] = optimise(
                _conditional_objective, raw, steps=settings.conditional_steps,
                learning_rate=settings.learning_rate, batches=self._batches, context=self.context,
                progress=self.progress, early_stopping=settings.early_stopping,
                description="bank: conditional likelihood",
                validate=None if validate_ll is None else lambda r: self._posterior_score(validate_ll(r))[0])
        score, scale, contamination = float("nan"), 1.0, 0.0
        if validate_ll is not None:
            score, scale, contamination = _calibration(validate_ll(raw), self.valid_codes,
                                                       np.any(~np.isnan(self.valid), axis=-1),
                                                       calibrate=self.calibrate)
        models, mean0, cov0 = parameters.to_models(self._params(raw), self.template)
        models = [self._in_data_units(model) for model in models]
        return BankFit(classes=self.classes, models=models, mean0=mean0, cov0=cov0, evidence_scale=float(scale),
                       contamination=float(contamination), curves=curves, validation_index=self.validation_index,
                       validation_score=score, fit_seconds=time.perf_counter() - start,
                       early_stopping=settings.early_stopping)

    def _initial_models(self) -> list[GenerativeRNN]:
        settings = self.settings
        groups = ([self.train] if settings.tying == "dynamics"
                  else [self.train[self.train_codes == code] for code in range(self.n_models)])
        return [fit_generative_rnn(group, settings.n_hidden, sample_interval=settings.sample_interval, tau=settings.tau,
                                   substeps=settings.substeps, epochs_per_stage=settings.init_epochs,
                                   seed=self.init_seed + index, progress=False)
                for index, group in enumerate(groups)]

    # ------------------------------------------------------------ data
    def _batches(self, step: int) -> tuple[dict, np.ndarray, np.ndarray]:
        """(frozen parameters, sequences (b, L, m), class codes (b,)) for one step: a random subset, random windows."""
        settings = self.settings
        n_train = self.train.shape[0]
        chosen = (np.arange(n_train) if settings.batch_size is None or settings.batch_size >= n_train
                  else np.sort(self.rng.choice(n_train, settings.batch_size, replace=False)))
        length = min(settings.window, self.train.shape[1])
        if length == self.train.shape[1]:
            windows = self.train[chosen]
        else:
            latest = np.maximum(self.train_lengths[chosen] - length, 0)
            starts = (self.rng.random(chosen.size) * (latest + 1)).astype(int)
            windows = self.train[chosen[:, None], starts[:, None] + np.arange(length)]
        return self.frozen, windows, self.train_codes[chosen]

    # ------------------------------------------------------------ validation
    def _params(self, raw: dict) -> ModelParams:
        return _params(raw, self.frozen, self.context)

    def _validation_loglik(self) -> Callable[[dict], np.ndarray]:
        import jax.numpy as jnp

        observations = jnp.asarray(self.valid)
        return lambda raw: np.asarray(_bank_values(raw, self.frozen, observations, context=self.context))

    def _evidence_score(self, values: np.ndarray) -> float:
        """Validation evidence per observed value under each sequence's own class model."""
        own = values[self.valid_codes, np.arange(self.valid_codes.size)]
        return float(own.sum() / np.sum(~np.isnan(self.valid)))

    def _posterior_score(self, values: np.ndarray) -> tuple[float, float]:
        """(mean log posterior of the true class over all observed prefixes at the best β, that β)."""
        return calibrated_log_posterior(values, self.valid_codes, np.any(~np.isnan(self.valid), axis=-1),
                                        fit_scale=self.calibrate)

    def _in_standard_units(self, model: GenerativeRNN) -> GenerativeRNN:
        return model.replace(M=model.M / self.std[:, None], c=(model.c - self.mean) / self.std,
                             R=model.R / np.outer(self.std, self.std))

    def _in_data_units(self, model: GenerativeRNN) -> GenerativeRNN:
        return model.replace(M=self.std[:, None] * model.M, c=self.std * model.c + self.mean,
                             R=np.outer(self.std, self.std) * model.R)


@dataclass(frozen=True)
class _Context:
    """The static (hashable) settings of the objectives: part of their compilation key."""

    spec: EvidenceSpec
    n_models: int
    step: float
    tau: float
    evidence_weight: float
    weight_decay: float


def _params(raw: dict, frozen: dict, context: _Context) -> ModelParams:
    from .parameters import constrain

    return constrain(frozen | raw, context.n_models, step=context.step, tau=context.tau)


def _evidence_objective(raw: dict, frozen: dict, windows: jax.Array, codes: jax.Array, *,
                        context: _Context) -> jax.Array:
    """Mean log evidence per observed value of each window under its own class model (traced by JAX)."""
    import jax
    import jax.numpy as jnp

    from .evidence import loglik

    params = jax.tree_util.tree_map(lambda value: value[codes], _params(raw, frozen, context))
    values = jax.vmap(lambda p, y: loglik(p, y, context.spec))(params, windows)
    return values.sum() / jnp.maximum(jnp.sum(~jnp.isnan(windows)), 1) - _weight_penalty(raw, context)


def _conditional_objective(raw: dict, frozen: dict, windows: jax.Array, codes: jax.Array, *,
                           context: _Context) -> jax.Array:
    """Mean log posterior of the true class over observed prefixes + weight × own evidence (traced by JAX)."""
    import jax
    import jax.numpy as jnp

    from .evidence import bank_loglik

    values = bank_loglik(_params(raw, frozen, context), windows, context.spec)  # (K, b, T)
    log_posterior = jax.nn.log_softmax(jnp.cumsum(values, axis=-1), axis=0)
    true_class = jnp.take_along_axis(log_posterior, codes[None, :, None], axis=0)[0]
    sampled = jnp.any(~jnp.isnan(windows), axis=-1)  # prefixes that end on an observed sample
    conditional = jnp.sum(jnp.where(sampled, true_class, 0.0)) / jnp.maximum(jnp.sum(sampled), 1)
    own = jnp.take_along_axis(values, codes[None, :, None], axis=0)[0]
    evidence = own.sum() / jnp.maximum(jnp.sum(~jnp.isnan(windows)), 1)
    return conditional + context.evidence_weight * evidence - _weight_penalty(raw, context)


def _weight_penalty(raw: dict, context: _Context) -> jax.Array | float:
    """λ ‖W‖² averaged over the class models (0 when W is not learned): the log of a Gaussian prior on W."""
    if "W" not in raw or not context.weight_decay:
        return 0.0
    import jax.numpy as jnp

    weights = raw["W"]
    share = context.n_models if weights.ndim == 3 else 1  # W tied across classes has no model axis
    return context.weight_decay * jnp.sum(weights ** 2) / share


def _bank_values(raw: dict, frozen: dict, observations: jax.Array, *, context: _Context) -> jax.Array:
    """(K, B, T) log evidence increments of every class model on every sequence, compiled once per shape."""
    return _compiled_bank_values()(raw, frozen, observations, context=context)


def _compiled_bank_values() -> Callable[..., jax.Array]:
    global _BANK_VALUES
    if _BANK_VALUES is None:
        import jax

        from .evidence import bank_loglik

        _BANK_VALUES = jax.jit(lambda raw, frozen, observations, context: bank_loglik(
            _params(raw, frozen, context), observations, context.spec), static_argnames=("context",))
    return _BANK_VALUES


_BANK_VALUES: Callable[..., jax.Array] | None = None  # compiled on first use (imports JAX)


def calibrated_log_posterior(values: np.ndarray, codes: np.ndarray, sampled: np.ndarray, *,
                             fit_scale: bool = True, offset: np.ndarray | None = None) -> tuple[float, float]:
    """Mean log posterior of the true class over observed prefixes, at the evidence scale that maximises it.

    The posterior of a prefix is softmax over classes of β ℓ + ``offset``.

    Parameters
    ----------
    values : ndarray, shape (K, B, T)
        Log evidence increments of every class model on every sequence.
    codes : ndarray of int, shape (B,)
        True class index of each sequence.
    sampled : ndarray of bool, shape (B, T)
        Prefixes to score (those ending on an observed sample).
    fit_scale : bool
        Search β in :data:`SCALE_BOUNDS` (else β = 1).
    offset : ndarray, shape (K, B, T), optional
        Log terms of each class and prefix that β does not scale (the
        recordings' lengths, :mod:`rrnn_net.duration`).

    Returns
    -------
    score : float
    scale : float
        β.
    """
    evidence = np.cumsum(values, axis=-1)
    weight = sampled / max(int(sampled.sum()), 1)

    def score(log_scale: float) -> float:
        return float(np.sum(weight * _true_class_log_posterior(evidence, codes, np.exp(log_scale), offset)))

    if not fit_scale:
        return score(0.0), 1.0
    scale, loss = _best_scale(lambda log_scale: -score(log_scale))
    return -loss, scale


def _best_scale(loss: Callable[[float], float]) -> tuple[float, float]:
    """(β, its loss): the β in :data:`SCALE_BOUNDS` that minimises ``loss`` of log β (10⁻³ tolerance in log β)."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(loss, bounds=tuple(np.log(SCALE_BOUNDS)), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(result.x)), float(result.fun)


def fitted_calibration(values: ArrayLike, codes: ArrayLike, sampled: ArrayLike, *,
                       offset: ArrayLike | None = None) -> tuple[float, float, float]:
    """The validation score of a bank, and the evidence scale β and contamination ε of its posteriors.

    The posterior of a prefix is (1 − ε) softmax over classes of
    β ℓ + ``offset``, plus ε / K: with probability ε a recording is one the
    class models do not describe, whose evidence says nothing of its class
    (an ε-contamination, or label-noise, model). (β, ε) maximise the mean
    log posterior of the true class over observed prefixes, and that maximum
    is the score that compares banks. A recording the bank gets badly wrong
    then costs at most −log(ε / K) per prefix instead of β times its margin,
    without bound: a few such recordings no longer drive β to the lower end
    of :data:`SCALE_BOUNDS`, where every other posterior would be left near
    uniform. The score is never below log(1 / K), which ε = 1 (a uniform
    posterior) reaches: a bank that scores no more carries nothing on these
    recordings.

    β is searched on a grid of log β (step 0.1) and refined around its best
    point; for each β the best ε is exact up to 10⁻⁶ (the score is concave
    in ε).

    Parameters
    ----------
    values : array_like, shape (K, B, T)
        Log evidence increments of every class model on every sequence.
    codes : array_like of int, shape (B,)
        True class index of each sequence.
    sampled : array_like of bool, shape (B, T)
        Prefixes to score; every sequence has at least one.
    offset : array_like, shape (K, B, T), optional
        Log terms β does not scale (the recordings' lengths, :mod:`rrnn_net.duration`).

    Returns
    -------
    score : float
        Mean log posterior of the true class at (β, ε).
    scale : float
        β.
    contamination : float
        ε, in [0, 1].

    Raises
    ------
    ShapeError, NonFiniteError, ParameterError
        As :func:`better_than_chance_p_value` (one sequence is enough).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> codes, sampled = np.repeat([0, 1], 10), np.ones((20, 5), bool)
    >>> values = rng.normal(size=(2, 20, 5))
    >>> values[codes, np.arange(20)] += 1.0          # the true class leads by a nat per sample ...
    >>> values[1, 0] += 300.0                       # ... except on one sequence, lost by 300 nats per sample
    >>> round(calibrated_log_posterior(values, codes, sampled)[1], 3)  # the log score alone: β at its bound
    0.001
    >>> score, scale, contamination = fitted_calibration(values, codes, sampled)
    >>> round(scale, 1), round(contamination, 2)  # the other 19 keep their confidence
    (2.4, 0.19)
    """
    from scipy.optimize import minimize_scalar

    values, codes, sampled, _, offset = _checked_scores(values, codes, sampled, 1.0, offset)
    evidence = np.cumsum(values, axis=-1)
    weight = sampled / sampled.sum()
    n_classes = values.shape[0]

    def profile(log_scale: float) -> tuple[float, float]:
        """(score, ε) at β = exp(log_scale), ε the best for that β."""
        return _best_contamination(_true_class_log_posterior(evidence, codes, np.exp(log_scale), offset), weight,
                                   n_classes)

    # The score need not be unimodal in β once ε is free: a grid finds the best region, a bounded search refines it.
    grid = np.arange(np.log(SCALE_BOUNDS[0]), np.log(SCALE_BOUNDS[1]) + 1e-9, 0.1)
    scores = np.array([profile(log_scale)[0] for log_scale in grid])
    best = int(np.argmax(scores))
    refined = minimize_scalar(lambda log_scale: -profile(log_scale)[0],
                              bounds=(grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]),
                              method="bounded", options={"xatol": 1e-3})
    log_scale = refined.x if -refined.fun > scores[best] else grid[best]
    score, contamination = profile(log_scale)
    return score, float(np.exp(log_scale)), contamination


def _best_contamination(log_truth: np.ndarray, weight: np.ndarray, n_classes: int) -> tuple[float, float]:
    """(score, ε): the ε in [0, 1] maximising Σ weight · log((1 − ε) p + ε / K), p = exp(``log_truth``) (B, T)."""
    from scipy.optimize import minimize_scalar

    scored = weight > 0  # an unscored prefix's posterior may be 0: its weight must not meet its infinite log
    log_truth, weight = log_truth[scored], weight[scored]

    def score(contamination: float) -> float:
        kept = np.log1p(-contamination) + log_truth if contamination < 1.0 else -np.inf
        uniform = np.log(contamination / n_classes) if contamination > 0.0 else -np.inf
        return float(np.sum(weight * np.logaddexp(kept, uniform)))

    # The score is concave in ε: its slope at the ends says whether the best ε is an end.
    truth = np.exp(log_truth)
    with np.errstate(over="ignore"):  # a true class with posterior 0: an infinite slope at ε = 0
        slope_at_0 = np.sum(weight * (np.exp(-log_truth) / n_classes - 1.0))
    if slope_at_0 <= 0.0:
        return score(0.0), 0.0
    if 1.0 - n_classes * np.sum(weight * truth) >= 0.0:  # the slope at ε = 1
        return score(1.0), 1.0
    result = minimize_scalar(lambda contamination: -score(contamination), bounds=(0.0, 1.0), method="bounded",
                             options={"xatol": 1e-6})
    return -float(result.fun), float(result.x)


def _calibration(values: np.ndarray, codes: np.ndarray, sampled: np.ndarray, *,
                 offset: np.ndarray | None = None, calibrate: bool = True) -> tuple[float, float, float]:
    """(validation score, β, ε) of a bank as :func:`fit_bank` keeps them (β = 1, ε = 0 without ``calibrate``).

    :func:`fitted_calibration`, except where an evidence is not finite:
    there the score is NaN (it then ranks below every finite one), ε = 0,
    and β comes from the log score's search, as before any bank is kept.
    """
    if calibrate and np.all(np.isfinite(values)):
        return fitted_calibration(values, codes, sampled, offset=offset)
    return (*calibrated_log_posterior(values, codes, sampled, fit_scale=calibrate, offset=offset), 0.0)


def better_than_chance_p_value(values: np.ndarray, codes: np.ndarray, sampled: np.ndarray, *, scale: float,
                               offset: np.ndarray | None = None) -> float:
    """One-sided p-value that the bank gives the true class more than a uniform posterior's 1/K.

    Each sequence contributes the mean posterior of its true class over its
    observed prefixes (the posterior softmax over classes of β ℓ +
    ``offset``, as in :func:`calibrated_log_posterior`); a one-sample t-test
    (scipy's ``ttest_1samp``) asks whether their mean exceeds 1/K. The
    posterior, not its log, is tested: it is bounded, so a few recordings
    that a bank gets badly wrong cannot hide that it gets the rest right.
    Prefixes of one sequence are not independent; the sequences are.

    Parameters
    ----------
    values : ndarray, shape (K, B, T)
        Log evidence increments of every class model on every sequence.
    codes : ndarray of int, shape (B,)
        True class index of each sequence (B ≥ 2).
    sampled : ndarray of bool, shape (B, T)
        Prefixes to score; every sequence has at least one.
    scale : float
        β.
    offset : ndarray, shape (K, B, T), optional
        Log terms β does not scale.

    Returns
    -------
    float
        Small when the bank tells the classes apart better than chance; 1
        where every sequence's posterior is uniform (equal evidence), 0
        where every sequence scores the same above 1/K.

    Raises
    ------
    ShapeError
        Shapes that do not agree, fewer than two sequences, codes that are
        not integers or ``sampled`` that is not boolean.
    NonFiniteError
        NaN or infinite ``values`` or ``offset``.
    ParameterError
        A code outside [0, K), a sequence without a sampled prefix, or a
        scale that is not a positive number.
    """
    from scipy.stats import ttest_1samp

    values, codes, sampled, scale, offset = _checked_scores(values, codes, sampled, scale, offset, min_sequences=2)
    posterior = np.exp(_true_class_log_posterior(np.cumsum(values, axis=-1), codes, scale, offset))
    per_sequence = np.sum(np.where(sampled, posterior, 0.0), axis=-1) / sampled.sum(axis=-1)
    chance = 1.0 / values.shape[0]
    if np.ptp(per_sequence) <= 1e-12:  # no spread: the t statistic is undefined
        return 0.0 if per_sequence.mean() > chance + 1e-9 else 1.0
    return float(ttest_1samp(per_sequence, chance, alternative="greater").pvalue)


def _checked_scores(values: object, codes: object, sampled: object, scale: object, offset: object, *,
                    min_sequences: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray | None]:
    """The arguments of :func:`better_than_chance_p_value` and :func:`fitted_calibration`, checked."""
    values = finite_array(values, "values")
    if values.ndim != 3 or values.shape[1] < min_sequences:
        raise ShapeError(f"values must have shape (K, B, T) with B >= {min_sequences} sequences, got {values.shape}")
    n_classes, n_sequences, length = values.shape
    code_array = np.asarray(codes)
    if code_array.shape != (n_sequences,) or code_array.dtype.kind not in "iu":
        raise ShapeError(f"codes must be {n_sequences} integer class indices, got {code_array.dtype} "
                         f"{code_array.shape}")
    if code_array.min() < 0 or code_array.max() >= n_classes:
        raise ParameterError(f"codes must lie in [0, {n_classes}), got {code_array.min()} to {code_array.max()}")
    mask = np.asarray(sampled)
    if mask.shape != (n_sequences, length) or mask.dtype != bool:
        raise ShapeError(f"sampled must be a boolean array of shape {(n_sequences, length)}, got {mask.dtype} "
                         f"{mask.shape}")
    if not mask.any(axis=-1).all():
        raise ParameterError("every sequence needs at least one sampled prefix")
    if offset is not None:
        offset = finite_array(offset, "offset", values.shape)
    return values, code_array, mask, positive_scalar(scale, "scale"), offset


def _log_posterior(evidence: np.ndarray, scale: float, offset: np.ndarray | None) -> np.ndarray:
    """(K, B, T) log softmax over classes of β ``evidence`` (K, B, T) + ``offset``."""
    scaled = scale * evidence + (0.0 if offset is None else offset)
    top = scaled.max(axis=0)
    return scaled - (top + np.log(np.exp(scaled - top).sum(axis=0)))


def _true_class_log_posterior(evidence: np.ndarray, codes: np.ndarray, scale: float,
                              offset: np.ndarray | None) -> np.ndarray:
    """(B, T) log softmax over classes of β ``evidence`` (K, B, T) + ``offset``, at each sequence's true class."""
    return np.take_along_axis(_log_posterior(evidence, scale, offset), codes[None, :, None], axis=0)[0]
