"""Backends that execute compiled graphs; Brian2 rate-neuron equations (numpy, Cython, C++ standalone).

``run_brian2(graph, observations)`` builds one Brian2 network from the graph
alone — a NeuronGroup per node kind and a Synapses object per edge kind,
through the registries :data:`NODE_TEMPLATES` and :data:`EDGE_TEMPLATES` —
and returns the same result type as the numpy decoders.
"""

from .brian2_build import BuiltNetwork, ScheduleError, build_network
from .brian2_run import BaselineResult, run_brian2
from .brian2_targets import TARGETS
from .registry import EDGE_TEMPLATES, NODE_TEMPLATES, MissingTemplateError, edge_template, node_template

__all__ = [
    "EDGE_TEMPLATES",
    "NODE_TEMPLATES",
    "TARGETS",
    "BaselineResult",
    "BuiltNetwork",
    "MissingTemplateError",
    "ScheduleError",
    "build_network",
    "edge_template",
    "node_template",
    "run_brian2",
]
