"""Bank learning: conditional likelihood, validation split, tying, windows, errors."""

import numpy as np
import pytest
from scipy.special import softmax

from rrnn_net import GenerativeRNN
from rrnn_net.datasets import class_sequences
from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.learning import fit_bank
from rrnn_net.learning.bank import SCALE_BOUNDS

pytest.importorskip("jax")


@pytest.fixture(scope="module")
def data():
    models = [GenerativeRNN.oscillator(3, 2, seed=seed, frequency=f) for seed, f in ((0, 5.0), (1, 8.0))]
    X, y = class_sequences(models, 16, 60, seed=0)
    labels = np.array(["slow", "fast"])[y]
    sequences = np.swapaxes(X, 1, 2)
    return models, sequences[::2], labels[::2], sequences[1::2], labels[1::2]


@pytest.fixture(scope="module")
def bank(data):
    _, train, labels, _, _ = data
    return fit_bank(train, labels, 3, sample_interval=0.005, tau=0.02, evidence_steps=60, conditional_steps=30,
                    init_epochs=30, filter="ekf", seed=0, progress=False)


def bank_accuracy(bank, sequences, labels) -> float:
    from rrnn_net import UKF

    totals = np.stack([UKF(model).filter(sequences, mean0=m0, cov0=c0).total_loglik
                       for model, m0, c0 in zip(bank.models, bank.mean0, bank.cov0, strict=True)], axis=-1)
    return float(np.mean(bank.classes[totals.argmax(axis=-1)] == labels))


def test_conditional_bank_recognises_held_out_sequences(bank, data):
    _, _, _, test, test_labels = data
    assert list(bank.classes) == ["fast", "slow"] and len(bank.models) == 2
    assert bank_accuracy(bank, test, test_labels) >= 0.9
    assert SCALE_BOUNDS[0] <= bank.evidence_scale <= SCALE_BOUNDS[1]
    assert set(bank.curves) == {"evidence", "conditional"}
    conditional = bank.curves["conditional"]
    assert conditional.validation_score.max() >= conditional.validation_score[0]
    assert bank.mean0.shape == (2, 3) and bank.cov0.shape == (2, 3, 3)


def test_the_kept_scale_and_score_are_those_of_the_validation_split(bank, data):
    from rrnn_net import EKF
    from rrnn_net.learning.bank import fitted_calibration

    _, train, labels, _, _ = data
    held = train[bank.validation_index]
    values = np.stack([EKF(model).filter(held, mean0=m0, cov0=c0).loglik
                       for model, m0, c0 in zip(bank.models, bank.mean0, bank.cov0, strict=True)])
    codes = np.searchsorted(bank.classes, labels[bank.validation_index])
    sampled = np.ones(held.shape[:2], dtype=bool)
    score, _, _ = fitted_calibration(values, codes, sampled)
    assert bank.validation_score == pytest.approx(score, rel=1e-8)
    # the kept (β, ε) is where that score is reached (the optimum is flat: the searches may end apart)
    posterior = softmax(bank.evidence_scale * np.cumsum(values, axis=-1), axis=0)[codes, np.arange(codes.size)]
    at_kept = np.log((1 - bank.contamination) * posterior + bank.contamination / 2).mean()
    assert at_kept == pytest.approx(score, abs=1e-6)


def test_validation_split_is_stratified_and_held_out(bank, data):
    _, _, labels, _, _ = data
    held = labels[bank.validation_index]
    assert sorted(held) == ["fast", "fast", "slow", "slow"], "round(0.25 * 8) = 2 of each class"


def test_tied_dynamics_are_shared(data):
    _, train, labels, _, _ = data
    # Maximum likelihood only: tying acts the same in both stages, and one objective compiles faster.
    tied = fit_bank(train, labels, 3, sample_interval=0.005, tau=0.02, tying="dynamics", objective="evidence",
                    calibrate=False, evidence_steps=10, init_epochs=10, window=25, batch_size=6, filter="ekf", seed=1,
                    progress=False)
    first, second = tied.models
    for name in ("W", "M", "c", "Q", "R"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)
    assert not np.array_equal(first.b, second.b), "the class-specific bias is what distinguishes the classes"


def test_evidence_objective_skips_the_conditional_stage_and_calibration_can_be_off(data):
    _, train, labels, _, _ = data
    generative = fit_bank(train, labels, 3, sample_interval=0.005, tau=0.02, objective="evidence", calibrate=False,
                          evidence_steps=10, init_epochs=10, filter="ekf", seed=0, progress=False)
    assert set(generative.curves) == {"evidence"} and generative.evidence_scale == 1.0


def test_fit_bank_rejects_bad_input(data):
    _, train, labels, _, _ = data
    with pytest.raises(ParameterError, match="two classes"):
        fit_bank(train, np.zeros(len(labels)), 3, sample_interval=0.005)
    with pytest.raises(ShapeError, match="labels"):
        fit_bank(train, labels[:-1], 3, sample_interval=0.005)
    with pytest.raises(ParameterError, match="objective"):
        fit_bank(train, labels, 3, sample_interval=0.005, objective="adversarial")
    with pytest.raises(ParameterError, match="tying"):
        fit_bank(train, labels, 3, sample_interval=0.005, tying="weights")
    with pytest.raises(ParameterError, match="evidence_weight"):
        fit_bank(train, labels, 3, sample_interval=0.005, evidence_weight=-1.0)
    with pytest.raises(ParameterError, match="initial_models"):
        fit_bank(train, labels, 3, sample_interval=0.005, initial_models=[GenerativeRNN.oscillator(3, 2)] * 3)
    with pytest.raises(ParameterError, match="Euler step"):
        fit_bank(train, labels, 3, sample_interval=0.005, tau=0.001)
    with pytest.raises(ParameterError, match="restart must be an integer >= 0"):
        fit_bank(train, labels, 3, sample_interval=0.005, restart=-1)
    for bad in (-0.1, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(ParameterError, match="weight_decay must be a finite number >= 0"):
            fit_bank(train, labels, 3, sample_interval=0.005, weight_decay=bad)
    for bad in ("no", 0, None):
        with pytest.raises(ParameterError, match="early_stopping must be True or False"):
            fit_bank(train, labels, 3, sample_interval=0.005, early_stopping=bad)


def test_without_early_stopping_each_stage_keeps_its_last_step(data):
    # Large steps overshoot, so that this seed's validation split prefers an earlier conditional step.
    _, train, labels, _, _ = data
    settings = dict(sample_interval=0.005, tau=0.02, evidence_steps=30, conditional_steps=20, init_epochs=5,
                    learning_rate=0.2, filter="ekf", seed=1, progress=False)
    stopped, last = (fit_bank(train, labels, 3, **settings, early_stopping=flag) for flag in (True, False))
    assert stopped.early_stopping and not last.early_stopping
    assert stopped.curves["conditional"].best_step < 20
    np.testing.assert_array_equal(last.validation_index, stopped.validation_index)
    for name, steps in (("evidence", 30), ("conditional", 20)):
        assert last.curves[name].best_step == steps and last.curves[name].checked_steps[-1] == steps
        assert last.curves[name].validation_score.size == stopped.curves[name].validation_score.size
    # The same start and windows: the same steps either way; only what each stage keeps differs
    np.testing.assert_allclose(last.curves["evidence"].objective, stopped.curves["evidence"].objective)
    assert not np.allclose(last.models[0].W, stopped.models[0].W)
    assert SCALE_BOUNDS[0] <= last.evidence_scale <= SCALE_BOUNDS[1] and np.isfinite(last.validation_score)


def test_a_restart_starts_elsewhere_on_the_same_validation_split(data):
    _, train, labels, _, _ = data
    settings = dict(sample_interval=0.005, tau=0.02, objective="evidence", evidence_steps=5, init_epochs=5,
                    filter="ekf", seed=2, progress=False)
    first, again, restarted = (fit_bank(train, labels, 3, **settings, **extra)
                               for extra in ({}, {"restart": 0}, {"restart": 1}))
    np.testing.assert_array_equal(again.validation_index, first.validation_index)
    np.testing.assert_array_equal(restarted.validation_index, first.validation_index)
    np.testing.assert_array_equal(again.models[0].W, first.models[0].W)  # restart 0 is the plain fit
    assert not np.allclose(restarted.models[0].W, first.models[0].W)


@pytest.mark.parametrize("tying", ["noise", "dynamics"])
def test_weight_decay_subtracts_the_mean_squared_norm_of_w_from_both_objectives(data, tying):
    import jax.numpy as jnp

    from rrnn_net.learning._jax import float64
    from rrnn_net.learning.bank import _conditional_objective, _Context, _evidence_objective
    from rrnn_net.learning.evidence import EvidenceSpec
    from rrnn_net.learning.parameters import initial_raw

    models, train, _, _, _ = data
    plain = _Context(spec=EvidenceSpec(sample_interval=0.005, filter="ekf"), n_models=2, step=0.005, tau=0.02,
                     evidence_weight=0.1, weight_decay=0.0)
    decayed = _Context(**{**plain.__dict__, "weight_decay": 0.3})
    with float64():
        raw = initial_raw(models, np.zeros((2, 3)), np.full((2, 3), 0.5), tying=tying, learn_tau=False)
        windows, codes = jnp.asarray(train[:4, :20]), jnp.asarray([0, 1, 0, 1])
        values = {}
        for name, context in (("plain", plain), ("decayed", decayed)):
            values[name] = [float(objective(raw, {}, windows, codes, context=context))
                            for objective in (_evidence_objective, _conditional_objective)]
    W = np.asarray(raw["W"])
    expected = 0.3 * (np.sum(W ** 2) / 2 if W.ndim == 3 else np.sum(W ** 2))  # the mean over the class models
    assert expected > 0
    np.testing.assert_allclose(np.subtract(values["plain"], values["decayed"]), expected, rtol=1e-10)


def test_weight_decay_shrinks_the_learned_recurrent_weights(data):
    _, train, labels, _, _ = data
    settings = dict(sample_interval=0.005, tau=0.02, objective="evidence", calibrate=False, evidence_steps=20,
                    init_epochs=5, filter="ekf", seed=0, progress=False)
    free, decayed = (fit_bank(train, labels, 3, weight_decay=decay, **settings) for decay in (0.0, 1.0))
    for model, shrunk in zip(free.models, decayed.models, strict=True):
        assert np.sum(shrunk.W ** 2) < 0.9 * np.sum(model.W ** 2)
