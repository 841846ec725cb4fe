"""The Brian2 backend (numpy target) against the numpy decoders, field by field."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import NetworkOperation

from rrnn_net import (
    ContinuousFilter,
    GenerativeRNN,
    NonFiniteError,
    ParameterError,
    ShapeError,
    UnstableSettingError,
)
from rrnn_net.backends import (
    NODE_TEMPLATES,
    BaselineResult,
    MissingTemplateError,
    build_network,
    node_template,
    run_brian2,
)
from rrnn_net.graph import GraphSchemaError, compile_baseline, compile_rrnn, load_graph, save_graph, to_matrices

from .reference import baseline_states, fixed_gain_filter, model_from_matrices

TOLERANCE = 1e-9
FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "loglik")


def max_difference(result, reference, name: str) -> float:
    ours, theirs = getattr(result, name), reference[name] if isinstance(reference, dict) else getattr(reference, name)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    return float(np.nanmax(np.abs(ours - theirs)))


def continuous_reference(graph, y, dt=None, keep_cov=True):
    """ContinuousFilter of the model read back from the graph, from the graph's prior."""
    matrices = to_matrices(graph)
    reference = ContinuousFilter(model_from_matrices(matrices), dt=dt)
    return reference.filter(y, mean0=matrices["mean0"], cov0=matrices["cov0"], keep_cov=keep_cov)


# ------------------------------------------------------------ agreement
def test_adaptive_graph_agrees_with_continuous_filter(adaptive_graph, observations):
    reference = continuous_reference(adaptive_graph, observations)
    assert np.all(reference.n_psd_repairs == 0)  # Euler on the Riccati equation stayed stable
    result = run_brian2(adaptive_graph, observations, record="covariance")
    assert result.cov.shape == reference.cov.shape == (2, 400, 8, 8)
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.innovation_cov is None
    np.testing.assert_array_equal(result.n_psd_repairs, [0, 0])


def test_linear_activation_agrees_with_continuous_filter():
    model = GenerativeRNN.random(4, 2, activation="linear", substeps=2, observation_noise=0.05, seed=2)
    y = model.simulate(100, batch=2, seed=3)[1]
    graph = compile_rrnn(model, cov0=0.1 * np.eye(4))
    reference = continuous_reference(graph, y)
    result = run_brian2(graph, y, record="covariance")
    assert np.all(reference.n_psd_repairs == 0)
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name


def test_fixed_gain_graph_agrees_with_numpy_euler(fixed_graph, observations):
    matrices = to_matrices(fixed_graph)
    reference = fixed_gain_filter(matrices, observations, matrices["step"])
    result = run_brian2(fixed_graph, observations)
    for name in ("mean", "predicted_obs", "state_prediction_error", "loglik"):
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.cov is None


def test_finer_dt_agrees_with_continuous_filter_at_that_dt(adaptive_graph, observations):
    step = adaptive_graph.graph["integration_step"] / 2
    y = observations[:, :60]
    result = run_brian2(adaptive_graph, y, dt=step)
    reference = continuous_reference(adaptive_graph, y, dt=step, keep_cov=False)
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert result.extras["dt"] == step


def test_missing_samples_are_gated_off(adaptive_graph, observations):
    y = observations[:, :120].copy()
    y[0, 10:30, 1] = np.nan  # one channel missing for a stretch
    y[1, 40, :] = np.nan  # an all-missing sample: a pure prediction step
    y[:, 70:75, ::2] = np.nan
    reference = continuous_reference(adaptive_graph, y)
    result = run_brian2(adaptive_graph, y, record=("covariance",))
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.loglik[1, 40] == 0.0
    assert np.isnan(result.prediction_error[0, 10:30, 1]).all()


def test_batch_runs_like_single_trials(adaptive_graph, observations):
    y = observations[:, :80]
    batch = run_brian2(adaptive_graph, y, record="covariance")
    for trial in range(2):
        single = run_brian2(adaptive_graph, y[trial], record="covariance")
        assert single.mean.shape == (80, 8) and single.cov.shape == (80, 8, 8)
        for name in (*FIELDS, "cov"):
            np.testing.assert_allclose(getattr(single, name), getattr(batch, name)[trial], rtol=0, atol=1e-14)


# ------------------------------------------------------ built from the graph
def test_graphml_round_trip_gives_identical_numbers(adaptive_graph, observations, tmp_path):
    y = observations[:, :60]
    save_graph(adaptive_graph, tmp_path / "rrnn.graphml")
    loaded = load_graph(tmp_path / "rrnn.graphml")
    first = run_brian2(adaptive_graph, y, record="covariance")
    second = run_brian2(loaded, y, record="covariance")
    for name in (*FIELDS, "cov"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_editing_a_weight_changes_the_result_as_to_matrices_says(fixed_graph, observations):
    y = observations[:, :80]
    edited = fixed_graph.copy()
    edited.edges["state:2", "state:5"]["weight"] += 0.4  # W[5, 2], held by this one edge in the fixed form
    before, after = run_brian2(fixed_graph, y), run_brian2(edited, y)
    matrices = to_matrices(edited)
    assert matrices["W"][5, 2] == fixed_graph.edges["state:2", "state:5"]["weight"] + 0.4
    reference = fixed_gain_filter(matrices, y, matrices["step"])
    assert np.abs(after.mean - before.mean).max() > 1e-3
    assert max_difference(after, reference, "mean") <= TOLERANCE


def test_editing_a_bias_changes_the_adaptive_result_as_to_matrices_says(adaptive_graph, observations):
    y = observations[:, :80]
    edited = adaptive_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3
    result = run_brian2(edited, y, record="covariance")
    reference = continuous_reference(edited, y)
    assert np.abs(reference.mean - continuous_reference(adaptive_graph, y, keep_cov=False).mean).max() > 1e-3
    assert max_difference(result, reference, "mean") <= TOLERANCE
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE


def test_baseline_graph_agrees_with_numpy_euler():
    rng = np.random.default_rng(4)
    n, n_input, n_output = 6, 2, 3
    graph = compile_baseline(rng.standard_normal((n, n)) * 0.6, rng.standard_normal((n, n_input)),
                             rng.standard_normal((n_output, n)), rng.standard_normal(n) * 0.1,
                             rng.standard_normal(n_output), tau=0.02, dt=0.005, substeps=4,
                             x0=rng.standard_normal(n) * 0.5)
    u = rng.standard_normal((3, 50, n_input))
    result = run_brian2(graph, u)
    states, outputs = baseline_states(to_matrices(graph), u)
    assert isinstance(result, BaselineResult)
    assert np.abs(result.states - states).max() <= TOLERANCE
    assert np.abs(result.outputs - outputs).max() <= TOLERANCE
    single = run_brian2(graph, u[1])
    assert single.states.shape == (50, n)
    np.testing.assert_allclose(single.outputs, result.outputs[1], rtol=0, atol=1e-14)


def test_baseline_graph_agrees_with_the_package_input_driven_rnn():
    """The compiled reservoir decoder runs in Brian2 exactly as rrnn_net.baseline.InputDrivenRNN does."""
    from rrnn_net.baseline import InputDrivenRNN

    rng = np.random.default_rng(5)
    rnn = InputDrivenRNN.reservoir(3, 12, 2, tau=0.02, dt=0.005, substeps=2, seed=1)
    rnn = rnn.fit_readout(rng.standard_normal((2, 40, 3)), rng.standard_normal((2, 40, 2)))
    u = rng.standard_normal((2, 30, 3))
    result = run_brian2(compile_baseline(rnn), u)
    states, outputs = rnn.run(u)
    assert np.abs(result.states - states).max() <= TOLERANCE
    assert np.abs(result.outputs - outputs).max() <= TOLERANCE


# --------------------------------------------------------- network structure
def test_built_network_has_no_network_operation_and_an_ordered_schedule(adaptive_graph, observations):
    built = build_network(adaptive_graph, observations[:, :5])
    objects = [item for obj in built.network.objects for item in (obj, *obj.contained_objects)]
    assert not any(isinstance(obj, NetworkOperation) for obj in objects)
    assert len(built.groups) == 9 and all(obj.name for obj in objects)
    entries = built.network.scheduling_summary().entries
    order = [entry.name for entry in entries]
    # The error-driven chain: ρ → ε (prediction) → e (feedback) → P u (back_error) → state (gain).
    chain = ["prediction_state_to_error", "feedback_error_to_state", "back_error_state_to_gain_product_port2",
             "gain_gain_product_to_state"]
    positions = [next(p for p, name in enumerate(order) if name.startswith(prefix)) for prefix in chain]
    assert positions == sorted(positions)
    first_update = next(p for p, entry in enumerate(entries) if entry.type == "StateUpdater")
    assert max(positions) < first_update
    # A product unit stores P_ik u_k once its two factors have arrived; the gain synapses read that.
    assert built.depends_on["gain_gain_product_to_state_summed_variable_I_gain_post"] == {
        "gain_product_units_product_update"}
    assert built.depends_on["gain_product_units_product_update"] == {
        "back_error_state_to_gain_product_port2_summed_variable_factor_b_post",
        "covariance_read_covariance_to_gain_product_port1_summed_variable_factor_a_post",
    }


def test_extras_hold_the_raw_monitors(fixed_graph, observations):
    result = run_brian2(fixed_graph, observations[:, :20])
    monitors = result.extras["monitors"]
    assert set(monitors) == {"error", "evidence", "state"}
    assert monitors["state"]["mu"].shape == (2, 21, 8)  # t_0 .. t_T
    np.testing.assert_allclose(monitors["state"]["t"], np.arange(21) * 0.005, atol=1e-12)
    np.testing.assert_array_equal(monitors["state"]["mu"][:, 1:], result.mean)
    assert result.extras["node_ids"]["state"][:2] == ["state:0", "state:1"]
    assert result.extras["target"] == "numpy" and result.extras["run_seconds"] > 0


def test_report_reaches_brian2(fixed_graph, observations):
    calls = []
    run_brian2(fixed_graph, observations[0, :10], report=lambda *args: calls.append(args))
    assert calls and calls[-1][1] == 1.0  # Brian2 reports the completed fraction, ending at 1


# ------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(("observations", "error"), [
    (np.zeros((10, 2)), ShapeError),
    (np.zeros((2, 10, 4)), ShapeError),
    (np.zeros(10), ShapeError),
    (np.zeros((0, 3)), ShapeError),
    (np.array([[0.0, np.inf, 0.0]]), NonFiniteError),
    ("abc", ParameterError),
])
def test_bad_observations_are_refused(fixed_graph, observations, error):
    with pytest.raises(error):
        run_brian2(fixed_graph, observations)


def test_bad_options_are_refused(fixed_graph, observations):
    y = observations[0, :5]
    with pytest.raises(ParameterError, match="target"):
        run_brian2(fixed_graph, y, target="cuda")
    with pytest.raises(UnstableSettingError, match="divide"):
        run_brian2(fixed_graph, y, dt=0.003)
    with pytest.raises(ParameterError, match="record"):
        run_brian2(fixed_graph, y, record="covariance")  # a fixed-gain graph has no covariance units
    with pytest.raises(ParameterError, match="report"):
        run_brian2(fixed_graph, y, report='std::cout << "injected";')  # Brian2 would compile it as C++
    with pytest.raises(ParameterError, match="report"):
        run_brian2(fixed_graph, y, target="cpp_standalone", report=print)  # checked before any build


def test_baseline_inputs_may_not_be_missing():
    graph = compile_baseline(np.eye(2) * 0.5, np.ones((2, 1)), np.ones((1, 2)), tau=0.02, dt=0.005)
    with pytest.raises(NonFiniteError, match="NaN"):
        run_brian2(graph, np.array([[0.0], [np.nan]]))


def test_invalid_graph_is_refused_before_building(fixed_graph, observations):
    broken = fixed_graph.copy()
    broken.nodes["state:0"]["bias"] = "__import__('os')"
    with pytest.raises(GraphSchemaError):
        run_brian2(broken, observations[0, :5])


def test_kind_without_template_is_reported(fixed_graph, observations, monkeypatch):
    monkeypatch.delitem(NODE_TEMPLATES, "evidence")
    with pytest.raises(MissingTemplateError, match="evidence"):
        run_brian2(fixed_graph, observations[0, :5])


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        node_template("state")(lambda context, population: None)


def test_adaptive_network_with_an_unstable_prior_is_refused():
    """With cov0 = I the covariance update diverges (the network cannot repair P), so run_brian2 refuses it."""
    from rrnn_net import GenerativeRNN, UnstableSettingError, compile_rrnn
    from rrnn_net.stability import euler_safe_prior_variance, graph_riccati_euler_factor

    model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=0)
    _, y = model.simulate(5, seed=1)
    with pytest.raises(UnstableSettingError, match="too broad"):
        run_brian2(compile_rrnn(model, cov0=np.eye(4)), y[0])
    safe = compile_rrnn(model, cov0=euler_safe_prior_variance(model) * np.eye(4))
    assert graph_riccati_euler_factor(safe, model.step) <= 0.5 + 1e-12
    assert np.isfinite(run_brian2(safe, y[0]).mean).all()
