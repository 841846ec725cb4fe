"""Kind → template registries: how each node and edge kind of a compiled graph becomes a Brian2 object.

Modelled on Nengo's builder: supporting a new kind is one registered function.
A node template receives a :class:`~rrnn_net.backends.brian2_context.Population`
(all units of one kind, replicated over the trials of a batch) and returns one
``NeuronGroup``; an edge template receives a
:class:`~rrnn_net.backends.brian2_context.Projection` (all edges of one kind
between two populations into one port) and returns one ``Synapses`` object.
The equation text lives in these functions only; the graph supplies numbers.

Examples
--------
>>> sorted(NODE_TEMPLATES)[:3]
['covariance', 'error', 'evidence']
>>> NODE_TEMPLATES["state"].record
('mu', 'correction')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import RRNNError

if TYPE_CHECKING:
    from brian2 import NeuronGroup, Synapses

    from .brian2_context import BuildContext, Population, Projection

__all__ = [
    "EDGE_TEMPLATES",
    "NODE_TEMPLATES",
    "EdgeTemplate",
    "MissingTemplateError",
    "NodeTemplate",
    "edge_template",
    "node_template",
]


class MissingTemplateError(RRNNError, ValueError):
    """A graph holds a node or edge kind for which no backend template is registered."""


@dataclass(frozen=True)
class NodeTemplate:
    """How one node kind is built.

    Attributes
    ----------
    kind : str
        The node ``kind`` it builds.
    build : callable
        ``build(context, population) -> brian2.NeuronGroup``.
    record : tuple of str
        Group variables a monitor records when this kind is recorded.
    """

    kind: str
    build: Callable[[BuildContext, Population], NeuronGroup]
    record: tuple[str, ...]


@dataclass(frozen=True)
class EdgeTemplate:
    """How one edge kind is built: ``build(context, projection) -> brian2.Synapses``."""

    kind: str
    build: Callable[[BuildContext, Projection], Synapses]


NODE_TEMPLATES: dict[str, NodeTemplate] = {}
EDGE_TEMPLATES: dict[str, EdgeTemplate] = {}


def node_template(kind: str, *, record: tuple[str, ...] = ()) -> Callable:
    """Decorator registering ``function(context, population) -> NeuronGroup`` for node ``kind``."""

    def register(function: Callable) -> Callable:
        if kind in NODE_TEMPLATES:
            raise ValueError(f"a template for node kind {kind!r} is already registered")
        NODE_TEMPLATES[kind] = NodeTemplate(kind, function, tuple(record))
        return function

    return register


def edge_template(kind: str) -> Callable:
    """Decorator registering ``function(context, projection) -> Synapses`` for edge ``kind``."""

    def register(function: Callable) -> Callable:
        if kind in EDGE_TEMPLATES:
            raise ValueError(f"a template for edge kind {kind!r} is already registered")
        EDGE_TEMPLATES[kind] = EdgeTemplate(kind, function)
        return function

    return register


def lookup_node(kind: str) -> NodeTemplate:
    """The registered template of node ``kind``; :class:`MissingTemplateError` if there is none."""
    try:
        return NODE_TEMPLATES[kind]
    except KeyError:
        raise MissingTemplateError(f"no Brian2 template is registered for node kind {kind!r}") from None


def lookup_edge(kind: str) -> EdgeTemplate:
    """The registered template of edge ``kind``; :class:`MissingTemplateError` if there is none."""
    try:
        return EDGE_TEMPLATES[kind]
    except KeyError:
        raise MissingTemplateError(f"no Brian2 template is registered for edge kind {kind!r}") from None
