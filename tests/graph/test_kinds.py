"""The kind records: consistent with each other, the source of the schema, and enough to add a kind."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.graph import GraphSchemaError, compile_rrnn, node_id, summarize, validate_graph
from rrnn_net.graph.kinds import (
    EDGE_KINDS,
    GAIN_MODES,
    NODE_KINDS,
    UNIT_NAMES,
    EdgeKind,
    NodeKind,
    Number,
    Variable,
    edge_messages,
    input_variables,
    message_unit,
)
from rrnn_net.graph.schema import mode_edge_kinds, mode_node_kinds


@pytest.mark.parametrize("kind", sorted(NODE_KINDS))
def test_node_records_are_consistent(kind):
    record = NODE_KINDS[kind]
    assert record.modes and record.modes <= set(GAIN_MODES)
    for edge_kind in record.inputs:
        assert any(target == kind for _, target in EDGE_KINDS[edge_kind].pairs), edge_kind
    for variable in (*record.provides, *record.state):
        assert variable.unit in UNIT_NAMES and set(variable.reads) <= set(record.inputs), variable.name
    for state in record.state:
        assert state.initial is None or state.initial in record.number_names
    assert set(record.recorded) <= set(record.variables)
    assert all(number.unit in UNIT_NAMES for number in record.numbers)
    if record.product:
        assert set(input_variables(kind)) <= {"factor_a", "factor_b", "factor_ab"}
        assert record.provided("product").unit == message_unit_of_product(kind)


def message_unit_of_product(kind: str) -> str:
    """gain × A × B in units: at most one factor in hertz."""
    units = [NODE_KINDS[kind].number("gain").unit, *input_variables(kind).values()]
    return "hertz" if "hertz" in units else "1"


@pytest.mark.parametrize("kind", sorted(EDGE_KINDS))
def test_edge_records_are_consistent(kind):
    record = EDGE_KINDS[kind]
    for mode in record.modes:  # in each of its modes, some pair of its endpoints exists
        assert any(mode in NODE_KINDS[source].modes & NODE_KINDS[target].modes for source, target in record.pairs)
    for (source, target), ports in record.pairs.items():
        assert kind in NODE_KINDS[target].inputs, "the target reads this kind"
        assert bool(ports) == NODE_KINDS[target].product, "ports exactly into product units"
        for spec in record.messages:
            assert spec.source in NODE_KINDS[source].variables, (source, spec.source)
            message_unit(kind, source, spec.source)  # a supported unit
        for port in sorted(ports) or [None]:
            for spec in edge_messages(target, kind, port):
                assert spec.target in input_variables(target)


def test_one_input_variable_has_one_unit():
    """Every edge kind into a target sums into one variable of one unit, whichever source it comes from."""
    for kind in NODE_KINDS:
        seen: dict[str, str] = {}
        for edge_kind in NODE_KINDS[kind].inputs:
            for (source, target), ports in EDGE_KINDS[edge_kind].pairs.items():
                for port in sorted(ports) or [None]:
                    for spec in edge_messages(kind, edge_kind, port) if target == kind else ():
                        unit = message_unit(edge_kind, source, spec.source) if spec.weighted else \
                            NODE_KINDS[source].variables[spec.source].unit
                        assert seen.setdefault(spec.target, unit) == unit, (kind, spec.target)


def test_schema_tables_derive_from_the_records():
    assert mode_node_kinds("fixed") == {"sensory", "error", "state", "evidence"}
    assert mode_edge_kinds("none") == {"input", "recurrent", "readout"}
    assert NODE_KINDS["state"].number("tau") == Number("tau", "second", 0.0, strict=True, time_constant=True)


def test_numbers_outside_their_range_are_refused():
    G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
    broken = G.copy()
    broken.nodes["state:1"]["tau"] = 0.0
    with pytest.raises(GraphSchemaError, match=r"tau must be > 0 \(second\)"):
        validate_graph(broken)
    broken = G.copy()
    broken.nodes["error:0"]["precision"] = -1.0
    with pytest.raises(GraphSchemaError, match="precision must be >= 0"):
        validate_graph(broken)


def test_a_number_a_kind_lacks_is_a_key_error_naming_its_numbers():
    with pytest.raises(KeyError, match=r"'state' has no number 'x'; it has \['bias', 'tau', 'mean0'\]"):
        NODE_KINDS["state"].number("x")


def test_covariance_numbers_need_a_kind_indexed_by_row_and_col():
    from rrnn_net.errors import ParameterError
    from rrnn_net.graph.kinds import register_node_kind

    vector = NodeKind("vector_with_covariance", (("index", "n_hidden"),), (Number("cov0", covariance=True),))
    with pytest.raises(ParameterError, match="covariance numbers need indices \\(row, col\\)"):
        register_node_kind(vector)
    assert "vector_with_covariance" not in NODE_KINDS


def test_relations_pair_up_indices():
    assert EDGE_KINDS["gate"].relation({"index": 1}, {"row": 1, "col": 0}, 2)
    assert not EDGE_KINDS["gate"].relation({"index": 1}, {"row": 0, "col": 1}, 2)
    assert EDGE_KINDS["quadratic_factor"].relation({"row": 0, "col": 2}, {"obs": 0, "row": 2, "col": 2}, 3)
    assert not EDGE_KINDS["quadratic_factor"].relation({"row": 0, "col": 2}, {"obs": 0, "row": 2, "col": 1}, 3)
    assert math.isinf(Number("bias").minimum)


# ------------------------------------------------------- adding a node kind
TRACE_TAU = 0.05


@pytest.fixture
def error_trace_kind(monkeypatch):
    """A throwaway kind: a leaky trace of each prediction error, τ_e dē_j/dt = ε_j − ē_j.

    Adding it takes its two records, its compiler lines (:func:`add_error_traces`)
    and one template per backend — nothing else in the package changes.
    """
    from rrnn_net.backends.brian2_templates import TEMPLATES as BRIAN2
    from rrnn_net.backends.reference import TEMPLATES as REFERENCE

    node = NodeKind("error_trace", (("index", "n_obs"),), (Number("tau", "second", 0.0, strict=True),),
                    frozenset({"fixed"}), inputs={"error_trace": (1, 1)},
                    state=(Variable("trace", "1", "ē_j", ("error_trace",)),), recorded=("trace",), optional=True)
    edge = EdgeKind("error_trace", "error", {("error", "error_trace"): frozenset()}, frozenset({"fixed"}),
                    lambda source, target, port: source["index"] == target["index"], weight_unit="hertz")
    monkeypatch.setitem(NODE_KINDS, node.name, node)
    monkeypatch.setitem(EDGE_KINDS, edge.name, edge)
    monkeypatch.setitem(REFERENCE.nodes, "error_trace",
                        lambda population, activation: {"dtrace": lambda v: v["I_error_trace"] - v["trace"] / v["tau"]})
    monkeypatch.setitem(BRIAN2.nodes, "error_trace", lambda context, population: context.neuron_group(
        population, "dtrace/dt = I_error_trace - trace / tau : 1\ntau : second (constant)"))


def add_error_traces(G):
    """The compiler lines of the new kind: one trace unit per channel, fed by its error unit (weight 1/τ_e)."""
    for channel in range(G.graph["n_obs"]):
        G.add_node(node_id("error_trace", channel), kind="error_trace", index=channel, tau=TRACE_TAU)
        G.add_edge(node_id("error", channel), node_id("error_trace", channel), kind="error_trace",
                   weight=1.0 / TRACE_TAU)
    return G


def test_a_new_node_kind_needs_its_records_compiler_lines_and_a_template(error_trace_kind):
    from rrnn_net.backends import run

    model = GenerativeRNN.oscillator(3, 2, substeps=1, seed=0)
    _, y = model.simulate(60, batch=2, seed=1)
    plain = compile_rrnn(model, gain_mode="fixed")
    validate_graph(plain)  # an optional kind: graphs without it stay valid
    partial = add_error_traces(plain.copy())
    partial.remove_node("error_trace:1")
    with pytest.raises(GraphSchemaError, match="expected 2 'error_trace'"):
        validate_graph(partial)  # present, it is complete
    G = add_error_traces(plain)
    validate_graph(G)
    assert summarize(G).node_counts["error_trace"] == 2 and summarize(G).is_local
    results = [run(G, y, backend=backend, record="error_trace") for backend in ("reference", "brian2")]
    traces = [result.extras["monitors"]["error_trace"]["trace"] for result in results]
    np.testing.assert_allclose(traces[0], traces[1], rtol=0, atol=1e-12)
    # Independent check: one Euler step per sample (substeps = 1) of the low-pass of the recorded errors.
    errors, h = results[0].extras["monitors"]["error"]["error"], model.step
    expected = np.zeros_like(traces[0])
    for k in range(1, expected.shape[1]):
        expected[:, k] = expected[:, k - 1] + h * (errors[:, k - 1] - expected[:, k - 1]) / TRACE_TAU
    np.testing.assert_allclose(traces[0], expected, rtol=0, atol=1e-12)
    assert np.abs(expected).max() > 1e-3
    # Locality still holds: a trace unit fed by two errors is refused.
    G.add_edge("error:0", "error_trace:1", kind="error_trace", weight=1.0)
    with pytest.raises(GraphSchemaError, match="does not connect matching indices"):
        validate_graph(G)
