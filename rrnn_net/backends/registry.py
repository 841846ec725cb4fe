"""Kind → template registries, one per backend, modelled on Nengo's builder.

Each backend keeps one :class:`TemplateRegistry`: a node template per node
kind (how a population of that kind becomes the backend's object) and,
optionally, an edge template per edge kind. An edge kind without its own
template is built by the backend's default template, which reads everything
it needs from the kind's record (what it carries, into which input
variable), so a new edge kind usually needs no backend code at all.

Examples
--------
>>> from rrnn_net.backends.reference import TEMPLATES
>>> TEMPLATES.backend, sorted(TEMPLATES.nodes)[:3]
('reference', ['covariance', 'error', 'evidence'])
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ParameterError, RRNNError

__all__ = ["MissingTemplateError", "TemplateRegistry"]


class MissingTemplateError(RRNNError, ValueError):
    """A graph holds a node (or edge) kind for which the chosen backend has no template."""


class TemplateRegistry:
    """Templates of one backend, by node and edge kind.

    Parameters
    ----------
    backend : str
        The backend's name (in error messages).
    default_edge : callable, optional
        The template of every edge kind without its own.
    """

    def __init__(self, backend: str, default_edge: Callable | None = None) -> None:
        self.backend = backend
        self.nodes: dict[str, Callable] = {}
        self.edges: dict[str, Callable] = {}
        self.default_edge = default_edge

    def node(self, *kinds: str) -> Callable[[Callable], Callable]:
        """Decorator registering a node template for each of ``kinds`` (each kind once)."""
        return self._register(self.nodes, "node", kinds)

    def edge(self, *kinds: str) -> Callable[[Callable], Callable]:
        """Decorator registering an edge template for each of ``kinds`` (each kind once)."""
        return self._register(self.edges, "edge", kinds)

    def _register(self, table: dict, what: str, kinds: tuple[str, ...]) -> Callable[[Callable], Callable]:
        def register(function: Callable) -> Callable:
            for kind in kinds:
                if kind in table:
                    raise ParameterError(f"a {self.backend} template for {what} kind {kind!r} is already registered")
                table[kind] = function
            return function

        return register

    def lookup_node(self, kind: str) -> Callable:
        """The template of node ``kind``; :class:`MissingTemplateError` if there is none."""
        try:
            return self.nodes[kind]
        except KeyError:
            raise MissingTemplateError(f"no {self.backend} template is registered for node kind {kind!r}") from None

    def lookup_edge(self, kind: str) -> Callable:
        """The template of edge ``kind``, or the default edge template."""
        template = self.edges.get(kind, self.default_edge)
        if template is None:
            raise MissingTemplateError(f"no {self.backend} template is registered for edge kind {kind!r}")
        return template
