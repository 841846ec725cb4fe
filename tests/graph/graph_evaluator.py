"""Evaluate a compiled graph node by node, by message passing over its edges (test helper).

This is an independent, deliberately naive reading of docs/graph_spec.md: each
node computes its variables from its own attributes and the messages on its
in-edges only (message = edge weight × the source variable the edge kind
carries, per ``EDGE_KINDS[kind].carries``). Nothing here looks at a model or
at a matrix, so agreement with ContinuousRHS shows that the graph *is* the filter.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from rrnn_net.graph.schema import EDGE_KINDS


def _messages(G: nx.DiGraph, node, values: dict, edge_kind: str | None = None, port: int | None = None):
    """Weighted messages arriving at ``node`` (optionally of one edge kind / one factor port)."""
    total = 0.0
    for source, _, data in G.in_edges(node, data=True):
        if edge_kind is not None and data["kind"] != edge_kind:
            continue
        if port is not None and data.get("port") not in (port, 3):
            continue
        total += data["weight"] * values[source][EDGE_KINDS[data["kind"]].carries]
    return total


def _nodes_of(G: nx.DiGraph, kind: str) -> list:
    return [node for node, node_kind in G.nodes(data="kind") if node_kind == kind]


def _product(G: nx.DiGraph, node, values: dict) -> float:
    return G.nodes[node]["gain"] * _messages(G, node, values, port=1) * _messages(G, node, values, port=2)


def evaluate_filter_graph(G: nx.DiGraph, mean: np.ndarray, cov: np.ndarray | None, y: np.ndarray) -> dict:
    """Right-hand side of the filter from the graph alone.

    Parameters
    ----------
    mean : (N,), cov : (N, N) or None (fixed gain), y : (m,) with NaN for missing.

    Returns
    -------
    dict with d_mean (N,), d_cov (N, N) or None, d_evidence (float), epsilon (m,).
    """
    tanh = G.graph["activation"] == "tanh"
    values: dict = {}
    for node in _nodes_of(G, "sensory"):
        sample = y[G.nodes[node]["index"]]
        missing = math.isnan(sample)
        values[node] = {"observation": 0.0 if missing else sample, "gate": 0.0 if missing else 1.0}
    for node in _nodes_of(G, "state"):
        mu = mean[G.nodes[node]["index"]]
        rate = math.tanh(mu) if tanh else mu
        values[node] = {"mean": mu, "rate": rate, "slope": 1.0 - rate**2 if tanh else 1.0}
    for node in _nodes_of(G, "covariance"):
        values[node] = {"covariance": cov[G.nodes[node]["row"], G.nodes[node]["col"]]}
    for node in _nodes_of(G, "error"):
        attributes = G.nodes[node]
        (sensory,) = [source for source, _, kind in G.in_edges(node, data="kind") if kind == "sensory"]
        gate = values[sensory]["gate"]
        epsilon = gate * (_messages(G, node, values, "sensory") - attributes["offset"]
                          + _messages(G, node, values, "prediction"))
        xi = attributes["precision"] * epsilon
        values[node] = {"epsilon": epsilon, "xi": xi, "surprise": xi * epsilon}
    for node in _nodes_of(G, "state"):
        values[node]["back_error"] = values[node]["slope"] * _messages(G, node, values, "feedback")
    for node in _nodes_of(G, "scaled_covariance"):
        values[node] = {"product": _product(G, node, values)}
    for node in _nodes_of(G, "projection"):
        values[node] = {"projection": _product(G, node, values)}
    for kind in ("quadratic", "gain_product"):
        for node in _nodes_of(G, kind):
            values[node] = {"product": _product(G, node, values)}
    return _derivatives(G, values, mean, cov)


def _derivatives(G: nx.DiGraph, values: dict, mean: np.ndarray, cov: np.ndarray | None) -> dict:
    n, m = G.graph["n_hidden"], G.graph["n_obs"]
    d_mean = np.empty(n)
    for node in _nodes_of(G, "state"):
        attributes = G.nodes[node]
        recurrent = _messages(G, node, values, "recurrent")
        leaky = (-values[node]["mean"] + recurrent + attributes["bias"]) / attributes["tau"]
        correction = _messages(G, node, values, "gain") + _messages(G, node, values, "fixed_gain")
        d_mean[attributes["index"]] = leaky + correction
    d_cov = None
    if cov is not None:
        d_cov = np.empty((n, n))
        for node in _nodes_of(G, "covariance"):
            attributes = G.nodes[node]
            d_cov[attributes["row"], attributes["col"]] = (
                -2.0 * values[node]["covariance"] / attributes["tau"] + attributes["process_noise"]
                + _messages(G, node, values, "drift") + _messages(G, node, values, "quadratic"))
    epsilon = np.empty(m)
    for node in _nodes_of(G, "error"):
        epsilon[G.nodes[node]["index"]] = values[node]["epsilon"]
    (evidence,) = _nodes_of(G, "evidence")
    return {"d_mean": d_mean, "d_cov": d_cov, "d_evidence": _messages(G, evidence, values), "epsilon": epsilon}


def evaluate_baseline_graph(G: nx.DiGraph, x: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx/dt (N,), output (n_output,)) of a baseline graph at hidden state ``x`` and input ``u``."""
    tanh = G.graph["activation"] == "tanh"
    values = {}
    for node in _nodes_of(G, "input"):
        values[node] = {"input": u[G.nodes[node]["index"]]}
    for node in _nodes_of(G, "hidden"):
        state = x[G.nodes[node]["index"]]
        values[node] = {"rate": math.tanh(state) if tanh else state}
    dx = np.empty(G.graph["n_hidden"])
    for node in _nodes_of(G, "hidden"):
        attributes = G.nodes[node]
        total_input = _messages(G, node, values)  # input and recurrent edges
        dx[attributes["index"]] = (-x[attributes["index"]] + total_input + attributes["bias"]) / attributes["tau"]
    output = np.empty(G.graph["n_output"])
    for node in _nodes_of(G, "output"):
        output[G.nodes[node]["index"]] = _messages(G, node, values) + G.nodes[node]["offset"]
    return dx, output
