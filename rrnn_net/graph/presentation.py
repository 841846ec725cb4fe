"""Presentation attributes: the labels and colours a graph file carries for graph tools, and what tools add.

Gephi, Cytoscape, yEd and igraph add attributes of their own when they re-save
a file — positions, sizes, colours, labels, selection flags, their own ids —
and some renumber the nodes (igraph and yEd write ``n0, n1, ...``, Cytoscape
its SUIDs). None of it is part of the computation. :func:`strip_presentation`
turns such a graph back into the computational graph, and
:func:`node_presentation` gives the label and colour :func:`~rrnn_net.graph.save_graph`
writes for each node.

A name in :data:`PRESENTATION_ATTRIBUTES` is presentation only where the
schema does not use it: a node kind (an extension's, say) with a number called
``size`` keeps its ``size``, which is then validated like any other number.

Labels are the unit's symbol in the equations of ``graphs/README.md`` with its
indices as Unicode subscripts, e.g. ``μ₀``, ``ε₁``, ``P₀₁``, ``λ₁Z₁₀Z₁₃``;
indices of a multi-index subscript are separated by commas once one of them
has two digits (``P₁₂,₃``). A kind without an entry in the label table is
labelled with its name (``error_trace₀``). Colours are the kinds' drawing
colours (:attr:`~rrnn_net.graph.kinds.NodeKind.draw`).

Examples
--------
>>> node_presentation({"kind": "covariance", "row": 0, "col": 1})
{'label': 'P₀₁', 'r': 0, 'g': 158, 'b': 115, 'color': '#009E73'}
>>> node_label("quadratic", (1, 0, 3))
'λ₁Z₁₀Z₁₃'
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from numbers import Integral
from typing import Any, cast

import networkx as nx

from .kinds import NODE_KINDS
from .schema import GRAPH_ATTRIBUTES, GraphSchemaError, node_id

__all__ = ["LABEL_SYMBOLS", "POLICIES", "PRESENTATION_ATTRIBUTES", "node_label", "node_presentation",
           "strip_presentation"]

#: What :func:`strip_presentation` does with presentation attributes and tool-assigned node ids.
POLICIES = ("ignore", "refuse")

#: Attribute names graph tools add when they save a graph, by the tool that writes them.
PRESENTATION_ATTRIBUTES = frozenset({
    # Gephi (GraphML properties; "color" is also what save_graph writes for Cytoscape)
    "label", "x", "y", "z", "size", "r", "g", "b", "color", "Edge Label", "Edge Id",
    # Cytoscape table columns (GraphML and its JSON spelling)
    "SUID", "name", "shared name", "shared_name", "selected", "interaction", "shared interaction",
    "shared_interaction",
    # yEd's default keys; igraph's and networkx's copy of a GraphML id
    "url", "description", "Description", "id",
})

#: Label of each node kind: (symbol, positions of the node's indices in its subscript) per factor,
#: in the notation of graphs/README.md (s = φ'(μ) the slope, u the back-projected error).
LABEL_SYMBOLS: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "sensory": (("y", (0,)),),
    "error": (("ε", (0,)),),
    "state": (("μ", (0,)),),
    "evidence": (("ℓ", ()),),
    "covariance": (("P", (0, 1)),),
    "scaled_covariance": (("s", (0,)), ("P", (0, 1))),
    "projection": (("Z", (0, 1)),),
    "quadratic": (("λ", (0,)), ("Z", (0, 1)), ("Z", (0, 2))),
    "gain_product": (("P", (0, 1)), ("u", (1,))),
    "precision": (("λ", (0,)),),
    "input": (("u", (0,)),),
    "hidden": (("x", (0,)),),
    "output": (("o", (0,)),),
}

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_EDGE_NAMES = frozenset({"kind", "weight", "port"})


def node_label(kind: str, indices: Sequence[int]) -> str:
    """The readable label of a ``kind`` unit with ``indices`` (in node-id order), e.g. ``'μ₀'``."""
    factors = LABEL_SYMBOLS.get(kind, ((kind, tuple(range(len(indices)))),))
    return "".join(symbol + _subscript([indices[position] for position in positions])
                   for symbol, positions in factors)


def _subscript(indices: list[int]) -> str:
    separator = "," if len(indices) > 1 and max(indices) > 9 else ""
    return separator.join(str(index) for index in indices).translate(_SUBSCRIPTS)


def node_presentation(attributes: Mapping) -> dict[str, object]:
    """The presentation attributes :func:`~rrnn_net.graph.save_graph` writes for a valid node.

    Parameters
    ----------
    attributes : mapping
        The node's attributes (``kind`` and its indices).

    Returns
    -------
    dict
        ``label`` (str), ``r``, ``g``, ``b`` (int, 0–255; Gephi's colour) and
        ``color`` (str, ``#RRGGBB``; for Cytoscape's and yEd's mappers), less any
        name the node's kind uses itself.
    """
    kind = NODE_KINDS[attributes["kind"]]
    colour = kind.draw.colour
    values = {"label": node_label(kind.name, [attributes[name] for name, _ in kind.indices]),
              "r": int(colour[1:3], 16), "g": int(colour[3:5], 16), "b": int(colour[5:7], 16), "color": colour}
    return {name: value for name, value in values.items() if name not in _node_names(attributes)}


def strip_presentation(G: nx.DiGraph, policy: str = "ignore") -> nx.DiGraph:
    """The computational graph of a parsed file: presentation attributes dropped, tool-assigned ids replaced.

    Parameters
    ----------
    G : networkx.DiGraph
        A graph as parsed from a file, before validation.
    policy : {"ignore", "refuse"}
        ``"ignore"``: drop every presentation attribute, and name a node
        whose id a tool assigned (one that does not start with a node kind,
        like igraph's ``n0`` or a Cytoscape SUID) by its kind and indices.
        ``"refuse"``: accept only the labels and colours
        :func:`~rrnn_net.graph.save_graph` writes (the values of
        :func:`node_presentation`); any other presentation attribute raises,
        and ids are kept as they are.

    Returns
    -------
    networkx.DiGraph
        A new graph, in the same node and edge order; attributes that are
        neither presentation nor schema are left for
        :func:`~rrnn_net.graph.schema.validate_graph` to report.

    Raises
    ------
    GraphSchemaError
        With ``"refuse"``, on a presentation attribute that save_graph does
        not write; with ``"ignore"``, when two renamed nodes have the same kind
        and indices.
    """
    if policy not in POLICIES:
        raise GraphSchemaError(f"unknown presentation policy {policy!r}; expected one of {list(POLICIES)}")
    refuse = policy == "refuse"
    H = nx.DiGraph()
    H.graph.update(_stripped(G.graph, _graph_names(G.graph), {}, "graph", refuse))
    names = {node: node if refuse else _canonical_id(node, attributes) for node, attributes in G.nodes(data=True)}
    _check_unique(names)
    for node, attributes in G.nodes(data=True):
        written = _written_presentation(attributes) if refuse else {}
        H.add_node(names[node], **_stripped(attributes, _node_names(attributes), written, f"node {node!r}", refuse))
    for source, target, attributes in G.edges(data=True):
        H.add_edge(names[source], names[target],
                   **_stripped(attributes, _EDGE_NAMES, {}, f"edge {source!r} -> {target!r}", refuse))
    return H


def _stripped(attributes: Mapping, schema_names: Collection[str], written: Mapping | None, where: str,
              refuse: bool) -> dict[Any, Any]:
    """``attributes`` less presentation (names in the schema are never presentation).

    With refuse, each presentation attribute must be one of ``written``; None
    keeps them all, for validate_graph to report (after the node's real fault).
    """
    if refuse and written is None:
        return dict(attributes)
    kept = {}
    for name, value in attributes.items():
        if name not in PRESENTATION_ATTRIBUTES or name in schema_names:
            kept[name] = value
        elif refuse:
            assert written is not None  # returned above otherwise
            if name not in written or written[name] != value or type(written[name]) is not type(value):
                raise GraphSchemaError(f"{where}: presentation attribute {name!r} = {value!r} is not one "
                                       "save_graph writes (loaded with presentation='refuse')")
    return kept


def _node_names(attributes: Mapping) -> frozenset[str]:
    """Attribute names the schema uses for this node: its kind's, or every kind's when the kind is unknown."""
    kind = attributes.get("kind")
    kinds = [NODE_KINDS[kind]] if isinstance(kind, str) and kind in NODE_KINDS else NODE_KINDS.values()
    return frozenset({"kind"}.union(*({*record.number_names, *(name for name, _ in record.indices)}
                                      for record in kinds)))


def _graph_names(graph: Mapping) -> frozenset[str]:
    """Graph attribute names of the graph's type, or of every type when the type is unknown."""
    graph_type = graph.get("graph_type")
    if isinstance(graph_type, str) and graph_type in GRAPH_ATTRIBUTES:
        return frozenset(GRAPH_ATTRIBUTES[graph_type])
    return frozenset().union(*GRAPH_ATTRIBUTES.values())


def _indices(attributes: Mapping) -> tuple[int, ...] | None:
    """The node's indices in id order, or None when its kind is unknown or an index is missing or not an int."""
    kind = attributes.get("kind")
    if not isinstance(kind, str) or kind not in NODE_KINDS:
        return None
    values = tuple(attributes.get(name) for name, _ in NODE_KINDS[kind].indices)
    if not all(isinstance(value, Integral) and not isinstance(value, bool) for value in values):
        return None
    return cast(tuple[int, ...], values)  # each checked above


def _written_presentation(attributes: Mapping) -> dict[str, object] | None:
    # An unknown kind or a bad index leaves nothing to compare with: None, and validate_graph reports the cause.
    return node_presentation(attributes) if _indices(attributes) is not None else None


def _canonical_id(node: Hashable, attributes: Mapping) -> Hashable:
    """A tool-assigned id replaced by the id of the node's kind and indices; an id of this schema's form kept.

    An id that starts with a node kind stays, so that validate_graph still
    catches an id that disagrees with its node's indices (an edited file).
    """
    if str(node).partition(":")[0] in NODE_KINDS:
        return node
    indices = _indices(attributes)
    return node if indices is None else node_id(attributes["kind"], *indices)


def _check_unique(names: Mapping) -> None:
    seen: dict[object, object] = {}
    for node, name in names.items():
        if name in seen:
            raise GraphSchemaError(f"duplicated indices: nodes {seen[name]!r} and {node!r} both have the kind and "
                                   f"indices of {name!r}")
        seen[name] = node
