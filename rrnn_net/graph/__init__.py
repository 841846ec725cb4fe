"""The rRNN as an explicit graph: compile models into networkx graphs, validate, save, load, inspect.

See ``docs/graph_spec.md`` for the node and edge kinds (the contract with the
backends) and ``graphs/README.md`` for the user-facing description.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn, summarize
>>> G = compile_rrnn(GenerativeRNN.oscillator(4, 2, seed=0), gain="adaptive")
>>> summarize(G).is_local
True
"""

from .compile import GAIN_AVERAGE_DEFAULTS, average_filter_gain, compile_baseline, compile_rrnn
from .draw import draw
from .inspect import GraphSummary, summarize, to_matrices
from .io import load_graph, save_graph
from .schema import (
    EDGE_KINDS,
    NODE_KINDS,
    PRODUCT_KINDS,
    SCHEMA_VERSION,
    GraphSchemaError,
    locality_violations,
    node_id,
    validate_graph,
)

__all__ = [
    "EDGE_KINDS",
    "GAIN_AVERAGE_DEFAULTS",
    "NODE_KINDS",
    "PRODUCT_KINDS",
    "SCHEMA_VERSION",
    "GraphSchemaError",
    "GraphSummary",
    "average_filter_gain",
    "compile_baseline",
    "compile_rrnn",
    "draw",
    "load_graph",
    "locality_violations",
    "node_id",
    "save_graph",
    "summarize",
    "to_matrices",
    "validate_graph",
]
