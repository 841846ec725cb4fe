"""Data: real recordings shipped inside aeon, observation files, and synthetic generators.

Recognition data follow the aeon/sktime time-series convention
``X (n_samples, n_channels, n_timepoints)``; the decoders use
``(batch, time, channels)``. :func:`to_batch_first` converts.
:func:`load_observations` reads a decoder's input from ``.npy`` or ``.csv``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
from numpy.typing import ArrayLike

from ._validation import as_float_array, check_observations, positive_int, positive_scalar, random_generator
from .errors import DecodeError, ParameterError, RRNNError, ShapeError
from .model import GenerativeRNN

__all__ = [
    "Recordings",
    "check_sequences",
    "MissingExtraError",
    "load_basic_motions",
    "load_aeon_recordings",
    "to_batch_first",
    "load_observations",
    "pad_sequences",
    "observed_lengths",
    "chaotic_model",
    "largest_lyapunov_exponent",
    "class_sequences",
    "switching_sequences",
]

#: Labelled recordings in aeon's wheel that this loader knows, with their sampling rate in Hz (None: unknown).
AEON_RECORDINGS = {
    "BasicMotions": 10.0,  # smart-watch 3-D accelerometer + 3-D gyroscope, 10 s at 10 Hz
    "JapaneseVowels": None,  # 12 LPC cepstrum coefficients of uttered vowels (frames, no fixed rate), unequal lengths
    "ArrowHead": None,  # outlines of projectile points as 1-D series, 3 classes
    "ItalyPowerDemand": None,  # hourly electricity demand over one day (24 samples), 2 seasons
    "ACSF1": None,  # power consumption of 10 kinds of home appliances, 1460 samples
    "PickupGestureWiimoteZ": None,  # Wii-remote z acceleration of 10 gestures, unequal lengths
    "GunPoint": None,  # hand position while drawing a gun or pointing, 2 classes
    "OSULeaf": None,  # leaf outlines as 1-D series, 6 classes
}
BASIC_MOTIONS_CHANNELS = ("accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z")


class MissingExtraError(RRNNError, ImportError):
    """An optional dependency (an install extra) is needed for this function."""


@dataclass
class Recordings:
    """A train/test split of labelled multichannel recordings.

    Attributes
    ----------
    X_train, X_test : ndarray, shape (n_samples, n_channels, n_timepoints)
        NaN pads unequal lengths.
    y_train, y_test : ndarray of str, shape (n_samples,)
    sample_rate_hz : float or None
        Sampling rate of the recordings, when known.
    channel_names : tuple of str
    name : str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    sample_rate_hz: float | None
    channel_names: tuple[str, ...]
    name: str

    @property
    def classes(self) -> np.ndarray:
        """Sorted class labels."""
        return np.unique(self.y_train)


def load_aeon_recordings(name: str) -> Recordings:
    """Load a labelled recording set shipped inside aeon's wheel (no download).

    Parameters
    ----------
    name : str
        One of :data:`AEON_RECORDINGS`.

    Raises
    ------
    MissingExtraError
        When aeon is not installed (install the ``data`` extra).
    """
    if name not in AEON_RECORDINGS:
        raise ParameterError(f"unknown recording set {name!r}; known: {sorted(AEON_RECORDINGS)}")
    try:
        from aeon.datasets import load_classification
    except ImportError:
        raise MissingExtraError(
            f"loading {name} needs aeon: pip install 'rrnn_net[data]' (or pip install aeon)"
        ) from None
    splits = {}
    for split in ("train", "test"):
        X, y = load_classification(name, split=split)
        splits[split] = (_pad_to_array(X), np.asarray(y, dtype=str))
    n_channels = splits["train"][0].shape[1]
    channels = BASIC_MOTIONS_CHANNELS if name == "BasicMotions" else tuple(f"channel_{i}" for i in range(n_channels))
    return Recordings(
        X_train=splits["train"][0], y_train=splits["train"][1],
        X_test=splits["test"][0], y_test=splits["test"][1],
        sample_rate_hz=AEON_RECORDINGS[name], channel_names=channels, name=name,
    )


def load_basic_motions() -> Recordings:
    """BasicMotions: smart-watch accelerometer and gyroscope (6 channels, 100 samples at 10 Hz).

    Four classes (standing, walking, running, badminton), 40 training and 40
    test recordings, as shipped inside aeon.
    """
    return load_aeon_recordings("BasicMotions")


def _pad_to_array(X: np.ndarray | Iterable[ArrayLike]) -> np.ndarray:
    """aeon returns an array for equal lengths and a list of (channels, length) arrays otherwise."""
    if isinstance(X, np.ndarray):
        return X.astype(np.float64)
    return pad_sequences(X)


def check_sequences(X: ArrayLike, n_channels: int | None = None) -> np.ndarray:
    """Sequences in aeon's formats as one float64 array (n_samples, n_channels, n_timepoints).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_channels, n_timepoints) or (n_samples, n_timepoints)
        Or a list of (n_channels, n_timepoints_i) arrays of unequal lengths,
        NaN-padded at the end (:func:`pad_sequences`). A 2-D array is
        univariate (one channel), as in aeon and for scikit-learn's 2-D X.
        NaN marks a missing sample.
    n_channels : int, optional
        The number of channels required (a fitted classifier's).

    Examples
    --------
    >>> check_sequences(np.zeros((4, 10))).shape
    (4, 1, 10)
    """
    if scipy.sparse.issparse(X):
        raise ParameterError("X: sparse input is not supported (sequences are dense); pass X.toarray()")
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1:
        X = list(X)  # numpy's own container of unequal-length sequences
    if isinstance(X, (list, tuple)) and X and all(np.ndim(series) == 2 for series in X):
        X = pad_sequences(X)
    elif (isinstance(X, (list, tuple)) and len(X) > 1 and all(np.ndim(series) == 1 for series in X)
          and len({np.shape(series) for series in X}) > 1):
        raise ShapeError("X: sequences of unequal length come as a list of (n_channels, n_timepoints_i) arrays; "
                         "a univariate series x is x[None] (or x.reshape(1, -1))")
    array = as_float_array(X, "X")
    if array.ndim < 2:  # scikit-learn's phrase, which its estimator checks look for
        raise ShapeError(f"X must be (n_samples, n_channels, n_timepoints) or, univariate, (n_samples, n_timepoints); "
                         f"got shape {array.shape}. Reshape your data: X[None] for a single univariate sequence")
    return check_observations(array, n_channels, name="X", two_d="channel", channels_first=True)[0]


def pad_sequences(series: Iterable[ArrayLike]) -> np.ndarray:
    """Stack sequences of unequal length, aeon's list format, into one array padded with NaN.

    Parameters
    ----------
    series : sequence of array_like, each (n_channels, n_timepoints_i)

    Returns
    -------
    ndarray, shape (n_samples, n_channels, max_i n_timepoints_i)
        NaN after the end of each sequence (the decoders treat it as missing
        samples: no update, no evidence).

    Examples
    --------
    >>> pad_sequences([np.ones((2, 3)), np.zeros((2, 1))]).shape
    (2, 2, 3)
    """
    arrays = [as_float_array(item, "X[i]") for item in series]
    if not arrays or any(item.ndim != 2 for item in arrays):
        raise ShapeError("sequences must be a non-empty list of (n_channels, n_timepoints) arrays")
    if len({item.shape[0] for item in arrays}) != 1:
        raise ShapeError("every sequence must have the same number of channels")
    if min(item.shape[1] for item in arrays) == 0:
        raise ShapeError("every sequence needs at least one time point")
    padded = np.full((len(arrays), arrays[0].shape[0], max(item.shape[1] for item in arrays)), np.nan)
    for index, item in enumerate(arrays):
        padded[index, :, :item.shape[1]] = item
    return padded


def observed_lengths(sequences: np.ndarray) -> np.ndarray:
    """Length of each sequence: one past its last observed sample, shape (n_sequences,).

    A padded list (:func:`pad_sequences`) gets its sequences' own lengths
    back; a missing sample (NaN) inside a sequence does not shorten it.

    Parameters
    ----------
    sequences : ndarray, shape (n_sequences, n_timepoints, n_channels)
        Batch-first, NaN where a sample is missing or after a sequence's end.

    Examples
    --------
    >>> observed_lengths(np.array([[[1.0], [np.nan], [2.0]], [[1.0], [np.nan], [np.nan]]]))
    array([3, 1])
    """
    if not isinstance(sequences, np.ndarray) or sequences.ndim != 3 or sequences.dtype.kind != "f":
        raise ShapeError(f"sequences must be a float array (n_sequences, n_timepoints, n_channels), got "
                         f"{getattr(sequences, 'shape', type(sequences).__name__)}")
    observed = ~np.all(np.isnan(sequences), axis=2)
    return sequences.shape[1] - np.argmax(observed[:, ::-1], axis=1)


def to_batch_first(X: ArrayLike) -> np.ndarray:
    """(n_samples, n_channels, n_timepoints) -> (n_samples, n_timepoints, n_channels)."""
    X = check_observations(X, name="X", two_d=None, channels_first=True)[0]
    return np.ascontiguousarray(np.swapaxes(X, 1, 2))


# -------------------------------------------------------- observation files
def load_observations(path: str | Path) -> np.ndarray:
    """Observations from a ``.npy`` array or a ``.csv`` table, as the decoders take them.

    Parameters
    ----------
    path : str or Path
        ``.npy``: a float array (T, m) or (B, T, m), NaN = missing.
        ``.csv``: rows = samples, columns = channels; a first row of names
        only (no cell a number) is a header; an empty or NaN cell = missing.

    Returns
    -------
    ndarray, shape (T, m) or (B, T, m)
        float64; a CSV table is one trial (T, m).

    Raises
    ------
    DecodeError
        Unknown suffix, or contents that are not numbers (or, in CSV, text
        that is not UTF-8, rows of different lengths, no rows). A CSV cell
        that is not a number is named by its line and column, also in a
        first row that mixes numbers and text (``0.5,O.3``: a typo, not a header).
    ShapeError, NonFiniteError
        Not (T, m) or (B, T, m) with no empty axis, or infinite values.
    OSError
        The file cannot be opened.

    Examples
    --------
    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "recording.csv"
    >>> _ = table.write_text("left,right\\n0.5,1.0\\n,2.0\\n")
    >>> load_observations(table)
    array([[0.5, 1. ],
           [nan, 2. ]])
    >>> import shutil
    >>> shutil.rmtree(table.parent)
    """
    path = Path(path)
    if path.suffix == ".npy":
        observations = _read_npy(path)
    elif path.suffix == ".csv":
        observations = _read_csv(path)
    else:
        raise DecodeError(f"{path}: observations must be a .npy or .csv file, got {path.suffix or 'no suffix'!r}")
    y, batched = check_observations(observations, name=f"{path}: observations")
    return y if batched else y[0]


def _read_npy(path: Path) -> np.ndarray:
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, TypeError, EOFError) as exc:  # EOFError: an empty file
        raise DecodeError(f"{path}: not a numeric .npy array ({' '.join(str(exc).split())})") from None
    return as_float_array(values, f"{path}: observations")


def _read_csv(path: Path) -> np.ndarray:
    """Rows = samples, columns = channels; a first row of names only is a header; empty cell = NaN."""
    # utf-8-sig: the byte order mark spreadsheet programs write would otherwise turn a first data row into text.
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if row]  # line numbers of the file, blank lines too
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start:exc.end]!r}); "
                          "save the table as UTF-8") from None
    except csv.Error as exc:
        raise DecodeError(f"{path}: not a CSV table ({exc})") from None
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    if not rows:
        raise DecodeError(f"{path}: no samples")
    widths = {len(row) for _, row in rows}
    if len(widths) != 1:
        raise DecodeError(f"{path}: rows have different numbers of columns ({sorted(widths)})")
    table = np.empty((len(rows), widths.pop()))
    for index, (line, row) in enumerate(rows):
        for column, cell in enumerate(row):
            table[index, column] = _parse_cell(cell, path, line, column, first=index == 0)
    return table


def _is_header(row: list[str]) -> bool:
    """Whether a row holds names only: no cell is a number and some cell is not empty."""
    cells = [cell.strip() for cell in row]
    return any(cells) and not any(_is_number(cell) for cell in cells if cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_cell(cell: str, path: Path, line: int, column: int, *, first: bool) -> float:
    """A CSV cell as a float; an empty cell is a missing sample (NaN)."""
    text = cell.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        # A first row that mixes numbers and text is no header (a header holds names only): likely a typo.
        hint = "; the row also holds numbers, so it is data, not a header of names" if first else ""
        raise DecodeError(f"{path}: not a numeric CSV table (line {line}, column {column + 1}: "
                          f"{text[:30]!r} is not a number{hint})") from None


# ----------------------------------------------------------------- synthetic
def chaotic_model(
    n_hidden: int = 60,
    n_obs: int = 3,
    *,
    gain: float = 3.0,
    tau: float = 0.02,
    sample_interval: float = 0.005,
    substeps: int = 1,
    process_noise: float = 0.01,
    observation_noise: float = 0.01,
    min_lyapunov: float = 1.0,
    max_draws: int = 50,
    seed: int | None = None,
) -> GenerativeRNN:
    """A tanh RNN in the chaotic regime: W_ij ~ N(0, gain²/N) with gain > 1.

    Large random networks with gain > 1 are chaotic (Sompolinsky, Crisanti &
    Sommers 1988), but at finite N and with the Euler discretisation a given
    draw may instead settle on a fixed point or a limit cycle. Draws are
    therefore repeated (from the same seeded generator) until the largest
    finite-time Lyapunov exponent of the noise-free model exceeds
    ``min_lyapunov`` (s⁻¹).

    Raises
    ------
    ParameterError
        When no chaotic draw is found within ``max_draws``.
    """
    n_hidden = positive_int(n_hidden, "n_hidden")
    n_obs = positive_int(n_obs, "n_obs")
    gain = positive_scalar(gain, "gain")
    rng = random_generator(seed)
    for _ in range(positive_int(max_draws, "max_draws")):
        W = rng.standard_normal((n_hidden, n_hidden)) * gain / np.sqrt(n_hidden)
        M = rng.standard_normal((n_obs, n_hidden)) / np.sqrt(n_hidden)
        model = GenerativeRNN(W=W, M=M, tau=tau, sample_interval=sample_interval, substeps=substeps, Q=process_noise,
                              R=observation_noise)
        if largest_lyapunov_exponent(model, rng.standard_normal(n_hidden)) > min_lyapunov:
            return model
    raise ParameterError(f"no chaotic network found in {max_draws} draws; increase gain or n_hidden")


def largest_lyapunov_exponent(
    model: GenerativeRNN, x0: ArrayLike, *, n_steps: int = 2000, transient: int = 500, separation: float = 1e-8
) -> float:
    """Largest finite-time Lyapunov exponent (s⁻¹) of the noise-free model from ``x0`` (Benettin's method).

    A neighbouring trajectory is renormalised to distance ``separation`` after
    every sample; the exponent is the mean log growth per second after a
    ``transient`` of samples.
    """
    x = np.asarray(x0, dtype=np.float64)
    for _ in range(transient):
        x = model.transition(x)
    direction = np.random.default_rng(0).standard_normal(x.shape)
    neighbour = x + separation * direction / np.linalg.norm(direction)
    log_growth = 0.0
    for _ in range(n_steps):
        x, neighbour = model.transition(x), model.transition(neighbour)
        distance = np.linalg.norm(neighbour - x)
        if distance == 0.0:
            return -np.inf
        log_growth += np.log(distance / separation)
        neighbour = x + (neighbour - x) * (separation / distance)
    return log_growth / (n_steps * model.sample_interval)


def class_sequences(
    models: list[GenerativeRNN], n_per_class: int, n_steps: int, *, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A labelled synthetic recognition set: ``n_per_class`` sequences from each model.

    Returns
    -------
    X : ndarray, shape (n_classes * n_per_class, m, n_steps)
        Observations in the (n_samples, n_channels, n_timepoints) convention.
    y : ndarray of int, shape (n_classes * n_per_class,)
        Index of the generating model.
    """
    if not models:
        raise ParameterError("class_sequences needs at least one model")
    if len({model.n_obs for model in models}) != 1:
        raise ShapeError("all models must have the same number of observed channels")
    rng = random_generator(seed)
    blocks = []
    for model in models:
        _, observations = model.simulate(n_steps, batch=n_per_class, seed=rng)
        blocks.append(np.swapaxes(observations, 1, 2))
    labels = np.repeat(np.arange(len(models)), n_per_class)
    return np.concatenate(blocks), labels


def switching_sequences(
    first: GenerativeRNN,
    second: GenerativeRNN,
    n_steps: int,
    switch_step: int,
    *,
    batch: int = 1,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sequences generated by ``first`` up to ``switch_step`` and by ``second`` afterwards.

    The hidden state carries over at the switch (both models need the same N,
    m and sampling interval), so only the dynamics change.

    Returns
    -------
    states : ndarray, shape (batch, n_steps, N)
    observations : ndarray, shape (batch, n_steps, m)
    active_model : ndarray of int, shape (n_steps,)
        0 before the switch, 1 from ``switch_step`` on.
    """
    if (first.n_hidden, first.n_obs, first.sample_interval) != (second.n_hidden, second.n_obs, second.sample_interval):
        raise ShapeError("both models need the same n_hidden, n_obs and sample_interval to switch between them")
    n_steps = positive_int(n_steps, "n_steps")
    if not 0 < switch_step < n_steps:
        raise ParameterError(f"switch_step must lie in (0, {n_steps}), got {switch_step}")
    rng = random_generator(seed)
    states_a, obs_a = first.simulate(switch_step, batch=batch, seed=rng)
    states_b, obs_b = second.simulate(n_steps - switch_step, batch=batch, x0=states_a[:, -1], seed=rng)
    active = np.r_[np.zeros(switch_step, dtype=int), np.ones(n_steps - switch_step, dtype=int)]
    return np.concatenate([states_a, states_b], axis=1), np.concatenate([obs_a, obs_b], axis=1), active
