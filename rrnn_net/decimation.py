"""Block means of oversampled recordings: the sampling interval at which a class model observes.

A recording sampled far faster than it changes (an outline traced in 251
points, a slow movement sampled at 1 kHz) gives a state-space model nearly redundant
innovations: its evidence counts the same information many times, and
learning fits the local smoothness instead of the shape that tells the
classes apart. :class:`rrnn_net.RRNNClassifier` therefore lets its class
models observe the means of blocks of ``factor`` consecutive samples, one
every ``factor`` sampling intervals. The mean is the anti-aliasing filter
before the decimation. Measured (docs/learning.md, 3-fold cross-validation
inside the training split): ArrowHead's accuracy went from 0.65 (mean of
three seeds) at factor 1 to 0.74 at factor 4, while recordings that are not
oversampled lost accuracy (PickupGestureWiimoteZ at factors 2 and 4,
ItalyPowerDemand at 2, BasicMotions at 4). :func:`choose_decimation` tells
the two apart from the training recordings alone, by the share of their
variance the block means lose.

A recording can also repeat a short waveform sample by sample (ACSF1's
appliance recordings repeat one of 4 samples, the phase locked to the
sample index). The waveform is then the state of a class model that sees
one sample at a time: its filter infers it within a period, whatever the
class, and the evidence cannot tell the classes' waveforms apart. Those
class models observe the recording's ``phases`` polyphase components
instead (:func:`phase_channels`): every ``phases`` consecutive samples as
one observation of ``phases`` channels per channel, one every ``phases``
sampling intervals, so that the waveform is what the models predict, not
what their state absorbs. Measured (docs/learning.md): one ACSF1 bank
recognised 0.66 of the recordings it learned from observing samples and
0.94 observing 4 phases. :func:`choose_phases` recognises such recordings by the
share of their variance their classes' mean period-k waveforms carry: the
waveform must be aligned to the sample index alike in a class's
recordings, since phase channel j is sample j mod k of every one.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

from ._validation import positive_int
from .datasets import observed_lengths
from .errors import NonFiniteError, ParameterError, ShapeError

__all__ = ["DECIMATIONS", "MAX_LOST_VARIANCE", "MIN_BLOCKS", "PHASES", "MIN_PERIODIC_SHARE", "SHARE_OF_THE_BEST",
           "block_means", "block_ends", "lost_variance", "choose_decimation", "phase_channels", "periodic_share",
           "choose_phases"]

#: The factors ``decimation="auto"`` chooses from.
DECIMATIONS = (1, 2, 4, 8)
#: The largest share of the training recordings' variance the block means may lose under ``"auto"``. Set
#: from 3-fold cross-validation inside the training splits (docs/learning.md): ArrowHead loses 0.6 % at
#: factor 4 and gains; PickupGestureWiimoteZ loses 1.3 % at factor 2 and does not.
MAX_LOST_VARIANCE = 0.01
#: ``"auto"`` keeps at least this many blocks in the shortest training recording.
MIN_BLOCKS = 16
#: The periods ``phases="auto"`` chooses from.
PHASES = (2, 3, 4, 5, 6, 7, 8)
#: The smallest share of the training recordings' variance their classes' mean period-k waveforms must carry for
#: ``phases="auto"`` to take k. ACSF1's carry 0.84 at k = 4; the other seven recordings benchmarked at most 0.04
#: at any k in PHASES (docs/learning.md), so any value between 0.04 and 0.83 chooses alike there.
MIN_PERIODIC_SHARE = 0.5
#: ``phases="auto"`` takes the smallest period whose waveforms carry this share of what the best period's carry.
SHARE_OF_THE_BEST = 0.95


def block_means(sequences: np.ndarray, factor: int) -> np.ndarray:
    """Means of consecutive blocks of ``factor`` samples, ignoring missing ones.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Batch-first; NaN marks missing samples and the padding of shorter sequences.
    factor : int
        Samples per block (≥ 1). The last block of a sequence may be shorter.

    Returns
    -------
    ndarray, shape (n_sequences, ceil(n_timepoints / factor), n_channels)
        NaN where a block holds no observed sample of that channel.

    Examples
    --------
    >>> block_means(np.array([[[1.0], [3.0], [np.nan], [4.0], [5.0]]]), 2)[0, :, 0]
    array([2., 4., 5.])
    """
    sequences = _check_batch(sequences)
    factor = _factor(factor, sequences)
    if factor == 1:
        return sequences
    n, length, channels = sequences.shape
    n_blocks = -(-length // factor)
    padded = np.full((n, n_blocks * factor, channels), np.nan)
    padded[:, :length] = sequences
    blocks = padded.reshape(n, n_blocks, factor, channels)
    observed = ~np.isnan(blocks)
    counts = observed.sum(axis=2)
    sums = np.where(observed, blocks, 0.0).sum(axis=2)
    return np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)


def block_ends(sequences: np.ndarray, factor: int) -> np.ndarray:
    """The sample at which each block of :func:`block_means` is complete, per sequence.

    Block j of a sequence ends at sample min((j + 1)·factor, L) − 1, where L
    is one past the sequence's last observed sample: a sequence's last,
    shorter block is known when the sequence ends, not after its padding.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
    factor : int

    Returns
    -------
    ndarray of int, shape (n_sequences, ceil(n_timepoints / factor))

    Examples
    --------
    >>> block_ends(np.array([[[1.0], [2.0], [3.0], [np.nan]]]), 2)
    array([[1, 2]])
    """
    sequences = _check_batch(sequences)
    factor = _factor(factor, sequences)
    length = observed_lengths(sequences)
    ends = np.arange(1, -(-sequences.shape[1] // factor) + 1) * factor
    return np.minimum(ends[None, :], length[:, None]) - 1


def lost_variance(sequences: np.ndarray, factor: int) -> float:
    """Share of the sequences' variance (about each sequence's mean) not carried by their block means.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Standardised per channel, so that every channel counts alike.
    factor : int

    Returns
    -------
    float
        Σ (y − its block's mean)² / Σ (y − its sequence's mean)² over observed
        samples and channels; 0 for ``factor=1`` or constant sequences.

    Examples
    --------
    >>> t = np.arange(200.0)
    >>> round(lost_variance(np.sin(2 * np.pi * t / 100)[None, :, None], 4), 4)
    0.0049
    """
    sequences = _check_batch(sequences)
    factor = _factor(factor, sequences)
    means = block_means(sequences, factor)
    held = np.repeat(means, factor, axis=1)[:, :sequences.shape[1]]
    observed = ~np.isnan(sequences)
    total = np.sum(np.where(observed, sequences - _nanmean_over_time(sequences), 0.0) ** 2)
    if total == 0.0:
        return 0.0
    return float(np.sum(np.where(observed, sequences - held, 0.0) ** 2) / total)


def choose_decimation(sequences: np.ndarray, candidates: Sequence[int] = DECIMATIONS, *,
                      max_lost_variance: float = MAX_LOST_VARIANCE, min_blocks: int = MIN_BLOCKS) -> int:
    """The largest factor whose block means lose at most ``max_lost_variance`` of the variance.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Standardised training sequences.
    candidates : sequence of int
        Factors to choose from (1 is always allowed).
    max_lost_variance : float
        In [0, 1).
    min_blocks : int
        A factor must leave at least this many blocks in the shortest sequence.

    Returns
    -------
    int

    Examples
    --------
    >>> t = np.arange(256.0)
    >>> choose_decimation(np.sin(2 * np.pi * t / 128)[None, :, None])
    4
    >>> choose_decimation(np.random.default_rng(0).normal(size=(3, 256, 1)))
    1
    """
    sequences = _check_batch(sequences)
    if not 0.0 <= max_lost_variance < 1.0:
        raise ParameterError(f"max_lost_variance must lie in [0, 1), got {max_lost_variance!r}")
    min_blocks = positive_int(min_blocks, "min_blocks")
    shortest = int(np.min(observed_lengths(sequences)))
    allowed = [positive_int(factor, "candidates[i]") for factor in candidates]
    allowed = [factor for factor in allowed if -(-shortest // factor) >= min_blocks]
    chosen = 1
    for factor in sorted(allowed):
        if factor > 1 and lost_variance(sequences, factor) <= max_lost_variance:
            chosen = factor
    return chosen


def phase_channels(sequences: np.ndarray, phases: int) -> np.ndarray:
    """The polyphase components of the sequences as channels: ``phases`` consecutive samples, one observation.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Batch-first; NaN marks missing samples and the padding of shorter sequences.
    phases : int
        Samples per observation (≥ 1). The last observation of a sequence
        may be incomplete: NaN in the phases it lacks.

    Returns
    -------
    ndarray, shape (n_sequences, ceil(n_timepoints / phases), n_channels * phases)
        Channel ``c * phases + p`` of observation j is sample ``j * phases + p`` of channel c.

    Examples
    --------
    >>> phase_channels(np.arange(5.0)[None, :, None], 2)[0]
    array([[ 0.,  1.],
           [ 2.,  3.],
           [ 4., nan]])
    """
    sequences = _check_batch(sequences)
    # Not capped at the length: every recording must give the models their n_channels * phases channels.
    phases = positive_int(phases, "phases")
    if phases == 1:
        return sequences
    n, length, channels = sequences.shape
    n_blocks = -(-length // phases)
    padded = np.full((n, n_blocks * phases, channels), np.nan)
    padded[:, :length] = sequences
    return padded.reshape(n, n_blocks, phases, channels).transpose(0, 1, 3, 2).reshape(n, n_blocks, channels * phases)


def periodic_share(sequences: np.ndarray, period: int, classes: ArrayLike | None = None) -> float:
    """Share of the sequences' variance (about each sequence's mean) carried by their mean period-k waveforms.

    The waveform of a channel is the mean deviation from each sequence's
    mean of its samples at each phase j mod ``period``, over one sequence,
    or with ``classes`` over all sequences of a class: a class whose
    sequences all repeat one waveform of that period, aligned to the sample
    index, has share 1; white noise about (period − 1) / (n_timepoints − 1)
    (one waveform per sequence); a smooth, slowly varying one nearly 0.
    Sequences that repeat a class's waveform from different starting phases
    carry their own waveforms, not their class's.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Standardised per channel, so that every channel counts alike.
    period : int
    classes : array_like, shape (n_sequences,), optional
        Labels of the sequences; sequences with one label share a waveform.
        Default: each sequence has its own.

    Returns
    -------
    float
        Σ (waveform at the sample's phase)² / Σ (y − sequence mean)² over
        observed samples and channels; 0 for ``period=1`` or constant sequences.

    Examples
    --------
    >>> t = np.arange(400)
    >>> round(periodic_share(np.sin(np.pi * t / 2)[None, :, None], 4), 6)
    1.0
    >>> round(periodic_share(np.sin(2 * np.pi * t / 200)[None, :, None], 4), 4)
    0.0
    >>> shifted = np.sin(np.pi * (t + np.arange(4)[:, None]) / 2)[:, :, None]  # 4 starting phases
    >>> round(periodic_share(shifted, 4), 6), round(periodic_share(shifted, 4, classes=[0, 0, 0, 0]), 6)
    (1.0, 0.0)
    """
    sequences = _check_batch(sequences)
    period = positive_int(period, "period")
    n, length, channels = sequences.shape
    if classes is None:
        groups = np.arange(n)
    else:
        labels = np.asarray(classes)
        if labels.shape != (n,):
            raise ShapeError(f"classes must have shape ({n},), one label per sequence, got {labels.shape}")
        groups = np.unique(labels, return_inverse=True)[1].reshape(n)
    if period == 1:  # each sample is its own phase's mean: nothing repeats (exactly 0, not round-off)
        return 0.0
    centre = _nanmean_over_time(sequences)  # (n, 1, channels)
    deviation = phase_channels(sequences - centre, period).reshape(n, -(-length // period), channels, period)
    observed = ~np.isnan(deviation)
    shape = (groups.max() + 1, channels, period)  # per group (class or sequence), channel and phase
    sums, counts = np.zeros(shape), np.zeros(shape)
    np.add.at(sums, groups, np.where(observed, deviation, 0.0).sum(axis=1))
    np.add.at(counts, groups, observed.sum(axis=1))
    waveform = np.divide(sums, counts, out=np.zeros(sums.shape), where=counts > 0)
    carried = np.sum(counts * waveform**2)
    total = np.sum(np.where(~np.isnan(sequences), sequences - centre, 0.0) ** 2)
    return 0.0 if total == 0.0 else float(carried / total)


def choose_phases(sequences: np.ndarray, candidates: Sequence[int] = PHASES, *, classes: ArrayLike | None = None,
                  min_share: float = MIN_PERIODIC_SHARE, min_blocks: int = MIN_BLOCKS) -> int:
    """The period whose mean waveforms carry the variance, else 1.

    Among the candidates that leave enough observations, if any carries at
    least ``min_share`` of the variance (:func:`periodic_share`): the smallest
    that carries :data:`SHARE_OF_THE_BEST` of what the best candidate
    carries (a waveform of period 4 is also one of period 8, and can carry
    much of its variance at period 2).

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Standardised training sequences.
    candidates : sequence of int
        Periods to choose from.
    classes : array_like, shape (n_sequences,), optional
        The sequences' labels: a class's sequences then share one waveform,
        so that a period counts only where its waveform is aligned to the
        sample index across them (a class model observing phases sees the
        same waveform in every recording). Default: each sequence its own.
    min_share : float
        In (0, 1].
    min_blocks : int
        A period must leave at least this many observations in the shortest
        sequence (which keeps white noise's expected share below about
        1 / min_blocks), and every phase of every channel observed in some
        sequence.

    Returns
    -------
    int

    Examples
    --------
    >>> t = np.arange(400)
    >>> choose_phases(np.sin(np.pi * t / 2)[None, :, None])
    4
    >>> choose_phases(np.random.default_rng(0).normal(size=(3, 256, 1)))
    1
    >>> shifted = np.sin(np.pi * (t + np.arange(4)[:, None]) / 2)[:, :, None]  # 4 starting phases
    >>> choose_phases(shifted, classes=[0, 1, 0, 1]), choose_phases(shifted[[0, 0, 1, 1]], classes=[0, 0, 1, 1])
    (1, 4)
    """
    sequences = _check_batch(sequences)
    if isinstance(min_share, bool) or not isinstance(min_share, Real) or not 0.0 < min_share <= 1.0:
        raise ParameterError(f"min_share must be a number in (0, 1], got {min_share!r}")
    min_blocks = positive_int(min_blocks, "min_blocks")
    try:
        periods = [positive_int(period, "candidates[i]") for period in candidates]
    except TypeError:
        raise ParameterError(f"candidates must be a sequence of positive integers, got {candidates!r}") from None
    shortest = int(np.min(observed_lengths(sequences)))
    allowed = sorted(period for period in periods
                     if period > 1 and -(-shortest // period) >= min_blocks
                     and _every_channel_observed(phase_channels(sequences, period)))
    shares = [periodic_share(sequences, period, classes) for period in allowed]
    if not shares or max(shares) < min_share:
        return 1
    # A multiple of the period carries its waveform too; a divisor can carry most of it (a strong component at
    # half the period): the smallest period that carries nearly all of what the best one carries.
    return next(period for period, share in zip(allowed, shares, strict=True)
                if share >= SHARE_OF_THE_BEST * max(shares))


def _every_channel_observed(sequences: np.ndarray) -> bool:
    return bool(np.all(np.any(~np.isnan(sequences), axis=(0, 1))))


def _factor(factor: object, sequences: np.ndarray) -> int:
    """A checked block size; one longer than the sequences is one block, as a block of their length."""
    return min(positive_int(factor, "factor"), sequences.shape[1])


def _nanmean_over_time(sequences: np.ndarray) -> np.ndarray:
    observed = ~np.isnan(sequences)
    counts = observed.sum(axis=1, keepdims=True)
    sums = np.where(observed, sequences, 0.0).sum(axis=1, keepdims=True)
    return np.divide(sums, counts, out=np.zeros(sums.shape), where=counts > 0)


def _check_batch(sequences: object) -> np.ndarray:
    array = np.asarray(sequences, dtype=np.float64)
    if array.ndim != 3 or 0 in array.shape:
        raise ShapeError(f"sequences must be a non-empty (n_sequences, n_timepoints, n_channels) array, got shape "
                         f"{array.shape}")
    if np.isinf(array).any():
        raise NonFiniteError("sequences hold inf; only NaN (a missing sample) is allowed")
    return array
