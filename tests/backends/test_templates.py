"""Every backend's templates agree with the kind records: same variables, same units, nothing undeclared."""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import BrianLogger, get_dimensions, hertz, second

from rrnn_net.backends.brian2_circuit import RRNNCircuit
from rrnn_net.backends.brian2_templates import TEMPLATES as BRIAN2
from rrnn_net.backends.layout import graph_layout
from rrnn_net.backends.reference import TEMPLATES as REFERENCE
from rrnn_net.graph import compile_baseline
from rrnn_net.graph.kinds import EDGE_KINDS, NODE_KINDS, input_variables

DIMENSIONS = {"1": get_dimensions(1), "hertz": get_dimensions(hertz), "second": get_dimensions(second)}


def record_variables(kind: str) -> dict[str, str]:
    """Name -> unit of every variable the record says a unit of ``kind`` has."""
    record = NODE_KINDS[kind]
    initial = {state.initial for state in record.state}
    variables = {number.name: number.unit for number in record.numbers if number.name not in initial}
    variables.update({variable.name: variable.unit for variable in (*record.provides, *record.state)})
    variables.update(input_variables(kind))
    return variables


@pytest.fixture(scope="module")
def brian2_groups(adaptive_graph, fixed_graph, noise_graph, observations):
    baseline = compile_baseline(np.eye(3) * 0.5, np.ones((3, 2)), np.ones((1, 3)), tau=0.02, sample_interval=0.005)
    BrianLogger.suppress_name("unused_brian_object")  # these networks are inspected, never run
    groups = {}
    for graph, y in ((adaptive_graph, observations[:, :3]), (fixed_graph, observations[:, :3]),
                     (noise_graph, observations[:, :3]),
                     (baseline, np.zeros((1, 3, 2)))):
        groups.update(RRNNCircuit(graph, observations=y).groups)
    return groups


def test_every_kind_has_a_template_on_every_backend():
    for registry in (BRIAN2, REFERENCE):
        assert set(registry.nodes) == set(NODE_KINDS), registry.backend
        assert set(registry.edges) <= set(EDGE_KINDS)


@pytest.mark.parametrize("kind", sorted(NODE_KINDS))
def test_brian2_groups_declare_exactly_the_recorded_variables_with_their_units(kind, brian2_groups):
    group = brian2_groups[kind]
    expected = record_variables(kind)
    assert set(group.equations.names) == set(expected), kind
    for name, unit in expected.items():
        assert group.variables[name].dim is DIMENSIONS[unit], (kind, name)


@pytest.mark.parametrize("kind", sorted(NODE_KINDS))
def test_reference_rules_compute_exactly_the_provided_and_state_variables(kind, adaptive_graph):
    record = NODE_KINDS[kind]
    population = graph_layout(adaptive_graph, 1).populations.get(kind)  # templates may read it; none do yet
    rules = REFERENCE.lookup_node(kind)(population, "tanh")
    expected = {variable.name for variable in record.provides} | {"d" + state.name for state in record.state}
    assert set(rules) == expected
