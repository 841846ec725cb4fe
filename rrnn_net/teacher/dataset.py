"""Teacher-student data sets: white-noise inputs, teacher targets, washout mask, train/test split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._validation import positive_int, positive_scalar, random_generator
from ..errors import ParameterError

if TYPE_CHECKING:
    from .teachers import Teacher

__all__ = ["TeacherDataset", "make_dataset"]


@dataclass(frozen=True)
class TeacherDataset:
    """Input/target sequences of a teacher, batch-first (batch, time, channels).

    Attributes
    ----------
    X_train, Y_train : ndarray, shape (B_train, T, n_input), (B_train, T, n_output)
    X_test, Y_test : ndarray, shape (B_test, T, n_input), (B_test, T, n_output)
    washout : int
        Number of leading time steps excluded from losses.
    train_index, test_index : ndarray of int
        Which of the generated sequences went where.
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    washout: int
    train_index: np.ndarray
    test_index: np.ndarray

    @property
    def n_steps(self) -> int:
        """Sequence length T."""
        return self.X_train.shape[1]

    @property
    def mask(self) -> np.ndarray:
        """Time steps that count in the loss, shape (T,) bool: False during the washout.

        It indexes the *time* axis (axis 1) of X and Y, e.g.
        ``Y_train[:, dataset.mask]``.
        """
        mask = np.ones(self.n_steps, dtype=bool)
        mask[:self.washout] = False
        return mask


def make_dataset(
    teacher: Teacher,
    *,
    n_sequences: int = 100,
    n_steps: int = 150,
    washout: int = 50,
    test_fraction: float = 0.2,
    input_std: float = 1.0,
    seed: int | np.random.Generator | None = None,
) -> TeacherDataset:
    """Drive a teacher with Gaussian white noise and split the sequences into train and test sets.

    Parameters
    ----------
    teacher : object with ``n_input`` and ``simulate(X) -> Y`` on (B, T, channels)
        E.g. :class:`~rrnn_net.teacher.IIRTeacher`.
    n_sequences, n_steps : int
        Number B and length T of the sequences (default 100 × 150).
    washout : int
        Leading steps excluded from the loss (default 50).
    test_fraction : float
        Share of the *sequences* held out (default 0.2: an 80/20 split by sequence).
    input_std : float
        Standard deviation of the white-noise input.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    TeacherDataset

    Examples
    --------
    >>> from rrnn_net.teacher import IIRTeacher
    >>> data = make_dataset(IIRTeacher([0.9]), seed=0)
    >>> data.X_train.shape, data.X_test.shape, int(data.mask.sum())
    ((80, 150, 1), (20, 150, 1), 100)
    """
    n_sequences = positive_int(n_sequences, "n_sequences")
    n_steps = positive_int(n_steps, "n_steps")
    if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or not 0 <= washout < n_steps:
        raise ParameterError(f"washout must be an integer in [0, n_steps) = [0, {n_steps}), got {washout!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    n_test = round(test_fraction * n_sequences)
    if not 0 < n_test < n_sequences:
        raise ParameterError(f"{n_sequences} sequences cannot be split with test_fraction={test_fraction}")
    input_std = positive_scalar(input_std, "input_std")
    rng = random_generator(seed)
    X = input_std * rng.standard_normal((n_sequences, n_steps, teacher.n_input))
    Y = np.asarray(teacher.simulate(X), dtype=np.float64)
    order = rng.permutation(n_sequences)
    test_index, train_index = np.sort(order[:n_test]), np.sort(order[n_test:])
    return TeacherDataset(
        X_train=X[train_index], Y_train=Y[train_index], X_test=X[test_index], Y_test=Y[test_index],
        washout=int(washout), train_index=train_index, test_index=test_index,
    )
