"""What only the Brian2 backend has: its network structure, schedule, monitors, options and templates.

Agreement with the numpy filters is the conformance suite (test_conformance.py)."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import NetworkOperation

from rrnn_net import (
    ParameterError,
)
from rrnn_net.backends import MissingTemplateError, run_brian2, run_reference
from rrnn_net.backends.brian2_circuit import RRNNCircuit
from rrnn_net.backends.brian2_targets import network_of
from rrnn_net.backends.brian2_templates import TEMPLATES
from rrnn_net.graph import validate_graph

TOLERANCE = 1e-9
FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "loglik")


# --------------------------------------------------------- network structure
def test_built_network_has_no_network_operation_and_an_ordered_schedule(adaptive_graph, observations):
    circuit = RRNNCircuit(adaptive_graph, observations=observations[:, :5])
    network = network_of(circuit)
    objects = [item for obj in network.objects for item in (obj, *obj.contained_objects)]
    assert not any(isinstance(obj, NetworkOperation) for obj in objects)
    assert len(circuit.groups) == 9 and all(obj.name.startswith("rrnn") for obj in objects)
    entries = network.scheduling_summary().entries
    order = [entry.name for entry in entries]
    # The error-driven chain: ρ → ε (prediction) → e (feedback) → P u (back_error) → state (gain).
    chain = ["rrnn_prediction_state_to_error", "rrnn_feedback_error_to_state",
             "rrnn_back_error_state_to_gain_product_port2", "rrnn_gain_gain_product_to_state"]
    positions = [next(p for p, name in enumerate(order) if name.startswith(prefix)) for prefix in chain]
    assert positions == sorted(positions)
    first_update = next(p for p, entry in enumerate(entries) if entry.type == "StateUpdater")
    assert max(positions) < first_update
    # A product unit stores P_ik u_k once its two factors have arrived; the gain synapses read that.
    assert circuit.depends_on["rrnn_gain_gain_product_to_state_summed_variable_I_gain_post"] == {
        "rrnn_gain_product_units_product_update"}
    assert circuit.depends_on["rrnn_gain_product_units_product_update"] == {
        "rrnn_back_error_state_to_gain_product_port2_summed_variable_factor_b_post",
        "rrnn_covariance_read_covariance_to_gain_product_port1_summed_variable_factor_a_post",
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
def test_brian2_options_are_refused(fixed_graph, observations):
    y = observations[0, :5]
    with pytest.raises(ParameterError, match="target"):
        run_brian2(fixed_graph, y, target="cuda")
    with pytest.raises(ParameterError, match="report"):
        run_brian2(fixed_graph, y, report='std::cout << "injected";')  # Brian2 would compile it as C++
    with pytest.raises(ParameterError, match="report"):
        run_brian2(fixed_graph, y, target="cpp_standalone", report=print)  # checked before any build


def test_kind_without_template_is_reported(fixed_graph, observations, monkeypatch):
    monkeypatch.delitem(TEMPLATES.nodes, "evidence")
    with pytest.raises(MissingTemplateError, match="evidence"):
        run_brian2(fixed_graph, observations[0, :5])


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        TEMPLATES.node("state")(lambda context, population: None)


def test_the_checks_of_an_unchanged_graph_run_once_and_an_edit_is_seen(fixed_graph, observations, monkeypatch):
    from rrnn_net.backends import layout

    calls = []
    monkeypatch.setattr(layout, "validate_graph", lambda graph: calls.append(graph) or validate_graph(graph))
    monkeypatch.setattr(layout, "_last_checked", {})  # what earlier tests left
    graph = fixed_graph.copy()
    first = run_brian2(graph, observations[0, :10])
    again = run_brian2(graph.copy(), observations[1, :10])  # another object with the same content: no new checks
    assert len(calls) == 1 and not again.extras["rebuilt"]
    graph.edges["state:1", "state:0"]["weight"] += 0.5  # edited in place: checked again, and it counts
    edited = run_brian2(graph, observations[0, :10])
    assert len(calls) == 2 and np.abs(edited.mean - first.mean).max() > 1e-3
    fresh = run_reference(graph, observations[0, :10])
    np.testing.assert_allclose(edited.mean, fresh.mean, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("run_graph", [run_reference, run_brian2], ids=["reference", "brian2"])
def test_record_given_as_an_iterator_is_read_once_and_a_step_may_carry_its_unit(fixed_graph, adaptive_graph,
                                                                               observations, run_graph):
    from brian2 import ms, mV

    from rrnn_net.backends import layout
    from rrnn_net.errors import UnitError

    y = observations[:, :40]
    layout._last_checked.clear()  # a first call: the checks' memo used to take the iterator's names
    listed = run_graph(adaptive_graph, y, record=["covariance"])
    layout._last_checked.clear()
    iterated = run_graph(adaptive_graph, y, record=iter(["covariance"]))
    assert iterated.cov is not None and np.array_equal(iterated.cov, listed.cov)
    step = fixed_graph.graph["integration_step"]
    np.testing.assert_array_equal(run_graph(fixed_graph, y, step=step * 1000 * ms).mean,
                                  run_graph(fixed_graph, y, step=step).mean)
    with pytest.raises(UnitError, match="step must be a time"):
        run_graph(fixed_graph, y, step=step * 1000 * mV)
