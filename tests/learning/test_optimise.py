"""The learning loop: ascent, validation-based selection, skipped non-finite steps."""

import numpy as np
import pytest

from rrnn_net.learning._jax import float64
from rrnn_net.learning.optimise import optimise

jax = pytest.importorskip("jax")
jnp = jax.numpy


def squared_distance(raw, target, *, context):
    return -jnp.sum((raw["x"] - target) ** 2)


def poisoned(raw, poison, *, context):
    return -jnp.sum(raw["x"] ** 2) + poison


def test_keeps_the_step_the_validation_score_prefers():
    with float64():
        best, curve = optimise(squared_distance, {"x": jnp.zeros(2)}, steps=300, learning_rate=0.05,
                               batches=lambda step: (jnp.full(2, 3.0),), progress=False,
                               validate=lambda raw: -float(np.sum((np.asarray(raw["x"]) - 2.0) ** 2)))
    assert curve.objective[-1] > curve.objective[0] and curve.objective[-1] > -1e-2  # it climbed to x = 3
    assert np.allclose(np.asarray(best["x"]), 2.0, atol=0.1), "the kept step is the one closest to validation's 2"
    assert curve.checked_steps[0] == 0 and curve.checked_steps[-1] == 300
    assert 0 < curve.best_step < 300 and curve.skipped_steps == 0


def test_without_early_stopping_the_last_step_is_kept_and_validation_still_recorded():
    with float64():
        last, curve = optimise(squared_distance, {"x": jnp.zeros(2)}, steps=300, learning_rate=0.05,
                               batches=lambda step: (jnp.full(2, 3.0),), progress=False, early_stopping=False,
                               validate=lambda raw: -float(np.sum((np.asarray(raw["x"]) - 2.0) ** 2)))
    assert np.allclose(np.asarray(last["x"]), 3.0, atol=1e-2), "the last step, at the training optimum"
    assert curve.best_step == 300 and curve.checked_steps[-1] == 300
    assert curve.validation_score.max() > curve.validation_score[-1] + 0.5  # validation preferred an earlier step


def test_skips_steps_whose_gradient_is_not_finite():
    with float64():
        poisons = [jnp.nan, 0.0, jnp.inf, 0.0, 0.0]
        best, curve = optimise(poisoned, {"x": jnp.ones(1)}, steps=5, learning_rate=0.1,
                               batches=lambda step: (jnp.asarray(poisons[step]),), progress=False)
    assert curve.skipped_steps == 2 and np.isnan(curve.objective[[0, 2]]).all()
    assert float(best["x"][0]) == pytest.approx(0.7, abs=0.01), "three Adam steps of 0.1"
    assert curve.best_step == 5
