"""Filtering a long recording in time chunks: the same numbers as one pass, in bounded memory.

A decoder's belief after the last sample of one chunk is the prior of the
next, so filtering chunk by chunk is exact, while covariances are held for
one chunk at a time and a progress bar can advance once per chunk.

Examples
--------
>>> from rrnn_net import UKF, GenerativeRNN
>>> model = GenerativeRNN.oscillator(3, 2, seed=0)
>>> _, y = model.simulate(100, batch=2, seed=1)
>>> chunked = filter_in_chunks(UKF(model), y, n_chunks=4)
>>> bool(np.allclose(chunked.mean, UKF(model).filter(y).mean, rtol=1e-12, atol=1e-12))
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_observations, positive_int
from ..errors import CovarianceError, DivergenceError, ParameterError
from .result import FilterResult

if TYPE_CHECKING:
    from .continuous import ContinuousFilter
    from .ekf import EKF
    from .ukf import UKF

__all__ = ["filter_chunks", "filter_in_chunks"]

# The per-step arrays of a FilterResult that chunks concatenate (covariances are left out: memory).
_STEP_FIELDS = ("predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "mean", "loglik")


def filter_chunks(decoder: UKF | EKF | ContinuousFilter, observations: ArrayLike, *, chunk_size: int,
                  mean0: ArrayLike | None = None, cov0: ArrayLike | None = None,
                  progress: bool = False) -> Iterator[tuple[int, FilterResult]]:
    """Filter consecutive time chunks, each from the previous chunk's last belief; yield them one by one.

    Parameters
    ----------
    decoder : UKF, EKF or ContinuousFilter
    observations : array_like, shape (T, m) or (B, T, m)
        NaN marks a missing sample.
    chunk_size : int
        Samples per chunk (the last chunk may be shorter).
    mean0 : array_like, shape (N,) or (B, N), optional
        Prior mean at t = 0 (default zeros).
    cov0 : array_like, shape (N, N) or (B, N, N), optional
        Prior covariance at t = 0 (default: the decoder's own, as for ``decoder.filter``).
    progress : bool
        Show a progress bar on stderr, one step per chunk.

    Yields
    ------
    start : int
        Index of the chunk's first sample.
    result : FilterResult
        The chunk's result, batched (B, chunk, ...) whatever the input, with covariances.
    """
    from tqdm.auto import tqdm  # about 0.1 s to import; `import rrnn_net` reaches this module through the compiler

    if getattr(decoder, "noise", None) is not None:
        raise ParameterError("a decoder with noise='adaptive' carries its noise belief through one pass; time "
                             "chunks would restart it from the prior: call its filter() once")
    y, _ = check_observations(observations, decoder.model.n_obs)
    chunk_size = positive_int(chunk_size, "chunk_size")
    mean, cov = mean0, cov0
    for start in tqdm(range(0, y.shape[1], chunk_size), desc="decoding", unit="chunk", disable=not progress):
        try:
            result = decoder.filter(y[:, start:start + chunk_size], mean0=mean, cov0=cov, record="covariance")
        except CovarianceError as exc:
            if start == 0:
                raise
            # The belief carried over from the previous chunk, not the caller's cov0, is at fault.
            raise DivergenceError(f"{type(decoder).__name__}: the state covariance stopped being positive definite "
                                  f"before sample {start} ({exc}); a prior far broader than the states (cov0) "
                                  "or extreme observations exceed float64 arithmetic", sample=start) from None
        except DivergenceError as exc:
            if exc.sample is None or start == 0:
                raise
            # The decoder counted from the chunk's first sample; the caller counts from the recording's.
            sample = start + exc.sample
            raise DivergenceError(str(exc).replace(f"sample {exc.sample}", f"sample {sample}", 1),
                                  sample=sample) from None
        assert result.cov is not None  # recorded above
        mean, cov = result.mean[:, -1], result.cov[:, -1]
        yield start, result


def filter_in_chunks(decoder: UKF | EKF | ContinuousFilter, observations: ArrayLike, *, n_chunks: int = 20,
                     mean0: ArrayLike | None = None, cov0: ArrayLike | None = None,
                     progress: bool = False) -> FilterResult:
    """``decoder.filter(observations, ...)`` run as ``n_chunks`` time chunks, with an optional progress bar.

    Parameters
    ----------
    decoder : UKF, EKF or ContinuousFilter
    observations : array_like, shape (T, m) or (B, T, m)
        NaN marks a missing sample.
    n_chunks : int
        Number of chunks (fewer when T is smaller).
    mean0, cov0 : array_like, optional
        Prior at t = 0, as for ``decoder.filter``.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    FilterResult
        As one call of ``decoder.filter`` over all samples returns it, without
        covariances; no batch axis when ``observations`` was (T, m).
    """
    y, batched = check_observations(observations, decoder.model.n_obs)
    chunk_size = math.ceil(y.shape[1] / positive_int(n_chunks, "n_chunks"))
    results = [result for _, result in filter_chunks(decoder, y, chunk_size=chunk_size, mean0=mean0, cov0=cov0,
                                                     progress=progress)]
    combined = FilterResult(**{name: np.concatenate([getattr(r, name) for r in results], axis=1)
                               for name in _STEP_FIELDS},
                            n_psd_repairs=np.sum([np.asarray(r.n_psd_repairs) for r in results], axis=0))
    return combined if batched else combined.unbatched()
