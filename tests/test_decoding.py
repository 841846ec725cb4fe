"""rrnn_net.decoding.decode and the chunked filter it runs: the numbers of one pass, the prior policy, refusals."""

import numpy as np
import pytest

from rrnn_net import EKF, ContinuousFilter, DecodeError, GenerativeRNN, compile_baseline, compile_rrnn
from rrnn_net.decoding import decode
from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.filters import filter_in_chunks
from rrnn_net.filters.stability import euler_safe_prior_variance


@pytest.fixture(scope="module")
def model():
    return GenerativeRNN.oscillator(3, 2, substeps=2, observation_noise=0.02, seed=0)


@pytest.fixture(scope="module")
def y(model):
    _, y = model.simulate(45, batch=2, seed=1)
    y[:, 10:13, 1] = np.nan
    return y


def test_chunks_hand_on_the_belief_exactly(model, y):
    cov0 = 0.3 * np.eye(3)
    reference = ContinuousFilter(model).filter(y[0], mean0=np.ones(3), cov0=cov0)
    chunked = filter_in_chunks(ContinuousFilter(model), y[0], n_chunks=7, mean0=np.ones(3), cov0=cov0)
    assert chunked.mean.shape == (45, 3) and chunked.cov is None
    for name in ("mean", "predicted_state", "predicted_obs", "state_prediction_error", "loglik"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(reference, name), rtol=1e-12, atol=1e-12)


def test_numpy_decoders_and_their_default_priors(model, y):
    decoding = decode(model, y, "ekf")
    assert (decoding.decoder, decoding.prior_variance, decoding.gain_mode) == ("ekf", 1.0, None)
    np.testing.assert_allclose(decoding.result.mean, EKF(model).filter(y).mean, rtol=1e-12, atol=1e-12)
    continuous = decode(model, y[0], "continuous")
    variance = euler_safe_prior_variance(model)
    assert continuous.prior_variance == variance and continuous.sample_interval == model.sample_interval
    expected = ContinuousFilter(model).filter(y[0], cov0=variance * np.eye(3))
    np.testing.assert_allclose(continuous.result.evidence, expected.evidence, rtol=1e-12)


def test_options_that_do_not_fit_are_refused(model, y):
    with pytest.raises(DecodeError, match="Brian2 network"):
        decode(compile_rrnn(model), y, "ukf")
    with pytest.raises(DecodeError, match="its own prior"):
        decode(compile_rrnn(model), y, prior_variance=0.1)
    with pytest.raises(DecodeError, match="not a recognizing RNN"):
        decode(compile_baseline(np.zeros((2, 2)), np.ones((2, 2)), np.ones((1, 2)), tau=0.02, sample_interval=0.005), y)
    with pytest.raises(DecodeError, match="forward Euler"):
        decode(model, y, "continuous", prior_variance=1e3)
    with pytest.raises(ParameterError, match="positive"):
        decode(model, y, prior_variance=-1.0)
    with pytest.raises(ParameterError, match="decoder"):
        decode(model, y, "particle")
    with pytest.raises(ShapeError, match="3 channel"):
        decode(model, np.zeros((5, 3)))


def test_adaptive_noise_is_one_pass_of_the_adaptive_filter(model, y):
    decoding = decode(model, y, "ekf", noise="adaptive")
    expected = EKF(model, noise="adaptive").filter(y)
    np.testing.assert_allclose(decoding.result.noise_variance, expected.noise_variance, rtol=1e-12)
    np.testing.assert_allclose(decoding.result.mean, expected.mean, rtol=1e-12, atol=1e-12)
    with pytest.raises(ParameterError, match="noise must be"):
        decode(model, y, noise="learned")


def test_adaptive_noise_in_the_continuous_filter_and_the_network_is_one_estimate(model, y):
    continuous = decode(model, y, "continuous", noise="adaptive")
    network = decode(model, y, "brian2", noise="adaptive")
    cov0 = continuous.prior_variance * np.eye(model.n_hidden)
    expected = ContinuousFilter(model, noise="adaptive").filter(y, cov0=cov0)
    np.testing.assert_allclose(continuous.result.noise_variance, expected.noise_variance, rtol=1e-12)
    np.testing.assert_allclose(network.result.noise_variance, expected.noise_variance, rtol=0, atol=1e-9)
    np.testing.assert_allclose(network.result.loglik, expected.loglik, rtol=0, atol=1e-9)
    with pytest.raises(DecodeError, match="fixed gain"):
        decode(model, y, "brian2", noise="adaptive", gain_mode="fixed")
    with pytest.raises(DecodeError, match="compiled so"):
        decode(compile_rrnn(model), y, noise="adaptive")


def test_an_edited_or_lesioned_graph_decodes_from_the_graph_alone(model, y):
    """No model can be rebuilt from it (to_matrices refuses), but the network runs and its checks read the graph."""
    from rrnn_net.backends import run
    from rrnn_net.graph import lesion

    lesioned = lesion(compile_rrnn(model), edges="recurrent", scale=0.5)
    decoding = decode(lesioned, y)
    assert (decoding.decoder, decoding.gain_mode, decoding.prior_variance) == ("brian2", "adaptive", None)
    np.testing.assert_allclose(decoding.result.mean, run(lesioned, y, backend="reference").mean, atol=1e-9)
    assert decoding.result.cov is None
    broad = compile_rrnn(model, cov0=np.eye(3))
    with pytest.raises(DecodeError, match=r"cov0 more than .* times smaller"):
        decode(broad, y)


def test_a_graph_that_is_not_a_compiled_graph_is_named_not_a_key_error(y):
    import networkx as nx

    from rrnn_net.graph import GraphSchemaError

    with pytest.raises(GraphSchemaError, match="schema_version must be 1"):
        decode(nx.DiGraph(), y)
