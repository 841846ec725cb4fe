"""Maximum-likelihood learning of a GenerativeRNN: recovery of a known model, units, what is learned."""

import numpy as np
import pytest

from rrnn_net import UKF, GenerativeRNN
from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.learning import fit_evidence, fit_generative_rnn

pytest.importorskip("jax")


def nats_per_value(model, y, mean0=None, cov0=None) -> float:
    return float(UKF(model).filter(y, mean0=mean0, cov0=cov0).total_loglik.sum() / y.size)


def test_learning_reaches_the_true_models_held_out_evidence_and_noise():
    truth = GenerativeRNN.oscillator(3, 3, seed=0, observation_noise=0.02)
    _, train = truth.simulate(150, batch=24, seed=1)
    _, test = truth.simulate(150, batch=24, seed=2)
    start = fit_generative_rnn(train, 3, sample_interval=truth.sample_interval, tau=truth.tau, epochs_per_stage=100,
                               seed=0, progress=False)
    fit = fit_evidence(train, 3, sample_interval=truth.sample_interval, tau=truth.tau, steps=150, learning_rate=0.02,
                       seed=0, progress=False)
    learned, true, started = (nats_per_value(fit.model, test, fit.mean0, fit.cov0), nats_per_value(truth, test),
                              nats_per_value(start, test))
    # Held out: within 0.01 nats per value of the true model, closing >= 80 % of the multi-step start's gap.
    assert learned > true - 0.01, (learned, true)
    assert learned - started > 0.8 * (true - started), (learned, started, true)
    np.testing.assert_allclose(np.diag(fit.model.R), np.diag(truth.R), rtol=0.25)
    assert fit.curve.best_step > 0 and fit.validation_index.size == 5  # 20 % of 24 sequences


def test_noise_of_a_known_model_is_recovered():
    # Process noise per sample (Q·Δ = 0.02) comparable to the observation noise, so both are identifiable.
    truth = GenerativeRNN.random(3, 3, seed=0, spectral_radius=1.1, process_noise=2.0, observation_noise=0.01)
    _, y = truth.simulate(150, batch=32, seed=1)
    start = truth.replace(Q=3 * truth.Q, R=0.3 * truth.R)
    fit = fit_evidence(y, start, steps=120, learning_rate=0.03, learn=("noise", "prior"), seed=0, progress=False)
    np.testing.assert_allclose(np.diag(fit.model.Q), np.diag(truth.Q), rtol=0.25)
    np.testing.assert_allclose(np.diag(fit.model.R), np.diag(truth.R), rtol=0.25)
    for name in ("W", "b", "M", "c"):  # not learned: unchanged (up to the round trip through standard units)
        np.testing.assert_allclose(getattr(fit.model, name), getattr(start, name), rtol=1e-12, atol=1e-15,
                                   err_msg=name)


def test_learning_works_in_the_units_of_the_data():
    """Rescaling the recordings rescales M, c and R and nothing else; the kept step is the same."""
    truth = GenerativeRNN.oscillator(2, 2, seed=3)
    _, y = truth.simulate(60, batch=8, seed=0)
    y[0, 10:20, 1] = np.nan
    scale, shift = np.array([10.0, 0.5]), np.array([5.0, -1.0])
    plain = fit_evidence(y, truth, steps=10, filter="ekf", seed=0, progress=False)
    scaled = fit_evidence(y * scale + shift, truth.replace(M=scale[:, None] * truth.M, c=scale * truth.c + shift,
                                                           R=np.outer(scale, scale) * truth.R),
                          steps=10, filter="ekf", seed=0, progress=False)
    np.testing.assert_allclose(scaled.model.M, scale[:, None] * plain.model.M, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(scaled.model.R, np.outer(scale, scale) * plain.model.R, rtol=1e-6)
    np.testing.assert_allclose(scaled.model.W, plain.model.W, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(scaled.mean0, plain.mean0, rtol=1e-6, atol=1e-9)
    assert scaled.curve.best_step == plain.curve.best_step


def test_fit_evidence_rejects_bad_input():
    model = GenerativeRNN.oscillator(2, 2, seed=0)
    y = np.zeros((4, 20, 2))
    with pytest.raises(ParameterError, match="sample_interval is required"):
        fit_evidence(y, 2)
    with pytest.raises(ShapeError, match="channels"):
        fit_evidence(np.zeros((4, 20, 3)), model)
    with pytest.raises(ParameterError, match="learn"):
        fit_evidence(y, model, learn=("everything",))
    with pytest.raises(ParameterError, match="validation_fraction"):
        fit_evidence(y, model, validation_fraction=1.5)
    with pytest.raises(ParameterError, match="filter"):
        fit_evidence(y, model, filter="particle")
    with pytest.raises(ShapeError, match="mean0"):
        fit_evidence(y, model, mean0=np.zeros(3))
    with pytest.raises(ParameterError, match="every sequence"):
        fit_evidence(np.full((4, 20, 2), np.nan), model)


def test_fit_evidence_refuses_what_it_would_otherwise_change_or_misread():
    from rrnn_net.errors import ModelTypeError, UnstableSettingError

    model = GenerativeRNN.oscillator(2, 2, seed=0)
    y = np.zeros((4, 20, 2))
    # A 2-D array is one recording to the decoders and univariate sequences to the classifiers: no guessing.
    for fit in (lambda: fit_evidence(y[0], model), lambda: fit_generative_rnn(y[0], 2, sample_interval=0.005,
                                                                               tau=0.01)):
        with pytest.raises(ShapeError, match=r"must have shape \(B, T, m\), got \(20, 2\): pass one recording "
                                             r"\(T, m\) as y\[None\], or B single-channel sequences"):
            fit()
    with pytest.raises(ModelTypeError, match="model must be a GenerativeRNN to start from or a number of hidden "
                                             "units, got str"):
        fit_evidence(y, "abc", sample_interval=0.005)
    # Learning holds diagonal Q and R; a full one would come back cut, even with the noise frozen.
    full_R = model.replace(R=np.array([[0.02, 0.008], [0.008, 0.02]]))
    with pytest.raises(ParameterError, match=r"an initial model's R is not: start from its diagonal"):
        fit_evidence(y, full_R, learn=("dynamics",))
    # τ = h (1 + e^z) cannot represent τ ≤ h: the start would move by itself.
    short = GenerativeRNN.oscillator(2, 2, seed=0, tau=0.004, sample_interval=0.005)
    with pytest.raises(UnstableSettingError, match=r"the start τ = 0.004 s is not"):
        fit_evidence(y, short, learn=("noise",), learn_tau=True)
