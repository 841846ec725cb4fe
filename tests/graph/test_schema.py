"""validate_graph: every rule rejects a graph that breaks it, naming the culprit."""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pytest

from rrnn_net.errors import RRNNError
from rrnn_net.graph import EDGE_KINDS, NODE_KINDS, GraphSchemaError, compile_rrnn, locality_violations, validate_graph
from rrnn_net.graph.examples import example_graphs


@pytest.fixture
def adaptive(model) -> nx.DiGraph:
    return compile_rrnn(model)


def test_graph_schema_error_is_a_library_and_value_error():
    assert issubclass(GraphSchemaError, RRNNError) and issubclass(GraphSchemaError, ValueError)


def test_compiled_and_example_graphs_are_valid(adaptive):
    validate_graph(adaptive)
    for G in example_graphs().values():
        validate_graph(G)
    assert locality_violations(adaptive) == []


def test_numpy_scalars_are_accepted_in_memory(adaptive):
    adaptive.nodes["state:0"]["bias"] = np.float64(0.5)
    adaptive.nodes["state:0"]["index"] = np.int64(0)
    validate_graph(adaptive)


def test_every_node_kind_reads_only_edge_kinds_that_exist():
    for kind in NODE_KINDS.values():
        assert set(kind.inputs) <= set(EDGE_KINDS), kind.name
        for edge_kind in kind.inputs:
            assert any(target == kind.name for _, target in EDGE_KINDS[edge_kind].pairs), (kind.name, edge_kind)


def _set(path: tuple, value):
    def mutate(G: nx.DiGraph) -> None:
        if path[0] == "graph":
            G.graph[path[1]] = value
        elif path[0] == "node":
            G.nodes[path[1]][path[2]] = value
        else:
            G.edges[path[1], path[2]][path[3]] = value
    return mutate


def _delete(path: tuple):
    def mutate(G: nx.DiGraph) -> None:
        (G.graph if path[0] == "graph" else G.nodes[path[1]] if path[0] == "node" else G.edges[path[1], path[2]]).pop(
            path[-1])
    return mutate


def _rename_node(old: str, new: str):
    def mutate(G: nx.DiGraph) -> None:
        nx.relabel_nodes(G, {old: new}, copy=False)
    return mutate


def _add_edge(source: str, target: str, **attributes):
    def mutate(G: nx.DiGraph) -> None:
        G.add_edge(source, target, **attributes)
    return mutate


RECURRENT = ("edge", "state:1", "state:0")
CASES = {
    "unknown node kind": (_set(("node", "state:0", "kind"), "__import__('os').system('ls')"), r"node 'state:0'.*kind"),
    "unknown edge kind": (_set((*RECURRENT, "kind"), "rm -rf ~"), r"edge 'state:1' -> 'state:0'.*kind"),
    "string weight": (_set((*RECURRENT, "weight"), "1+1"), r"'state:1' -> 'state:0'.*'weight' must be a number"),
    "bool weight": (_set((*RECURRENT, "weight"), True), "must be a number"),
    "missing weight": (_delete((*RECURRENT, "weight")), r"'state:1' -> 'state:0'.*'weight' is missing"),
    "nan weight": (_set((*RECURRENT, "weight"), math.nan), "must be finite"),
    "inf weight": (_set((*RECURRENT, "weight"), math.inf), "must be finite"),
    "missing node attribute": (_delete(("node", "error:1", "precision")), r"node 'error:1'.*'precision' is missing"),
    "non-finite node attribute": (_set(("node", "covariance:1,2", "cov0"), -math.inf), r"'covariance:1,2'.*finite"),
    "float index": (_set(("node", "state:2", "index"), 2.0), r"node 'state:2'.*'index' must be an integer"),
    "index out of range": (_set(("node", "state:2", "index"), 9), "outside"),
    "duplicated indices": (_set(("node", "state:2", "index"), 1), r"duplicated indices.*'state:1'.*'state:2'"),
    "non-canonical id": (_rename_node("state:2", "state:02"), "id must be 'state:2'"),
    "unknown node attribute": (_set(("node", "state:0", "label"), 1.0), r"unknown attribute.*label"),
    "unknown edge attribute": (_set((*RECURRENT, "delay"), 1.0), r"unknown attribute.*delay"),
    "wrong schema version": (_set(("graph", "schema_version"), 2), "schema_version must be 1"),
    "string schema version": (_set(("graph", "schema_version"), "1"), "schema_version must be 1"),
    "unknown activation": (_set(("graph", "activation"), "relu"), "activation must be one of"),
    "free-text graph attribute": (_set(("graph", "note"), "exec('x')"), "unknown attribute 'note'"),
    "string provenance": (_set(("graph", "provenance_seed"), "0"), "provenance_seed"),
    "missing graph attribute": (_delete(("graph", "tau")), "'tau' is missing"),
    "disallowed edge pair": (_add_edge("error:0", "error:1", kind="recurrent", weight=1.0),
                             "may not run from a 'error' to a 'error'"),
    "edge kind of the other mode": (_add_edge("error:0", "state:1", kind="fixed_gain", weight=1.0),
                                    "not allowed in a gain_mode='adaptive'"),
    "mismatched indices": (_add_edge("sensory:0", "error:1", kind="sensory", weight=1.0),
                           "does not connect matching indices"),
    "missing port": (_delete(("edge", "state:2", "scaled_covariance:2,3", "port")), "'port' must be an integer"),
    "wrong port": (_set(("edge", "state:2", "scaled_covariance:2,3", "port"), 2), "port must be one of"),
    "port on plain edge": (_set((*RECURRENT, "port"), 1), "only edges into product nodes"),
    "missing node": (lambda G: G.remove_node("covariance:3,3"), "expected 16 'covariance'"),
    "extra sensory edge": (_add_edge("state:0", "sensory:0", kind="prediction", weight=1.0), "may not run"),
    "product factor unfed": (lambda G: G.remove_edge("projection:0,1", "quadratic:0,1,2"), "quadratic:0,1,2"),
    "error without sensory input": (lambda G: G.remove_edge("sensory:1", "error:1"), r"'error:1'.*'sensory'"),
    # Physical ranges (issue 13): impossible numbers that used to validate and run.
    "state tau zero": (_set(("node", "state:0", "tau"), 0.0), r"node 'state:0': tau must be > 0 \(second\)"),
    "negative state tau": (_set(("node", "state:0", "tau"), -0.02), r"node 'state:0': tau must be > 0"),
    "negative precision": (_set(("node", "error:1", "precision"), -1.0), r"node 'error:1': precision must be >= 0"),
    "negative cov0 variance": (_set(("node", "covariance:1,1", "cov0"), -0.5),
                               r"node 'covariance:1,1': cov0 = -0.5 is a variance and must be >= 0"),
    "asymmetric cov0": (_set(("node", "covariance:1,2", "cov0"), 0.3),
                        r"node 'covariance:1,2': cov0 = 0.3 but node 'covariance:2,1' has 0.0"),
    "indefinite cov0": (lambda G: [G.nodes[node].update(cov0=10.0) for node in ("covariance:0,1", "covariance:1,0")],
                        r"cov0 values of the covariance units form no positive semidefinite matrix"),
    "negative process noise variance": (_set(("node", "covariance:3,3", "process_noise"), -1.0),
                                        r"node 'covariance:3,3': process_noise = -1.0 is a variance"),
    "asymmetric process noise": (_set(("node", "covariance:0,2", "process_noise"), 5.0),
                                 r"node 'covariance:0,2': process_noise = 5.0 but node 'covariance:2,0'"),
    "step at twice the graph tau": (_set(("graph", "integration_step"), 0.04),
                                    r"graph: its time constant 0.02 s is too short .* below 2\*tau = 0.04 s"),
    "step at twice a unit's tau": (_set(("node", "covariance:2,3", "tau"), 0.001),
                                   r"node 'covariance:2,3': its time constant 0.001 s .* h = 0.0025 s"),
    # to_matrices takes round(Δ/h) steps: a step that does not divide Δ would give another model's numbers.
    "step not dividing the interval": (_set(("graph", "integration_step"), 0.003),
                                       r"graph: integration_step and sample_interval: the step 0.003 s must "
                                       r"divide the sampling interval 0.005 s"),
    "step longer than the interval": (_set(("graph", "integration_step"), 0.01),
                                      r"the step 0.01 s must divide the sampling interval 0.005 s"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_rejects_with_a_named_culprit(adaptive, case):
    mutate, message = CASES[case]
    mutate(adaptive)
    with pytest.raises(GraphSchemaError, match=message):
        validate_graph(adaptive)


def test_a_multigraph_is_refused():
    with pytest.raises(GraphSchemaError, match="DiGraph"):
        validate_graph(nx.MultiDiGraph())


def test_impossible_numbers_are_refused_on_load_with_the_specific_error(adaptive):
    from rrnn_net.errors import CovarianceError, UnstableSettingError
    from rrnn_net.graph import GraphCovarianceError, UnstableGraphError
    from rrnn_net.graph.io import graph_from_bytes, graph_to_bytes

    def edited(change) -> bytes:
        data = json.loads(graph_to_bytes(adaptive, "json"))
        change(data)
        return json.dumps(data).encode()

    def asymmetric(data):
        next(node for node in data["nodes"] if node["id"] == "covariance:0,1")["cov0"] = -0.25

    with pytest.raises(GraphCovarianceError, match=r"'covariance:0,1': cov0 = -0.25 but") as caught:
        graph_from_bytes(edited(asymmetric), "json")
    assert isinstance(caught.value, CovarianceError)
    with pytest.raises(UnstableGraphError, match="below 2\\*tau") as caught:
        graph_from_bytes(edited(lambda data: data["graph"].update(integration_step=0.045)), "json")
    assert isinstance(caught.value, UnstableSettingError)


def test_a_units_own_tau_may_differ_from_the_graphs_and_the_shortest_one_bounds_the_step(adaptive):
    from rrnn_net.graph.schema import shortest_time_constant

    adaptive.nodes["state:2"]["tau"] = 0.004  # an edited circuit: legitimate, reported by consistency()
    validate_graph(adaptive)
    assert shortest_time_constant(adaptive) == (0.004, "node 'state:2'")
