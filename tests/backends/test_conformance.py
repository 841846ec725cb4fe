"""The conformance suite every backend and target must pass: agreement with the numpy filters, field by field.

Each test takes ``backend``, a run function with the signature of
:func:`rrnn_net.backends.run`. ``ALL`` tests run on every backend and
Brian2 target; ``RUNTIME`` tests, which vary the network's structure (batch
size, activation, step, a second graph), run on the reference backend and
Brian2's numpy target. The compiled targets generate the same equations
through the same templates, and each new structure costs them a cold
compilation (30–60 s on two cores), so they pass the ``ALL`` tests, which
share three structures (adaptive, fixed, baseline).
"""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import (
    ContinuousFilter,
    GenerativeRNN,
    NonFiniteError,
    ParameterError,
    ShapeError,
    UnstableSettingError,
)
from rrnn_net.backends import BaselineResult, run
from rrnn_net.graph import (
    GraphSchemaError,
    compile_baseline,
    compile_rrnn,
    load_graph,
    save_graph,
    to_matrices,
    to_model,
)

from .reference import baseline_states, fixed_gain_filter

TOLERANCE = 1e-9
FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "loglik")

_RUNTIME_BACKENDS = [
    pytest.param({"backend": "reference"}, id="reference"),
    pytest.param({"backend": "brian2", "target": "numpy"}, id="brian2-numpy"),
]
_COMPILED_BACKENDS = [
    pytest.param({"backend": "brian2", "target": "cython"}, id="brian2-cython", marks=pytest.mark.slow),
    pytest.param({"backend": "brian2", "target": "cpp_standalone"}, id="brian2-cpp_standalone",
                 marks=pytest.mark.slow),
]
ALL = pytest.mark.parametrize("backend", _RUNTIME_BACKENDS + _COMPILED_BACKENDS, indirect=True)
RUNTIME = pytest.mark.parametrize("backend", _RUNTIME_BACKENDS, indirect=True)


@pytest.fixture
def backend(request):
    """``run`` bound to one backend (and target)."""
    options = request.param

    def run_on_backend(graph, observations, **more):
        return run(graph, observations, **options, **more)

    return run_on_backend


def max_difference(result, reference, name: str) -> float:
    ours, theirs = getattr(result, name), reference[name] if isinstance(reference, dict) else getattr(reference, name)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    return float(np.nanmax(np.abs(ours - theirs)))


def continuous_reference(graph, y, step=None, record="covariance"):
    """ContinuousFilter of the model read back from the graph, from the graph's prior."""
    matrices = to_matrices(graph)
    reference = ContinuousFilter(to_model(graph), step=step)
    return reference.filter(y, mean0=matrices["mean0"], cov0=matrices["cov0"], record=record)


@ALL
def test_adaptive_graph_agrees_with_continuous_filter_with_missing_samples(backend, adaptive_graph, observations):
    y = observations.copy()
    y[0, 10:30, 1] = np.nan  # one channel missing for a stretch
    y[1, 40, :] = np.nan  # an all-missing sample: a pure prediction step
    y[:, 70:75, ::2] = np.nan
    reference = continuous_reference(adaptive_graph, y)
    assert np.all(reference.n_psd_repairs == 0)  # Euler on the Riccati equation stayed stable
    result = backend(adaptive_graph, y, record="covariance")
    assert result.cov.shape == reference.cov.shape == (2, 400, 8, 8)
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.innovation_cov is None
    np.testing.assert_array_equal(result.n_psd_repairs, [0, 0])
    assert result.loglik[1, 40] == 0.0
    assert np.isnan(result.prediction_error[0, 10:30, 1]).all()


@RUNTIME
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


@ALL
def test_fixed_gain_graph_agrees_with_numpy_euler(backend, fixed_graph, observations):
    matrices = to_matrices(fixed_graph)
    reference = fixed_gain_filter(matrices, observations, matrices["step"])
    result = backend(fixed_graph, observations)
    for name in ("mean", "predicted_obs", "state_prediction_error", "loglik"):
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.cov is None


@RUNTIME
def test_finer_step_agrees_with_continuous_filter_at_that_step(backend, adaptive_graph, observations):
    step = adaptive_graph.graph["integration_step"] / 2
    y = observations[:, :60]
    result = backend(adaptive_graph, y, step=step)
    reference = continuous_reference(adaptive_graph, y, step=step, record=())
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert result.extras["step"] == step


@RUNTIME
def test_batch_runs_like_single_trials(backend, adaptive_graph, observations):
    y = observations[:, :80]
    batch = backend(adaptive_graph, y, record="covariance")
    for trial in range(2):
        single = backend(adaptive_graph, y[trial], record="covariance")
        assert single.mean.shape == (80, 8) and single.cov.shape == (80, 8, 8)
        for name in (*FIELDS, "cov"):
            np.testing.assert_allclose(getattr(single, name), getattr(batch, name)[trial], rtol=0, atol=1e-14)


# ------------------------------------------------------ built from the graph
@RUNTIME
def test_graphml_round_trip_gives_identical_numbers(backend, adaptive_graph, observations, tmp_path):
    y = observations[:, :60]
    save_graph(adaptive_graph, tmp_path / "rrnn.graphml")
    loaded = load_graph(tmp_path / "rrnn.graphml")
    first = backend(adaptive_graph, y, record="covariance")
    second = backend(loaded, y, record="covariance")
    for name in (*FIELDS, "cov"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


@ALL
def test_editing_a_weight_changes_the_result_as_to_matrices_says(backend, fixed_graph, observations):
    y = observations  # the fixed-gain test's shape: a compiled target reuses its code and only reloads numbers
    edited = fixed_graph.copy()
    edited.edges["state:2", "state:5"]["weight"] += 0.4  # W[5, 2], held by this one edge in the fixed form
    before, after = backend(fixed_graph, y), backend(edited, y)
    matrices = to_matrices(edited)
    assert matrices["W"][5, 2] == fixed_graph.edges["state:2", "state:5"]["weight"] + 0.4
    reference = fixed_gain_filter(matrices, y, matrices["step"])
    assert np.abs(after.mean - before.mean).max() > 1e-3
    assert max_difference(after, reference, "mean") <= TOLERANCE


@RUNTIME
def test_editing_a_bias_changes_the_adaptive_result_as_to_matrices_says(backend, adaptive_graph, observations):
    y = observations[:, :80]
    edited = adaptive_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3
    result = backend(edited, y, record="covariance")
    reference = continuous_reference(edited, y)
    assert np.abs(reference.mean - continuous_reference(adaptive_graph, y, record=()).mean).max() > 1e-3
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE


@ALL
def test_baseline_graph_agrees_with_numpy_euler(backend):
    rng = np.random.default_rng(4)
    n, n_input, n_output = 6, 2, 3
    graph = compile_baseline(rng.standard_normal((n, n)) * 0.6, rng.standard_normal((n, n_input)),
                             rng.standard_normal((n_output, n)), rng.standard_normal(n) * 0.1,
                             rng.standard_normal(n_output), tau=0.02, sample_interval=0.005, substeps=4,
                             x0=rng.standard_normal(n) * 0.5)
    u = rng.standard_normal((3, 50, n_input))
    result = backend(graph, u)
    states, outputs = baseline_states(to_matrices(graph), u)
    assert isinstance(result, BaselineResult)
    assert np.abs(result.states - states).max() <= TOLERANCE
    assert np.abs(result.outputs - outputs).max() <= TOLERANCE
    single = backend(graph, u[1])
    assert single.states.shape == (50, n)
    np.testing.assert_allclose(single.outputs, result.outputs[1], rtol=0, atol=1e-14)


@RUNTIME
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


# ------------------------------------------------------------ bad input
@RUNTIME
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


@RUNTIME
def test_bad_options_are_refused(backend, fixed_graph, observations):
    y = observations[0, :5]
    with pytest.raises(UnstableSettingError, match="divide"):
        backend(fixed_graph, y, step=0.003)
    with pytest.raises(ParameterError, match="record"):
        backend(fixed_graph, y, record="covariance")  # a fixed-gain graph has no covariance units


@RUNTIME
def test_baseline_inputs_may_not_be_missing(backend):
    graph = compile_baseline(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), tau=0.02, sample_interval=0.005)
    with pytest.raises(NonFiniteError, match="NaN"):
        backend(graph, np.array([[0.0], [np.nan]]))


@RUNTIME
def test_invalid_graph_is_refused_before_building(backend, fixed_graph, observations):
    broken = fixed_graph.copy()
    broken.nodes["state:0"]["bias"] = "__import__('os')"
    with pytest.raises(GraphSchemaError):
        backend(broken, observations[0, :5])


@RUNTIME
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


@RUNTIME
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


@RUNTIME
def test_progress_is_reported_on_stderr(backend, fixed_graph, observations, capfd):
    backend(fixed_graph, observations[0, :10], progress=True)
    assert capfd.readouterr().err.strip()
