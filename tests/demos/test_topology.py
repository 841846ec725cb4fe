import json

import networkx as nx
import pytest

from rrnn_net.demos import run_demo
from rrnn_net.graph import load_graph, summarize

from . import assert_one_line_summary

GRAPHS = ("rrnn_adaptive", "rrnn_fixed", "baseline")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("topology")
    return out, run_demo("topology", out, seed=0, fast=True)


def test_writes_figures_graph_files_and_metrics(demo):
    out, metrics = demo
    for name in (*GRAPHS, "topology_scaling"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    assert json.loads((out / "metrics.json").read_text()) == metrics
    for name in GRAPHS:
        entry = metrics["graphs"][name]
        assert entry["files"] == [f"{name}.png", f"{name}.graphml", f"{name}.json"]
        assert entry["files_read_back_equal"]
        # The GraphML is plain GraphML: networkx's own reader (as Gephi or Cytoscape would) reads every unit.
        assert nx.read_graphml(out / f"{name}.graphml").number_of_nodes() == entry["n_units"]


def test_summaries_count_units_and_connections_per_kind(demo):
    out, metrics = demo
    n, m = metrics["model"]["n_hidden"], metrics["model"]["n_obs"]
    adaptive, fixed, baseline = (metrics["graphs"][name] for name in GRAPHS)
    assert adaptive["units_per_kind"]["covariance"] == n * n
    assert adaptive["units_per_kind"]["quadratic"] == m * n * n
    # scaled_covariance and gain_product N² each, projection m·N, quadratic m·N²
    assert adaptive["n_multiplicative_units"] == 2 * n * n + m * n + m * n * n
    assert fixed["connections_per_kind"]["fixed_gain"] == n * m
    assert fixed["n_multiplicative_units"] == baseline["n_multiplicative_units"] == 0
    assert set(baseline["units_per_kind"]) == {"input", "hidden", "output"}
    for name in GRAPHS:
        entry = metrics["graphs"][name]
        assert entry["locality_ok"] and entry["n_locality_violations"] == 0
        assert sum(entry["units_per_kind"].values()) == entry["n_units"]
        assert sum(entry["connections_per_kind"].values()) == entry["n_connections"]
        assert summarize(load_graph(out / f"{name}.json")).n_edges == entry["n_connections"]


def test_adaptive_connections_grow_faster_than_n_squared_fixed_ones_do_not(demo):
    scaling = demo[1]["scaling"]
    assert scaling["n_hidden"] == [2, 4, 8]
    adaptive, fixed = scaling["rrnn_adaptive_connections"], scaling["rrnn_fixed_connections"]
    # Doubling N: the O(N³) drift wiring takes the adaptive form past ×4, the fixed form stays below it.
    assert 4 < adaptive[2] / adaptive[1] <= 8
    assert 2 < fixed[2] / fixed[1] <= 4


def test_the_one_line_summary_names_its_headline_metrics(demo):
    assert_one_line_summary("topology", demo[1])
