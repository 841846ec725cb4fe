"""Exact backpropagation through time for the discrete student RNNs, in numpy.

The student is h_t = φ(W h_{t−1} + U x_t + b), y_t = C h_t with h_0 = 0 and
the loss is the mean squared error over the batch, the output channels and
the time steps kept by the washout mask.

Internally sequences are time-major, (T, B, channels), so each step of the
time loop reads one contiguous (B, channels) block, and every array may carry
leading *ensemble* axes: parameters (*E, …) and data (*E, T, B, …) train
E independent students in one pass (used by the teacher_student demo).

Backward pass, with a_t = W h_{t−1} + U x_t + b and δ_t = ∂L/∂a_t:

    g_t = C ᵀ ∂L/∂y_t + W ᵀ δ_{t+1}          (the second term dropped at truncation boundaries)
    δ_t = g_t ⊙ φ'(a_t),   φ'(a_t) = 1 − h_t²  for tanh
    ∂L/∂W = Σ_t δ_t h_{t−1}ᵀ,  ∂L/∂U = Σ_t δ_t x_tᵀ,  ∂L/∂b = Σ_t δ_t,  ∂L/∂C = Σ_t (∂L/∂y_t) h_tᵀ
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._validation import positive_int
from ..errors import ParameterError, ShapeError
from ._checks import as_batch

if TYPE_CHECKING:  # students.py imports this module
    from .students import StudentRNN

__all__ = ["loss_and_gradients", "forward", "washout_weights", "ensemble_loss", "ensemble_loss_and_gradients"]


def washout_weights(n_steps: int, washout: int) -> np.ndarray:
    """Per-step loss weights (T,): 0 during the washout, 1/(number of kept steps) after it.

    Examples
    --------
    >>> washout_weights(4, 2)
    array([0. , 0. , 0.5, 0.5])
    """
    if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or washout < 0:
        raise ParameterError(f"washout must be a non-negative integer, got {washout!r}")
    if washout >= n_steps:
        raise ParameterError(f"washout ({washout}) must be shorter than the sequences ({n_steps} steps)")
    weights = np.zeros(n_steps)
    weights[washout:] = 1.0 / (n_steps - washout)
    return weights


def _buffer(workspace: dict | None, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised array, reused from ``workspace`` when one of that shape is there.

    Training calls the kernel thousands of times with the same shapes; fresh
    multi-megabyte arrays cost a page fault per 4 KiB on every call, which at
    hidden size 32 was a third of an epoch.
    """
    if workspace is None:
        return np.empty(shape)
    array = workspace.get(name)
    if array is None or array.shape != shape:
        array = workspace[name] = np.empty(shape)
    return array


def _rows(array: np.ndarray) -> np.ndarray:
    """View (*E, T, B, k) as (*E, T·B, k): one matrix product per model instead of one per step.

    Every array passed here is contiguous over its last three axes, so the
    reshape is a view (and a valid ``out=`` target).
    """
    return array.reshape((*array.shape[:-3], array.shape[-3] * array.shape[-2], array.shape[-1]))


def _product_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b for a (..., R, k) and b (..., k, n).

    With k = 1 (one input or output channel, the usual case) the product is
    an outer product, done by broadcasting: about twice as fast as BLAS's
    gemm with k = 1.
    """
    if a.shape[-1] == 1:
        np.multiply(a, b, out=out)
    else:
        np.matmul(a, b, out=out)


def forward(
    params: dict[str, np.ndarray], inputs: np.ndarray, activation: str, workspace: dict | None = None
) -> np.ndarray:
    """Hidden states h_0 .. h_T for time-major inputs.

    The input drive U x_t + b of all steps is one product before the loop;
    each step then adds W h_{t−1} and applies φ in place on a contiguous
    (B, N) block.

    Parameters
    ----------
    params : dict
        "W" (*E, N, N), "U" (*E, N, n_input), optionally "b" (*E, N).
    inputs : ndarray, shape (*E, T, B, n_input)
    activation : {"linear", "tanh"}
    workspace : dict, optional
        See :func:`ensemble_loss_and_gradients`.

    Returns
    -------
    ndarray, shape (*E, T + 1, B, N)
        ``[..., 0, :, :]`` is the zero initial state.
    """
    W, U = params["W"], params["U"]
    n_steps, batch = inputs.shape[-3:-1]
    states = _buffer(workspace, "states", (*inputs.shape[:-3], n_steps + 1, batch, W.shape[-1]))
    states[..., 0, :, :] = 0.0
    _product_into(_rows(inputs), U.mT, _rows(states[..., 1:, :, :]))
    if "b" in params:
        states[..., 1:, :, :] += params["b"][..., None, None, :]
    recurrent_t = np.ascontiguousarray(W.mT)
    tanh = activation == "tanh"
    for t in range(n_steps):
        state = states[..., t + 1, :, :]
        state += states[..., t, :, :] @ recurrent_t
        if tanh:
            np.tanh(state, out=state)
    return states


def _forward_errors(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    time_weights: np.ndarray,
    activation: str,
    workspace: dict | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden states (*E, T + 1, B, N), output errors y − Y (*E, T, B, n_output) and the loss (*E,)."""
    C = params["C"]
    batch = inputs.shape[-2]
    states = forward(params, inputs, activation, workspace)
    residual = (_rows(states[..., 1:, :, :]) @ C.mT).reshape(targets.shape)
    residual -= targets
    loss = np.sum(residual * residual, axis=(-2, -1)) @ (time_weights / (batch * C.shape[-2]))
    return states, residual, loss


def ensemble_loss(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    time_weights: np.ndarray,
    activation: str,
) -> np.ndarray:
    """The loss of :func:`ensemble_loss_and_gradients` without the gradients; shape (*E,)."""
    return _forward_errors(params, inputs, targets, time_weights, activation, None)[2]


def ensemble_loss_and_gradients(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    time_weights: np.ndarray,
    activation: str,
    truncation: int | None = None,
    workspace: dict | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Loss and exact gradients on time-major data, for one student or an ensemble.

    Parameters
    ----------
    params : dict
        "W" (*E, N, N), "U" (*E, N, n_input), "C" (*E, n_output, N), optionally "b" (*E, N).
    inputs : ndarray, shape (*E, T, B, n_input)
    targets : ndarray, shape (*E, T, B, n_output)
    time_weights : ndarray, shape (T,)
        Weight of each step's squared error (see :func:`washout_weights`); the
        loss is Σ_t w_t · mean over batch and channels of the squared error.
    activation : {"linear", "tanh"}
    truncation : int, optional
        Truncated BPTT: the sequence is cut into chunks of this many steps and
        no gradient flows across a chunk boundary (the state there acts as a
        fixed input). ``None``: full BPTT.
    workspace : dict, optional
        Scratch arrays kept between calls with the same shapes (pass the same
        empty dict on every call of a training loop).

    Returns
    -------
    loss : ndarray, shape (*E,)
    grads : dict
        Same keys and shapes as ``params``.
    """
    W, C = params["W"], params["C"]
    n_steps, batch = inputs.shape[-3:-1]
    n_hidden = W.shape[-1]
    states, residual, loss = _forward_errors(params, inputs, targets, time_weights, activation, workspace)
    output_adjoint = residual * (2.0 * time_weights / (batch * C.shape[-2]))[:, None, None]
    # Filled with ∂L/∂h_t from the readout, then turned into δ_t = ∂L/∂a_t step by step, backwards.
    adjoint = _buffer(workspace, "adjoint", (*states.shape[:-3], n_steps, batch, n_hidden))
    _product_into(_rows(output_adjoint), C, _rows(adjoint))
    slope = None
    if activation == "tanh":
        slope = np.square(states[..., 1:, :, :], out=_buffer(workspace, "slope", adjoint.shape))
        np.subtract(1.0, slope, out=slope)
    for t in range(n_steps - 1, -1, -1):
        step_adjoint = adjoint[..., t, :, :]
        if t + 1 < n_steps and (truncation is None or (t + 1) % truncation):
            step_adjoint += adjoint[..., t + 1, :, :] @ W
        if slope is not None:
            step_adjoint *= slope[..., t, :, :]

    pre_adjoint_t = _rows(adjoint).mT
    grads = {
        "W": pre_adjoint_t @ _rows(states[..., :-1, :, :]),
        "U": pre_adjoint_t @ _rows(inputs),
        "C": _rows(output_adjoint).mT @ _rows(states[..., 1:, :, :]),
    }
    if "b" in params:
        grads["b"] = pre_adjoint_t.sum(axis=-1)
    return loss, {name: grads[name] for name in params}


def loss_and_gradients(
    student: StudentRNN,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    washout: int = 0,
    truncation: int | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """Mean squared error of a student and its exact BPTT gradients.

    Parameters
    ----------
    student : StudentRNN
    X : array_like, shape (B, T, n_input) or (B, T)
        Inputs, batch-first.
    Y : array_like, shape (B, T, n_output) or (B, T)
        Targets, batch-first.
    washout : int
        The first ``washout`` time steps (axis 1) are left out of the loss.
    truncation : int, optional
        Chunk length of truncated BPTT (see :func:`ensemble_loss_and_gradients`);
        ``None`` for full BPTT.

    Returns
    -------
    loss : float
        Mean over trials, kept time steps and output channels of (y − Y)².
    grads : dict
        ∂loss/∂parameter, keyed and shaped like ``student.parameters()``.

    Examples
    --------
    >>> from rrnn_net.teacher import StudentRNN
    >>> student = StudentRNN(1, 3, 1, seed=0)
    >>> X = np.random.default_rng(1).standard_normal((8, 40, 1))
    >>> loss, grads = loss_and_gradients(student, X, np.zeros((8, 40, 1)), washout=10)
    >>> sorted(grads)
    ['C', 'U', 'W']
    """
    X = as_batch(X, "X", student.n_input)
    Y = as_batch(Y, "Y", student.n_output)
    if X.shape[:2] != Y.shape[:2]:
        raise ShapeError(f"X and Y must share batch and time axes, got {X.shape} and {Y.shape}")
    if truncation is not None:
        truncation = positive_int(truncation, "truncation")
    loss, grads = ensemble_loss_and_gradients(
        student.parameters(),
        np.ascontiguousarray(np.swapaxes(X, 0, 1)),
        np.ascontiguousarray(np.swapaxes(Y, 0, 1)),
        washout_weights(X.shape[1], washout),
        student.activation,
        truncation,
    )
    return float(loss), grads
