"""The RTS smoothers equal Gaussian conditioning of the whole trajectory on linear-Gaussian models."""

import numpy as np
import pytest

from rrnn_net import EKF, UKF, GenerativeRNN

SMOOTHERS = {
    "ukf-additive": lambda model: UKF(model),
    "ukf-augmented": lambda model: UKF(model, variant="augmented"),
    "ekf": lambda model: EKF(model),
}


def conditioned_trajectory(model: GenerativeRNN, y: np.ndarray, mean0: np.ndarray, cov0: np.ndarray):
    """Posterior of the stacked states [x_0, x_1, .., x_T] given y (T, m) by one Gaussian conditioning.

    Written without any recursion over the data: the joint prior of all states
    of the Euler-discretised linear model (one substep) is built explicitly,
    the observed entries of y are stacked, and the posterior is the textbook
    conditional of a joint Gaussian. Returns the posterior mean (T+1, N) and
    covariance ((T+1)N, (T+1)N).
    """
    n, n_steps = model.n_hidden, y.shape[0]
    A = np.eye(n) + model.sample_interval * (model.W - np.eye(n)) / model.tau
    offset = model.sample_interval * model.b / model.tau
    means = [mean0]
    for _ in range(n_steps):
        means.append(A @ means[-1] + offset)
    marginal = [cov0]
    for _ in range(n_steps):
        marginal.append(A @ marginal[-1] @ A.T + model.Q * model.sample_interval)
    size = (n_steps + 1) * n
    joint = np.zeros((size, size))
    for i in range(n_steps + 1):
        for j in range(i + 1):
            block = np.linalg.matrix_power(A, i - j) @ marginal[j]  # Cov(x_i, x_j), i >= j
            joint[i * n:(i + 1) * n, j * n:(j + 1) * n] = block
            joint[j * n:(j + 1) * n, i * n:(i + 1) * n] = block.T
    rows, values, predicted, noise = [], [], [], []
    for k in range(n_steps):
        for channel in np.flatnonzero(~np.isnan(y[k])):
            row = np.zeros(size)
            row[(k + 1) * n:(k + 2) * n] = model.M[channel]
            rows.append(row)
            values.append(y[k, channel])
            predicted.append(model.M[channel] @ means[k + 1] + model.c[channel])
            noise.append((k, channel))
    H = np.array(rows)
    R = np.array([[model.R[a[1], b[1]] if a[0] == b[0] else 0.0 for b in noise] for a in noise])
    S = H @ joint @ H.T + R
    gain = np.linalg.solve(S, H @ joint).T
    posterior_mean = np.concatenate(means) + gain @ (np.array(values) - np.array(predicted))
    posterior_cov = joint - gain @ S @ gain.T
    return posterior_mean.reshape(n_steps + 1, n), posterior_cov


@pytest.fixture
def prior(linear_model):
    rng = np.random.default_rng(4)
    spread = rng.standard_normal((linear_model.n_hidden,) * 2)
    return rng.standard_normal(linear_model.n_hidden), spread @ spread.T + 0.3 * np.eye(linear_model.n_hidden)


@pytest.mark.parametrize("smoother", SMOOTHERS)
def test_smoother_equals_conditioning_the_whole_trajectory(linear_model, prior, smoother):
    _, y = linear_model.simulate(25, batch=2, seed=3)
    y[0, 5:9, 1] = np.nan  # a gap in one channel
    y[1, 12] = np.nan  # an all-missing sample: a pure prediction step
    result = SMOOTHERS[smoother](linear_model).smooth(y, mean0=prior[0], cov0=prior[1])
    n = linear_model.n_hidden
    for trial in range(2):
        mean, cov = conditioned_trajectory(linear_model, y[trial], *prior)
        def block(i: int, j: int, cov=cov) -> np.ndarray:
            return cov[i * n:(i + 1) * n, j * n:(j + 1) * n]

        np.testing.assert_allclose(result.initial_mean[trial], mean[0], atol=1e-9)
        np.testing.assert_allclose(result.initial_cov[trial], block(0, 0), atol=1e-9)
        np.testing.assert_allclose(result.mean[trial], mean[1:], atol=1e-9)
        for k in range(25):
            np.testing.assert_allclose(result.cov[trial, k], block(k + 1, k + 1), atol=1e-9)
            np.testing.assert_allclose(result.lag_one_cov[trial, k], block(k, k + 1), atol=1e-9)


def test_last_smoothed_state_is_the_filtered_one_and_unbatched_input_works(tanh_model):
    _, y = tanh_model.simulate(40, seed=2)
    result = UKF(tanh_model).smooth(y[0])
    assert result.mean.shape == (40, 6) and result.cov.shape == (40, 6, 6) and result.initial_mean.shape == (6,)
    np.testing.assert_array_equal(result.mean[-1], result.filtered.mean[-1])
    np.testing.assert_array_equal(result.filtered.loglik, UKF(tanh_model).filter(y[0]).loglik)


def test_smoothing_reduces_the_state_error_on_a_tanh_rnn(tanh_model):
    """After the initial transient (where the prior N(0, I) reaches deep into tanh saturation and the
    unscented approximation is poor for both passes) and inside a gap, the smoother beats the filter."""
    states, y = tanh_model.simulate(200, batch=8, seed=5)
    y[:, 80:110] = np.nan  # a long gap: the filter must predict, the smoother interpolates
    for decoder in (UKF(tanh_model), UKF(tanh_model, variant="augmented"), EKF(tanh_model)):
        result = decoder.smooth(y)
        for window in (slice(30, None), slice(80, 110)):
            filtered = np.mean((result.filtered.mean[:, window] - states[:, window]) ** 2)
            smoothed = np.mean((result.mean[:, window] - states[:, window]) ** 2)
            assert smoothed < 0.8 * filtered, (repr(decoder), window, smoothed, filtered)
        assert np.all(np.linalg.eigvalsh(result.cov) > 0)
