"""Conventional-RNN baselines: open-loop decoder, input-driven (reservoir) RNN, reservoir classifier."""

import numpy as np
import pytest
from scipy import stats

from rrnn_net import UKF, GenerativeRNN, NotFittedError
from rrnn_net.baseline import InputDrivenRNN, OpenLoopDecoder, ReservoirClassifier, hold_missing, open_loop
from rrnn_net.errors import NonFiniteError, ParameterError, ShapeError, UnstableSettingError


@pytest.fixture(scope="module")
def model():
    return GenerativeRNN.oscillator(4, 2, seed=0, observation_noise=0.02)


def test_open_loop_is_the_models_free_run(model):
    x0 = np.array([0.5, -0.2, 0.1, 0.3])
    states, y = open_loop(model, x0, 30)
    np.testing.assert_array_equal(states, model.run_open_loop(x0, 30))
    np.testing.assert_allclose(y, model.observe(states))


def test_open_loop_decoder_result_and_likelihood(model):
    _, y = model.simulate(25, batch=3, seed=1)
    y[1, 4, 0] = np.nan
    y[2, 6] = np.nan
    x0 = np.random.default_rng(0).standard_normal((3, 4))
    result = OpenLoopDecoder(model).filter(y, mean0=x0)
    states = model.run_open_loop(x0, 25)
    np.testing.assert_allclose(result.mean, states)
    np.testing.assert_allclose(result.predicted_state, states)
    np.testing.assert_allclose(result.predicted_obs, model.observe(states))
    assert np.isnan(result.prediction_error[1, 4, 0]) and not np.isnan(result.prediction_error[1, 4, 1])
    error = y[0, 3] - model.observe(states[0, 3])
    assert result.loglik[0, 3] == pytest.approx(stats.multivariate_normal(np.zeros(2), model.R).logpdf(error))
    partial = stats.norm(0, np.sqrt(model.R[1, 1])).logpdf(y[1, 4, 1] - model.observe(states[1, 4])[1])
    assert result.loglik[1, 4] == pytest.approx(partial)
    assert result.loglik[2, 6] == 0.0
    single = OpenLoopDecoder(model).filter(y[0], mean0=x0[0])
    np.testing.assert_allclose(single.loglik, result.loglik[0])


def test_ukf_beats_the_open_loop_baseline(model):
    _, y = model.simulate(100, batch=10, seed=3)
    ukf = UKF(model).filter(y)
    free = OpenLoopDecoder(model).filter(y)
    assert np.mean(ukf.prediction_error**2) < 0.5 * np.mean(free.prediction_error**2)
    assert ukf.total_loglik.sum() > free.total_loglik.sum()


def test_input_driven_rnn_follows_the_spec_equations():
    rng = np.random.default_rng(0)
    rnn = InputDrivenRNN(W=rng.standard_normal((3, 3)), U=rng.standard_normal((3, 2)), C=rng.standard_normal((1, 3)),
                         b=rng.standard_normal(3), d=[0.5], tau=0.05, sample_interval=0.02, substeps=4, x0=[0.1, 0.0,
                                                                                                            -0.1])
    u = rng.standard_normal((2, 6, 2))
    states, outputs = rnn.run(u)
    h = rnn.sample_interval / rnn.substeps
    x = np.broadcast_to(rnn.x0, (2, 3)).copy()
    for k in range(6):
        for _ in range(4):  # the sample u_k held over the whole interval
            x = x + h * (-x + np.tanh(x) @ rnn.W.T + u[:, k] @ rnn.U.T + rnn.b) / rnn.tau
        np.testing.assert_allclose(states[:, k], x, atol=1e-12)
        np.testing.assert_allclose(outputs[:, k], np.tanh(x) @ rnn.C.T + rnn.d, atol=1e-12)
    np.testing.assert_allclose(rnn.run(u[1])[1], outputs[1])
    for name in ("W", "U", "C", "b", "d", "tau", "sample_interval", "substeps", "x0", "activation"):
        assert hasattr(rnn, name)


def test_missing_inputs_hold_the_last_value():
    u = np.array([[[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [4.0, 5.0]]])
    np.testing.assert_array_equal(hold_missing(u)[0], [[0, 1], [2, 1], [2, 1], [4, 5]])
    rnn = InputDrivenRNN.reservoir(2, 5, 1, tau=0.05, sample_interval=0.01, seed=0)
    np.testing.assert_allclose(rnn.run(u)[0], rnn.run(hold_missing(u))[0])


def test_ridge_readout_recovers_a_known_readout():
    reservoir = InputDrivenRNN.reservoir(2, 12, 2, tau=0.05, sample_interval=0.01, seed=1)
    u = np.random.default_rng(2).standard_normal((5, 80, 2))
    C, d = np.random.default_rng(3).standard_normal((2, 12)), np.array([0.3, -1.0])
    targets = np.tanh(reservoir.run(u)[0]) @ C.T + d
    fitted = reservoir.fit_readout(u, targets, ridge=1e-12)
    np.testing.assert_allclose(fitted.C, C, atol=1e-5)
    np.testing.assert_allclose(fitted.d, d, atol=1e-5)
    assert not np.shares_memory(fitted.C, reservoir.C) and np.all(reservoir.C == 0)


def test_reservoir_decodes_generative_hidden_states(model):
    states, y = model.simulate(300, batch=12, seed=4)
    reservoir = InputDrivenRNN.reservoir(2, 150, 4, tau=model.sample_interval * 2,
                                         sample_interval=model.sample_interval, input_scale=2.0, seed=0)
    decoder = reservoir.fit_readout(y[:8], states[:8], ridge=1e-4, washout=50)
    decoded = decoder.predict(y[8:])[:, 50:]
    truth = states[8:, 50:]
    r2 = 1 - np.mean((decoded - truth) ** 2) / np.var(truth)
    assert r2 > 0.9
    targets = states[:8].copy()
    targets[:, 60:70] = np.nan  # incomplete targets are skipped, not fatal
    assert np.all(np.isfinite(reservoir.fit_readout(y[:8], targets, washout=50).C))


def test_reservoir_classifier_probabilities():
    rng = np.random.default_rng(0)
    t = np.arange(40) * 0.01
    signals = {"slow": np.sin(2 * np.pi * 2 * t), "fast": np.sin(2 * np.pi * 8 * t)}
    labels = np.repeat(["slow", "fast"], 12)
    X = np.stack([np.stack([signals[name], signals[name] ** 2]) for name in labels])  # (24, 2 channels, 40)
    X = X + 0.2 * rng.standard_normal(X.shape)
    clf = ReservoirClassifier(60, tau=0.02, sample_interval=0.01, washout=10, seed=0).fit(X[::2], labels[::2])
    instantaneous = clf.predict_proba_online(X[1::2], accumulate=False)
    assert instantaneous.shape == (12, 40, 2)
    np.testing.assert_allclose(instantaneous.sum(-1), 1.0)
    assert set(clf.classes_) == {"fast", "slow"}
    assert clf.score(X[1::2], labels[1::2]) >= 0.9
    X_missing = X[1::2].copy()
    X_missing[:, :, 15:20] = np.nan
    assert np.all(np.isfinite(clf.predict_proba(X_missing)))
    accumulated = clf.predict_proba_online(X[1::2])
    log_expected = np.cumsum(np.log(instantaneous), axis=1)
    log_expected -= log_expected.max(-1, keepdims=True)  # normalised in the log domain: products underflow
    expected = np.exp(log_expected)
    np.testing.assert_allclose(accumulated, expected / expected.sum(-1, keepdims=True), rtol=1e-10, atol=1e-150)
    np.testing.assert_array_equal(clf.predict_proba(X[1::2]), accumulated[:, -1])


def test_reservoir_evidence_stops_at_the_end_of_a_shorter_sequence():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 1, 30)) + np.repeat([0.0, 1.0], 5)[:, None, None]
    clf = ReservoirClassifier(20, sample_interval=0.01, seed=0).fit(X, np.repeat([0, 1], 5))
    short = X[0, :, :12]
    padded = clf.predict_proba([short, X[1]])
    np.testing.assert_allclose(padded[0], clf.predict_proba(short[None])[0], rtol=1e-12)


def test_a_failed_reservoir_refit_leaves_the_fitted_classifier_as_it_was():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 1, 30)) + np.repeat([0.0, 1.0], 5)[:, None, None]
    clf = ReservoirClassifier(20, sample_interval=0.01, seed=0).fit(X, np.repeat([0, 1], 5))
    proba = clf.predict_proba(X)
    with pytest.raises(ParameterError, match="at least two classes"):
        clf.fit(X, np.full(10, 7))  # classes_ was once set to [7] before this check
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_baselines_reject_bad_input(model):
    with pytest.raises(ShapeError):
        OpenLoopDecoder(model).filter(np.zeros((5, 3)))
    with pytest.raises(ShapeError):
        OpenLoopDecoder(model).filter(np.zeros((5, 2)), mean0=np.zeros(3))
    with pytest.raises(UnstableSettingError):
        InputDrivenRNN.reservoir(1, 3, 1, tau=0.01, sample_interval=0.05)
    rnn = InputDrivenRNN.reservoir(2, 3, 1, tau=0.05, sample_interval=0.01, seed=0)
    with pytest.raises(ShapeError):
        rnn.run(np.zeros((4, 5, 3)))
    with pytest.raises(NonFiniteError):
        rnn.run(np.full((4, 2), np.inf))
    with pytest.raises(ShapeError):
        rnn.fit_readout(np.zeros((2, 5, 2)), np.zeros((2, 4, 1)))
    with pytest.raises(ShapeError):
        InputDrivenRNN(W=np.eye(3), U=np.ones((2, 1)), C=np.ones((1, 3)))
    with pytest.raises(ParameterError, match="at least two classes"):
        ReservoirClassifier(10, tau=0.05, sample_interval=0.01).fit(np.zeros((4, 1, 5)), ["a"] * 4)
    with pytest.raises(NotFittedError):
        ReservoirClassifier(10, tau=0.05, sample_interval=0.01).predict_proba(np.zeros((4, 1, 5)))
