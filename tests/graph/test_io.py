"""save_graph / load_graph: exact round trips, strict parsing of hostile files, and a mutation property test."""

from __future__ import annotations

import io
import json
import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rrnn_net.graph import GraphSchemaError, compile_rrnn, load_graph, save_graph, validate_graph
from rrnn_net.graph.examples import example_graphs
from rrnn_net.graph.io import graph_from_bytes, graph_to_bytes

FORMATS = ("graphml", "json")


def awkward_graph(model) -> nx.DiGraph:
    """A graph whose floats need all 17 significant digits, subnormals, -0.0 and huge exponents."""
    rng = np.random.default_rng(11)
    mean0 = rng.standard_normal(4) * 1e-3
    mean0[0], mean0[1], mean0[2] = 5e-324, -0.0, 1.2345678901234567e300
    G = compile_rrnn(model, mean0=mean0)
    G.edges["state:1", "state:0"]["weight"] = np.nextafter(0.1, 1.0)  # a numpy scalar, cast on the way out
    return G


def assert_identical(H: nx.DiGraph, G: nx.DiGraph) -> None:
    """Same attributes, same order, same Python types and the same float bits."""
    def bits(value):
        return (type(value).__name__, float(value).hex() if isinstance(value, float) else value)

    assert [(k, bits(v)) for k, v in H.graph.items()] == [(k, bits(v)) for k, v in G.graph.items()]
    assert [(n, [(k, bits(v)) for k, v in d.items()]) for n, d in H.nodes(data=True)] == [
        (n, [(k, bits(v)) for k, v in d.items()]) for n, d in G.nodes(data=True)]
    assert [(s, t, [(k, bits(v)) for k, v in d.items()]) for s, t, d in H.edges(data=True)] == [
        (s, t, [(k, bits(v)) for k, v in d.items()]) for s, t, d in G.edges(data=True)]


# ------------------------------------------------------------ round trips
@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_path_round_trip_is_exact(model, tmp_path, suffix):
    G = awkward_graph(model)
    save_graph(G, tmp_path / f"g{suffix}")
    H = load_graph(tmp_path / f"g{suffix}")
    expected = G.copy()
    expected.edges["state:1", "state:0"]["weight"] = float(np.nextafter(0.1, 1.0))
    assert_identical(H, expected)
    assert type(H.edges["state:1", "state:0"]["weight"]) is float
    assert graph_to_bytes(H, suffix[1:]) == (tmp_path / f"g{suffix}").read_bytes()


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("mode", ["binary", "text"])
def test_file_object_round_trip_is_exact(model, file_format, mode):
    G = compile_rrnn(model, gain_mode="fixed", fixed_gain=np.random.default_rng(1).standard_normal((4, 2)))
    buffer = io.BytesIO() if mode == "binary" else io.StringIO()
    save_graph(G, buffer, format=file_format)
    buffer.seek(0)
    assert_identical(load_graph(buffer, format=file_format), G)


def test_graphml_is_readable_by_networkx(model):
    G = compile_rrnn(model)
    H = nx.read_graphml(io.BytesIO(graph_to_bytes(G, "graphml")))
    assert H.edges["scaled_covariance:1,2", "covariance:0,2"] == G.edges["scaled_covariance:1,2", "covariance:0,2"]
    assert H.nodes["quadratic:1,0,3"] == G.nodes["quadratic:1,0,3"]


def test_json_is_networkx_node_link_data(model):
    G = compile_rrnn(model)
    H = nx.node_link_graph(json.loads(graph_to_bytes(G, "json")), edges="edges")
    assert_identical(H, G)


def test_saving_an_invalid_graph_writes_nothing(model, tmp_path):
    G = compile_rrnn(model)
    G.nodes["state:0"]["bias"] = float("nan")
    with pytest.raises(GraphSchemaError, match="finite"):
        save_graph(G, tmp_path / "bad.graphml")
    assert not (tmp_path / "bad.graphml").exists()


def test_format_must_be_known(model, tmp_path):
    G = compile_rrnn(model)
    with pytest.raises(GraphSchemaError, match="suffix"):
        save_graph(G, tmp_path / "g.xml")
    with pytest.raises(GraphSchemaError, match="format="):
        save_graph(G, io.BytesIO())
    with pytest.raises(GraphSchemaError, match="unknown graph format"):
        save_graph(G, io.BytesIO(), format="gexf")


# ------------------------------------------------------- hostile GraphML
@pytest.fixture(scope="module")
def graphml_text(model) -> str:
    return graph_to_bytes(compile_rrnn(model), "graphml").decode()


def replace_once(text: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, pattern
    return changed


GRAPHML_CASES = {
    "code in a kind": (lambda t: replace_once(t, r'<data key="n_kind">state</data>',
                                              '<data key="n_kind">__import__("os").system("id")</data>'),
                       r"node 'state:0'.*kind must be one of"),
    "shell text in a weight": (lambda t: replace_once(t, r'(<data key="e_weight">)[^<]*', r"\g<1>1; rm -rf ~"),
                               r"'weight'.*not a valid double"),
    "weight declared as string": (lambda t: replace_once(t, r'(attr.name="weight" attr.type=")double', r"\1string"),
                                  "'weight' must be a number"),
    "missing weight": (lambda t: replace_once(t, r'\s*<data key="e_weight">[^<]*</data>', ""),
                       "'weight' is missing"),
    "nan weight": (lambda t: replace_once(t, r'(<data key="e_weight">)[^<]*', r"\g<1>NaN"), "must be finite"),
    "inf weight": (lambda t: replace_once(t, r'(<data key="e_weight">)[^<]*', r"\g<1>-inf"), "must be finite"),
    "overflowing weight": (lambda t: replace_once(t, r'(<data key="e_weight">)[^<]*', r"\g<1>1e999"), "finite"),
    "duplicated indices": (lambda t: replace_once(t, r'(<node id="state:1">\s*<data key="n_kind">state</data>\s*'
                                                     r'<data key="n_index">)1', r"\g<1>0"), "duplicated indices"),
    "duplicated node id": (lambda t: replace_once(t, r'(<node id="state:1">)', r'<node id="state:0"></node>\1'),
                           "duplicated node id"),
    "parallel edge": (lambda t: replace_once(t, r'(<edge source="state:1" target="state:0">)',
                                             r'<edge source="state:1" target="state:0"></edge>\1'), "parallel edge"),
    "wrong schema version": (lambda t: replace_once(t, r'(<data key="g_schema_version">)1', r"\g<1>2"),
                             "schema_version must be 1"),
    "truncated file": (lambda t: t[: len(t) // 2], "not well-formed XML"),
    "empty file": (lambda t: "", "not well-formed XML"),
    "entity expansion": (lambda t: t.replace("<graphml", '<!DOCTYPE g [<!ENTITY a "aaaa">]><graphml', 1),
                         "DOCTYPE"),
    "key default": (lambda t: replace_once(t, r'(<key id="n_kind"[^>]*)/>', r"\1><default>state</default></key>"),
                    "defaults"),
    "undirected": (lambda t: t.replace('edgedefault="directed"', 'edgedefault="undirected"'), "directed"),
    "undeclared key": (lambda t: replace_once(t, r'<data key="e_weight">', '<data key="e_script">'),
                       "no edge key declaration"),
    "extra attribute": (lambda t: replace_once(t, r'(<node id="state:0">)',
                                               r'\1<data key="n_label">x</data>').replace(
                            "<graph ", '<key id="n_label" for="node" attr.name="label" attr.type="string"/>\n'
                                       "<graph ", 1), "unknown attribute"),
    "foreign element": (lambda t: replace_once(t, r"(<node id=\"state:0\">)", r"\1<script>x</script>"),
                        "unexpected element"),
    "edge to an undeclared node": (lambda t: replace_once(t, r'target="state:0"', 'target="state:99"'),
                                   "not declared"),
}


@pytest.mark.parametrize("case", sorted(GRAPHML_CASES))
def test_hostile_graphml_is_rejected_by_name(graphml_text, case):
    mutate, message = GRAPHML_CASES[case]
    with pytest.raises(GraphSchemaError, match=message):
        graph_from_bytes(mutate(graphml_text).encode(), "graphml")


def test_a_truncated_file_on_disk_is_rejected(model, tmp_path):
    path = tmp_path / "g.graphml"
    save_graph(compile_rrnn(model), path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(GraphSchemaError):
        load_graph(path)


# ---------------------------------------------------------- hostile JSON
@pytest.fixture(scope="module")
def json_document(model) -> dict:
    return json.loads(graph_to_bytes(compile_rrnn(model), "json"))


def _edit(function):
    def mutate(document: dict) -> str:
        function(document)
        return json.dumps(document)
    return mutate


JSON_CASES = {
    "extra top-level key": (_edit(lambda d: d.update(script="rm -rf ~")), "exactly the keys"),
    "missing top-level key": (_edit(lambda d: d.pop("edges")), "exactly the keys"),
    "extra node key": (_edit(lambda d: d["nodes"][0].update(label="x")), "unknown attribute"),
    "extra graph key": (_edit(lambda d: d["graph"].update(code="exec('x')")), "unknown attribute 'code'"),
    "string index": (_edit(lambda d: d["nodes"][0].update(index="0")), "must be an integer"),
    "list weight": (_edit(lambda d: d["edges"][0].update(weight=[1.0])), "number or a string"),
    "bool weight": (_edit(lambda d: d["edges"][0].update(weight=True)), "number or a string"),
    "null weight": (_edit(lambda d: d["edges"][0].update(weight=None)), "number or a string"),
    "missing weight": (_edit(lambda d: d["edges"][0].pop("weight")), "'weight' is missing"),
    "wrong schema version": (_edit(lambda d: d["graph"].update(schema_version=0)), "schema_version must be 1"),
    "undirected": (_edit(lambda d: d.update(directed=False)), "directed"),
    "nodes not a list": (_edit(lambda d: d.update(nodes={})), "'nodes' must be a list"),
    "node without id": (_edit(lambda d: d["nodes"][0].pop("id")), r"nodes\[0\]"),
    "duplicated node id": (_edit(lambda d: d["nodes"].append(dict(d["nodes"][0]))), "duplicated node id"),
    "top level a list": (lambda d: "[]", "top level"),
    "nan literal": (lambda d: json.dumps(d).replace('"weight": 1.0', '"weight": NaN', 1), "NaN"),
    "infinity literal": (lambda d: json.dumps(d).replace('"weight": 1.0', '"weight": -Infinity', 1), "Infinity"),
    "duplicated keys": (lambda d: json.dumps(d).replace('"weight": 1.0', '"weight": 1.0, "weight": 2.0', 1),
                        "duplicated key"),
    "truncated": (lambda d: json.dumps(d)[:500], "not valid JSON"),
    "huge integer": (lambda d: json.dumps(d).replace('"index": 0', '"index": ' + "9" * 5000, 1), "not valid JSON"),
    "not utf-8": (lambda d: "\udcff", "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_hostile_json_is_rejected_by_name(json_document, case):
    mutate, message = JSON_CASES[case]
    text = mutate(json.loads(json.dumps(json_document)))
    data = text.encode("utf-8", "surrogateescape")
    with pytest.raises(GraphSchemaError, match=message):
        graph_from_bytes(data, "json")


# ------------------------------------------------------ property testing
SMALL = {name: {fmt: graph_to_bytes(G, fmt) for fmt in FORMATS}
         for name, G in example_graphs(["rrnn_fixed", "baseline"]).items()}
TOKENS = ["", "0", "1", "-1", "2.5", "1e308", "1e999", "nan", "inf", "-0.0", "state", "error", "adaptive",
          "x", "'", '"', "<", ">", "&amp;", "__import__('os')", "{}", "[]", "true", "null", "9" * 30]


@st.composite
def byte_mutations(draw) -> tuple[bytes, str]:
    """A small example file with one region replaced by a token or random bytes."""
    name = draw(st.sampled_from(sorted(SMALL)))
    file_format = draw(st.sampled_from(FORMATS))
    data = SMALL[name][file_format]
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 40)))
    insert = draw(st.one_of(st.sampled_from(TOKENS).map(str.encode), st.binary(max_size=12)))
    return data[:start] + insert + data[end:], file_format


@st.composite
def value_mutations(draw) -> tuple[bytes, str]:
    """A small example graph, parsed, with one attribute set to an arbitrary JSON value or removed."""
    document = json.loads(SMALL[draw(st.sampled_from(sorted(SMALL)))]["json"])
    section = draw(st.sampled_from(["graph", "nodes", "edges"]))
    target = document["graph"] if section == "graph" else draw(st.sampled_from(document[section]))
    key = draw(st.one_of(st.sampled_from(sorted(target)), st.text(max_size=8)))
    values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                          lambda children: st.lists(children, max_size=3), max_leaves=5)
    if draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = draw(values)
    return json.dumps(document).encode(), "json"


def assert_loads_valid_or_rejects(data: bytes, file_format: str) -> None:
    try:
        G = load_graph(io.BytesIO(data), format=file_format)
    except GraphSchemaError:
        return
    validate_graph(G)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(byte_mutations())
def test_byte_mutations_load_valid_or_raise_schema_error(mutation):
    assert_loads_valid_or_rejects(*mutation)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value_mutations())
def test_value_mutations_load_valid_or_raise_schema_error(mutation):
    assert_loads_valid_or_rejects(*mutation)
