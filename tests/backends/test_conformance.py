"""The conformance suite on the reference backend and Brian2's numpy target, and the checks only they run.

The shared suite is in ``conformance.py``; the tests here vary the
network's structure (batch size, activation, step, a second graph), which
would cost the compiled targets a cold compilation each.
"""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import (
    GenerativeRNN,
    NonFiniteError,
    ParameterError,
    ShapeError,
    UnstableSettingError,
)
from rrnn_net.backends import run
from rrnn_net.graph import (
    GraphSchemaError,
    compile_baseline,
    compile_rrnn,
    load_graph,
    save_graph,
)

from .conformance import (
    FIELDS,
    TOLERANCE,
    backend_fixture,
    continuous_reference,
    max_difference,
    test_adaptive_graph_agrees_with_continuous_filter_with_missing_samples,
    test_baseline_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
)

backend = backend_fixture({"backend": "reference"}, {"backend": "brian2", "target": "numpy"})
# The shared suite, imported so that pytest collects it here with this module's backend fixture.
SUITE = (
    test_adaptive_graph_agrees_with_continuous_filter_with_missing_samples,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_baseline_graph_agrees_with_numpy_euler,
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
)


def test_linear_activation_agrees_with_continuous_filter(backend):
    model = GenerativeRNN.random(4, 2, activation="linear", substeps=2, observation_noise=0.05, seed=2)
    y = model.simulate(100, batch=2, seed=3)[1]
    graph = compile_rrnn(model, cov0=0.1 * np.eye(4))
    reference = continuous_reference(graph, y)
    result = backend(graph, y, record="covariance")
    assert np.all(reference.n_psd_repairs == 0)
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name


def test_finer_step_agrees_with_continuous_filter_at_that_step(backend, adaptive_graph, observations):
    step = adaptive_graph.graph["integration_step"] / 2
    y = observations[:, :60]
    result = backend(adaptive_graph, y, step=step)
    reference = continuous_reference(adaptive_graph, y, step=step, record=())
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert result.extras["step"] == step


def test_batch_runs_like_single_trials(backend, adaptive_graph, observations):
    y = observations[:, :80]
    batch = backend(adaptive_graph, y, record="covariance")
    for trial in range(2):
        single = backend(adaptive_graph, y[trial], record="covariance")
        assert single.mean.shape == (80, 8) and single.cov.shape == (80, 8, 8)
        for name in (*FIELDS, "cov"):
            np.testing.assert_allclose(getattr(single, name), getattr(batch, name)[trial], rtol=0, atol=1e-14)


def test_graphml_round_trip_gives_identical_numbers(backend, adaptive_graph, observations, tmp_path):
    y = observations[:, :60]
    save_graph(adaptive_graph, tmp_path / "rrnn.graphml")
    loaded = load_graph(tmp_path / "rrnn.graphml")
    first = backend(adaptive_graph, y, record="covariance")
    second = backend(loaded, y, record="covariance")
    for name in (*FIELDS, "cov"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_editing_a_bias_changes_the_adaptive_result_as_to_matrices_says(backend, adaptive_graph, observations):
    y = observations[:, :80]
    edited = adaptive_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3
    result = backend(edited, y, record="covariance")
    reference = continuous_reference(edited, y)
    assert np.abs(reference.mean - continuous_reference(adaptive_graph, y, record=()).mean).max() > 1e-3
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE


def test_baseline_graph_agrees_with_the_package_input_driven_rnn(backend):
    """The compiled reservoir decoder runs in Brian2 exactly as rrnn_net.baseline.InputDrivenRNN does."""
    from rrnn_net.baseline import InputDrivenRNN

    rng = np.random.default_rng(5)
    rnn = InputDrivenRNN.reservoir(3, 12, 2, tau=0.02, sample_interval=0.005, substeps=2, seed=1)
    rnn = rnn.fit_readout(rng.standard_normal((2, 40, 3)), rng.standard_normal((2, 40, 2)))
    u = rng.standard_normal((2, 30, 3))
    result = backend(compile_baseline(rnn), u)
    states, outputs = rnn.run(u)
    assert np.abs(result.states - states).max() <= TOLERANCE
    assert np.abs(result.outputs - outputs).max() <= TOLERANCE


@pytest.mark.parametrize(("observations", "error"), [
    (np.zeros((10, 2)), ShapeError),
    (np.zeros((2, 10, 4)), ShapeError),
    (np.zeros(10), ShapeError),
    (np.zeros((0, 3)), ShapeError),
    (np.array([[0.0, np.inf, 0.0]]), NonFiniteError),
    ("abc", ParameterError),
])
def test_bad_observations_are_refused(backend, fixed_graph, observations, error):
    with pytest.raises(error):
        backend(fixed_graph, observations)


def test_bad_options_are_refused(backend, fixed_graph, observations):
    y = observations[0, :5]
    with pytest.raises(UnstableSettingError, match="divide"):
        backend(fixed_graph, y, step=0.003)
    with pytest.raises(ParameterError, match="record"):
        backend(fixed_graph, y, record="covariance")  # a fixed-gain graph has no covariance units


def test_baseline_inputs_may_not_be_missing(backend):
    graph = compile_baseline(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), tau=0.02, sample_interval=0.005)
    with pytest.raises(NonFiniteError, match="NaN"):
        backend(graph, np.array([[0.0], [np.nan]]))


def test_invalid_graph_is_refused_before_building(backend, fixed_graph, observations):
    broken = fixed_graph.copy()
    broken.nodes["state:0"]["bias"] = "__import__('os')"
    with pytest.raises(GraphSchemaError):
        backend(broken, observations[0, :5])


def test_adaptive_network_with_an_unstable_prior_is_refused(backend):
    """With cov0 = I the covariance update diverges (the network cannot repair P), so every backend refuses it."""
    from rrnn_net.filters.stability import euler_safe_prior_variance, graph_riccati_euler_factor

    model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=0)
    _, y = model.simulate(5, seed=1)
    with pytest.raises(UnstableSettingError, match="too broad"):
        backend(compile_rrnn(model, cov0=np.eye(4)), y[0])
    safe = compile_rrnn(model, cov0=euler_safe_prior_variance(model) * np.eye(4))
    assert graph_riccati_euler_factor(safe, model.step) <= 0.5 + 1e-12
    assert np.isfinite(backend(safe, y[0]).mean).all()


def test_unknown_backend_is_refused(fixed_graph, observations):
    with pytest.raises(ParameterError, match="backend"):
        run(fixed_graph, observations[0, :5], backend="neuron")


def test_hand_edited_adaptive_graphs_run_alike_on_every_runtime_backend(adaptive_graph, observations):
    """An edit that no model expresses (W in the mean path, not in the covariance path) is still a network."""
    edited = adaptive_graph.copy()
    edited.edges["state:1", "state:0"]["weight"] *= 1.1
    edited.nodes["state:2"]["tau"] *= 1.5
    y = observations[:, :60]
    reference = run(edited, y, backend="reference", record="covariance")
    brian2 = run(edited, y, backend="brian2", record="covariance")
    for name in ("mean", "cov", "loglik"):
        assert np.abs(getattr(reference, name) - getattr(brian2, name)).max() <= TOLERANCE, name


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_each_units_own_time_constant_and_divergence_are_checked(backend, fixed_graph, observations):
    from rrnn_net import DivergenceError

    fast = fixed_graph.copy()
    fast.nodes["state:3"]["tau"] = 0.0005  # below h/2 (h = 1.25 ms)
    with pytest.raises(UnstableSettingError, match="below 2\\*tau"):
        backend(fast, observations[0, :5])
    linear = GenerativeRNN.random(3, 2, activation="linear", tau=0.02, sample_interval=0.005, substeps=4, seed=0)
    wild = compile_rrnn(linear, gain_mode="fixed", fixed_gain=np.zeros((3, 2)), mean0=np.ones(3))
    wild.edges["state:0", "state:0"]["weight"] = 1e4  # μ_0 grows ×600 per Euler step until it overflows
    with pytest.raises(DivergenceError, match="diverged"):
        backend(wild, linear.simulate(40, seed=1)[1][0])


def test_progress_is_reported_on_stderr(backend, fixed_graph, observations, capfd):
    backend(fixed_graph, observations[0, :10], progress=True)
    assert capfd.readouterr().err.strip()
