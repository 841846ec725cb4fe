"""Lesions and perturbations of a compiled graph: remove or scale connections, disconnect units.

:func:`lesion` returns a new graph, valid under the schema and runnable on
every backend, in which the selected connections are scaled (scale 0
removes them). A lesion of one copy of a parameter (the recurrent edges but
not the drift edges that hold W/τ too) leaves a network that no longer
computes the exact filter of any single GenerativeRNN;
:func:`~rrnn_net.graph.consistency` says which parts disagree.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn, consistency
>>> G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
>>> lesioned = lesion(G, edges="recurrent")
>>> lesioned.number_of_edges() == G.number_of_edges() - 9, consistency(lesioned).parts
(True, ('dynamics', 'covariance propagation'))
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from numbers import Real

import networkx as nx

from ..errors import ParameterError
from .kinds import EDGE_KINDS, NODE_KINDS
from .schema import PROVENANCE_PREFIX, validate_graph

__all__ = ["EdgeSelection", "LesionError", "lesion"]

#: What :func:`lesion` accepts as ``edges``: an edge kind, (source, target) pairs, or a predicate.
EdgeSelection = str | Iterable[tuple[Hashable, Hashable]] | Callable[[Hashable, Hashable, Mapping], bool]

_COUNT = PROVENANCE_PREFIX + "lesions"
_UNITS = PROVENANCE_PREFIX + "lesion_units"


class LesionError(ParameterError):
    """A lesion that selects nothing, names edges or units the graph lacks, or has an invalid scale."""


def lesion(G: nx.DiGraph, *, edges: EdgeSelection | None = None, units: Iterable[Hashable] | str | None = None,
           scale: float = 0.0) -> nx.DiGraph:
    """A copy of ``G`` with the selected connections scaled by ``scale`` (0: removed) or units disconnected.

    The result is always a valid graph that every backend runs. Scale 0
    deletes a selected edge, so topology tools see the connection gone,
    except an edge that its target's template needs (every input of a
    multiplicative unit, a prediction-error unit's one sensory edge): that
    one stays with weight 0, which makes its message 0 (a product unit fed a
    zero factor computes 0; a sensory edge's gate is no weighted message
    and still passes). Any other scale multiplies the weights.

    Units stay in the graph, because the schema holds every unit of each kind
    (N² covariance units, ...): a lesioned unit is *disconnected* instead —
    every edge into and out of it is removed by the rule above, so nothing
    reads it and it reads nothing (a state unit then relaxes to its bias
    b_i, a covariance unit to Q_ik τ/2). A disconnected
    error unit still has its own channel's quadratic units, which keep
    shrinking the covariance: the network becomes over-confident about that
    channel, as :func:`~rrnn_net.graph.consistency` reports.

    What was lesioned is recorded in numeric provenance attributes (the
    schema allows no free text): ``provenance_lesions`` counts the lesions
    applied, ``provenance_lesion_<edge kind>`` the edges of each kind
    removed or scaled, and ``provenance_lesion_units`` the units
    disconnected, each added to the counts ``G`` already carries.

    Parameters
    ----------
    G : networkx.DiGraph
        A compiled graph (validated first); never modified.
    edges : str, iterable of (source, target), or callable, optional
        An edge kind (``"recurrent"``: the whole connection class), the
        (source, target) node ids of edges in ``G``, or a predicate
        ``edges(source, target, attributes) -> bool`` over every edge
        (e.g. ``lambda u, v, a: a["kind"] in ("recurrent", "drift")``).
    units : str or iterable of str, optional
        Node ids of units to disconnect (a single id may be given as a str);
        only with ``scale=0``.
    scale : float
        The factor every selected weight is multiplied by; 0 removes.

    Returns
    -------
    networkx.DiGraph
        A new graph with new attribute dictionaries.

    Raises
    ------
    LesionError
        Nothing selected; an edge kind, edge or unit that ``G`` does not
        hold; ``units`` with a non-zero scale (scale the unit's edges
        instead); a scale that is not a finite number.
    GraphSchemaError
        If ``G`` is invalid.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
    >>> halved = lesion(G, edges="feedback", scale=0.5)
    >>> halved.edges["error:0", "state:1"]["weight"] == 0.5 * G.edges["error:0", "state:1"]["weight"]
    True
    >>> silenced = lesion(G, units="error:1")
    >>> silenced.out_degree("error:1"), silenced.graph["provenance_lesion_units"]
    (0, 1)
    >>> lesion(G, edges="fixed_gain")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rrnn_net.graph.lesion.LesionError: the graph holds no 'fixed_gain' edges; its edge kinds are ['back_error', ...]
    """
    validate_graph(G)
    scale = _check_scale(scale)
    if edges is None and units is None:
        raise LesionError("select edges (an edge kind, (source, target) pairs or a predicate) or units to lesion")
    unit_ids = _selected_units(G, units)
    if unit_ids and scale != 0.0:
        raise LesionError(f"units can only be disconnected (scale=0, got {scale!r}); to scale what a unit "
                          f"sends, select its out-edges: edges=lambda u, v, a: u in units")
    selected = set() if edges is None else _selected_edges(G, edges)
    for unit in unit_ids:
        selected.update(G.in_edges(unit))
        selected.update(G.out_edges(unit))
    if not selected:
        raise LesionError("the lesion selects no edge")
    H = G.copy()
    counts = Counter(G.edges[edge]["kind"] for edge in selected)
    for source, target in selected:
        attributes = H.edges[source, target]
        if scale != 0.0:
            attributes["weight"] = attributes["weight"] * scale
        elif _required(H.nodes[target]["kind"], attributes["kind"]):
            attributes["weight"] = 0.0  # not weight × 0: a negative weight would leave −0.0
        else:
            H.remove_edge(source, target)
    H.graph[_COUNT] = G.graph.get(_COUNT, 0) + 1
    for kind, count in counts.items():
        key = f"{PROVENANCE_PREFIX}lesion_{kind}"
        H.graph[key] = G.graph.get(key, 0) + count
    if unit_ids:
        H.graph[_UNITS] = G.graph.get(_UNITS, 0) + len(unit_ids)
    return H


def _required(target_kind: str, edge_kind: str) -> bool:
    """Whether a ``target_kind`` unit's template needs its ``edge_kind`` in-edges (a product's factors, ...)."""
    record = NODE_KINDS[target_kind]
    return record.product or record.inputs[edge_kind][0] > 0


def _check_scale(scale: object) -> float:
    if isinstance(scale, bool) or not isinstance(scale, Real) or not math.isfinite(scale):
        raise LesionError(f"scale must be a finite number, got {scale!r}")
    return float(scale)


def _selected_units(G: nx.DiGraph, units: Iterable[Hashable] | str | None) -> list[Hashable]:
    if units is None:
        return []
    unit_ids: list[Hashable] = [units] if isinstance(units, str) else list(units)
    missing = [unit for unit in unit_ids if unit not in G]
    if missing:
        raise LesionError(f"the graph holds no unit(s) {missing[:3]} (node ids look like 'state:0', 'error:1')")
    return unit_ids


def _selected_edges(G: nx.DiGraph, edges: EdgeSelection) -> set[tuple[Hashable, Hashable]]:
    if isinstance(edges, str):
        if edges not in EDGE_KINDS:
            raise LesionError(f"unknown edge kind {edges!r}; known kinds: {sorted(EDGE_KINDS)}")
        selected = {(u, v) for u, v, kind in G.edges(data="kind") if kind == edges}
        if not selected:
            present = sorted({kind for _, _, kind in G.edges(data="kind")})
            raise LesionError(f"the graph holds no {edges!r} edges; its edge kinds are {present}")
        return selected
    if callable(edges):
        return {(u, v) for u, v, attributes in G.edges(data=True) if edges(u, v, attributes)}
    selected = set()
    for pair in edges:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise LesionError(f"edges must be an edge kind, (source, target) pairs or a predicate; got item {pair!r}")
        if not G.has_edge(*pair):
            raise LesionError(f"the graph holds no edge {pair[0]!r} -> {pair[1]!r}")
        selected.add(pair)
    return selected
