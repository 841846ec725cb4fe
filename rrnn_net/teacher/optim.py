"""Adam and gradient clipping on dictionaries of numpy arrays.

Both work elementwise or per model, so parameters may carry leading
ensemble axes (E independent models trained in one pass).
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["Adam", "clip_by_global_norm", "global_norm"]


def global_norm(grads: dict[str, np.ndarray], n_core_axes: dict[str, int]) -> np.ndarray:
    """Euclidean norm of all gradients together, per model.

    Parameters
    ----------
    grads : dict of ndarray
        Each of shape (*E, *core shape).
    n_core_axes : dict of int
        Number of trailing (per-model) axes of each gradient, e.g. 2 for a
        matrix, 1 for a bias.

    Returns
    -------
    ndarray, shape (*E,)
        A numpy scalar for a single model.

    Examples
    --------
    >>> float(global_norm({"W": np.full((2, 2), 0.5), "b": np.zeros(2)}, {"W": 2, "b": 1}))
    1.0
    """
    squares = sum(
        np.sum(value**2, axis=tuple(range(value.ndim - n_core_axes[name], value.ndim)))
        for name, value in grads.items()
    )
    return np.sqrt(squares)


def clip_by_global_norm(
    grads: dict[str, np.ndarray], max_norm: float, n_core_axes: dict[str, int], norm: np.ndarray | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Scale each model's gradients down so that their global norm is at most ``max_norm``.

    Returns the clipped gradients (new arrays) and the norms before clipping,
    shape (*E,). ``norm`` may pass in :func:`global_norm` when it is already known.

    Examples
    --------
    >>> clipped, norm = clip_by_global_norm({"W": np.full((2, 2), 2.0)}, 1.0, {"W": 2})
    >>> float(norm), float(np.sum(clipped["W"] ** 2))
    (4.0, 1.0)
    """
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ParameterError(f"max_norm must be a positive finite number, got {max_norm!r}")
    if norm is None:
        norm = global_norm(grads, n_core_axes)
    factor = np.minimum(1.0, max_norm / np.maximum(norm, np.finfo(float).tiny))
    clipped = {
        name: value * factor.reshape(factor.shape + (1,) * n_core_axes[name]) for name, value in grads.items()
    }
    return clipped, norm


class Adam:
    """The Adam optimiser (Kingma & Ba 2015) updating a dict of arrays in place.

    Parameters
    ----------
    params : dict of ndarray
        The arrays to update (modified in place by :meth:`step`).
    lr : float
        Learning rate.
    betas : (float, float)
        Decay rates of the first and second moment estimates.
    eps : float
        Added to the root of the second moment (PyTorch's convention).

    Examples
    --------
    >>> params = {"x": np.array([1.0])}
    >>> optimiser = Adam(params, lr=0.1)
    >>> optimiser.step({"x": 2 * params["x"]})
    >>> params["x"].round(3)
    array([0.9])
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if not np.isfinite(lr) or lr <= 0:
            raise ParameterError(f"lr must be a positive finite number, got {lr!r}")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ParameterError(f"betas must lie in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ParameterError(f"eps must be positive, got {eps!r}")
        self.params = params
        self.lr = float(lr)
        self.betas = betas
        self.eps = float(eps)
        self.n_steps = 0
        self._first = {name: np.zeros_like(value) for name, value in params.items()}
        self._second = {name: np.zeros_like(value) for name, value in params.items()}

    def step(self, grads: dict[str, np.ndarray], active: np.ndarray | None = None) -> None:
        """Apply one update with gradients keyed like the parameters.

        ``active`` (*E,) bool, for parameters with leading ensemble axes:
        models marked False are left unchanged (e.g. ones that diverged).
        """
        beta1, beta2 = self.betas
        self.n_steps += 1
        # Bias corrections folded into the step size and eps, as in the paper's efficient form.
        correction1 = 1.0 - beta1**self.n_steps
        correction2 = 1.0 - beta2**self.n_steps
        step_size = self.lr * np.sqrt(correction2) / correction1
        eps = self.eps * np.sqrt(correction2)
        for name, param in self.params.items():
            grad = grads[name]
            first, second = self._first[name], self._second[name]
            first *= beta1
            first += (1.0 - beta1) * grad
            second *= beta2
            second += (1.0 - beta2) * grad**2
            update = step_size * first / (np.sqrt(second) + eps)
            if active is not None:
                update = np.where(active.reshape(active.shape + (1,) * (param.ndim - active.ndim)), update, 0.0)
            param -= update
