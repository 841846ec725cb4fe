"""Online recognition with a bank of rRNNs: one generative model per class, scored by evidence.

Each class k has a GenerativeRNN and a prior over its initial state; its
rRNN (a decoder) observes a sequence online and accumulates the log evidence
ℓ_k(t) = Σ_{s≤t} log p(y_s | y_<s, k). With a uniform class prior the
posterior over classes at time t is softmax_k(β ℓ_k(t)), with β = 1 for exact
Bayesian model comparison and a learned β < 1 when the evidence of the
learned (misspecified) models must be tempered to be calibrated; a learned
share ε of recordings that no class model describes mixes in a uniform
posterior, (1 − ε) softmax_k(β ℓ_k(t)) + ε / K.
:class:`RRNNClassifier` wraps this as a scikit-learn-style estimator on
aeon/sktime-shaped data: X (n_samples, n_channels, n_timepoints) or a list of
(n_channels, n_timepoints_i) arrays of unequal lengths.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from copy import copy as shallow_copy
from numbers import Number, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Tags, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from tqdm.auto import tqdm

from ._files import output_file, read_npz, write_atomically
from ._validation import (
    as_float_array,
    check_covariance,
    check_keyword_options,
    check_seed,
    choice,
    finite_array,
    positive_int,
    positive_scalar,
    strip_unit,
)
from .datasets import check_sequences, observed_lengths
from .decimation import DECIMATIONS, PHASES, block_ends, block_means, choose_decimation, choose_phases, phase_channels
from .duration import DurationModel, fit_duration_model
from .errors import ModelTypeError, NotFittedError, ParameterError, ShapeError
from .filters import EKF, NOISE_MODES, UKF, FilterResult
from .model import GenerativeRNN

if TYPE_CHECKING:
    from .learning import BankFit

__all__ = ["RRNNClassifier", "NotFittedError", "softmax_posterior"]

logger = logging.getLogger(__name__)

DECODERS = ("ukf", "ekf", "brian2")
#: How the bank treats observation noise while recognising: see :class:`RRNNClassifier`.
RECOGNITION_NOISE = (*NOISE_MODES, "grid")
#: Default ``noise_levels``: added variance 0, and −28.5 to +7.5 dB of each channel's variance in 3 dB steps
#: (SNR 28.5 to −7.5 dB). 3 dB steps: 6 dB steps lost accuracy at −5 dB SNR on validation data (docs/learning.md).
NOISE_LEVELS = (0.0, *(10.0 ** (np.arange(-28.5, 8.0, 3.0) / 10.0)).tolist())
#: How the class models are learned: see :class:`RRNNClassifier`.
OBJECTIVES = ("conditional", "evidence", "multistep")
#: How the bank models the recordings' lengths: see :class:`RRNNClassifier`.
DURATIONS = ("lognormal", "none")
#: One-sided p-value (t-test over validation recordings) above which the early-stopped bank counts as no better
#: than chance, and fit also learns the bank from every stage's last step (see :class:`RRNNClassifier`).
SIGNIFICANCE = 0.05
#: Member m of a classifier with ``n_members`` > 1 learns with seed ``seed + m * MEMBER_SEED_STRIDE``: member 0 is
#: the bank ``n_members=1`` learns, and the members of seeds below the stride are all different fits.
MEMBER_SEED_STRIDE = 1_000_003
_FORMAT = "rrnn_net.RRNNClassifier"
# 8: "contamination"; 7: "phases"; 6: several banks (n_members); 5: the duration model; 4: "decimation"; 3: "seed" and
# "sample_interval" (2 said "random_state" and "dt")
_FORMAT_VERSION = 8


def sequence_classifier_tags(tags: Tags) -> Tags:
    """scikit-learn tags of a classifier of sequences: 3-D X (aeon's layout) and NaN as missing samples."""
    tags.input_tags.three_d_array = True
    tags.input_tags.allow_nan = True
    return tags


Estimator = TypeVar("Estimator", bound=BaseEstimator)


def fit_on_a_copy(estimator: Estimator, X: ArrayLike, y: ArrayLike) -> Estimator:
    """``estimator._fit(X, y)`` on a shallow copy without fitted attributes; on success they replace the estimator's.

    A fit that raises (on bad data found late) leaves the estimator as it
    was, an earlier fit included; a fit that succeeds leaves no fitted
    attribute of an earlier one behind.
    """
    fitted = shallow_copy(estimator)
    for name in _fitted_attributes(fitted):
        delattr(fitted, name)
    fitted._fit(X, y)
    for name in _fitted_attributes(estimator):
        delattr(estimator, name)
    for name in _fitted_attributes(fitted):
        setattr(estimator, name, getattr(fitted, name))
    return estimator


def _learned_bank(bank: RRNNClassifier, X: np.ndarray, y: np.ndarray, fitter: Callable[..., GenerativeRNN] | None,
                  options: dict) -> tuple[RRNNClassifier, str | None]:
    """``bank`` (``n_members=1``) learned from checked recordings, and its warning: one job of ``n_jobs``."""
    message = bank._learn(X, y, fitter, options)
    return bank, message


def _rank(score: float) -> float:
    """A validation score as banks are ranked by it: a non-finite one (NaN: no validation data) below all others."""
    return score if np.isfinite(score) else -np.inf


def softmax_posterior(log_evidence: np.ndarray) -> np.ndarray:
    """Posterior over classes from log evidences (..., n_classes) under a uniform prior."""
    shifted = log_evidence - log_evidence.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


class RRNNClassifier(ClassifierMixin, BaseEstimator):
    """Classify sequences online by the evidence of per-class generative RNNs.

    Parameters
    ----------
    n_hidden : int or sequence of int
        Hidden units of each class model. Several sizes: a bank is learned
        for each and the one with the best validation score is kept
        (``n_hidden_``); the cost is the sum of the fits.
    n_init : int
        Fits of each size from different initial models and training
        windows (:func:`rrnn_net.learning.fit_bank`'s ``restart``), all
        scored on the same validation split; the best is kept, as
        scikit-learn's ``n_init``. The cost is ``n_init`` fits per size.
    n_members : int
        Banks learned, bank m as ``n_members=1`` would learn it with seed
        ``seed + m * MEMBER_SEED_STRIDE`` (its own validation split, initial
        models and training windows, unless ``fit_options`` gives initial
        models or a ``fitter`` learns); the posterior is the mean of theirs,
        p(k | y) = (1/M) Σ_m p(k | y, bank m), an average over fits whose
        differences are the learning's own uncertainty (a "deep ensemble").
        Each bank is Bayesian model comparison of generative RNNs. The cost
        is ``n_members`` fits and decodings; 1 gives one bank. The default,
        3, was chosen by cross-validation inside the training splits
        (docs/learning.md, "Several banks").
    n_jobs : int, optional
        Banks (``n_members``) learned at once, each in a worker process
        (scikit-learn's convention: None means 1 unless a
        ``joblib.parallel_config`` context says otherwise; -1 one per CPU,
        never more than ``n_members``). Each bank has its own seed and the
        learning is deterministic, so the banks are those of ``n_jobs=1``
        (tested; on one machine, with JAX set up by rrnn_net). The banks'
        ConvergenceWarnings are said at the user's ``fit`` as with
        ``n_jobs=1``; anything else a worker warns or logs (e.g. the
        fallback's INFO record) stays in that worker, and so do the side
        effects of a ``fitter``. With several workers only the count of
        banks shows progress. One bank (``n_members=1``) is learned in the
        calling process; its sizes and restarts one after another.
    sample_interval : float
        Δ in seconds between samples of the recordings (0.1 for 10 Hz).
    tau : float, optional
        Time constant of the class models in seconds (default: twice their
        sampling interval, ``phases_``·``decimation_``·Δ).
    phases : int or "auto"
        The class models observe every ``phases`` consecutive samples as one
        observation of ``phases`` channels per channel (the recording's
        polyphase components, :func:`~rrnn_net.decimation.phase_channels`),
        one every ``phases``·Δ: a recording that repeats a short waveform
        sample by sample otherwise gives every class model the waveform as
        state to infer, so that the evidence cannot tell the classes'
        waveforms apart. ``"auto"`` (default) looks for such a waveform in
        the standardised training recordings: if a period in
        :data:`~rrnn_net.decimation.PHASES` has class-mean waveforms that
        carry at least half their variance, it takes the smallest period
        whose waveforms carry 95 % of what the best period's carry, else 1:
        observe every sample (:func:`~rrnn_net.decimation.choose_phases`;
        with ``tau`` given, only periods whose Euler step stays stable).
        The waveform must be aligned to the sample index alike in all of a
        class's recordings (as ACSF1's are): phase channel j is sample j mod
        p of every recording, so a recording that starts a few samples into
        its waveform is misread. Under ``"auto"`` a class whose recordings
        start at different phases has no class-mean waveform, so p stays 1.
        ``fit_options['initial_models']`` must observe
        n_channels·``phases_`` outputs.
        ``decimation`` then applies to these observations. :meth:`from_models`
        takes ``"auto"`` as 1.
    decimation : int or "auto"
        The class models observe the means of blocks of this many
        consecutive samples, one every ``decimation``·Δ
        (:mod:`rrnn_net.decimation`): an oversampled recording otherwise gives
        them nearly redundant innovations. ``"auto"`` (default) takes the
        largest factor in :data:`~rrnn_net.decimation.DECIMATIONS` whose block
        means keep 99 % of the standardised training recordings' variance
        (and, with ``tau`` given, whose Euler step stays stable); recordings
        that are not oversampled keep factor 1. Online posteriors are still
        reported after every sample: a block's evidence arrives at its last
        sample. :meth:`from_models` takes ``"auto"`` as 1.
    decoder : {"ukf", "ekf", "brian2"}
        The rRNN that scores sequences: the numpy UKF (default), the EKF, or
        the compiled fixed-gain network run in Brian2 (numpy target; its
        evidence lacks the predictive-variance term, so it is an
        approximation; it starts every trial at the origin).
    noise : {"fixed", "adaptive", "grid"}
        Observation noise while recognising (learning is unchanged):
        ``"fixed"``, the learned R. ``"adaptive"``: each class model's UKF/EKF
        estimates every channel's noise online by variational Bayes, starting
        from the learned R (:mod:`rrnn_net.filters.noise`); measured, it is
        biased by class (a model that expects fast motion takes added noise
        for state uncertainty, a wrong model takes its misfit for noise).
        ``"grid"``: the sensors' added white noise is a latent variable with
        a uniform prior over ``noise_levels``; every class model is scored
        at every level and the level is marginalised exactly, after every
        sample: ℓ_k(t) = log mean_g exp ℓ_{k,g}(t). Noise the bank was not
        trained on is inferred, not told, at ``len(noise_levels)`` times the
        cost. Neither is available with ``decoder="brian2"``.
    noise_levels : sequence of float, optional
        ``noise="grid"``: the added noise variances, in units of each
        channel's training variance (0 = the learned R alone). Default
        :data:`NOISE_LEVELS`: 0 and 3 dB steps from −28.5 to +7.5 dB.
    duration : {"lognormal", "none"}
        ``"lognormal"`` (default): every class model also says how long its
        recordings last, a log-normal length with the class's mean and one
        spread pooled over the classes, fitted to the training recordings
        the class models learn from (:mod:`rrnn_net.duration`). The
        posterior's softmax (``calibrate``) after t samples is then that of
        β ℓ(t) + log P(T ≥ t | k) while a recording goes on, and of
        β ℓ + log p(T | k) from its last sample on, with β and ε chosen on
        the validation split for that posterior (and sizes and restarts
        compared by it). Where all
        training recordings have one length it changes nothing
        (``duration_model_`` is None).
        ``"none"``: the softmax is that of β ℓ(t).
    objective : {"conditional", "evidence", "multistep"}
        How the class models are learned (:func:`rrnn_net.learning.fit_bank`):
        ``"conditional"`` (default) maximum likelihood of each class model on
        its class, then the bank's conditional likelihood of the true class;
        ``"evidence"`` maximum likelihood only; ``"multistep"`` the earlier
        multi-step squared-error fit with heuristic noise (no JAX needed).
        The learned filter is the decoder's (UKF, or EKF for ``"ekf"``).
    tying : {"none", "noise", "dynamics"}
        Parameters shared by the class models while learning. The default,
        ``"noise"``, gives every class the same Q and R: noise levels belong
        to the sensors and the network, not to a class, and a class model
        can then neither win by being vaguer nor lose everything to one
        unexpected sample by being over-precise.
    evidence_weight : float
        Weight of each model's own evidence in the conditional objective.
    weight_decay : float
        λ of a Gaussian prior on every class model's recurrent weights W
        (``"conditional"`` and ``"evidence"``): learning maximises its
        objective per observed value − λ ‖W‖². Default 0 (maximum
        likelihood); measured in docs/learning.md, λ = 0.01 gains a little
        in cross-validation on small univariate sets, loses on ACSF1 and
        costs BasicMotions its robustness to added noise.
    calibrate : bool
        Learn the posterior's evidence scale β and contamination ε on the
        validation split (else β = 1, ε = 0): the posterior after t samples
        is (1 − ε) softmax(β ℓ(t)) + ε / K. β < 1 tempers the evidence of
        misspecified class models; ε is the share of recordings the class
        models do not describe (their class posterior is uniform), which
        bounds what one recording the bank gets badly wrong costs the
        validation score, so that a few such recordings cannot force β
        towards 0 (:func:`~rrnn_net.learning.bank.fitted_calibration`;
        docs/learning.md, "A contaminated posterior").
    validation_fraction : float
        Share of each class's training sequences held out to choose the kept
        training steps and β. Where the bank so chosen is not significantly
        better than chance on that split (a one-sided t-test over its
        recordings of the true class's mean posterior against 1/K,
        p ≥ :data:`SIGNIFICANCE`), the split's choice of steps was noise:
        fit then also learns every size and restart to each stage's last
        step, and keeps whichever bank the split scores best
        (``fit_result_.early_stopping`` says which; logged at INFO). A
        ``fit_options["early_stopping"]`` of the user's is kept as given.
    prior_variance : float
        Prior variance of every hidden unit at the start of a sequence for
        models without a learned prior (``objective="multistep"``,
        :meth:`from_models`).
    fit_options : dict, optional
        Further keyword arguments for :func:`rrnn_net.learning.fit_bank`
        (e.g. ``evidence_steps``, ``window``), or for the fitter.
    seed : int
        Seed of the learning (validation split, windows, initial weights).
    fitter : callable, optional
        ``fitter(sequences (B, T, m), n_hidden, *, sample_interval, tau, seed, **fit_options) -> GenerativeRNN``
        fits each class on its own; replaces ``objective``. It and
        ``"multistep"`` take one size ``n_hidden``; their models are checked
        as :meth:`from_models` checks models.
    progress : bool, optional
        Progress bars while learning (default: only on a terminal).

    Attributes (after fit)
    ----------------------
    classes_ : ndarray, shape (n_classes,)
    n_features_in_ : int
        Channels of the sequences (scikit-learn's name).
    members_ : list of RRNNClassifier
        Only after a fit (or :meth:`load`) with ``n_members`` > 1: the fitted
        banks (each ``n_members=1``, with the settings of the fit), whose
        posteriors are averaged. :meth:`banks` gives them with this
        classifier's current settings (``decoder``, ``noise``, ...). The
        classifier itself then has ``classes_``, ``n_features_in_``,
        ``phases_``, ``decimation_`` and the channels' standardisation (shared by the
        banks), but not ``n_hidden_``, ``validation_scores_``, ``models_``,
        ``mean0_``, ``cov0_``, ``evidence_scale_``, ``contamination_``,
        ``duration_model_`` or ``fit_result_``: those are each bank's.
    n_hidden_ : int
        The size of the kept class models.
    phases_ : int
        Samples per observation of the class models' polyphase channels
        (``n_features_in_ * phases_`` channels; 1: every sample).
    decimation_ : int
        Observations per block mean the class models observe (their sampling
        interval is ``phases_ * decimation_ * sample_interval``).
    validation_scores_ : dict of int to float
        Validation score (mean log posterior of the true class over all
        prefixes, at the β and ε that maximise it, or β = 1 and ε = 0 without
        ``calibrate``;
        with ``duration_model_``, of the posterior with the lengths' term)
        of each size tried (the best of its ``n_init`` fits); only when the bank was
        learned by :func:`~rrnn_net.learning.fit_bank` (not by a fitter,
        ``"multistep"``, :meth:`from_models` or :meth:`load`).
    models_ : list of GenerativeRNN
    mean0_ : ndarray, shape (n_classes, n_hidden)
    cov0_ : ndarray, shape (n_classes, n_hidden, n_hidden)
        Each class model's prior over its state at the start of a sequence.
    evidence_scale_ : float
        β of the posterior (1 − ε) softmax(β ℓ) + ε / K (with
        ``duration_model_``, softmax of β ℓ + its term), chosen on the
        validation split by :func:`~rrnn_net.learning.bank.fitted_calibration`.
    contamination_ : float
        ε of that posterior, in [0, 1], chosen with β. 1: the bank's
        posteriors carried nothing on its validation split (fit warns).
    duration_model_ : DurationModel or None
        The classes' log-normal lengths (``duration="lognormal"`` and
        training recordings of more than one length); None: lengths play no part.
    channel_mean_, channel_std_ : ndarray, shape (n_channels,)
        Standardisation learned on the training set.
    fit_result_ : BankFit or None
        The learning record (curves, validation split) when the bank was learned.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.datasets import class_sequences
    >>> models = [GenerativeRNN.oscillator(4, 2, seed=s) for s in (0, 1)]
    >>> X, y = class_sequences(models, 5, 80, seed=0)
    >>> clf = RRNNClassifier.from_models(models, classes=[0, 1])
    >>> bool((clf.predict(X) == y).mean() > 0.9)
    True
    """

    def __init__(
        self,
        n_hidden: int | Sequence[int] = 8,
        *,
        n_init: int = 1,
        n_members: int = 3,
        n_jobs: int | None = None,
        sample_interval: float = 0.1,
        tau: float | None = None,
        phases: int | str = "auto",
        decimation: int | str = "auto",
        decoder: str = "ukf",
        noise: str = "fixed",
        noise_levels: Sequence[float] | None = None,
        duration: str = "lognormal",
        objective: str = "conditional",
        tying: str = "noise",
        evidence_weight: float = 0.1,
        weight_decay: float = 0.0,
        calibrate: bool = True,
        validation_fraction: float = 0.25,
        prior_variance: float = 0.5,
        fit_options: dict | None = None,
        seed: int = 0,
        fitter: Callable[..., GenerativeRNN] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.n_hidden = n_hidden
        self.n_init = n_init
        self.n_members = n_members
        self.n_jobs = n_jobs
        self.sample_interval = sample_interval
        self.tau = tau
        self.phases = phases
        self.decimation = decimation
        self.decoder = decoder
        self.noise = noise
        self.noise_levels = noise_levels
        self.duration = duration
        self.objective = objective
        self.tying = tying
        self.evidence_weight = evidence_weight
        self.weight_decay = weight_decay
        self.calibrate = calibrate
        self.validation_fraction = validation_fraction
        self.prior_variance = prior_variance
        self.fit_options = fit_options
        self.seed = seed
        self.fitter = fitter
        self.progress = progress

    # ------------------------------------------------------ sklearn protocol
    def set_params(self, **params: Any) -> RRNNClassifier:
        """Set constructor parameters (scikit-learn protocol); an unknown name is a :class:`ParameterError`."""
        try:
            return super().set_params(**params)
        except ValueError as exc:
            raise ParameterError(str(exc)) from None

    def __sklearn_tags__(self) -> Tags:
        return sequence_classifier_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------ fitting
    def fit(self, X: ArrayLike, y: ArrayLike) -> RRNNClassifier:
        """Learn channel standardisation and, in each of ``n_members`` banks, a generative model (and prior) per class.

        A fit that raises leaves the classifier as it was (an earlier fit
        included); a fit that succeeds replaces every fitted attribute.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_channels, n_timepoints), or list of (n_channels, n_timepoints_i)
            NaN marks missing samples; unequal lengths come as a list (aeon's format).
        y : array_like, shape (n_samples,)

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When a kept bank's validation score is no better than a
            uniform posterior's, log(1/n_classes): it learned nothing that
            carries over to recordings it did not learn from. With
            ``n_members`` > 1 the message starts "bank m of M (seed s): ".
        """
        return fit_on_a_copy(self, X, y)

    def _fit(self, X: ArrayLike, y: ArrayLike) -> None:
        """:meth:`fit`, setting the fitted attributes as it goes (on a copy: see :meth:`fit`)."""
        X = check_sequences(X)
        if X.shape[2] < 2:  # one sample holds no dynamics to learn
            raise ShapeError(f"X: fit needs recordings of at least 2 samples, got n_timepoints = {X.shape[2]}")
        y = check_targets(y, X.shape[0])
        self._check_settings()
        fitter, options = self._learning_setup(X, y)
        if self.n_members > 1:
            messages = self._fit_members(X, y, fitter, options)
        else:
            message = self._learn(X, y, fitter, options)
            messages = [message] if message else []
        # Said here, in the user's thread, before the fitted attributes reach the user's classifier: a
        # warnings filter "error" leaves it as it was, also where the banks learned in worker processes.
        for message in messages:
            warnings.warn(message, ConvergenceWarning, stacklevel=4)  # fit -> fit_on_a_copy -> here

    def _learning_setup(self, X: np.ndarray, y: np.ndarray) -> tuple[Callable[..., GenerativeRNN] | None, dict]:
        """(the fitter, or None for :func:`~rrnn_net.learning.fit_bank`; its checked ``fit_options``).

        Everything about the recordings and settings that every bank would
        refuse, checked once, before any bank is learned.
        """
        fitter = None
        if self.fitter is not None or self.objective == "multistep":
            fitter = self.fitter or _default_fitter()
            options = check_keyword_options(self.fit_options, fitter, name="fit_options", what="the fitter",
                                            positional=2, taken=("sample_interval", "tau", "seed"))
        else:
            from .learning import fit_bank

            options = check_keyword_options(self.fit_options, fit_bank, name="fit_options", what="fit_bank",
                                            positional=3, taken=_FIT_BANK_KEYWORDS)
        sizes = self._sizes()
        if fitter is not None and len(sizes) > 1:
            raise ParameterError(f"several sizes n_hidden={sizes} are compared on fit_bank's validation split; "
                                 "objective='multistep' and a fitter take one size")
        given = options.get("initial_models") if fitter is None else None  # fit_bank checks the rest of them
        initial = given[0] if isinstance(given, (list, tuple)) and given else None
        if isinstance(initial, GenerativeRNN) and any(size != initial.n_hidden for size in sizes):
            raise ParameterError(f"fit_options['initial_models'] have n_hidden {initial.n_hidden}, but n_hidden is "
                                 f"{self.n_hidden!r}: give the size of the initial models")
        classes = np.unique(y)
        if classes.size < 2:
            raise ParameterError(f"fit needs at least two classes, got 1 class ({classes[0]!r})")
        if unobserved := np.flatnonzero(np.isnan(X).all(axis=(0, 2))).tolist():
            raise ParameterError(f"channel(s) {unobserved} of X hold no observed sample: nothing to learn them from")
        phases = 1 if _is_auto(self.phases) else positive_int(self.phases, "phases")
        decimation = 1 if _is_auto(self.decimation) else positive_int(self.decimation, "decimation")
        if 1 < phases * decimation >= X.shape[2]:  # the models learn from at least two observations
            raise ParameterError(f"phases × decimation ({self.phases!r} × {self.decimation!r}) must be below the "
                                 f"longest training recording's {X.shape[2]} samples, so that the class models "
                                 "observe it at least twice")
        if unobserved := [(channel, phase) for channel in range(X.shape[1]) for phase in range(phases)
                          if phases > 1 and np.isnan(X[:, channel, phase::phases]).all()]:
            raise ParameterError(f"(channel, phase) {unobserved} of X hold no observed sample with phases = "
                                 f"{phases}: nothing to learn them from")
        return fitter, options

    def _learn(self, X: np.ndarray, y: np.ndarray, fitter: Callable[..., GenerativeRNN] | None,
               options: dict) -> str | None:
        """Learn one bank from checked recordings (:meth:`_learning_setup`); the warning it calls for, if any."""
        from .learning import fit_bank

        sizes = self._sizes()
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]  # channels: scikit-learn's features of a sequence
        self.channel_mean_ = np.nanmean(X, axis=(0, 2))
        self.channel_std_ = np.nanstd(X, axis=(0, 2))
        self.channel_std_[self.channel_std_ == 0] = 1.0
        standardized = self._standardize(X)
        substeps = options.get("substeps", 1)
        self.phases_ = self._choose_phases(standardized, y, substeps)
        self.decimation_ = self._choose_decimation(phase_channels(standardized, self.phases_), substeps)
        sequences = self._observations(standardized)
        sample_interval, tau = self._model_times()
        self.fit_result_ = None
        lengths, codes = observed_lengths(standardized), np.searchsorted(self.classes_, y)
        if fitter is not None:
            self.n_hidden_ = sizes[0]
            self.models_ = [
                fitter(sequences[y == label], self.n_hidden_, sample_interval=sample_interval, tau=tau,
                       seed=self.seed + index, **options)
                for index, label in enumerate(self.classes_)
            ]
            if not all(isinstance(model, GenerativeRNN) for model in self.models_):
                raise ModelTypeError(f"the fitter must return a GenerativeRNN, got "
                                     f"{[type(model).__name__ for model in self.models_]}")
            n_obs, self.n_hidden_ = _check_bank_sizes(self.models_)
            if n_obs != sequences.shape[2]:
                raise ShapeError(f"the fitter's models observe {n_obs} channels, X has {X.shape[1]}"
                                 + (f" in {self.phases_} phases each" if self.phases_ > 1 else ""))
            self._set_default_priors()
            self.duration_model_ = self._fit_durations(lengths, codes)
            return None

        def learn(**stopping: Any) -> list[BankFit]:
            return [fit_bank(sequences, y, size, sample_interval=sample_interval, tau=tau, objective=self.objective,
                             tying=self.tying, evidence_weight=self.evidence_weight, weight_decay=self.weight_decay,
                             calibrate=self.calibrate, validation_fraction=self.validation_fraction,
                             filter="ekf" if self.decoder == "ekf" else "ukf", seed=self.seed, restart=restart,
                             progress=self.progress, **options, **stopping)
                    for size in self._sizes() for restart in range(self.n_init)]

        banks = learn()
        # The same seed gives every size and restart the same validation split, so their scores compare. The
        # lengths are learned from the recordings the class models learned from; where they enter the posterior,
        # the validation split chooses β, and the bank, for the posterior that is used, the lengths' term included.
        validation_index = banks[0].validation_index
        validation, validation_codes = standardized[validation_index], codes[validation_index]
        learned_from = np.setdiff1d(np.arange(len(y)), validation_index)
        durations = self._fit_durations(lengths[learned_from], codes[learned_from])
        scored = self._scored(banks, durations, validation, validation_codes)  # (score, β) of each bank
        # Early stopping lets a small validation split choose each stage's step. Where the bank it kept is not
        # significantly better than chance on that split, the split told the classes no better apart than a
        # coin, so its choice of steps was noise; then the same fits also run to their last steps, and compete
        # on the same split (docs/learning.md, "When early stopping fails").
        best = max(range(len(banks)), key=lambda index: _rank(scored[index][0]))
        if "early_stopping" not in options and validation_index.size >= 2 and np.isfinite(scored[best][0]):
            from .learning.bank import better_than_chance_p_value

            values, sampled, offset = self._validation_terms(banks[best], durations, validation)
            p_value = better_than_chance_p_value(values, validation_codes, sampled, scale=scored[best][1],
                                                 offset=offset)
            if p_value >= SIGNIFICANCE:
                logger.info("the early-stopped bank is not significantly better than chance on its validation "
                            "split (one-sided p = %.3g); learning it to every stage's last step as well", p_value)
                last_steps = learn(early_stopping=False)
                banks += last_steps
                scored += self._scored(last_steps, durations, validation, validation_codes)
        ranks = [_rank(value) for value, _, _ in scored]
        kept = int(np.argmax(ranks))  # the first of equals, as max() takes it
        bank = banks[kept]
        self.n_hidden_ = bank.models[0].n_hidden
        self.validation_scores_ = {
            size: scored[max((i for i, fit in enumerate(banks) if fit.models[0].n_hidden == size),
                             key=ranks.__getitem__)][0] for size in self._sizes()}
        self.models_, self.mean0_, self.cov0_ = bank.models, bank.mean0, bank.cov0
        kept_score, self.evidence_scale_, self.contamination_ = scored[kept]
        self.fit_result_ = bank
        self.duration_model_ = durations
        # A uniform posterior (ε = 1) scores log(1/K) on any validation split, so the calibrated score is never
        # below it; a bank that does no better has learned nothing that carries over to recordings it did not
        # learn from (e.g. ArrowHead with seed 3). The margin is round-off: equal evidence scores log(1/K) only
        # to ~1e-14.
        chance = -np.log(self.classes_.size)
        if validation_index.size and not np.isnan(kept_score) and kept_score <= chance + 1e-9:
            return (f"the learned bank is no better than chance on its validation split: mean log posterior of "
                    f"the true class {kept_score:.4f} against log(1/{self.classes_.size}) = {chance:.4f} (evidence "
                    f"scale {self.evidence_scale_:.3g}, contamination {self.contamination_:.3g}), so its posteriors "
                    "carry little or nothing; another seed, n_init=3 or more recordings per class may fit")
        return None

    def _fit_members(self, X: np.ndarray, y: np.ndarray, fitter: Callable[..., GenerativeRNN] | None,
                     options: dict) -> list[str]:
        """Fit ``n_members`` banks, bank m as ``n_members=1`` with seed ``seed + m * MEMBER_SEED_STRIDE``.

        ``n_jobs`` of them at once (scikit-learn's ``Parallel``: worker
        processes, no more than there are banks). Returns the banks'
        warnings, each named "bank m of M (seed s): ".
        """
        from joblib import effective_n_jobs
        from sklearn.utils.parallel import Parallel, delayed

        seed = check_seed(self.seed)
        n_jobs = min(effective_n_jobs(self.n_jobs), self.n_members)
        # Several workers' progress bars would write over each other: only the banks' count is shown then.
        quiet = {"progress": False} if n_jobs > 1 else {}
        members = [clone(self).set_params(n_members=1, seed=seed + member * MEMBER_SEED_STRIDE, **quiet)
                   for member in range(self.n_members)]
        learned = Parallel(n_jobs=n_jobs, return_as="generator")(
            [delayed(_learned_bank)(member, X, y, fitter, options) for member in members])
        fitted, messages = [], []
        with tqdm(learned, total=self.n_members, desc="banks (n_members)", leave=False,
                  disable=None if self.progress is None else not self.progress) as bar:
            for index, (member, message) in enumerate(bar):
                fitted.append(member.set_params(progress=self.progress))
                if message:
                    messages.append(f"bank {index + 1} of {self.n_members} (seed {member.seed}): {message}")
        self._set_members(fitted)
        return messages

    def _set_members(self, members: list[RRNNClassifier]) -> None:
        # Standardisation, phases and decimation depend on the training recordings alone: the same in every member.
        for name in _SHARED_ATTRIBUTES:
            setattr(self, name, getattr(members[0], name))
        self.members_ = members

    def _with_members(self, members: list[RRNNClassifier]) -> RRNNClassifier:
        """A classifier with this one's settings whose fitted banks are ``members``."""
        ensemble = clone(self)
        ensemble._set_members(members)
        return ensemble

    def banks(self) -> list[RRNNClassifier]:
        """The fitted banks whose posteriors :meth:`predict_proba_online` averages: ``[self]`` for one bank.

        With ``n_members`` > 1, copies of ``members_`` that decode with this
        classifier's current settings (``decoder``, ``noise``, ...), each
        with its own ``models_``, ``evidence_scale_``, ``contamination_`` and ``fit_result_``.
        """
        self._check_fitted()
        if not hasattr(self, "members_"):
            return [self]
        settings = {name: value for name, value in self.get_params(deep=False).items()
                    if name not in ("n_members", "seed")}
        return [shallow_copy(member).set_params(**settings) for member in self.members_]

    @classmethod
    def from_models(cls, models: list[GenerativeRNN] | tuple[GenerativeRNN, ...], classes: ArrayLike, *,
                    channel_mean: ArrayLike | None = None, channel_std: ArrayLike | None = None,
                    mean0: ArrayLike | None = None, cov0: ArrayLike | None = None, evidence_scale: float = 1.0,
                    contamination: float = 0.0, duration_model: DurationModel | None = None,
                    **params: Any) -> RRNNClassifier:
        """A classifier from known generative models (no fitting).

        Standardisation is the identity by default (``channel_mean`` and
        ``channel_std``, each (n_channels,), the second positive); ``mean0``
        (n_classes, N) and ``cov0`` (n_classes, N, N) are the class models'
        priors (default N(0, prior_variance·I)); ``evidence_scale`` is β
        (default 1: exact Bayesian model comparison) and ``contamination``
        ε ∈ [0, 1] (default 0) of the posterior (1 − ε) softmax(β ℓ) + ε / K;
        ``duration_model`` the
        classes' lengths (default None: lengths play no part). The class models must
        share N and m. With ``phases=p`` the models observe p samples of each
        of the recordings' m / p channels at once, and with ``decimation=k``
        block means of k such observations: the recordings' ``sample_interval``
        is the models' over p·k (``"auto"``, the default of both, is 1 here:
        there are no recordings to choose from).
        The classifier is one bank; ``n_members`` is 1 unless given (it is
        what a later :meth:`fit` would learn).
        """
        if isinstance(models, GenerativeRNN) or not isinstance(models, (list, tuple)) or not models or not all(
                isinstance(model, GenerativeRNN) for model in models):
            raise ParameterError("models must be a non-empty list of GenerativeRNN")
        classes = _check_labels(classes, len(models), "classes")
        if classes.dtype.kind in "fc" and np.isnan(classes).any():
            raise ParameterError(f"classes must not be NaN, got {classes.tolist()}")
        if np.unique(classes).size != classes.size:
            raise ParameterError(f"classes must be distinct (one per model), got {classes.tolist()}")
        n_obs, n_hidden = _check_bank_sizes(models)
        if taken := sorted({"n_hidden", "sample_interval"} & params.keys()):
            raise ParameterError(f"from_models takes {' and '.join(taken)} from the models; do not pass it")
        classifier = cls(n_hidden=n_hidden).set_params(**({"n_members": 1} | params))
        classifier._check_settings()
        classifier.phases_ = 1 if _is_auto(classifier.phases) else positive_int(classifier.phases, "phases")
        classifier.decimation_ = 1 if _is_auto(classifier.decimation) else positive_int(classifier.decimation,
                                                                                          "decimation")
        if n_obs % classifier.phases_:
            raise ShapeError(f"models with {n_obs} outputs cannot observe phases = {classifier.phases_} samples of "
                             "each channel: n_obs must be a multiple of phases")
        n_obs //= classifier.phases_  # the recordings' channels
        classifier.set_params(sample_interval=models[0].sample_interval / (classifier.phases_ * classifier.decimation_))
        classifier.classes_ = classes
        classifier.n_features_in_ = n_obs
        classifier.models_ = list(models)
        classifier.n_hidden_ = n_hidden
        classifier.channel_mean_ = (np.zeros(n_obs) if channel_mean is None
                                    else finite_array(channel_mean, "channel_mean", (n_obs,)))
        classifier.channel_std_ = np.ones(n_obs) if channel_std is None else _channel_std(channel_std, n_obs)
        classifier._set_default_priors()
        if mean0 is not None:
            mean0 = finite_array(mean0, "mean0")
            if mean0.shape != (len(models), n_hidden):
                raise ShapeError(f"mean0 must have shape ({len(models)}, {n_hidden}), got {mean0.shape}")
            classifier.mean0_ = mean0
        if cov0 is not None:
            cov0 = finite_array(cov0, "cov0")
            if cov0.shape != (len(models), n_hidden, n_hidden):
                raise ShapeError(f"cov0 must have shape ({len(models)}, {n_hidden}, {n_hidden}), got {cov0.shape}")
            check_covariance(cov0, "cov0", definite=True)
            classifier.cov0_ = cov0
        classifier.evidence_scale_ = positive_scalar(evidence_scale, "evidence_scale")
        classifier.contamination_ = _checked_contamination(contamination)
        if duration_model is not None and (not isinstance(duration_model, DurationModel)
                                           or duration_model.n_classes != len(models)):
            raise ParameterError(f"duration_model must be None or a DurationModel of {len(models)} classes, got "
                                 f"{duration_model!r}")
        if duration_model is not None and classifier.duration == "none":
            raise ParameterError("duration='none' leaves lengths out; a duration_model was given as well")
        classifier.duration_model_ = duration_model
        classifier.fit_result_ = None
        return classifier

    # ---------------------------------------------------------- prediction
    def log_evidence_online(self, X: ArrayLike) -> np.ndarray:
        """Accumulated log evidence ℓ_k(t) of every class model, shape (n_samples, n_timepoints, n_classes).

        For a list of unequal-length sequences, n_timepoints is the longest
        length and each sequence's evidence stays constant after its end.
        The evidence is that of the standardised data (a class-independent
        shift from the data's own units).

        Raises
        ------
        ParameterError
            With several banks (``n_members`` > 1), which have one evidence
            each: ``banks()[m].log_evidence_online(X)`` gives bank m's.
        """
        self._check_fitted()
        if hasattr(self, "members_"):
            raise ParameterError(f"a classifier of {len(self.members_)} banks (n_members) has one evidence per bank: "
                                 "use banks()[m].log_evidence_online(X); its posterior is predict_proba_online(X)")
        return self._log_evidence(self._checked(X))

    def predict_proba_online(self, X: ArrayLike) -> np.ndarray:
        """Posterior over classes after each sample, shape (n_samples, n_timepoints, n_classes).

        (1 − ε) softmax(β ℓ(t)) + ε / K, where the softmax also takes the
        classes' log length terms with ``duration_model_``: log P(T ≥ t | k)
        while a sequence goes on, log p(T | k) from its last sample on (a
        sequence's length is one past its last observed sample). With
        ``n_members`` > 1, the mean of the members' posteriors.
        """
        self._check_fitted()
        if hasattr(self, "members_"):
            return np.mean([member.predict_proba_online(X) for member in self.banks()], axis=0)
        sequences = self._checked(X)
        log_posterior = self.evidence_scale_ * self._log_evidence(sequences)
        if self.duration_model_ is not None:
            log_posterior += self.duration_model_.log_prob_online(observed_lengths(sequences), sequences.shape[1])
        return (1.0 - self.contamination_) * softmax_posterior(log_posterior) + self.contamination_ / len(self.models_)

    def _log_evidence(self, sequences: np.ndarray) -> np.ndarray:
        """:meth:`log_evidence_online` of standardised sequences (n, T, c)."""
        blocks = self._observations(sequences)
        if self.noise != "grid":
            evidence = self._evidence(blocks, 0.0)
        else:
            # Exact marginalisation over the grid under a uniform prior on the levels.
            levels = self._noise_levels()
            per_level = np.stack([self._evidence(blocks, level) for level in levels])
            evidence = logsumexp(per_level, axis=0) - np.log(len(levels))
        return self._per_sample(evidence, sequences)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Posterior over classes at the end of each sequence, shape (n_samples, n_classes)."""
        return self.predict_proba_online(X)[:, -1]

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most probable class at the end of each sequence, shape (n_samples,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=-1)]

    def decision_time(self, X: ArrayLike, threshold: float = 0.9) -> np.ndarray:
        """Samples observed until the posterior of some class first reaches ``threshold``.

        Returns
        -------
        ndarray of float, shape (n_samples,)
            Number of samples (1-based), NaN where the threshold is never reached.
            Multiply by ``sample_interval`` for seconds.
        """
        if (isinstance(threshold, bool) or not isinstance(threshold, (Real, np.floating, np.integer))
                or not 0.0 < threshold < 1.0):
            raise ParameterError(f"threshold must be a number in (0, 1), got {threshold!r}")
        confident = self.predict_proba_online(X).max(axis=-1) >= threshold
        first = np.argmax(confident, axis=1).astype(float) + 1.0
        first[~confident.any(axis=1)] = np.nan
        return first

    def with_added_noise(self, variance: ArrayLike) -> RRNNClassifier:
        """A copy whose class models expect extra white observation noise of ``variance``.

        Each model's R becomes R + diag(variance / channel_std²) / decimation_,
        repeated for every phase of a channel (the models observe block means
        of ``decimation_`` samples of each phase, which carry that share of
        white noise): the Bayesian way to tell the rRNN
        that the recordings are now noisier (a known sensor change or added
        noise). ``variance`` is per channel (or one number) in the data's own
        units. With ``n_members`` > 1, every member's models.
        """
        self._check_fitted()
        if hasattr(self, "members_"):
            told = [member.with_added_noise(variance) for member in self.banks()]
            return self._with_members(told)
        variance = as_float_array(variance, "variance")
        if variance.shape not in ((), (1,), self.channel_std_.shape):
            raise ShapeError(f"variance must be one number or one per channel ({self.channel_std_.size}), got "
                             f"shape {variance.shape}")
        variance = np.broadcast_to(variance, self.channel_std_.shape)
        if not np.all(np.isfinite(variance)) or np.any(variance < 0):
            raise ParameterError("variance must be finite and non-negative")
        # The models observe block means, which carry 1/decimation_ of the added variance, of every phase.
        extra = np.diag(np.repeat(variance / self.channel_std_**2, self.phases_) / self.decimation_)
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("n_hidden", "sample_interval", "phases", "decimation")}
        copy = type(self).from_models([model.replace(R=model.R + extra) for model in self.models_], self.classes_,
                                      channel_mean=self.channel_mean_, channel_std=self.channel_std_,
                                      mean0=self.mean0_, cov0=self.cov0_, evidence_scale=self.evidence_scale_,
                                      contamination=self.contamination_, duration_model=self.duration_model_,
                                      phases=self.phases_, decimation=self.decimation_, **params)
        return copy.set_params(n_hidden=self.n_hidden, sample_interval=self.sample_interval, phases=self.phases,
                               decimation=self.decimation)

    # ----------------------------------------------------------------- I/O
    def save(self, path: str | Path) -> Path:
        """Write the fitted classifier to an ``.npz`` file (arrays + JSON metadata, no pickle).

        With ``n_members`` > 1 every bank is written, and :meth:`load` gives
        back the same averaged posteriors.

        Parameters
        ----------
        path : str or Path
            The file. A name without suffix gets ``.npz``; an existing file
            is replaced (through a temporary file renamed into place).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ParameterError
            ``path`` has another suffix than ``.npz`` or is a folder, or a
            setting is no JSON value (numpy numbers and arrays and Brian2
            times are written as plain numbers, lists and seconds).
        MissingFolderError
            The folder of ``path`` does not exist.
        """
        self._check_fitted()
        path = output_file(path, ".npz", what="an RRNNClassifier")
        params = {name: _plain(value, name) for name, value in self.get_params().items() if name != "fitter"}
        metadata = {"format": _FORMAT, "version": _FORMAT_VERSION, "params": params,
                    "classes": self.classes_.tolist(), "phases": int(self.phases_), "decimation": int(self.decimation_)}
        arrays = {"channel_mean": self.channel_mean_, "channel_std": self.channel_std_}
        if hasattr(self, "members_"):
            params["n_members"] = len(self.members_)  # the banks fitted, whatever set_params said since
            metadata["members"] = []
            for index, member in enumerate(self.members_):
                entry, bank_arrays = member._bank_record()
                metadata["members"].append(entry | {"seed": int(member.seed)})
                arrays |= {f"member{index}_{name}": value for name, value in bank_arrays.items()}
        else:
            entry, bank_arrays = self._bank_record()
            metadata |= entry
            arrays |= bank_arrays
        try:
            text = json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:  # e.g. objects in fit_options; nothing was written
            raise ParameterError(f"{path}: a setting cannot be saved as JSON ({exc}); nothing was written") from None
        return write_atomically(path, lambda handle: np.savez(handle, metadata=np.array(text), **arrays))

    def _bank_record(self) -> tuple[dict, dict[str, np.ndarray]]:
        """One bank as :meth:`save` writes it: (its JSON entries, its arrays)."""
        entry = {"evidence_scale": float(self.evidence_scale_), "contamination": float(self.contamination_),
                 "duration_log_std": None if self.duration_model_ is None else float(self.duration_model_.log_std),
                 "models": [{k: v for k, v in model.to_dict().items() if k in _MODEL_SCALARS}
                            for model in self.models_]}
        arrays = {"mean0": self.mean0_, "cov0": self.cov0_}
        if self.duration_model_ is not None:
            arrays["duration_log_mean"] = self.duration_model_.log_mean
        for index, model in enumerate(self.models_):
            for name in _MODEL_ARRAYS:
                arrays[f"model{index}_{name}"] = getattr(model, name)
        return entry, arrays

    @classmethod
    def load(cls, path: str | Path) -> RRNNClassifier:
        """Read a classifier written by :meth:`save`.

        Everything is checked as :meth:`from_models` and :meth:`fit` check it;
        nothing takes a default: a file that lost a setting is refused.

        Raises
        ------
        ParameterError
            Not a complete, valid saved RRNNClassifier; the message names the path.
        """
        data = read_npz(path, "RRNNClassifier")
        try:
            metadata = json.loads(str(data["metadata"]))
            if not isinstance(metadata, dict) or metadata.get("format") != _FORMAT or metadata.get("version") not in (
                    1, 2, 3, 4, 5, 6, 7, _FORMAT_VERSION):
                raise ParameterError("unknown format or version")
            version = metadata["version"]
            # Learning settings newer than the file (noise, ...) take their defaults; the rest is checked.
            params = {_RENAMED.get(name, name): value for name, value in metadata["params"].items()}
            # Versions 1-3 had no decimation: the models observed every sample.
            decimation = positive_int(metadata["decimation"], "decimation") if version >= 4 else 1
            # Versions 1-6 had no phases: the models observed one sample at a time.
            phases = positive_int(metadata["phases"], "phases") if version >= 7 else 1
            settings = {name: value for name, value in params.items()
                        if name not in ("n_hidden", "sample_interval", "phases", "decimation")}
            times = {"n_hidden": params["n_hidden"], "sample_interval": params["sample_interval"],
                     "phases": params.get("phases", 1), "decimation": params.get("decimation", 1)}

            def bank(entry: dict, prefix: str, **member: Any) -> RRNNClassifier:
                models = [_saved_model(data, prefix, index, scalars) for index, scalars in enumerate(entry["models"])]
                # Version 1 had no learned priors and no evidence scale: N(0, prior_variance·I) and β = 1.
                priors = {"mean0": data[prefix + "mean0"], "cov0": data[prefix + "cov0"],
                          "evidence_scale": entry["evidence_scale"]} if version >= 2 else {}
                # Versions 1-7 had no contamination: the posterior was softmax(β ℓ) alone.
                if version >= 8:
                    priors["contamination"] = entry["contamination"]
                # Versions 1-4 had no duration model: lengths played no part.
                log_std = entry["duration_log_std"] if version >= 5 else None
                duration = None if log_std is None else DurationModel(log_mean=data[prefix + "duration_log_mean"],
                                                                      log_std=log_std)
                classifier = cls.from_models(models, metadata["classes"], channel_mean=data["channel_mean"],
                                             channel_std=data["channel_std"], **priors, duration_model=duration,
                                             phases=phases, decimation=decimation, **(settings | member))
                classifier.set_params(**times)._check_settings()
                return classifier

            if "members" not in metadata:
                # Files before version 6 held one bank, and were fitted as one.
                return bank(metadata, "", **({} if version >= 6 else {"n_members": 1}))
            entries = metadata["members"]
            if version < 6:
                raise ParameterError(f"a version-{version} file holds one bank, but it has 'members'")
            if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
                raise ParameterError(f"'members' must be a list of saved banks, got {type(entries).__name__}")
            if len(entries) < 2 or len(entries) != params["n_members"]:
                raise ParameterError(f"n_members = {params['n_members']!r} but {len(entries)} banks are saved "
                                     "(at least 2)")
            members = [bank(entry, f"member{index}_", n_members=1, seed=check_seed(entry["seed"]))
                       for index, entry in enumerate(entries)]
            ensemble = cls().set_params(**settings, **times)
            ensemble._check_settings()
            ensemble._set_members(members)
        except (KeyError, TypeError, AttributeError) as exc:  # a missing entry, or one of the wrong JSON type
            raise ParameterError(f"{path} is not a saved RRNNClassifier: {type(exc).__name__} {exc}") from None
        except ValueError as exc:  # every ParameterError: a value the checks refuse
            raise ParameterError(f"{path} is not a valid saved RRNNClassifier: {exc}") from None
        return ensemble

    # ------------------------------------------------------------ helpers
    def _check_settings(self) -> None:
        """Check every constructor parameter."""
        if not isinstance(self.calibrate, (bool, np.bool_)):  # "no" would be read as True
            raise ParameterError(f"calibrate must be True or False, got {self.calibrate!r}")
        if self.progress is not None and not isinstance(self.progress, (bool, np.bool_)):
            raise ParameterError(f"progress must be None, True or False, got {self.progress!r}")
        if self.fitter is not None and not callable(self.fitter):
            raise ParameterError(f"fitter must be a function returning a GenerativeRNN, got {self.fitter!r}")
        choice(self.decoder, DECODERS, "decoder")
        choice(self.duration, DURATIONS, "duration")
        choice(self.noise, RECOGNITION_NOISE, "noise")
        if self.noise != "fixed" and self.decoder == "brian2":
            raise ParameterError(f"noise={self.noise!r} runs in the UKF and EKF decoders, not in the Brian2 network "
                                 "(yet)")
        if self.noise == "grid":
            self._noise_levels()
        elif self.noise_levels is not None:
            raise ParameterError("noise_levels are the levels of noise='grid'")
        if self.objective not in OBJECTIVES:
            raise ParameterError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        positive_scalar(self.prior_variance, "prior_variance")
        check_seed(self.seed)
        positive_int(self.n_init, "n_init")
        positive_int(self.n_members, "n_members")
        if self.n_jobs is not None and (isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, (int, np.integer))
                                        or self.n_jobs == 0):
            raise ParameterError(f"n_jobs must be None or a nonzero integer (-1: every CPU), got {self.n_jobs!r}")
        self._sizes()
        positive_scalar(self.sample_interval, "sample_interval", unit="second")
        if self.tau is not None:
            positive_scalar(self.tau, "tau", unit="second")
        for name in ("phases", "decimation"):
            value = getattr(self, name)
            if not _is_auto(value):
                try:
                    positive_int(value, name)
                except ParameterError:
                    raise ParameterError(f"{name} must be 'auto' or a positive integer, got {value!r}") from None

    def _choose_phases(self, sequences: np.ndarray, y: np.ndarray, substeps: int) -> int:
        """``phases``, or under ``"auto"`` the period :func:`choose_phases` takes for the classes ``y``, if stable."""
        if not _is_auto(self.phases):
            return positive_int(self.phases, "phases")  # below the longest recording: _learning_setup
        candidates: tuple[int, ...] = PHASES
        if self.tau is not None:  # a given τ bounds the models' Euler step (below 2τ)
            sample_interval = positive_scalar(self.sample_interval, "sample_interval", unit="second")
            tau = positive_scalar(self.tau, "tau", unit="second")
            candidates = tuple(p for p in PHASES if p * sample_interval / substeps < 2.0 * tau)
        return choose_phases(sequences, candidates, classes=y)

    def _choose_decimation(self, sequences: np.ndarray, substeps: int) -> int:
        """``decimation``, or under ``"auto"`` the factor :func:`choose_decimation` takes among stable ones.

        ``sequences`` are the standardised training recordings' phase channels (``phases_`` set).
        """
        if not _is_auto(self.decimation):
            decimation = positive_int(self.decimation, "decimation")
            if decimation >= sequences.shape[1]:  # the models learn from at least two block means
                what = "samples" if self.phases_ == 1 else f"observations of {self.phases_} phases"
                raise ParameterError(f"decimation must be below the longest training recording's "
                                     f"{sequences.shape[1]} {what}, so that the class models observe it at least "
                                     f"twice, got {decimation}")
            return decimation
        sample_interval = self.phases_ * positive_scalar(self.sample_interval, "sample_interval", unit="second")
        candidates: tuple[int, ...] = DECIMATIONS
        if self.tau is not None:  # a given τ bounds the models' Euler step (below 2τ)
            tau = positive_scalar(self.tau, "tau", unit="second")
            candidates = tuple(k for k in DECIMATIONS if k * sample_interval / substeps < 2.0 * tau)
        return choose_decimation(sequences, candidates)

    def _model_times(self) -> tuple[float, float]:
        """The class models' sampling interval (phases_·decimation_·Δ) and τ, in seconds."""
        sample_interval = (self.phases_ * self.decimation_
                           * positive_scalar(self.sample_interval, "sample_interval", unit="second"))
        tau = 2.0 * sample_interval if self.tau is None else positive_scalar(self.tau, "tau", unit="second")
        return sample_interval, tau

    def _sizes(self) -> list[int]:
        sizes = list(self.n_hidden) if isinstance(self.n_hidden, (list, tuple)) else [self.n_hidden]
        if not sizes:
            raise ParameterError("n_hidden needs at least one size")
        return [positive_int(size, "n_hidden") for size in sizes]

    def _set_default_priors(self) -> None:
        """N(0, prior_variance·I) for every class model (models without a learned prior)."""
        n_hidden = self.models_[0].n_hidden
        self.mean0_ = np.zeros((len(self.models_), n_hidden))
        self.cov0_ = np.broadcast_to(self.prior_variance * np.eye(n_hidden),
                                     (len(self.models_), n_hidden, n_hidden)).copy()
        self.evidence_scale_ = 1.0
        self.contamination_ = 0.0

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_") and not hasattr(self, "members_"):
            raise NotFittedError("this RRNNClassifier is not fitted yet; call fit(X, y) first")

    def _checked(self, X: ArrayLike) -> np.ndarray:
        """Sequences to score, checked against the fitted channels and standardised: (n, T, c)."""
        return self._standardize(check_sequences(X, n_channels=self.channel_mean_.size))

    def _fit_durations(self, lengths: np.ndarray, codes: np.ndarray) -> DurationModel | None:
        """The classes' length model, or None where it could not change a posterior (``"none"``, one length)."""
        if self.duration == "none":
            return None
        model = fit_duration_model(lengths, codes, self.classes_.size)
        return None if np.ptp(model.log_mean) == 0 else model

    def _scored(self, banks: list[BankFit], durations: DurationModel | None, sequences: np.ndarray,
                codes: np.ndarray) -> list[tuple[float, float, float]]:
        """(validation score, β, ε) of each bank, for the posterior that is used (the lengths' term included)."""
        if durations is None or not sequences.shape[0]:
            return [(fit.validation_score, fit.evidence_scale, fit.contamination) for fit in banks]
        from .learning.bank import _calibration

        scored = []
        for fit in banks:
            values, sampled, offset = self._validation_terms(fit, durations, sequences)
            scored.append(_calibration(values, codes, sampled, offset=offset, calibrate=self.calibrate))
        return scored

    def _validation_terms(self, bank: BankFit, durations: DurationModel | None,
                          sequences: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The terms of ``bank``'s posterior on the standardised validation recordings ``sequences`` (n, T, c).

        Returns the log evidence increments (K, n, J) of their blocks, by the
        learning's filter with fixed noise, as :func:`~rrnn_net.learning.fit_bank`
        scores them; which blocks hold an observed sample (n, J); and the
        lengths' term after each block (K, n, J), or None without ``durations``.
        """
        blocks = self._observations(sequences)
        decoder = EKF if self.decoder == "ekf" else UKF
        values = np.stack([decoder(model).filter(blocks, mean0=bank.mean0[index], cov0=bank.cov0[index]).loglik
                           for index, model in enumerate(bank.models)])
        sampled = np.any(~np.isnan(blocks), axis=-1)
        if durations is None:
            return values, sampled, None
        # A block's length term is the one after its last sample (the sequence's end for its last block).
        per_sample = durations.log_prob_online(observed_lengths(sequences), sequences.shape[1])
        rows = np.arange(sequences.shape[0])[:, None]
        return values, sampled, np.moveaxis(per_sample[rows, block_ends(sequences, self._samples_per_block())], -1, 0)

    def _observations(self, sequences: np.ndarray) -> np.ndarray:
        """What the class models observe of standardised sequences (n, T, c): (n, J, c·phases_), block means."""
        return block_means(phase_channels(sequences, self.phases_), self.decimation_)

    def _samples_per_block(self) -> int:
        """Samples of a recording per observation of the class models."""
        return self.phases_ * self.decimation_

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        """(n, c, T) raw -> (n, T, c) standardised, batch-first for the decoders."""
        standardized = (X - self.channel_mean_[None, :, None]) / self.channel_std_[None, :, None]
        return np.ascontiguousarray(np.swapaxes(standardized, 1, 2))

    def _evidence(self, blocks: np.ndarray, added_noise: float) -> np.ndarray:
        """Accumulated log evidence (n, J, n_classes) of the observations (n, J, c·phases_), with ``added_noise``.

        ``added_noise`` is a standardised variance added to every *sample*; a
        block mean of ``decimation_`` observations carries 1/decimation_ of it
        in each phase channel.
        """
        increments = [self._score(index, blocks, added_noise / self.decimation_) for index in range(len(self.models_))]
        return np.cumsum(np.stack(increments, axis=-1), axis=1)

    def _per_sample(self, evidence: np.ndarray, sequences: np.ndarray) -> np.ndarray:
        """Block evidence (n, J, K) -> after every sample (n, T, K): a block's arrives at the sample completing it."""
        if self._samples_per_block() == 1:
            return evidence
        increments = np.diff(evidence, axis=1, prepend=0.0)
        per_sample = np.zeros(sequences.shape[:2] + evidence.shape[-1:])
        rows = np.arange(sequences.shape[0])[:, None]
        np.add.at(per_sample, (rows, block_ends(sequences, self._samples_per_block())), increments)
        return np.cumsum(per_sample, axis=1)

    def _score(self, index: int, sequences: np.ndarray, added_noise: float = 0.0) -> np.ndarray:
        """Log evidence increments (n, J) of class model ``index``, one per observation (n, J, c·phases_)."""
        model = self.models_[index]
        if added_noise:
            model = model.replace(R=model.R + added_noise * np.eye(model.n_obs))
        if self.decoder == "brian2":
            return _brian2_increments(model, sequences)
        decoder = (UKF if self.decoder == "ukf" else EKF)(model, noise="adaptive" if self.noise == "adaptive"
                                                          else "fixed")
        return decoder.filter(sequences, mean0=self.mean0_[index], cov0=self.cov0_[index]).loglik

    def _noise_levels(self) -> np.ndarray:
        levels = NOISE_LEVELS if self.noise_levels is None else self.noise_levels
        array = finite_array(levels, "noise_levels")
        if array.ndim != 1 or array.size == 0 or np.any(array < 0):
            raise ParameterError(f"noise_levels must be a non-empty list of variances >= 0, got {levels!r}")
        return array


def _checked_contamination(value: object) -> float:
    """ε of the posterior: a number in [0, 1] (a bool is refused, not read as 0 or 1)."""
    if (isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer))
            or not 0.0 <= float(value) <= 1.0):
        raise ParameterError(f"contamination must be a number in [0, 1], got {value!r}")
    return float(value)


def _is_auto(value: object) -> bool:
    """Whether a setting is the string "auto" (an array compared with == would answer elementwise)."""
    return isinstance(value, str) and value == "auto"


_MODEL_ARRAYS = ("W", "M", "b", "c", "Q", "R")
#: What the members of a classifier with ``n_members`` > 1 share, set on the classifier itself.
_SHARED_ATTRIBUTES = ("classes_", "n_features_in_", "channel_mean_", "channel_std_", "phases_", "decimation_")
_MODEL_SCALARS = ("tau", "sample_interval", "substeps", "activation")
#: Names in files of format versions 1 and 2 -> today's names.
_RENAMED = {"dt": "sample_interval", "random_state": "seed"}


#: The keyword arguments RRNNClassifier.fit passes to fit_bank itself (after sequences, labels, n_hidden).
_FIT_BANK_KEYWORDS = ("sample_interval", "tau", "objective", "tying", "evidence_weight", "weight_decay", "calibrate",
                      "validation_fraction", "filter", "seed", "restart", "progress")


def check_targets(y: object, n: int) -> np.ndarray:
    """Class labels for fitting, as scikit-learn checks them: one per sequence, a column warned and flattened,
    discrete (not a continuous target), all numbers or all text.

    Raises
    ------
    ParameterError
        None, a continuous target, or mixed label types; :class:`ShapeError` for the wrong length.
    """
    if y is None:  # scikit-learn's phrase, which its estimator checks look for
        raise ParameterError(f"this classifier requires y to be passed, but the target y is None (one label for "
                             f"each of the {n} sequences)")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    labels = _check_labels(y, n, "y")
    if labels.dtype.kind in "fc" and not np.all(np.isfinite(labels)):
        # Refused here, in scikit-learn's words: its own check would first cast NaN to int, with a RuntimeWarning.
        what = "NaN" if np.isnan(labels).any() else f"infinity or a value too large for dtype({labels.dtype.name!r})"
        raise ParameterError(f"y: Input y contains {what}.")
    try:
        check_classification_targets(labels)
    except ValueError as exc:
        raise ParameterError(f"y: {exc}") from None
    return labels


def _check_labels(labels: object, n: int, name: str) -> np.ndarray:
    """Labels as a 1-D array of ``n``: all numbers or all text, never None or a mix numpy would turn into text."""
    if labels is None:
        raise ParameterError(f"{name} must hold one label per sequence ({n}), got None")
    array = np.asarray(labels)
    if array.shape != (n,):
        raise ShapeError(f"{name} must have shape ({n},), got {array.shape}")
    types = {"text" if isinstance(label, (str, bytes)) else "number" if isinstance(label, Number)
             else type(label).__name__ for label in np.asarray(labels, dtype=object)}
    if len(types) > 1 or not types <= {"text", "number"}:
        raise ParameterError(f"{name} must be all numbers or all text, got {sorted(types)} (numpy would turn a mix "
                             "into text, and the predictions would come back as strings)")
    return array


def _check_bank_sizes(models: Sequence[GenerativeRNN]) -> tuple[int, int]:
    """(n_obs, n_hidden) shared by every class model; they must also share one sample_interval."""
    n_obs, n_hidden = models[0].n_obs, models[0].n_hidden
    if any(model.n_obs != n_obs for model in models):
        raise ShapeError(f"all class models must observe the same number of channels, got "
                         f"{[model.n_obs for model in models]}")
    if any(model.n_hidden != n_hidden for model in models):
        # The priors and the bank's scores are stacked over classes: one size for all.
        raise ShapeError(f"all class models must have the same n_hidden, got {[m.n_hidden for m in models]}")
    if any(model.sample_interval != models[0].sample_interval for model in models):
        raise ParameterError("all class models must share one sample_interval, got "
                             f"{[model.sample_interval for model in models]}")
    return n_obs, n_hidden


def _fitted_attributes(estimator: BaseEstimator) -> list[str]:
    """The names of the attributes fit sets (scikit-learn's convention: a trailing underscore)."""
    return [name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")]


def _plain(value: object, name: str) -> object:
    """A setting as JSON holds it: numpy numbers and arrays as Python numbers and lists, a Brian2 time in seconds."""
    value = strip_unit(value, name, "second")
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, Mapping):
        return {key: _plain(item, f"{name}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, name) for item in value]
    return value


def _channel_std(value: ArrayLike, n_obs: int) -> np.ndarray:
    std = finite_array(value, "channel_std", (n_obs,))
    if np.any(std <= 0):
        raise ParameterError(f"channel_std must be positive (it divides the data), got {std.tolist()}")
    return std


def _saved_model(data: Mapping[str, np.ndarray], prefix: str, index: int, scalars: Mapping[str, Any]) -> GenerativeRNN:
    """Class model ``index`` of a saved bank (arrays named ``prefix`` + ...); every setting must be in the file."""
    scalars = {_RENAMED.get(name, name): value for name, value in scalars.items()}
    missing = sorted(set(_MODEL_SCALARS) - set(scalars))
    if missing:
        raise ParameterError(f"class model {index} lacks {missing}")
    arrays: dict[str, Any] = {name: data[f"{prefix}model{index}_{name}"] for name in _MODEL_ARRAYS}
    return GenerativeRNN(**arrays, **scalars)


def _default_fitter() -> Callable[..., GenerativeRNN]:
    from .learning import fit_generative_rnn

    return fit_generative_rnn


def _brian2_increments(model: GenerativeRNN, sequences: np.ndarray) -> np.ndarray:
    """Evidence increments from the compiled fixed-gain network run in Brian2.

    The fixed-gain network has no covariance units, so no prior covariance
    (and no Euler limit on it). It accumulates −½∫εᵀR_c⁻¹ε dt; the
    normalisation −½ log det(2πR) per observed sample differs between class
    models with different R, so it is added here to make the evidences
    comparable.
    """
    from .backends import run_brian2
    from .graph import compile_rrnn

    graph = compile_rrnn(model, gain_mode="fixed")
    result = run_brian2(graph, sequences)
    assert isinstance(result, FilterResult)  # what an rRNN graph gives
    observed = ~np.isnan(sequences)
    log_norm = -0.5 * np.log(2 * np.pi * np.diag(model.R))
    return result.loglik + observed @ log_norm
