"""summarize: counts, degrees, product units and the locality check."""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net.graph import compile_rrnn, summarize
from rrnn_net.graph.examples import example_graphs


def test_summary_counts_every_kind(model):
    summary = summarize(compile_rrnn(model))
    n, m = model.n_hidden, model.n_obs
    assert summary.node_counts == {"sensory": m, "error": m, "state": n, "evidence": 1, "covariance": n * n,
                                   "scaled_covariance": n * n, "projection": m * n, "quadratic": m * n * n,
                                   "gain_product": n * n}
    assert summary.edge_counts["drift"] == 2 * n**3 - n**2
    assert summary.edge_counts["gate"] == m * n
    assert summary.n_product_units == 2 * n * n + m * n + m * n * n  # scaled, projection, quadratic, gain
    assert summary.n_nodes == sum(summary.node_counts.values())
    assert summary.is_local and summary.locality_violations == []


def test_degree_statistics(model):
    summary = summarize(compile_rrnn(model))
    n, m = model.n_hidden, model.n_obs
    # a state unit reads n recurrent, m feedback and n gain edges
    assert summary.in_degree["state"] == (n + m + n, float(n + m + n), n + m + n)
    # diagonal quadratic units have one port-3 input, the others two
    low, mean, high = summary.in_degree["quadratic"]
    assert (low, high) == (1, 2) and np.isclose(mean, (2 * n * n - n) / (n * n))
    assert summary.out_degree["evidence"] == (0, 0.0, 0)


def test_fixed_and_baseline_summaries_have_no_product_units():
    graphs = example_graphs(["rrnn_fixed", "baseline"])
    assert summarize(graphs["rrnn_fixed"]).n_product_units == 0
    assert set(summarize(graphs["baseline"]).node_counts) == {"input", "hidden", "output"}


def test_summary_text_reports_locality(model):
    text = str(summarize(compile_rrnn(model)))
    assert "locality: ok" in text and "quadratic_factor" in text and "72 multiplicative units" in text


def test_summary_reports_consistency_and_to_matrices_points_to_it(model):
    from rrnn_net.graph import GraphSchemaError, lesion, to_matrices

    G = compile_rrnn(model)
    summary = summarize(G)
    assert summary.consistency.is_exact and "consistency: exact" in str(summary)
    lesioned = lesion(G, edges="feedback", scale=0.5)
    assert "consistency: inexact, 8 disagreeing entries" in str(summarize(lesioned))
    with pytest.raises(GraphSchemaError, match=r"M\[0,0\]: prediction .* \(and 7 more\).*consistency\(G\)"):
        to_matrices(lesioned)
