"""The compiled-graph schema (version 1): node kinds, edge kinds, vocabulary and validation.

This module is the executable form of ``docs/graph_spec.md``; the kinds
themselves are the records of :mod:`rrnn_net.graph.kinds`. A compiled graph
is a :class:`networkx.DiGraph` whose nodes and edges carry only

* a ``kind`` string naming a record of ``NODE_KINDS`` / ``EDGE_KINDS``,
* integer indices (``index``, ``row``, ``col``, ``obs``) and ``port``,
* float parameters (``weight``, ``tau``, ``precision``, ...),

and whose graph-level attributes are listed in :data:`GRAPH_ATTRIBUTES`. No
other strings ever appear, so a graph file cannot smuggle code or equation text
into a backend. :func:`validate_graph` enforces all of this and names the
offending node or edge.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn
>>> G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
>>> validate_graph(G)
>>> sorted(mode_node_kinds("fixed"))
['error', 'evidence', 'sensory', 'state']
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Hashable, Mapping
from numbers import Integral, Real

import networkx as nx
import numpy as np

from .._validation import steps_per_interval
from ..errors import CovarianceError, ParameterError, RRNNError, UnstableSettingError
from .kinds import EDGE_KINDS, GAIN_MODES, NODE_KINDS, EdgeKind

__all__ = [
    "GRAPH_ATTRIBUTES",
    "PROVENANCE_PREFIX",
    "SCHEMA_VERSION",
    "STRING_VOCABULARY",
    "GraphCovarianceError",
    "GraphSchemaError",
    "UnstableGraphError",
    "index_key",
    "shortest_time_constant",
    "locality_violations",
    "mode_edge_kinds",
    "mode_node_kinds",
    "node_id",
    "validate_graph",
]

SCHEMA_VERSION = 1
PROVENANCE_PREFIX = "provenance_"
_PROVENANCE_KEY = re.compile(PROVENANCE_PREFIX + r"[a-z0-9_]{1,64}")


class GraphSchemaError(RRNNError, ValueError):
    """A graph (in memory or in a file) does not follow the compiled-graph schema."""


class GraphCovarianceError(GraphSchemaError, CovarianceError):
    """A graph's covariance numbers (``cov0``, ``process_noise``) that form no symmetric PSD matrix."""


class UnstableGraphError(GraphSchemaError, UnstableSettingError):
    """A graph whose integration step cannot be run: not below twice the time constant of one of its units, or
    not a whole fraction of its sampling interval."""


def mode_node_kinds(gain_mode: str) -> frozenset[str]:
    """Node kinds a ``gain_mode`` graph holds (every unit of each)."""
    return frozenset(name for name, kind in NODE_KINDS.items() if gain_mode in kind.modes)


def mode_edge_kinds(gain_mode: str) -> frozenset[str]:
    """Edge kinds a ``gain_mode`` graph may hold."""
    return frozenset(name for name, kind in EDGE_KINDS.items() if gain_mode in kind.modes)


# Graph-level attributes per graph_type: name -> int, float or str (str values come from STRING_VOCABULARY).
_COMMON_GRAPH_ATTRIBUTES: dict[str, type] = {
    "schema_version": int, "graph_type": str, "gain_mode": str, "activation": str,
    "sample_interval": float, "integration_step": float, "tau": float, "n_hidden": int,
    "time_unit": str, "provenance_function": str,
}
GRAPH_ATTRIBUTES: dict[str, dict[str, type]] = {
    "rrnn": {**_COMMON_GRAPH_ATTRIBUTES, "n_obs": int},
    "baseline": {**_COMMON_GRAPH_ATTRIBUTES, "n_input": int, "n_output": int},
}
_GAIN_MODES = {"rrnn": frozenset({"adaptive", "fixed"}), "baseline": frozenset({"none"})}

#: Every string a graph may hold, by what it names (node and edge kinds: the registered records).
STRING_VOCABULARY: dict[str, frozenset[str]] = {
    "graph_type": frozenset(GRAPH_ATTRIBUTES),
    "gain_mode": frozenset(GAIN_MODES),
    "activation": frozenset({"tanh", "linear"}),
    "time_unit": frozenset({"second"}),
    "provenance_function": frozenset({"compile_rrnn", "compile_baseline"}),
}


# ----------------------------------------------------------------- node ids
def node_id(kind: str, *indices: int) -> str:
    """Canonical node id: ``"state:3"``, ``"covariance:2,5"``, ``"evidence"``.

    >>> node_id("quadratic", 1, 2, 5)
    'quadratic:1,2,5'
    """
    return f"{kind}:{','.join(str(i) for i in indices)}" if indices else kind


def index_key(attributes: Mapping) -> tuple[int, ...]:
    """The node's indices in id order, e.g. (row, col) of a covariance unit."""
    return tuple(attributes[name] for name, _ in NODE_KINDS[attributes["kind"]].indices)


# --------------------------------------------------------------- primitives
def _is_int(value: object) -> bool:
    # numbers.Integral admits numpy integers; bool is an int subclass but never an index.
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_float(value: object, where: str, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be a number, got {type(value).__name__} "
                               f"{shorten(value)}")
    if not math.isfinite(value):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be finite, got {value!r}")


def _check_int(value: object, where: str, name: str) -> None:
    if not _is_int(value):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be an integer, got {type(value).__name__} "
                               f"{shorten(value)}")


def _check_word(value: object, where: str, name: str, vocabulary: str) -> None:
    kinds: dict[str, Collection[str]] = {"node kind": NODE_KINDS, "edge kind": EDGE_KINDS}
    allowed = kinds.get(vocabulary) or STRING_VOCABULARY[vocabulary]
    if not isinstance(value, str) or value not in allowed:
        raise GraphSchemaError(f"{where}: {name} must be one of {sorted(allowed)}, got {shorten(value)}")


def shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------- graph level
def _check_graph_attributes(graph: Mapping) -> tuple[str, str]:
    version = graph.get("schema_version")
    if not _is_int(version) or version != SCHEMA_VERSION:
        # Gephi and Cytoscape save a graph without its graph attributes: name the remedy.
        hint = (" (no graph attributes: a file re-saved by Gephi or Cytoscape? load_graph(..., like=G) or "
                "the rrnn commands' --like FILE take them from the graph it came from)" if not graph else "")
        raise GraphSchemaError(f"graph: schema_version must be {SCHEMA_VERSION}, got {shorten(version)}{hint}")
    _check_word(graph.get("graph_type"), "graph", "graph_type", "graph_type")
    graph_type = graph["graph_type"]
    required = GRAPH_ATTRIBUTES[graph_type]
    for name, kind in required.items():
        if name not in graph:
            raise GraphSchemaError(f"graph: required attribute {name!r} is missing")
        _check_graph_value(graph[name], name, kind)
    for name, value in graph.items():
        if name in required:
            continue
        if not isinstance(name, str) or not _PROVENANCE_KEY.fullmatch(name):
            raise GraphSchemaError(f"graph: unknown attribute {shorten(name)}")
        _check_float(value, "graph", name)
    if graph["gain_mode"] not in _GAIN_MODES[graph_type]:
        raise GraphSchemaError(f"graph: gain_mode {graph['gain_mode']!r} does not fit graph_type {graph_type!r}")
    for name, kind in required.items():
        if kind is int and name.startswith("n_") and graph[name] < 1:
            raise GraphSchemaError(f"graph: {name} must be at least 1, got {graph[name]}")
        if kind is float and graph[name] <= 0:
            raise GraphSchemaError(f"graph: {name} must be positive, got {graph[name]!r}")
    return graph_type, graph["gain_mode"]


def _check_graph_value(value: object, name: str, kind: type) -> None:
    if kind is str:
        _check_word(value, "graph", name, name)
    elif kind is int:
        _check_int(value, "graph", name)
    else:
        _check_float(value, "graph", name)


# ------------------------------------------------------------------ nodes
def _check_node(node: Hashable, attributes: Mapping, gain_mode: str, sizes: Mapping[str, int]) -> None:
    where = f"node {shorten(node)}"
    _check_word(attributes.get("kind"), where, "kind", "node kind")
    kind = NODE_KINDS[attributes["kind"]]
    if gain_mode not in kind.modes:
        raise GraphSchemaError(f"{where}: kind {kind.name!r} is not allowed in a gain_mode={gain_mode!r} graph")
    for name, size_name in kind.indices:
        if name not in attributes:
            raise GraphSchemaError(f"{where}: index attribute {name!r} is missing")
        _check_int(attributes[name], where, name)
        if not 0 <= attributes[name] < sizes[size_name]:
            raise GraphSchemaError(f"{where}: {name} = {attributes[name]} is outside 0..{sizes[size_name] - 1} "
                                   f"({size_name} = {sizes[size_name]})")
    for number in kind.numbers:
        if number.name not in attributes:
            raise GraphSchemaError(f"{where}: attribute {number.name!r} is missing")
        _check_float(attributes[number.name], where, number.name)
        if not number.admits(attributes[number.name]):
            raise GraphSchemaError(f"{where}: {number.name} must be {number.describe_range()} "
                                   f"({number.unit}), got {attributes[number.name]!r}")
    known = {"kind", *kind.number_names, *(name for name, _ in kind.indices)}
    unknown = sorted(map(str, set(attributes) - known))
    if unknown:
        raise GraphSchemaError(f"{where}: unknown attribute(s) {unknown} for kind {kind.name!r}")


def _check_nodes(G: nx.DiGraph, gain_mode: str, sizes: Mapping[str, int]) -> dict[tuple, object]:
    """Check every node; return the node of each (kind, indices)."""
    seen: dict[tuple, object] = {}
    for node, attributes in G.nodes(data=True):
        _check_node(node, attributes, gain_mode, sizes)
        key = (attributes["kind"], index_key(attributes))
        if key in seen:
            raise GraphSchemaError(f"duplicated indices: nodes {shorten(seen[key])} and {shorten(node)} are both "
                                   f"{key[0]} {key[1]}")
        seen[key] = node
        expected = node_id(attributes["kind"], *key[1])
        if node != expected:
            raise GraphSchemaError(f"node {shorten(node)}: id must be {expected!r} for its kind and indices")
    counts = Counter(kind for kind, _ in seen)
    for kind_name in sorted(mode_node_kinds(gain_mode)):
        expected_count = math.prod(sizes[size] for _, size in NODE_KINDS[kind_name].indices)
        if counts[kind_name] != expected_count and not (NODE_KINDS[kind_name].optional and counts[kind_name] == 0):
            raise GraphSchemaError(f"graph: expected {expected_count} {kind_name!r} node(s), "
                                   f"found {counts[kind_name]}")
    return seen


# ------------------------------------------------------------ physical ranges
def shortest_time_constant(G: nx.DiGraph) -> tuple[float, str]:
    """The smallest decay time constant of ``G`` (the graph's τ, every unit's τ, ...) and where it is.

    Forward Euler is stable only with a step below twice every one of them;
    a unit's τ may differ from the graph's (an edited circuit), so each counts.

    Returns
    -------
    float
        The time constant in seconds.
    str
        ``"graph"`` or ``"node 'state:3'"``.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> G = compile_rrnn(GenerativeRNN.oscillator(2, 1, seed=0), gain_mode="fixed")
    >>> G.nodes["state:1"]["tau"] = 0.001
    >>> shortest_time_constant(G)
    (0.001, "node 'state:1'")
    """
    names = {kind: [number.name for number in record.numbers if number.time_constant]
             for kind, record in NODE_KINDS.items()}
    shortest, where = G.graph["tau"], "graph"
    for node, attributes in G.nodes(data=True):
        for name in names[attributes["kind"]]:
            if attributes[name] < shortest:
                shortest, where = attributes[name], f"node {shorten(node)}"
    return shortest, where


def _check_euler_step(G: nx.DiGraph) -> None:
    step = G.graph["integration_step"]
    tau, where = shortest_time_constant(G)
    if step >= 2 * tau:
        raise UnstableGraphError(f"{where}: its time constant {tau:g} s is too short for the integration step "
                                 f"h = {step:g} s: forward Euler needs h below 2*tau = {2 * tau:g} s (a longer "
                                 "time constant, or more substeps)")
    try:  # every backend and to_matrices take Δ/h Euler steps per sample: a whole number of them
        steps_per_interval(G.graph["sample_interval"], step)
    except ParameterError as exc:
        raise UnstableGraphError(f"graph: integration_step and sample_interval: {exc}") from None


def _check_covariances(G: nx.DiGraph, nodes: Mapping[tuple, object], sizes: Mapping[str, int]) -> None:
    """Every covariance number's units, as a matrix over their (row, col): symmetric and PSD, the node named."""
    names = {kind: [number.name for number in record.numbers if number.covariance]
             for kind, record in NODE_KINDS.items()}
    by_kind: dict[str, list] = {kind: [] for kind, numbers in names.items() if numbers}
    for (kind, indices), node in nodes.items():
        if kind in by_kind:
            by_kind[kind].append((indices, node))
    for kind_name, units in by_kind.items():
        if not units:
            continue
        size = sizes[NODE_KINDS[kind_name].indices[0][1]]  # (row, col) over one size: see register_node_kind
        rows, cols = (np.array(axis) for axis in zip(*(indices for indices, _ in units), strict=True))
        ids = np.empty((size, size), dtype=object)
        ids[rows, cols] = [node for _, node in units]
        for name in names[kind_name]:
            matrix = np.zeros((size, size))
            matrix[rows, cols] = [G.nodes[node][name] for _, node in units]
            _check_covariance_matrix(matrix, ids, name, kind_name)


def _check_covariance_matrix(matrix: np.ndarray, ids: np.ndarray, name: str, kind: str) -> None:
    scale = max(1.0, float(np.abs(matrix).max()))
    asymmetry = np.abs(matrix - matrix.T)
    if asymmetry.max() > 1e-10 * scale:
        row, col = np.unravel_index(np.argmax(asymmetry), matrix.shape)
        raise GraphCovarianceError(f"node {shorten(ids[row, col])}: {name} = {float(matrix[row, col])!r} but node "
                                   f"{shorten(ids[col, row])} has {float(matrix[col, row])!r}; a covariance is "
                                   "symmetric")
    diagonal = np.diag(matrix)
    if diagonal.min() < 0:
        index = int(np.argmin(diagonal))
        raise GraphCovarianceError(f"node {shorten(ids[index, index])}: {name} = {float(diagonal[index])!r} is a "
                                   "variance and must be >= 0")
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    if eigenvalues[0] < -1e-12 * scale:
        # The hidden unit the offending direction weighs most: where the matrix most needs changing.
        index = int(np.argmax(np.abs(eigenvectors[:, 0])))
        raise GraphCovarianceError(f"graph: the {name} values of the {kind} units form no positive semidefinite "
                                   f"matrix (smallest eigenvalue {eigenvalues[0]:.3g}, whose direction weighs row "
                                   f"{index} most: nodes {shorten(ids[index, 0])} .. {shorten(ids[index, -1])})")


# ------------------------------------------------------------------ edges
_EDGE_ATTRIBUTES = frozenset({"kind", "weight", "port"})


def _edge_class(G: nx.DiGraph, source: Hashable, target: Hashable, attributes: Mapping, gain_mode: str) -> EdgeKind:
    """Check what every edge of one (kind, source kind, target kind, port) class shares; return its kind."""
    where = f"edge {shorten(source)} -> {shorten(target)}"
    _check_word(attributes.get("kind"), where, "kind", "edge kind")
    kind = EDGE_KINDS[attributes["kind"]]
    if gain_mode not in kind.modes:
        raise GraphSchemaError(f"{where}: kind {kind.name!r} is not allowed in a gain_mode={gain_mode!r} graph")
    pair = (G.nodes[source]["kind"], G.nodes[target]["kind"])
    if pair not in kind.pairs:
        raise GraphSchemaError(f"{where}: a {kind.name!r} edge may not run from a {pair[0]!r} to a {pair[1]!r} "
                               f"node (allowed: {sorted(kind.pairs)})")
    ports = kind.pairs[pair]
    port = attributes.get("port")
    if ports:
        _check_int(port, where, "port")
        if port not in ports:
            raise GraphSchemaError(f"{where}: port must be one of {sorted(ports)}, got {port}")
    elif "port" in attributes:
        raise GraphSchemaError(f"{where}: only edges into product nodes carry a port")
    return kind


def _check_edge(source: Hashable, target: Hashable, attributes: Mapping, kind: EdgeKind, source_node: Mapping,
                target_node: Mapping) -> None:
    """What each edge has of its own: its weight, no unknown attributes, matching indices."""
    weight = attributes.get("weight")
    # The common case in one test; anything else gets the full check and its message.
    if not (type(weight) is float and math.isfinite(weight)):
        where = f"edge {shorten(source)} -> {shorten(target)}"
        if "weight" not in attributes:
            raise GraphSchemaError(f"{where}: attribute 'weight' is missing")
        _check_float(weight, where, "weight")
    if not attributes.keys() <= _EDGE_ATTRIBUTES:
        unknown = sorted(map(str, set(attributes) - _EDGE_ATTRIBUTES))
        raise GraphSchemaError(f"edge {shorten(source)} -> {shorten(target)}: unknown attribute(s) {unknown}")
    if not kind.relation(source_node, target_node, attributes.get("port")):
        raise GraphSchemaError(f"edge {shorten(source)} -> {shorten(target)}: a {kind.name!r} edge does not "
                               "connect matching indices")


def _check_edges(G: nx.DiGraph, gain_mode: str) -> dict[tuple, int]:
    """Check every edge, in one pass; return in-edge counts by (target node, edge kind, port)."""
    node_data = dict(G.nodes(data=True))
    classes: dict[tuple, EdgeKind] = {}
    in_edges: dict[tuple, int] = {}
    for source, target, attributes in G.edges(data=True):
        source_node, target_node = node_data[source], node_data[target]
        port = attributes.get("port")
        # Whether a port is given at all belongs to the class: ``port=None`` on a plain edge is an error.
        key = (attributes.get("kind"), source_node["kind"], target_node["kind"], port, "port" in attributes)
        try:
            kind = classes[key]
        except (KeyError, TypeError):  # a new class, or an unhashable attribute value the full check names
            kind = classes[key] = _edge_class(G, source, target, attributes, gain_mode)
        _check_edge(source, target, attributes, kind, source_node, target_node)
        count_key = (target, key[0], port)
        in_edges[count_key] = in_edges.get(count_key, 0) + 1
    return in_edges


# --------------------------------------------------------------- locality
def locality_violations(G: nx.DiGraph) -> list[str]:
    """Nodes whose in-edges do not match their kind's template inputs.

    A node kind's equation reads only the in-edge kinds listed in
    :attr:`~rrnn_net.graph.kinds.NodeKind.inputs`, each within its count bounds, and a product node
    must have both factors fed (ports 1 or 3 for A, 2 or 3 for B). The graph
    is assumed to have valid kinds (see :func:`validate_graph`).

    Returns
    -------
    list of str
        One message per offending node; empty when every node's inputs come
        only through allowed in-edges.
    """
    in_edges: Counter = Counter()
    for _, target, attributes in G.edges(data=True):
        in_edges[target, attributes["kind"], attributes.get("port")] += 1
    return _locality_problems(G, in_edges)


def _locality_problems(G: nx.DiGraph, in_edge_counts: Mapping[tuple, int]) -> list[str]:
    """:func:`locality_violations` from in-edge counts by (target node, edge kind, port)."""
    by_node: dict = {node: ({}, set()) for node in G}  # node -> (count per edge kind, ports)
    for (node, edge_kind, port), count in in_edge_counts.items():
        counts, ports = by_node[node]
        counts[edge_kind] = counts.get(edge_kind, 0) + count
        ports.add(port)
    problems = []
    for node, kind_name in G.nodes(data="kind"):
        kind = NODE_KINDS[kind_name]
        counts, ports = by_node[node]
        counts = Counter(counts)
        for edge_kind in sorted(counts):
            if edge_kind not in kind.inputs:
                problems.append(f"node {node!r}: a {kind.name!r} unit does not read {edge_kind!r} edges")
        for edge_kind, (low, high) in kind.inputs.items():
            if counts[edge_kind] < low or (high is not None and counts[edge_kind] > high):
                bound = f"{low}..{'' if high is None else high}"
                problems.append(f"node {node!r}: needs {bound} {edge_kind!r} in-edge(s), has {counts[edge_kind]}")
        if kind.product:
            if not ports & {1, 3} or not ports & {2, 3}:
                problems.append(f"node {node!r}: product unit needs both factors fed (ports 1/3 and 2/3), "
                                f"has ports {sorted(p for p in ports if p is not None)}")
    return problems


# ------------------------------------------------------------- validation
def validate_graph(G: object) -> None:
    """Raise :class:`GraphSchemaError` unless ``G`` is a valid schema-version-1 graph.

    Checks, each failure naming the offending graph attribute, node or edge:
    a plain ``networkx.DiGraph``; schema version; required graph attributes
    and their types; every string from the vocabulary (no code or free text);
    known node and edge kinds allowed in the graph's ``gain_mode``; required
    integer indices in range and float parameters present, numeric and
    finite, each within its physical range (τ > 0, precision ≥ 0, ...); no
    unknown attributes; no duplicated indices; canonical node ids; the
    complete set of nodes per kind; an integration step that divides the
    sampling interval and lies below twice every time constant
    (:func:`shortest_time_constant`); covariance numbers
    (``cov0``, ``process_noise``) that form symmetric positive semidefinite
    matrices; allowed (source kind, target kind) pairs per edge kind with
    matching indices; ports exactly on edges into product nodes; and the
    locality of every node (:func:`locality_violations`).

    A unit's τ may differ from the graph's: an edited circuit is legitimate,
    and :func:`~rrnn_net.graph.consistency` reports it as inexact.

    Parameters
    ----------
    G : networkx.DiGraph
        The graph to check.

    Raises
    ------
    GraphSchemaError
        The first problem found; :class:`UnstableGraphError` (also an
        :class:`~rrnn_net.errors.UnstableSettingError`) for the integration
        step, :class:`GraphCovarianceError` (also a
        :class:`~rrnn_net.errors.CovarianceError`) for covariance numbers.

    Examples
    --------
    >>> import networkx as nx
    >>> validate_graph(nx.DiGraph())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rrnn_net.graph.schema.GraphSchemaError: graph: schema_version must be 1, got None (no graph attributes: ...
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise GraphSchemaError(f"a compiled graph must be a networkx.DiGraph, got {type(G).__name__}")
    graph_type, gain_mode = _check_graph_attributes(G.graph)
    sizes = {name: G.graph[name] for name in GRAPH_ATTRIBUTES[graph_type] if name.startswith("n_")}
    nodes = _check_nodes(G, gain_mode, sizes)
    _check_euler_step(G)
    _check_covariances(G, nodes, sizes)
    problems = _locality_problems(G, _check_edges(G, gain_mode))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GraphSchemaError(f"locality: {problems[0]}{more}")
