import numpy as np
import pytest

from rrnn_net import ContinuousFilter, GenerativeRNN
from rrnn_net.filters.stability import euler_safe_prior_variance, riccati_euler_factor


@pytest.fixture
def model():
    return GenerativeRNN.oscillator(5, 2, substeps=3, observation_noise=0.03, seed=1)


def test_safe_prior_puts_the_bound_at_the_requested_factor(model):
    variance = euler_safe_prior_variance(model, safety=0.4)
    precision = np.linalg.inv(model.R * model.sample_interval)
    assert model.step * np.linalg.eigvalsh(variance * model.M.T @ precision @ model.M).max() == pytest.approx(0.4)
    # At any mean the slope φ' ≤ 1 only lowers the factor.
    means = np.random.default_rng(0).normal(0, 2, (10, 5))
    assert np.all(riccati_euler_factor(model, means, variance * np.eye(5)) <= 0.4 + 1e-12)


def test_factor_matches_the_eigenvalues_of_p_gt_rc_inverse_g(model):
    rng = np.random.default_rng(1)
    mean = rng.normal(size=5)
    factor_root = rng.normal(size=(5, 5))
    cov = factor_root @ factor_root.T
    G = model.observation_jacobian(mean)
    direct = np.linalg.eigvals(cov @ G.T @ np.linalg.inv(model.R * model.sample_interval) @ G).real.max()
    assert riccati_euler_factor(model, mean, cov) == pytest.approx(model.step * direct)


def test_safe_prior_keeps_the_continuous_filter_positive_definite(model):
    _, y = model.simulate(100, batch=3, seed=2)
    variance = euler_safe_prior_variance(model)
    result = ContinuousFilter(model, repair_covariance=False).filter(y, cov0=variance * np.eye(5), record="covariance")
    assert np.all(np.linalg.eigvalsh(result.cov) > 0)
    assert riccati_euler_factor(model, result.mean, result.cov).max() < 1.0
