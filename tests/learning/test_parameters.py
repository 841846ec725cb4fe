"""Raw (unconstrained) parameters map to valid models and back, with tying."""

import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.learning._jax import float64
from rrnn_net.learning.parameters import TYINGS, VARIANCE_FLOOR, constrain, initial_raw, to_models

pytest.importorskip("jax")


def test_round_trip_reproduces_the_models_and_priors():
    models = [GenerativeRNN.oscillator(3, 2, seed=seed).replace(Q=np.diag([0.1, 0.2, 0.3]), R=np.diag([0.05, 0.5]))
              for seed in (0, 1)]
    mean0 = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5]])
    variances = np.array([[0.5, 0.4, 0.3], [1.0, 2.0, 3.0]])
    with float64():
        raw = initial_raw(models, mean0, variances, tying="none", learn_tau=True)
        back, back_mean0, back_cov0 = to_models(constrain(raw, 2, step=models[0].step, tau=models[0].tau), models[0])
    for model, copy in zip(models, back, strict=True):
        for name in ("W", "b", "M", "c", "Q", "R"):
            np.testing.assert_allclose(getattr(copy, name), getattr(model, name), rtol=1e-12, atol=1e-15)
        assert copy.tau == pytest.approx(model.tau, rel=1e-12) and copy.sample_interval == model.sample_interval
    np.testing.assert_allclose(back_mean0, mean0)
    np.testing.assert_allclose(np.diagonal(back_cov0, axis1=1, axis2=2), variances)


@pytest.mark.parametrize("tying", TYINGS)
def test_tied_fields_are_shared_and_the_rest_per_class(tying):
    model = GenerativeRNN.oscillator(3, 2, seed=0)
    with float64():
        raw = initial_raw([model], np.zeros((4, 3)), np.ones((4, 3)), tying=tying, learn_tau=True)
        untied = initial_raw([model], np.zeros((4, 3)), np.ones((4, 3)), tying="none", learn_tau=True)
        params = constrain(raw, 4, step=model.step, tau=model.tau)
    for name, value in raw.items():
        expected = untied[name].shape[1:] if name in TYINGS[tying] else untied[name].shape
        assert value.shape == expected, (name, value.shape)
    assert params.W.shape == (4, 3, 3) and params.Q.shape == (4, 3, 3) and params.tau.shape == (4,)


def test_noise_stays_positive_definite_and_tau_not_below_the_euler_step():
    model = GenerativeRNN.oscillator(2, 1, seed=0)
    with float64():
        raw = initial_raw([model], np.zeros((1, 2)), np.ones((1, 2)), tying="none", learn_tau=True)
        raw = {name: value - 50.0 for name, value in raw.items()}  # drive every log-parameter to -inf
        params = constrain(raw, 1, step=model.step, tau=model.tau)
    assert np.all(np.diagonal(np.asarray(params.Q), axis1=1, axis2=2) >= VARIANCE_FLOOR)
    assert np.all(np.diagonal(np.asarray(params.R), axis1=1, axis2=2) >= VARIANCE_FLOOR)
    assert float(params.tau[0]) >= model.step  # leak h/τ <= 1
