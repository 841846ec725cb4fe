"""The compiled-graph schema (version 1): node kinds, edge kinds, vocabulary and validation.

This module is the executable form of ``docs/graph_spec.md``. A compiled graph
is a :class:`networkx.DiGraph` whose nodes and edges carry only

* a ``kind`` string from :data:`NODE_KINDS` / :data:`EDGE_KINDS`,
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
>>> NODE_KINDS["state"].numbers
('bias', 'tau', 'mean0')
>>> sorted(EDGE_KINDS["recurrent"].pairs)
[('hidden', 'hidden'), ('state', 'state')]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import networkx as nx

from ..errors import RRNNError

__all__ = [
    "EDGE_KINDS",
    "GRAPH_ATTRIBUTES",
    "MODE_EDGE_KINDS",
    "MODE_NODE_KINDS",
    "NODE_KINDS",
    "PRODUCT_KINDS",
    "PROVENANCE_PREFIX",
    "SCHEMA_VERSION",
    "STRING_VOCABULARY",
    "EdgeKind",
    "GraphSchemaError",
    "NodeKind",
    "index_key",
    "locality_violations",
    "node_id",
    "validate_graph",
]

SCHEMA_VERSION = 1
PROVENANCE_PREFIX = "provenance_"
_PROVENANCE_KEY = re.compile(PROVENANCE_PREFIX + r"[a-z0-9_]{1,64}")


class GraphSchemaError(RRNNError, ValueError):
    """A graph (in memory or in a file) does not follow the compiled-graph schema."""


@dataclass(frozen=True)
class NodeKind:
    """One node kind: its integer indices, float parameters and template inputs.

    Attributes
    ----------
    name : str
        The ``kind`` string.
    indices : tuple of (str, str)
        Integer index attributes in node-id order, each with the graph-level
        attribute giving its range (``index`` of a state runs over ``n_hidden``).
    numbers : tuple of str
        Required float attributes.
    product : bool
        Multiplicative unit: output ``gain × A × B`` with A fed by ports 1/3 and
        B by ports 2/3.
    inputs : mapping of str to (int, int or None)
        In-edge kind -> (minimum, maximum) count the node's equation reads; any
        in-edge kind not listed here breaks locality.
    """

    name: str
    indices: tuple[tuple[str, str], ...]
    numbers: tuple[str, ...] = ()
    product: bool = False
    inputs: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class EdgeKind:
    """One edge kind: the source variable it carries and where it may run.

    Attributes
    ----------
    name : str
        The ``kind`` string.
    carries : str
        Symbol of the source variable the message carries (``rate`` = φ(μ_k),
        ``slope`` = φ'(μ_l), ``xi`` = λ_j ε_j, ``surprise`` = ξ_j ε_j, ``gate`` = g_j,
        ``product`` = a product unit's output, ``projection`` = Z_jk, ...).
    pairs : mapping of (str, str) to frozenset of int
        Allowed (source kind, target kind) -> allowed ``port`` values (empty:
        the edge has no ``port``; it is required exactly for product targets).
    """

    name: str
    carries: str
    pairs: Mapping[tuple[str, str], frozenset[int]]


_NO_PORT: frozenset[int] = frozenset()
_OBS, _HIDDEN, _INPUT, _OUTPUT = "n_obs", "n_hidden", "n_input", "n_output"

NODE_KINDS: dict[str, NodeKind] = {
    kind.name: kind
    for kind in (
        NodeKind("sensory", (("index", _OBS),)),
        NodeKind("error", (("index", _OBS),), ("offset", "precision"),
                 inputs={"sensory": (1, 1), "prediction": (0, None)}),
        NodeKind("state", (("index", _HIDDEN),), ("bias", "tau", "mean0"),
                 inputs={"recurrent": (0, None), "feedback": (0, None), "gain": (0, None),
                         "fixed_gain": (0, None)}),
        NodeKind("evidence", (), inputs={"surprise": (0, None)}),
        NodeKind("covariance", (("row", _HIDDEN), ("col", _HIDDEN)), ("process_noise", "tau", "cov0"),
                 inputs={"drift": (0, None), "quadratic": (0, None)}),
        NodeKind("scaled_covariance", (("row", _HIDDEN), ("col", _HIDDEN)), ("gain",), product=True,
                 inputs={"slope": (1, 1), "covariance_read": (1, 1)}),
        NodeKind("projection", (("row", _OBS), ("col", _HIDDEN)), ("gain",), product=True,
                 inputs={"projection": (1, None), "gate": (1, 1)}),
        NodeKind("quadratic", (("obs", _OBS), ("row", _HIDDEN), ("col", _HIDDEN)), ("gain",), product=True,
                 inputs={"quadratic_factor": (1, 2)}),
        NodeKind("gain_product", (("row", _HIDDEN), ("col", _HIDDEN)), ("gain",), product=True,
                 inputs={"covariance_read": (1, 1), "back_error": (1, 1)}),
        NodeKind("input", (("index", _INPUT),)),
        NodeKind("hidden", (("index", _HIDDEN),), ("bias", "tau", "x0"),
                 inputs={"input": (0, None), "recurrent": (0, None)}),
        NodeKind("output", (("index", _OUTPUT),), ("offset",), inputs={"readout": (0, None)}),
    )
}

PRODUCT_KINDS = frozenset(name for name, kind in NODE_KINDS.items() if kind.product)


def _pairs(*entries: tuple[str, str, Iterable[int]]) -> dict[tuple[str, str], frozenset[int]]:
    return {(source, target): frozenset(ports) for source, target, ports in entries}


EDGE_KINDS: dict[str, EdgeKind] = {
    kind.name: kind
    for kind in (
        EdgeKind("sensory", "observation", _pairs(("sensory", "error", ()))),
        EdgeKind("prediction", "rate", _pairs(("state", "error", ()))),
        EdgeKind("recurrent", "rate", _pairs(("state", "state", ()), ("hidden", "hidden", ()))),
        EdgeKind("feedback", "xi", _pairs(("error", "state", ()))),
        EdgeKind("fixed_gain", "epsilon", _pairs(("error", "state", ()))),
        EdgeKind("surprise", "surprise", _pairs(("error", "evidence", ()))),
        EdgeKind("slope", "slope", _pairs(("state", "scaled_covariance", (1,)))),
        EdgeKind("covariance_read", "covariance",
                 _pairs(("covariance", "scaled_covariance", (2,)), ("covariance", "gain_product", (1,)))),
        EdgeKind("back_error", "back_error", _pairs(("state", "gain_product", (2,)))),
        EdgeKind("drift", "product", _pairs(("scaled_covariance", "covariance", ()))),
        EdgeKind("projection", "product", _pairs(("scaled_covariance", "projection", (1,)))),
        EdgeKind("gate", "gate", _pairs(("sensory", "projection", (2,)))),
        EdgeKind("quadratic_factor", "projection", _pairs(("projection", "quadratic", (1, 2, 3)))),
        EdgeKind("quadratic", "product", _pairs(("quadratic", "covariance", ()))),
        EdgeKind("gain", "product", _pairs(("gain_product", "state", ()))),
        EdgeKind("input", "input", _pairs(("input", "hidden", ()))),
        EdgeKind("readout", "rate", _pairs(("hidden", "output", ()))),
    )
}

MODE_NODE_KINDS: dict[str, frozenset[str]] = {
    "adaptive": frozenset({"sensory", "error", "state", "evidence", "covariance", "scaled_covariance",
                           "projection", "quadratic", "gain_product"}),
    "fixed": frozenset({"sensory", "error", "state", "evidence"}),
    "none": frozenset({"input", "hidden", "output"}),
}
MODE_EDGE_KINDS: dict[str, frozenset[str]] = {
    "adaptive": frozenset({"sensory", "prediction", "recurrent", "feedback", "surprise", "slope",
                           "covariance_read", "back_error", "drift", "projection", "gate", "quadratic_factor",
                           "quadratic", "gain"}),
    "fixed": frozenset({"sensory", "prediction", "recurrent", "fixed_gain", "surprise"}),
    "none": frozenset({"input", "recurrent", "readout"}),
}

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

STRING_VOCABULARY: dict[str, frozenset[str]] = {
    "node kind": frozenset(NODE_KINDS),
    "edge kind": frozenset(EDGE_KINDS),
    "graph_type": frozenset(GRAPH_ATTRIBUTES),
    "gain_mode": frozenset(MODE_NODE_KINDS),
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
def _is_int(value) -> bool:
    # numbers.Integral admits numpy integers; bool is an int subclass but never an index.
    return isinstance(value, Integral) and not isinstance(value, bool)


def _check_float(value, where: str, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be a number, got {type(value).__name__} "
                               f"{_shorten(value)}")
    if not math.isfinite(value):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be finite, got {value!r}")


def _check_int(value, where: str, name: str) -> None:
    if not _is_int(value):
        raise GraphSchemaError(f"{where}: attribute {name!r} must be an integer, got {type(value).__name__} "
                               f"{_shorten(value)}")


def _check_word(value, where: str, name: str, vocabulary: str) -> None:
    allowed = STRING_VOCABULARY[vocabulary]
    if not isinstance(value, str) or value not in allowed:
        raise GraphSchemaError(f"{where}: {name} must be one of {sorted(allowed)}, got {_shorten(value)}")


def _shorten(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------- graph level
def _check_graph_attributes(graph: Mapping) -> tuple[str, str]:
    version = graph.get("schema_version")
    if not _is_int(version) or version != SCHEMA_VERSION:
        raise GraphSchemaError(f"graph: schema_version must be {SCHEMA_VERSION}, got {_shorten(version)}")
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
            raise GraphSchemaError(f"graph: unknown attribute {_shorten(name)}")
        _check_float(value, "graph", name)
    if graph["gain_mode"] not in _GAIN_MODES[graph_type]:
        raise GraphSchemaError(f"graph: gain_mode {graph['gain_mode']!r} does not fit graph_type {graph_type!r}")
    for name, kind in required.items():
        if kind is int and name.startswith("n_") and graph[name] < 1:
            raise GraphSchemaError(f"graph: {name} must be at least 1, got {graph[name]}")
        if kind is float and graph[name] <= 0:
            raise GraphSchemaError(f"graph: {name} must be positive, got {graph[name]!r}")
    return graph_type, graph["gain_mode"]


def _check_graph_value(value, name: str, kind: type) -> None:
    if kind is str:
        _check_word(value, "graph", name, name)
    elif kind is int:
        _check_int(value, "graph", name)
    else:
        _check_float(value, "graph", name)


# ------------------------------------------------------------------ nodes
def _check_node(node, attributes: Mapping, gain_mode: str, sizes: Mapping[str, int]) -> None:
    where = f"node {_shorten(node)}"
    _check_word(attributes.get("kind"), where, "kind", "node kind")
    kind = NODE_KINDS[attributes["kind"]]
    if kind.name not in MODE_NODE_KINDS[gain_mode]:
        raise GraphSchemaError(f"{where}: kind {kind.name!r} is not allowed in a gain_mode={gain_mode!r} graph")
    for name, size_name in kind.indices:
        if name not in attributes:
            raise GraphSchemaError(f"{where}: index attribute {name!r} is missing")
        _check_int(attributes[name], where, name)
        if not 0 <= attributes[name] < sizes[size_name]:
            raise GraphSchemaError(f"{where}: {name} = {attributes[name]} is outside 0..{sizes[size_name] - 1} "
                                   f"({size_name} = {sizes[size_name]})")
    for name in kind.numbers:
        if name not in attributes:
            raise GraphSchemaError(f"{where}: attribute {name!r} is missing")
        _check_float(attributes[name], where, name)
    known = {"kind", *kind.numbers, *(name for name, _ in kind.indices)}
    unknown = sorted(map(str, set(attributes) - known))
    if unknown:
        raise GraphSchemaError(f"{where}: unknown attribute(s) {unknown} for kind {kind.name!r}")


def _check_nodes(G: nx.DiGraph, gain_mode: str, sizes: Mapping[str, int]) -> None:
    seen: dict[tuple, object] = {}
    for node, attributes in G.nodes(data=True):
        _check_node(node, attributes, gain_mode, sizes)
        key = (attributes["kind"], index_key(attributes))
        if key in seen:
            raise GraphSchemaError(f"duplicated indices: nodes {_shorten(seen[key])} and {_shorten(node)} are both "
                                   f"{key[0]} {key[1]}")
        seen[key] = node
        expected = node_id(attributes["kind"], *key[1])
        if node != expected:
            raise GraphSchemaError(f"node {_shorten(node)}: id must be {expected!r} for its kind and indices")
    counts = Counter(kind for kind, _ in seen)
    for kind_name in sorted(MODE_NODE_KINDS[gain_mode]):
        expected = math.prod(sizes[size] for _, size in NODE_KINDS[kind_name].indices)
        if counts[kind_name] != expected:
            raise GraphSchemaError(f"graph: expected {expected} {kind_name!r} node(s), found {counts[kind_name]}")


# ------------------------------------------------------------------ edges
def _index_relation_holds(kind: str, source: Mapping, target: Mapping, port: int | None) -> bool:
    """Whether the edge connects the units its kind pairs up (e.g. sensory j -> error j)."""
    if kind == "sensory":
        return source["index"] == target["index"]
    if kind == "gate":
        return source["index"] == target["row"]
    if kind == "slope":
        return source["index"] == target["row"]
    if kind in ("covariance_read", "quadratic"):
        return (source["row"], source["col"]) == (target["row"], target["col"])
    if kind == "back_error":
        return source["index"] == target["col"]
    if kind == "drift":
        return source["col"] in (target["row"], target["col"])
    if kind == "projection":
        return source["col"] == target["col"]
    if kind == "gain":
        return source["row"] == target["index"]
    if kind == "quadratic_factor":
        factors = {1: (target["row"],), 2: (target["col"],), 3: (target["row"], target["col"])}[port]
        return source["row"] == target["obs"] and all(source["col"] == index for index in factors)
    return True  # dense all-to-all kinds: prediction, recurrent, feedback, fixed_gain, surprise, input, readout


def _check_edge(G: nx.DiGraph, source, target, attributes: Mapping, gain_mode: str) -> None:
    where = f"edge {_shorten(source)} -> {_shorten(target)}"
    _check_word(attributes.get("kind"), where, "kind", "edge kind")
    kind = EDGE_KINDS[attributes["kind"]]
    if kind.name not in MODE_EDGE_KINDS[gain_mode]:
        raise GraphSchemaError(f"{where}: kind {kind.name!r} is not allowed in a gain_mode={gain_mode!r} graph")
    pair = (G.nodes[source]["kind"], G.nodes[target]["kind"])
    if pair not in kind.pairs:
        raise GraphSchemaError(f"{where}: a {kind.name!r} edge may not run from a {pair[0]!r} to a {pair[1]!r} "
                               f"node (allowed: {sorted(kind.pairs)})")
    if "weight" not in attributes:
        raise GraphSchemaError(f"{where}: attribute 'weight' is missing")
    _check_float(attributes["weight"], where, "weight")
    ports = kind.pairs[pair]
    port = attributes.get("port")
    if ports:
        _check_int(port, where, "port")
        if port not in ports:
            raise GraphSchemaError(f"{where}: port must be one of {sorted(ports)}, got {port}")
    elif "port" in attributes:
        raise GraphSchemaError(f"{where}: only edges into product nodes carry a port")
    unknown = sorted(map(str, set(attributes) - {"kind", "weight", "port"}))
    if unknown:
        raise GraphSchemaError(f"{where}: unknown attribute(s) {unknown}")
    if not _index_relation_holds(kind.name, G.nodes[source], G.nodes[target], port):
        raise GraphSchemaError(f"{where}: a {kind.name!r} edge does not connect matching indices")


# --------------------------------------------------------------- locality
def locality_violations(G: nx.DiGraph) -> list[str]:
    """Nodes whose in-edges do not match their kind's template inputs.

    A node kind's equation reads only the in-edge kinds listed in
    :attr:`NodeKind.inputs`, each within its count bounds, and a product node
    must have both factors fed (ports 1 or 3 for A, 2 or 3 for B). The graph
    is assumed to have valid kinds (see :func:`validate_graph`).

    Returns
    -------
    list of str
        One message per offending node; empty when every node's inputs come
        only through allowed in-edges.
    """
    problems = []
    for node, attributes in G.nodes(data=True):
        kind = NODE_KINDS[attributes["kind"]]
        in_edges = [data for _, _, data in G.in_edges(node, data=True)]
        counts = Counter(data["kind"] for data in in_edges)
        for edge_kind in sorted(counts):
            if edge_kind not in kind.inputs:
                problems.append(f"node {node!r}: a {kind.name!r} unit does not read {edge_kind!r} edges")
        for edge_kind, (low, high) in kind.inputs.items():
            if counts[edge_kind] < low or (high is not None and counts[edge_kind] > high):
                bound = f"{low}..{'' if high is None else high}"
                problems.append(f"node {node!r}: needs {bound} {edge_kind!r} in-edge(s), has {counts[edge_kind]}")
        if kind.product:
            ports = {data.get("port") for data in in_edges}
            if not ports & {1, 3} or not ports & {2, 3}:
                problems.append(f"node {node!r}: product unit needs both factors fed (ports 1/3 and 2/3), "
                                f"has ports {sorted(p for p in ports if p is not None)}")
    return problems


# ------------------------------------------------------------- validation
def validate_graph(G) -> None:
    """Raise :class:`GraphSchemaError` unless ``G`` is a valid schema-version-1 graph.

    Checks, each failure naming the offending graph attribute, node or edge:
    a plain ``networkx.DiGraph``; schema version; required graph attributes
    and their types; every string from the vocabulary (no code or free text);
    known node and edge kinds allowed in the graph's ``gain_mode``; required
    integer indices in range and float parameters present, numeric and
    finite; no unknown attributes; no duplicated indices; canonical node ids;
    the complete set of nodes per kind; allowed (source kind, target kind)
    pairs per edge kind with matching indices; ports exactly on edges into
    product nodes; and the locality of every node (:func:`locality_violations`).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph to check.

    Examples
    --------
    >>> import networkx as nx
    >>> validate_graph(nx.DiGraph())
    Traceback (most recent call last):
    ...
    rrnn_net.graph.schema.GraphSchemaError: graph: schema_version must be 1, got None
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise GraphSchemaError(f"a compiled graph must be a networkx.DiGraph, got {type(G).__name__}")
    graph_type, gain_mode = _check_graph_attributes(G.graph)
    sizes = {name: G.graph[name] for name in GRAPH_ATTRIBUTES[graph_type] if name.startswith("n_")}
    _check_nodes(G, gain_mode, sizes)
    for source, target, attributes in G.edges(data=True):
        _check_edge(G, source, target, attributes, gain_mode)
    problems = locality_violations(G)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GraphSchemaError(f"locality: {problems[0]}{more}")
