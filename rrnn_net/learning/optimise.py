"""The gradient loop shared by evidence and bank learning: Adam, clipping, validation-based model selection.

One optimisation step (gradient, clipping, Adam update, and skipping a step
whose gradient is not finite) is a single compiled function of pure inputs;
the objective and its static context are its static arguments, so a second
fit with the same shapes and settings reuses the compiled code.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

__all__ = ["LearningCurve", "optimise"]


@dataclass
class LearningCurve:
    """What one learning stage did.

    Attributes
    ----------
    objective : ndarray, shape (steps,)
        Training objective before each step (higher is better; NaN for a
        step whose gradient was not finite and was skipped).
    checked_steps : ndarray of int, shape (C,)
        Steps after which the validation score was computed (0 = before any step).
    validation_score : ndarray, shape (C,)
        The score at those steps (higher is better); empty without validation data.
    best_step : int
        The step whose parameters were kept.
    skipped_steps : int
        Steps whose gradient was not finite (the update was skipped).
    """

    objective: np.ndarray
    checked_steps: np.ndarray
    validation_score: np.ndarray
    best_step: int
    skipped_steps: int = 0


def _optimiser(learning_rate: float, clip_norm: float) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(clip_norm), optax.adam(learning_rate))


@partial(jax.jit, static_argnames=("objective", "context", "learning_rate", "clip_norm"))
def _step(raw: dict, state: optax.OptState, data: tuple, *, objective: Callable[..., jax.Array], context: Hashable,
          learning_rate: float, clip_norm: float) -> tuple[dict, optax.OptState, jax.Array, jax.Array]:
    """One ascent step; a non-finite value or gradient leaves ``raw`` and ``state`` unchanged."""
    value, grads = jax.value_and_grad(objective)(raw, *data, context=context)
    finite = jnp.isfinite(value) & jnp.all(jnp.stack([jnp.all(jnp.isfinite(g))
                                                      for g in jax.tree_util.tree_leaves(grads)]))
    ascent = jax.tree_util.tree_map(lambda g: -jnp.where(finite, g, 0.0), grads)
    updates, new_state = _optimiser(learning_rate, clip_norm).update(ascent, state, raw)
    new_raw = optax.apply_updates(raw, updates)
    keep = partial(jax.tree_util.tree_map, lambda new, old: jnp.where(finite, new, old))
    return keep(new_raw, raw), keep(new_state, state), value, finite


def optimise(
    objective: Callable[..., jax.Array],
    raw: dict,
    *,
    steps: int,
    learning_rate: float,
    batches: Callable[[int], tuple],
    context: Hashable = None,
    validate: Callable[[dict], float] | None = None,
    early_stopping: bool = True,
    check_every: int = 10,
    clip_norm: float = 1.0,
    progress: bool | None = None,
    description: str = "learning",
) -> tuple[dict, LearningCurve]:
    """Maximise ``objective(raw, *batches(step), context=context)`` with Adam; keep what validation prefers.

    Parameters
    ----------
    objective : callable
        A module-level function ``objective(raw, *data, context) -> scalar``
        (higher is better), traced by JAX.
    raw : dict of arrays
        Starting parameters (a pytree).
    steps : int
        Gradient steps.
    learning_rate : float
        Adam's step size.
    batches : callable
        ``batches(step) -> tuple of arrays``: the data of each step (the
        same shapes every step, so everything compiles once).
    context : hashable
        Static settings handed to ``objective`` (part of the compilation key).
    validate : callable, optional
        ``validate(raw) -> float`` (higher is better), called before the first
        step, every ``check_every`` steps and after the last. The parameters
        with the best score are returned; without it, the last ones.
    early_stopping : bool
        Return the parameters ``validate`` scores best (default); False: the
        last ones, with the validation scores still recorded in the curve.
    clip_norm : float
        Gradients are clipped to this global norm (the filter's gradient can
        spike where a covariance is nearly singular).
    progress : bool, optional
        tqdm bar; ``None``: only on a terminal.
    description : str
        Label of the progress bar.

    Returns
    -------
    best_raw : dict
    curve : LearningCurve
    """
    state = _optimiser(learning_rate, clip_norm).init(raw)
    values = np.full(steps, np.nan)
    checked: list[int] = []
    scores: list[float] = []
    best_raw, best_score, best_step = raw, -np.inf, 0
    skipped = 0

    def check(step: int) -> None:
        nonlocal best_raw, best_score, best_step
        if validate is None:
            return
        score = float(validate(raw))
        checked.append(step)
        scores.append(score)
        if np.isfinite(score) and score > best_score:
            best_raw, best_score, best_step = raw, score, step

    check(0)
    with tqdm(total=steps, desc=description, disable=None if progress is None else not progress,
              leave=False) as bar:
        for step in range(steps):
            raw, state, value, finite = _step(raw, state, tuple(batches(step)), objective=objective,
                                              context=context, learning_rate=float(learning_rate),
                                              clip_norm=float(clip_norm))
            if bool(finite):
                values[step] = float(value)
                bar.set_postfix(objective=f"{values[step]:.4g}", refresh=False)
            else:
                skipped += 1
            if (step + 1) % check_every == 0 or step + 1 == steps:
                check(step + 1)
            bar.update()
    if validate is None or not early_stopping:
        best_raw, best_step = raw, steps
    curve = LearningCurve(objective=values, checked_steps=np.array(checked, dtype=int),
                          validation_score=np.array(scores), best_step=best_step, skipped_steps=skipped)
    return best_raw, curve
