"""The rRNN as an explicit graph: compile models into networkx graphs, validate, save, load, inspect.

The node and edge kinds are records in :mod:`rrnn_net.graph.kinds` (the
contract with the backends); ``docs/graph_spec.md`` explains the equations and
``graphs/README.md`` is the user-facing description.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn, summarize
>>> G = compile_rrnn(GenerativeRNN.oscillator(4, 2, seed=0), gain_mode="adaptive")
>>> summarize(G).is_local
True
"""

from typing import TYPE_CHECKING

from .compile import compile_baseline, compile_rrnn
from .consistency import Consistency, consistency
from .inspect import GraphSummary, summarize, to_matrices, to_model
from .io import load_graph, save_graph
from .kinds import EDGE_KINDS, NODE_KINDS, EdgeKind, NodeKind, register_edge_kind, register_node_kind
from .lesion import LesionError, lesion
from .schema import (
    SCHEMA_VERSION,
    GraphCovarianceError,
    GraphSchemaError,
    UnstableGraphError,
    locality_violations,
    node_id,
    validate_graph,
)

if TYPE_CHECKING:  # for type checkers; at run time draw comes from __getattr__ below
    from .drawing import draw


def __getattr__(name: str) -> object:
    # draw needs matplotlib, which is slow to import and not needed to compile, validate or run a graph.
    if name == "draw":
        from .drawing import draw

        return draw
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EDGE_KINDS",
    "NODE_KINDS",
    "SCHEMA_VERSION",
    "Consistency",
    "GraphCovarianceError",
    "GraphSchemaError",
    "EdgeKind",
    "GraphSummary",
    "LesionError",
    "NodeKind",
    "UnstableGraphError",
    "compile_baseline",
    "compile_rrnn",
    "consistency",
    "draw",
    "lesion",
    "load_graph",
    "locality_violations",
    "node_id",
    "register_edge_kind",
    "register_node_kind",
    "save_graph",
    "summarize",
    "to_matrices",
    "to_model",
    "validate_graph",
]
