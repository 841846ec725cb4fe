"""RRNNCircuit: the compiled network as one Brian2 object inside a user's own network."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import Clock, Network, NeuronGroup, StateMonitor, TimedArray, defaultclock, ms, mV, run, second

from rrnn_net import CircuitError, ParameterError, ShapeError, UnstableSettingError
from rrnn_net.backends import brian2_targets, run_brian2
from rrnn_net.backends.brian2_build import preferences
from rrnn_net.backends.brian2_circuit import RRNNCircuit
from rrnn_net.graph import compile_rrnn

TOLERANCE = 1e-12
FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "loglik")


def assert_same_result(result, expected, tolerance=TOLERANCE):
    for field in FIELDS:
        np.testing.assert_allclose(getattr(result, field), getattr(expected, field), rtol=0, atol=tolerance,
                                   err_msg=field)


def user_source(values: np.ndarray, name: str) -> NeuronGroup:
    """A user's rate group whose ``value`` follows ``values`` (T, n) sample by sample."""
    table = TimedArray(values, dt=5 * ms, name=f"{name}_table")
    return NeuronGroup(values.shape[1], "value = table(t, i) : 1 (constant over dt)",
                       namespace={"table": table}, name=name)


@pytest.fixture
def step(filter_model):
    return filter_model.step


@pytest.fixture(autouse=True)
def numpy_target():
    """These networks run through Network.run, whose target is Brian2's preference: numpy compiles nothing."""
    with preferences({"codegen.target": "numpy"}):
        yield


def test_two_named_circuits_one_driven_share_a_network_and_each_equals_run_brian2(adaptive_graph, fixed_graph,
                                                                                  observations, step):
    y = observations[0, :40]
    listener = RRNNCircuit(adaptive_graph, name="listener", observations=y, dt=step)
    shared = listener.clock
    follower = RRNNCircuit(fixed_graph, name="follower", clock=shared)
    source = user_source(y, "user_rates")
    follower.drive(source, "value")
    user_monitor = StateMonitor(listener.states, "mu", record=True, dt=5 * ms, name="user_mu")
    network = Network(listener, follower, source, user_monitor)
    network.run(listener.duration)
    assert_same_result(listener.result(), run_brian2(adaptive_graph, y))
    assert_same_result(follower.result(), run_brian2(fixed_graph, y))
    assert user_monitor.mu.shape == (8, 41)
    names = {obj.name for obj in network.sorted_objects}
    assert {"listener_state_units", "follower_state_units", "follower_drive"} <= names


def test_magic_run_takes_the_whole_circuit(fixed_graph, observations, step):
    y = observations[1, :20]
    previous = defaultclock.dt
    defaultclock.dt = step * second
    try:
        circuit = RRNNCircuit(fixed_graph, observations=y)  # on the defaultclock
        run(circuit.duration)
    finally:
        defaultclock.dt = previous
    assert_same_result(circuit.result(), run_brian2(fixed_graph, y))


def test_monitor_reads_errors_with_the_state_they_were_computed_from(fixed_graph, observations, step):
    y = observations[0, :15]
    circuit = RRNNCircuit(fixed_graph, observations=y, dt=step)
    errors = circuit.monitor("error", "error")
    late = StateMonitor(circuit.errors, "error", record=True, dt=5 * ms, name="default_slot_errors")
    Network(circuit, late).run(circuit.duration)
    result = circuit.result()
    # ε at t_k is that of y_{k+1}, computed from μ(t_k): the sample times' prediction errors, in order.
    np.testing.assert_allclose(errors.error[:, :-1].T, result.prediction_error, rtol=0, atol=TOLERANCE)
    assert np.abs(late.error[:, 1:-1].T - result.prediction_error[1:]).max() > 1e-3  # one step old


def test_batch_circuit_driven_by_weights_sums_sources(fixed_graph, observations, step):
    y = observations[:, :10]  # (2, 10, 3)
    circuit = RRNNCircuit(fixed_graph, name="batched", batch=2, dt=step)
    # Sensory neuron p·B + b reads channel p of trial b; the source holds trials side by side, halved twice.
    columns = np.transpose(y, (1, 2, 0)).reshape(10, 6)
    source = user_source(np.concatenate([columns, columns], axis=1) / 2, "halves")
    circuit.drive(source, "value", weights=np.vstack([np.eye(6), np.eye(6)]))
    Network(circuit, source).run(circuit.duration_for(10))
    assert_same_result(circuit.result(), run_brian2(fixed_graph, y))


def test_a_variable_in_volts_drives_through_its_unit_and_the_source_namespace(fixed_graph, step):
    source = NeuronGroup(3, "v = offset + level : volt\nlevel : volt", namespace={"offset": 5 * mV}, name="voltages")
    source.level = [5, 15, 25] * mV
    circuit = RRNNCircuit(fixed_graph, name="in_volts", dt=step)
    circuit.drive(source, "v", weights=np.diag([1.0, 2.0, 3.0]))
    Network(circuit, source).run(3 * 4 * step * second + step * second)
    samples = circuit.result().prediction_error + circuit.result().predicted_obs
    np.testing.assert_allclose(samples, np.tile([0.01, 0.04, 0.09], (3, 1)), rtol=1e-12)


def test_runtime_targets_reuse_the_network_for_new_numbers_and_observations(filter_model, prior, observations,
                                                                            monkeypatch):
    first = run_brian2(compile_rrnn(filter_model, mean0=prior[0], cov0=prior[1]), observations[0, :30])
    other_model = filter_model.replace(W=filter_model.W * 0.9, c=filter_model.c + 0.1)
    other = compile_rrnn(other_model, mean0=-prior[0], cov0=prior[1] / 2)
    reused = run_brian2(other, observations[1, :30])
    assert first.extras["rebuilt"] and not reused.extras["rebuilt"]
    monkeypatch.setattr(brian2_targets, "_runtime_loaded", None)
    rebuilt = run_brian2(other, observations[1, :30])
    assert rebuilt.extras["rebuilt"]
    assert_same_result(reused, rebuilt, 0.0)


# ------------------------------------------------------------- misuse
def test_misuse_is_refused_with_named_errors(fixed_graph, observations, step):
    y = observations[0, :5]
    with pytest.raises(ParameterError, match="identifier"):
        RRNNCircuit(fixed_graph, name="two words", observations=y)
    with pytest.raises(ParameterError, match="clock or dt"):
        RRNNCircuit(fixed_graph, observations=y, clock=Clock(step * second), dt=step)
    with pytest.raises(ParameterError, match="time"):
        RRNNCircuit(fixed_graph, observations=y, dt=1 * mV)
    with pytest.raises(UnstableSettingError):
        RRNNCircuit(fixed_graph, observations=y, dt=0.003)  # does not divide Δ = 5 ms
    reading = RRNNCircuit(fixed_graph, name="reading", observations=y, dt=step)
    with pytest.raises(CircuitError, match="observations"):
        reading.drive(NeuronGroup(3, "value : 1"), "value")
    with pytest.raises(CircuitError, match="not run"):
        reading.result()
    driven = RRNNCircuit(fixed_graph, name="driven", dt=step)
    with pytest.raises(CircuitError, match="length"):
        _ = driven.duration
    with pytest.raises(ParameterError, match="no variable"):
        driven.drive(NeuronGroup(3, "value : 1"), "rate")
    with pytest.raises(ShapeError, match="one-to-one"):
        driven.drive(NeuronGroup(2, "value : 1"), "value")
    with pytest.raises(ShapeError):
        driven.drive(NeuronGroup(2, "value : 1"), "value", weights=np.ones((3, 3)))
    driven.drive(NeuronGroup(3, "value : 1", name="first_source"), "value")
    with pytest.raises(CircuitError, match="already driven"):
        driven.drive(NeuronGroup(3, "value : 1"), "value")
    with pytest.raises(ParameterError, match="no 'covariance' units"):
        driven.monitor("covariance")


def test_a_run_of_the_wrong_length_is_named(fixed_graph, observations, step):
    circuit = RRNNCircuit(fixed_graph, name="short", observations=observations[0, :10], dt=step)
    Network(circuit).run(5 * 4 * step * second)
    with pytest.raises(CircuitError, match="11"):
        circuit.result()
