import numpy as np
import pytest
import scipy.linalg

from rrnn_net import ContinuousFilter, GenerativeRNN, UnstableSettingError
from rrnn_net.filters import ContinuousRHS


def test_covariance_converges_to_continuous_riccati_solution(linear_model):
    """P settles where dP/dt = 0: the continuous algebraic Riccati equation with R_c = R Δ."""
    model = linear_model.replace(substeps=10, R=20 * linear_model.R)
    _, y = model.simulate(600, seed=0)
    result = ContinuousFilter(model).filter(y[0], cov0=0.1 * np.eye(4), record="covariance")
    drift = (-np.eye(4) + model.W) / model.tau
    riccati = scipy.linalg.solve_continuous_are(drift.T, model.M.T, model.Q, model.R * model.sample_interval)
    np.testing.assert_allclose(result.cov[-1], riccati, rtol=1e-8, atol=1e-12)
    assert result.n_psd_repairs == 0


def test_euler_step_matches_hand_written_equations(tanh_model):
    """One Euler step of the filter against the design equations written out per unit."""
    model = tanh_model.replace(substeps=4, R=0.2 * np.eye(3))
    rng = np.random.default_rng(1)
    mean0 = rng.standard_normal(6)
    cov0 = np.eye(6) * 0.05
    y = rng.standard_normal((1, 3))
    result = ContinuousFilter(model).filter(y, mean0=mean0, cov0=cov0, record="covariance")

    dt = model.step
    mu, P = mean0.copy(), cov0.copy()
    R_c = model.R * model.sample_interval
    for _ in range(4):
        D = np.diag(1 - np.tanh(mu) ** 2)
        error = y[0] - model.M @ np.tanh(mu) - model.c
        G = model.M @ D
        F = (-np.eye(6) + model.W @ D) / model.tau
        d_mu = (-mu + model.W @ np.tanh(mu) + model.b) / model.tau + P @ G.T @ np.linalg.solve(R_c, error)
        d_P = F @ P + P @ F.T + model.Q - P @ G.T @ np.linalg.solve(R_c, G @ P)
        mu, P = mu + dt * d_mu, P + dt * d_P
    np.testing.assert_allclose(result.mean[0], mu, atol=1e-12)
    np.testing.assert_allclose(result.cov[0], P, atol=1e-12)
    assert result.n_psd_repairs == 0


def test_divergence_raises_a_clear_error(linear_model):
    _, y = linear_model.simulate(50, seed=0)
    with pytest.raises(UnstableSettingError, match="diverged"):
        ContinuousFilter(linear_model, repair_covariance=False).filter(y[0], cov0=100 * np.eye(4))


def test_repairs_are_counted_and_keep_the_covariance_positive_definite(tanh_model):
    """Open-loop Euler on an ill-conditioned P turns it indefinite; the default repairs and counts it."""
    model = tanh_model.replace(substeps=2)
    y = np.full((40, 3), np.nan)
    mean0 = np.full(6, 0.3)
    repaired = ContinuousFilter(model).filter(y, mean0=mean0, record="covariance")
    assert repaired.n_psd_repairs > 0
    assert np.linalg.eigvalsh(repaired.cov).min() > 0
    raw = ContinuousFilter(model, repair_covariance=False).filter(y, mean0=mean0, record="covariance")
    assert raw.n_psd_repairs == 0
    assert np.linalg.eigvalsh(raw.cov).min() < 0


def test_missing_channel_removes_its_precision(tanh_model):
    rhs = ContinuousRHS(tanh_model)
    observed = np.array([[True, False, True]])
    precision = rhs.masked_precision(observed)
    assert np.all(precision[0, 1] == 0) and np.all(precision[0, :, 1] == 0)
    expected = np.linalg.inv((tanh_model.R * tanh_model.sample_interval)[np.ix_([0, 2], [0, 2])])
    np.testing.assert_allclose(precision[0][np.ix_([0, 2], [0, 2])], expected)


def test_all_missing_is_open_loop_prediction(tanh_model):
    model = tanh_model.replace(substeps=2)
    y = np.full((20, 3), np.nan)
    mean0 = np.full(6, 0.3)
    result = ContinuousFilter(model, repair_covariance=False).filter(y, mean0=mean0)
    np.testing.assert_allclose(result.mean, model.run_open_loop(mean0, 20), atol=1e-12)
    np.testing.assert_array_equal(result.loglik, 0.0)


def test_batch_equals_single_trials(tanh_model):
    model = tanh_model.replace(substeps=4, R=0.05 * np.eye(3))
    _, y = model.simulate(30, batch=3, seed=4)
    y[0, 3, 1] = np.nan
    batched = ContinuousFilter(model).filter(y, cov0=0.01 * np.eye(6))
    for trial in range(3):
        single = ContinuousFilter(model).filter(y[trial], cov0=0.01 * np.eye(6))
        np.testing.assert_allclose(batched.mean[trial], single.mean, atol=1e-12)
        np.testing.assert_allclose(batched.loglik[trial], single.loglik, atol=1e-12)


def test_evidence_prefers_the_true_model():
    true_model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=1, observation_noise=0.05)
    other_model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=2, observation_noise=0.05)
    _, y = true_model.simulate(200, batch=4, seed=3)
    prior = {"cov0": 0.01 * np.eye(4)}
    right = ContinuousFilter(true_model).filter(y, **prior).total_loglik
    wrong = ContinuousFilter(other_model).filter(y, **prior).total_loglik
    assert np.all(right > wrong)


@pytest.mark.parametrize("step", [0.003, 0.02])
def test_rejects_step_that_does_not_divide_or_is_unstable(tanh_model, step):
    with pytest.raises(UnstableSettingError):
        ContinuousFilter(tanh_model.replace(tau=0.009), step=step)


def test_the_old_name_of_the_step_still_works_with_a_warning(tanh_model):
    with pytest.warns(DeprecationWarning, match="step"):
        old = ContinuousFilter(tanh_model, dt=tanh_model.step / 2)
    assert old.step == tanh_model.step / 2
