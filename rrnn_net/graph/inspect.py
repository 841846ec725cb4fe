"""Look inside a compiled graph: counts and locality (:func:`summarize`), matrices (:func:`to_matrices`), pictures.

:func:`to_matrices` is the inverse of the compiler: it reads the model's
matrices back from node and edge attributes and checks that every copy of a
parameter the graph holds (W on recurrent and on drift edges, M on prediction,
feedback and projection edges, λ on error and quadratic units, τ on every
unit) agrees (:func:`~rrnn_net.graph.consistency`), so a graph that
passes it computes the filter it claims. :func:`~rrnn_net.graph.draw` (the
picture) lives in :mod:`rrnn_net.graph.drawing`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from ..model import GenerativeRNN
from .consistency import Consistency, consistency
from .kinds import EDGE_KINDS, NODE_KINDS
from .schema import GraphSchemaError, locality_violations

__all__ = ["GraphSummary", "summarize", "to_matrices", "to_model"]


# ---------------------------------------------------------------- summary
@dataclass(frozen=True)
class GraphSummary:
    """Counts and checks of one graph; ``str()`` gives a printable report.

    Attributes
    ----------
    graph_attributes : dict
        The graph-level attributes (schema version, mode, Δ, τ, sizes, provenance).
    node_counts, edge_counts : dict of str to int
        Number of nodes / edges per kind present, in schema order.
    in_degree, out_degree : dict of str to (int, float, int)
        (minimum, mean, maximum) degree per node kind.
    n_product_units : int
        Multiplicative (sigma-pi) units: scaled_covariance, projection (gated), quadratic, gain_product.
    consistency : Consistency
        Whether the redundant copies of the parameters agree (:func:`~rrnn_net.graph.consistency`).
    locality_violations : list of str
        Nodes whose in-edges do not match their kind's template inputs; empty
        when every node's inputs come only through allowed in-edges.
    """

    graph_attributes: dict
    node_counts: dict[str, int]
    edge_counts: dict[str, int]
    in_degree: dict[str, tuple[int, float, int]]
    out_degree: dict[str, tuple[int, float, int]]
    n_product_units: int
    consistency: Consistency
    locality_violations: list[str] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        """Total number of units."""
        return sum(self.node_counts.values())

    @property
    def n_edges(self) -> int:
        """Total number of connections."""
        return sum(self.edge_counts.values())

    @property
    def is_local(self) -> bool:
        """Whether every node's inputs come only through its allowed in-edges."""
        return not self.locality_violations

    def __str__(self) -> str:
        attributes = self.graph_attributes
        lines = [f"{attributes.get('graph_type')} graph, gain_mode={attributes.get('gain_mode')}, "
                 f"schema_version={attributes.get('schema_version')}: {self.n_nodes} units, {self.n_edges} "
                 f"connections, {self.n_product_units} multiplicative units",
                 "  " + ", ".join(f"{name}={value}" for name, value in attributes.items()
                                  if name not in ("graph_type", "gain_mode", "schema_version")),
                 f"  {'node kind':<18}{'count':>7}{'in-degree min/mean/max':>26}{'out-degree min/mean/max':>27}"]
        for kind, count in self.node_counts.items():
            lines.append(f"  {kind:<18}{count:>7}{_degree_text(self.in_degree[kind]):>26}"
                         f"{_degree_text(self.out_degree[kind]):>27}")
        lines.append(f"  {'edge kind':<18}{'count':>7}")
        lines += [f"  {kind:<18}{count:>7}" for kind, count in self.edge_counts.items()]
        locality = "ok" if self.is_local else f"{len(self.locality_violations)} violation(s): " + "; ".join(
            self.locality_violations[:3])
        lines.append(f"  locality: {locality}")
        lines.append(f"  consistency: {self.consistency.headline}")
        return "\n".join(lines)


def _degree_text(stats: tuple[int, float, int]) -> str:
    low, mean, high = stats
    return f"{low} / {mean:.1f} / {high}"


def summarize(G: nx.DiGraph) -> GraphSummary:
    """Counts per node and edge kind, degree statistics, product units, the locality and the consistency check.

    Parameters
    ----------
    G : networkx.DiGraph
        A compiled graph (validated first: a summary of an invalid graph would mislead).

    Returns
    -------
    GraphSummary

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> summary = summarize(compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0)))
    >>> summary.node_counts["covariance"], summary.n_product_units, summary.is_local, summary.consistency.is_exact
    (9, 42, True, True)
    """
    report = consistency(G)  # validates G
    kinds = nx.get_node_attributes(G, "kind")
    present = Counter(kinds.values())
    node_counts = {kind: present[kind] for kind in NODE_KINDS if kind in present}
    in_degrees, out_degrees = defaultdict(list), defaultdict(list)
    for node, kind in kinds.items():
        in_degrees[kind].append(G.in_degree(node))
        out_degrees[kind].append(G.out_degree(node))
    edge_present = Counter(kind for _, _, kind in G.edges(data="kind"))
    return GraphSummary(
        graph_attributes=dict(G.graph),
        node_counts=node_counts,
        edge_counts={kind: edge_present[kind] for kind in EDGE_KINDS if kind in edge_present},
        in_degree={kind: _stats(in_degrees[kind]) for kind in node_counts},
        out_degree={kind: _stats(out_degrees[kind]) for kind in node_counts},
        n_product_units=sum(count for kind, count in present.items() if NODE_KINDS[kind].product),
        consistency=report,
        locality_violations=locality_violations(G),
    )


def _stats(values: list[int]) -> tuple[int, float, int]:
    return min(values), float(np.mean(values)), max(values)


# --------------------------------------------------------------- matrices
def to_matrices(G: nx.DiGraph) -> dict:
    """Recover the model's matrices from a compiled graph: the inverse of the compiler.

    Parameters
    ----------
    G : networkx.DiGraph
        A graph from :func:`~rrnn_net.graph.compile_rrnn` or
        :func:`~rrnn_net.graph.compile_baseline` (or a file of one), edited
        only in ways some model expresses.

    Returns
    -------
    dict
        Always ``graph_type``, ``gain_mode``, ``activation``, ``tau`` (s),
        ``sample_interval`` (sampling interval Δ, s), ``step`` (integration step h, s),
        ``substeps`` (round(Δ/h)). An rRNN adds ``W`` (N, N), ``M`` (m, N),
        ``b`` (N,), ``c`` (m,), ``mean0`` (N,), ``precision`` (m,) and ``R``
        (m, m) diagonal with λ_j = 1/(R_jj Δ) (inf where λ_j = 0, a channel
        the graph ignores; with online noise estimation:
        the precision units' prior, and ``noise_memory`` (m,) s and
        ``noise_prior_samples`` (m,)); the adaptive form adds
        ``feedback`` (N, m) = Mᵀ, ``drift`` (N, N) = W/τ (which the drift
        edges hold, to rounding), ``Q`` (N, N) and ``cov0`` (N, N); the fixed form adds
        ``K`` (N, m). A baseline gives ``W``, ``U`` (N, n_input), ``C``
        (n_output, N), ``b``, ``d``, ``x0``. An edge that is absent
        contributes a zero.

    Raises
    ------
    GraphSchemaError
        If the graph is invalid, or copies of one parameter disagree, or a
        weight fixed by the equations (e.g. a sensory edge's 1) differs: such
        a graph still runs, but no model has it as its filter;
        :func:`~rrnn_net.graph.consistency` lists every disagreeing entry.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> matrices = to_matrices(compile_rrnn(model))
    >>> bool(np.array_equal(matrices["W"], model.W)), matrices["feedback"].shape
    (True, (3, 2))
    """
    report = consistency(G)  # validates G
    if not report.is_exact:
        more = f" (and {len(report.mismatches) - 1} more)" if len(report.mismatches) > 1 else ""
        raise GraphSchemaError(f"copies of the graph's parameters disagree, so it is no model's exact filter: "
                               f"{report.mismatches[0]}{more}; rrnn_net.graph.consistency(G) lists them and what "
                               f"they change")
    graph = G.graph
    step = graph["integration_step"]
    result = {"graph_type": graph["graph_type"], "gain_mode": graph["gain_mode"], "activation": graph["activation"],
              "tau": graph["tau"], "sample_interval": graph["sample_interval"], "step": step,
              "substeps": round(graph["sample_interval"] / step)}
    if graph["graph_type"] == "baseline":
        result.update(_baseline_matrices(G))
    else:
        result.update(_filter_matrices(G))
        if graph["gain_mode"] == "adaptive":
            n = graph["n_hidden"]
            # The copies agree exactly (checked above), so they are the reference copies' values.
            result.update({"feedback": result["M"].T.copy(), "drift": result["W"] / graph["tau"],
                           "Q": _node_matrix(G, "covariance", "process_noise", n),
                           "cov0": _node_matrix(G, "covariance", "cov0", n)})
        else:
            result["K"] = _edge_matrix(G, "fixed_gain", (graph["n_hidden"], graph["n_obs"]))
    return result


def to_model(G: nx.DiGraph) -> GenerativeRNN:
    """The GenerativeRNN an adaptive rRNN graph computes: :func:`to_matrices` as a model.

    Parameters
    ----------
    G : networkx.DiGraph
        An adaptive-gain rRNN graph (only that form holds Q).

    Returns
    -------
    GenerativeRNN
        With the graph's W, M, b, c, τ, Δ, substeps, activation, Q and R
        (diagonal, from the precisions). The prior (``mean0``, ``cov0``) is
        in :func:`to_matrices`.

    Raises
    ------
    GraphSchemaError
        If the graph is invalid, or not an adaptive rRNN graph, or one of its
        error units has precision 0 (it ignores that channel: no model has
        infinite observation noise).

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> np.allclose(to_model(compile_rrnn(model)).W, model.W)
    True
    """
    matrices = to_matrices(G)
    if matrices["gain_mode"] != "adaptive":
        raise GraphSchemaError(f"only an adaptive rRNN graph holds a whole model (Q), this one has gain_mode "
                               f"{matrices['gain_mode']!r}")
    if ignored := [f"error:{j}" for j in np.flatnonzero(matrices["precision"] == 0.0)]:
        raise GraphSchemaError(f"error unit {ignored[0]!r} has precision 0, so the graph ignores its channel: no "
                               f"GenerativeRNN has infinite observation noise" + (
                                   f" (also {', '.join(map(repr, ignored[1:]))})" if len(ignored) > 1 else ""))
    return GenerativeRNN(**{name: matrices[name] for name in ("W", "M", "b", "c", "tau", "sample_interval", "Q", "R",
                                                              "substeps", "activation")})


def _node_vector(G: nx.DiGraph, kind: str, attribute: str, size: int) -> np.ndarray:
    vector = np.zeros(size)
    for _, data in G.nodes(data=True):
        if data["kind"] == kind:
            vector[data["index"]] = data[attribute]
    return vector


def _node_matrix(G: nx.DiGraph, kind: str, attribute: str, size: int) -> np.ndarray:
    matrix = np.zeros((size, size))
    for _, data in G.nodes(data=True):
        if data["kind"] == kind:
            matrix[data["row"], data["col"]] = data[attribute]
    return matrix


Entry = Callable[[dict, dict], tuple[int, int, float]]


def _by_index(source: dict, target: dict) -> tuple[int, int, float]:
    """Entry (target index, source index) of a dense projection such as W_ik on state k -> state i."""
    return target["index"], source["index"], 1.0


def _edge_matrix(G: nx.DiGraph, kind: str, shape: tuple[int, int], entry: Entry = _by_index) -> np.ndarray:
    """Matrix of the ``kind`` edges' weights (one edge per entry); ``entry(source, target)`` gives (row, col, factor).

    The value stored is ``factor × weight``.
    """
    matrix = np.zeros(shape)
    nodes = G.nodes
    for source, target, attributes in G.edges(data=True):
        if attributes["kind"] == kind:
            row, col, factor = entry(nodes[source], nodes[target])
            matrix[row, col] = factor * attributes["weight"]
    return matrix


def _filter_matrices(G: nx.DiGraph) -> dict:
    n, m = G.graph["n_hidden"], G.graph["n_obs"]
    interval = G.graph["sample_interval"]
    result = {
        "W": _edge_matrix(G, "recurrent", (n, n)),
        "M": _edge_matrix(G, "prediction", (m, n), lambda s, t: (t["index"], s["index"], -1.0)),
        "b": _node_vector(G, "state", "bias", n),
        "c": _node_vector(G, "error", "offset", m),
        "mean0": _node_vector(G, "state", "mean0", n),
    }
    if any(kind == "precision" for _, kind in G.nodes(data="kind")):
        # Online noise estimation: R is the precision units' prior mean β₀/α₀, λ the precision they start from.
        alpha0 = _node_vector(G, "precision", "alpha0", m)
        noise = _node_vector(G, "precision", "beta0", m) / alpha0
        result.update({"precision": 1.0 / (noise * interval), "R": np.diag(noise),
                       "noise_memory": _node_vector(G, "precision", "memory", m),
                       "noise_prior_samples": 2.0 * alpha0})
    else:
        precision = _node_vector(G, "error", "precision", m)
        result.update({"precision": precision, "R": np.diag(_noise_from_precision(precision, interval))})
    return result


def _noise_from_precision(precision: np.ndarray, sample_interval: float) -> np.ndarray:
    """R_jj from λ_j = 1/(R_jj Δ), chosen so that recompiling gives back exactly λ_j.

    1/(λΔ) can be off by an ulp from the R that was compiled; a few
    neighbouring floats are tried and the first that reproduces λ is kept.
    """
    with np.errstate(divide="ignore"):  # λ_j = 0: a channel the graph ignores, R_jj = inf
        naive = 1.0 / (precision * sample_interval)
    noise = naive.copy()
    for offset in (1, -1, 2, -2):
        candidate = naive + offset * np.spacing(naive)
        wrong = 1.0 / (noise * sample_interval) != precision
        noise[wrong] = candidate[wrong]
    still_wrong = 1.0 / (noise * sample_interval) != precision
    noise[still_wrong] = naive[still_wrong]
    return noise


def _baseline_matrices(G: nx.DiGraph) -> dict:
    n, n_input, n_output = G.graph["n_hidden"], G.graph["n_input"], G.graph["n_output"]
    return {
        "W": _edge_matrix(G, "recurrent", (n, n)),
        "U": _edge_matrix(G, "input", (n, n_input)),
        "C": _edge_matrix(G, "readout", (n_output, n)),
        "b": _node_vector(G, "hidden", "bias", n),
        "d": _node_vector(G, "output", "offset", n_output),
        "x0": _node_vector(G, "hidden", "x0", n),
    }
