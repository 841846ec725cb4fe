"""Fitting GenerativeRNNs to data: exact gradients, the model's own discretisation, decoding quality."""

import numpy as np
import pytest

from rrnn_net import UKF, GenerativeRNN
from rrnn_net.errors import ParameterError, ShapeError, UnstableSettingError
from rrnn_net.learning import GenerativeRNNFitter, fit_generative_rnn
from rrnn_net.teacher.leaky_bptt import leaky_loss_and_gradients, leaky_rollout


def test_rollout_is_the_generative_models_own_euler_discretisation():
    model = GenerativeRNN.oscillator(5, 2, seed=0, substeps=3)
    x0 = np.random.default_rng(0).standard_normal((4, 5))
    params = {"W": np.array(model.W), "b": np.array(model.b)}
    states = leaky_rollout(params, x0, 20, model.step / model.tau, model.substeps)[::model.substeps][1:]
    np.testing.assert_allclose(np.swapaxes(states, 0, 1), model.run_open_loop(x0, 20), atol=1e-12)


@pytest.mark.parametrize("substeps", [1, 2])
def test_leaky_gradients_equal_central_differences(substeps):
    rng = np.random.default_rng(substeps)
    n, m = 4, 3
    params = {"W": 1.2 * rng.standard_normal((n, n)), "b": 0.3 * rng.standard_normal(n),
              "M": rng.standard_normal((m, n)), "c": rng.standard_normal(m)}
    initial_states = rng.standard_normal((5, n))
    targets = rng.standard_normal((12, 5, m))
    targets[rng.random(targets.shape) < 0.2] = np.nan  # missing samples drop out of the loss
    leak = 0.3

    def loss():
        return leaky_loss_and_gradients(params, initial_states, targets, leak=leak, substeps=substeps)[0]

    _, grads, state_grad, _ = leaky_loss_and_gradients(params, initial_states, targets, leak=leak,
                                                       substeps=substeps)
    everything = params | {"initial_states": initial_states}
    grads = grads | {"initial_states": state_grad}
    for name, value in everything.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + 1e-6
            plus = loss()
            value[index] = original - 1e-6
            minus = loss()
            value[index] = original
            numeric[index] = (plus - minus) / 2e-6
        assert np.linalg.norm(grads[name] - numeric) / np.linalg.norm(numeric) < 1e-7, name


@pytest.fixture(scope="module")
def fitted():
    truth = GenerativeRNN.oscillator(4, 2, seed=0)
    _, train = truth.simulate(200, batch=40, seed=1)
    train[:, 50:60, 1] = np.nan  # a gap in one channel
    fitter = GenerativeRNNFitter(4, sample_interval=truth.sample_interval, tau=truth.tau, seed=0,
                                 progress=False).fit(train)
    return truth, fitter


def test_fitted_model_decodes_held_out_data_near_the_noise_floor(fitted):
    truth, fitter = fitted
    model = fitter.model_
    assert isinstance(model, GenerativeRNN) and model.n_hidden == 4 and model.activation == "tanh"
    assert (model.tau, model.sample_interval, model.substeps) == (truth.tau, truth.sample_interval, truth.substeps)
    _, test = truth.simulate(200, batch=20, seed=2)
    true_error = np.mean(UKF(truth).filter(test).prediction_error[:, 20:] ** 2)
    fitted_error = np.mean(UKF(model).filter(test).prediction_error[:, 20:] ** 2)
    noise_floor = np.trace(truth.R) / truth.n_obs
    assert true_error < 1.1 * noise_floor
    assert fitted_error < 1.25 * true_error, (fitted_error, true_error)
    np.testing.assert_allclose(np.diag(model.R), np.diag(truth.R), rtol=0.3)  # R from the residuals
    assert fitter.loss_history_[-1] < 0.1 * fitter.loss_history_[0]


def test_fit_handles_missing_data_and_returns_a_valid_model():
    truth = GenerativeRNN.oscillator(3, 2, seed=1)
    _, y = truth.simulate(40, batch=6, seed=0)
    y[np.random.default_rng(0).random(y.shape) < 0.1] = np.nan
    model = fit_generative_rnn(y, 3, sample_interval=truth.sample_interval, tau=truth.tau, horizons=(4, 8),
                               epochs_per_stage=20,
                               seed=0, progress=False)
    result = UKF(model).filter(y)
    assert np.all(np.isfinite(result.mean))
    assert np.all(np.linalg.eigvalsh(model.Q) > 0) and np.all(np.diag(model.R) > 0)


def test_fit_rejects_bad_input():
    y = np.zeros((3, 20, 2))
    with pytest.raises(UnstableSettingError):
        fit_generative_rnn(y, 3, sample_interval=0.1, tau=0.01)
    all_missing = np.random.default_rng(0).standard_normal((3, 20, 2))
    all_missing[..., 1] = np.nan
    with pytest.raises(ParameterError):
        fit_generative_rnn(all_missing, 3, sample_interval=0.01, tau=0.05)
    with pytest.raises(ParameterError):
        fit_generative_rnn(np.ones((3, 20, 2)), 0, sample_interval=0.01, tau=0.05)
    with pytest.raises(ParameterError):
        fit_generative_rnn(np.ones((3, 20, 2)), 3, sample_interval=0.01, tau=0.05, horizons=())
    with pytest.raises(ParameterError):
        fit_generative_rnn(np.ones((3, 20, 2)), 3, sample_interval=0.01, tau=0.05, momentum=0.9)
    with pytest.raises(ShapeError):
        fit_generative_rnn(np.ones((3, 1, 2)), 3, sample_interval=0.01, tau=0.05)


def test_the_old_teacher_name_warns_and_gives_the_moved_function():
    import rrnn_net.teacher

    with pytest.warns(DeprecationWarning, match=r"rrnn_net\.learning\.fit_generative_rnn"):
        assert rrnn_net.teacher.fit_generative_rnn is fit_generative_rnn
