"""UKF-specific checks: filterpy cross-check, nonlinear tracking, sigma-point weights, repairs, bad input."""

import numpy as np
import pytest

from rrnn_net import EKF, UKF, ContinuousFilter, GenerativeRNN, NonFiniteError, ParameterError, ShapeError
from rrnn_net.filters import merwe_weights
from rrnn_net.filters._common import cholesky_with_repair


def filterpy_ukf(model, y, alpha, beta, kappa):
    """filterpy's UnscentedKalmanFilter on the same model (one trial)."""
    from filterpy.kalman import MerweScaledSigmaPoints, UnscentedKalmanFilter

    points = MerweScaledSigmaPoints(model.n_hidden, alpha=alpha, beta=beta, kappa=kappa)
    reference = UnscentedKalmanFilter(model.n_hidden, model.n_obs, model.sample_interval, hx=model.observe,
                                      fx=lambda x, dt: model.transition(x), points=points)
    reference.x = np.zeros(model.n_hidden)
    reference.P = np.eye(model.n_hidden)
    reference.Q = model.Q * model.sample_interval
    reference.R = model.R.copy()
    means, covs, logliks = [], [], []
    for sample in y:
        reference.predict()
        reference.update(sample)
        means.append(reference.x.copy())
        covs.append(reference.P.copy())
        logliks.append(reference.log_likelihood)
    return np.array(means), np.array(covs), np.array(logliks)


@pytest.mark.parametrize(("alpha", "beta", "kappa"), [(1.0, 2.0, 0.0), (0.3, 2.0, 1.0), (0.8, 0.0, -1.0)])
def test_additive_ukf_matches_filterpy(tanh_model, alpha, beta, kappa):
    """filterpy >= 2.0 redraws the sigma points after predict, as redraw=True does.

    filterpy 1.4.x reuses the propagated points instead (our redraw=False); the
    test checks whichever the installed version implements.
    """
    filterpy = pytest.importorskip("filterpy")
    redraw = int(filterpy.__version__.split(".")[0]) >= 2
    _, y = tanh_model.simulate(150, seed=3)
    ours = UKF(tanh_model, alpha=alpha, beta=beta, kappa=kappa, redraw=redraw).filter(y[0], record="covariance")
    means, covs, logliks = filterpy_ukf(tanh_model, y[0], alpha, beta, kappa)
    np.testing.assert_allclose(ours.mean, means, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.cov, covs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.loglik, logliks, rtol=0, atol=1e-8)


def test_redraw_matters_on_a_nonlinear_model(tanh_model):
    _, y = tanh_model.simulate(100, seed=4)
    redrawn = UKF(tanh_model).filter(y[0]).mean
    reused = UKF(tanh_model, redraw=False).filter(y[0]).mean
    assert np.max(np.abs(redrawn - reused)) > 1e-4


@pytest.mark.parametrize("decoder", [UKF, lambda m: UKF(m, variant="augmented"), EKF])
def test_tracks_the_hidden_state_from_a_wrong_start(decoder):
    """After settling, the decoder follows the true state; the open-loop generator does not."""
    model = GenerativeRNN.oscillator(6, 3, seed=0)
    states, y = model.simulate(400, batch=8, seed=11)
    wrong_start = -np.sign(states[:, 0]) * 2.0
    settled = slice(100, None)
    spread = states[:, settled].std()
    decoded = decoder(model).filter(y, mean0=wrong_start).mean
    decoder_rmse = np.sqrt(np.mean((decoded[:, settled] - states[:, settled]) ** 2))
    open_loop = model.run_open_loop(wrong_start, 400)
    open_loop_rmse = np.sqrt(np.mean((open_loop[:, settled] - states[:, settled]) ** 2))
    assert decoder_rmse < 0.1 * spread
    assert open_loop_rmse > 0.5 * spread


def test_merwe_weights_sum_to_one_and_match_definition():
    mean_weights, cov_weights, spread = merwe_weights(5, 0.5, 2.0, 1.0)
    lam = 0.25 * 6 - 5
    assert mean_weights.sum() == pytest.approx(1.0)
    assert mean_weights[0] == pytest.approx(lam / (5 + lam))
    assert cov_weights[0] == pytest.approx(lam / (5 + lam) + 1 - 0.25 + 2)
    assert spread == pytest.approx(np.sqrt(5 + lam))
    with pytest.raises(ParameterError, match="n \\+ lambda"):
        merwe_weights(5, 0.1, 2.0, -5.0)


def test_cholesky_repair_counts_and_restores_definiteness():
    good = np.eye(3)
    bad = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # eigenvalues -1, 1, 3
    repairs = np.zeros(2, dtype=np.int64)
    fixed, factor = cholesky_with_repair(np.stack([good, bad]), repairs)
    np.testing.assert_array_equal(repairs, [0, 1])
    np.testing.assert_array_equal(fixed[0], good)
    assert np.linalg.eigvalsh(fixed[1]).min() > 0
    np.testing.assert_allclose(factor @ factor.mT, fixed, atol=1e-12)


@pytest.mark.parametrize("decoder", [UKF, lambda m: UKF(m, variant="augmented"), EKF])
def test_near_noiseless_observations_are_repaired_not_fatal(decoder):
    """With R ≈ 0 and Q = 0 the posterior covariance is at rounding level and loses definiteness;
    the decoders repair it, count it, and keep tracking the exactly observed state."""
    rng = np.random.default_rng(0)
    model = GenerativeRNN(W=0.3 * rng.standard_normal((3, 3)), M=rng.standard_normal((3, 3)), Q=0.0, R=1e-20,
                          activation="linear", sample_interval=0.01, tau=0.05)
    states, y = model.simulate(50, batch=2, seed=1)
    result = decoder(model).filter(y)
    assert np.all(result.n_psd_repairs > 0)
    np.testing.assert_allclose(result.mean, states, atol=1e-6)


@pytest.mark.parametrize("decoder", [UKF, EKF, ContinuousFilter])
def test_decoders_reject_bad_input(tanh_model, decoder):
    _, y = tanh_model.simulate(10, batch=2, seed=0)
    filt = decoder(tanh_model)
    with pytest.raises(ShapeError, match="observations must have shape"):
        filt.filter(y[..., :2])
    with pytest.raises(ShapeError):
        filt.filter(y[0, 0])
    bad = y.copy()
    bad[0, 3, 1] = np.inf
    with pytest.raises(NonFiniteError, match="infinite"):
        filt.filter(bad)
    with pytest.raises(ShapeError, match="mean0"):
        filt.filter(y, mean0=np.zeros(3))
    with pytest.raises(NonFiniteError, match="mean0"):
        filt.filter(y, mean0=np.full(6, np.nan))
    with pytest.raises(ParameterError, match="cov0 must be positive definite"):
        filt.filter(y, cov0=-np.eye(6))
    with pytest.raises(ParameterError, match="cov0 must be symmetric"):
        filt.filter(y, cov0=np.eye(6) + np.triu(np.ones((6, 6)), 1))
    with pytest.raises(ParameterError, match="numeric"):
        filt.filter([["a", "b", "c"]])


def test_ukf_rejects_bad_settings(tanh_model):
    with pytest.raises(ParameterError, match="variant"):
        UKF(tanh_model, variant="square-root")
    with pytest.raises(ParameterError, match="alpha"):
        UKF(tanh_model, alpha=np.nan)
    with pytest.raises(ParameterError, match="redraw"):
        UKF(tanh_model, variant="augmented", redraw=False)
    with pytest.raises(TypeError, match="GenerativeRNN"):
        UKF("not a model")


@pytest.mark.parametrize("alpha", [1e200, 1e-200])
def test_sigma_point_settings_that_overflow_are_refused(alpha):
    with pytest.raises(ParameterError, match="sigma-point parameters"):
        merwe_weights(3, alpha, 2.0, 0.0)


def test_a_covariance_broken_inside_a_chunked_run_is_reported_as_divergence_at_its_sample():
    from rrnn_net import DivergenceError
    from rrnn_net.filters import filter_in_chunks

    model = GenerativeRNN.oscillator(3, 2, observation_noise=0.05, seed=0)
    _, y = model.simulate(8, seed=1)
    # A prior 1e300 times broader than the states: float64 cannot keep the EKF's covariance definite.
    with pytest.raises(DivergenceError, match=r"before sample [1-9]"):
        filter_in_chunks(EKF(model), y, n_chunks=8, cov0=1e300 * np.eye(3))
