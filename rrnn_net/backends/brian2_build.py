"""Build a Brian2 network from a compiled graph alone: populations, projections, schedule, monitors.

Each node kind becomes one NeuronGroup and each (edge kind, source kind,
target kind, port) one Synapses object, through the templates registered in
:mod:`rrnn_net.backends.registry`; a batch of B trials replicates the units
and edges inside the same objects. Observations enter through a 2-D
TimedArray ``observation_values(t, i)`` (and the observed gates through
``gate_values(t, i)``), one column per sensory neuron, one row per sample.

Timing (the contract with :class:`rrnn_net.filters.ContinuousFilter`): sample
k (k = 1..T) is held over the K = Δ/dt integration steps of (t_{k−1}, t_k].
Within every step, ``(constant over dt)`` rates are evaluated first
(``before_start``), then all summed messages and stored products in order of
their dependency level (``before_groups``), then every state variable takes
one Euler step (``groups``): every update reads values from the start of the
step, as in the numpy Euler scheme. Monitors record in ``before_groups`` after
the last message, at the sample times t_0 .. t_T, so they see the state at
t_k together with the messages computed from it; the run lasts T·K + 1 steps
to reach t_T.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
from brian2 import Clock, Network, NeuronGroup, StateMonitor, Synapses, TimedArray, second
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.devices.device import RuntimeDevice, get_device
from brian2.equations.equations import SUBEXPRESSION
from brian2.groups.group import CodeRunner, Group
from brian2.utils.stringtools import get_identifiers

from .._validation import as_float_array, check_euler_step, positive_scalar, steps_per_interval
from ..errors import NonFiniteError, ParameterError, RRNNError, ShapeError
from ..graph.schema import index_key, validate_graph
from . import brian2_templates  # noqa: F401  (registers the templates)
from .brian2_context import BuildContext, ComputedVariable, Population, Projection
from .registry import lookup_edge, lookup_node

__all__ = [
    "BuiltNetwork",
    "GraphLayout",
    "SampledInputs",
    "ScheduleError",
    "assemble_network",
    "build_network",
    "graph_layout",
    "integration_step",
    "recorded_kinds",
    "sampled_inputs",
]

#: Node kinds that carry the observations, and the kinds always recorded, per graph type.
INPUT_KIND = {"rrnn": "sensory", "baseline": "input"}
ALWAYS_RECORDED = {"rrnn": ("state", "error", "evidence"), "baseline": ("hidden", "output")}
_INPUT_SIZE = {"rrnn": "n_obs", "baseline": "n_input"}
_MESSAGE_SLOT = "before_groups"


class ScheduleError(RRNNError, RuntimeError):
    """The messages of a step cannot be ordered so that each reads only values of the same step."""


# ------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class SampledInputs:
    """Observations (B, T, m) as the network reads them; NaN marks a missing sample.

    Attributes
    ----------
    observations : ndarray, shape (B, T, m)
    batched : bool
        Whether the caller passed (B, T, m) rather than (T, m).
    """

    observations: np.ndarray
    batched: bool

    @property
    def n_trials(self) -> int:
        """B."""
        return self.observations.shape[0]

    @property
    def n_samples(self) -> int:
        """T."""
        return self.observations.shape[1]

    def columns(self, population: Population) -> tuple[np.ndarray, np.ndarray]:
        """TimedArray values and gates, shape (T, n_units * B) each, column p * B + b.

        Column p of trial b holds channel ``index`` of the population's unit p;
        a missing sample reads 0 with gate 0 (its error unit then reads ε = 0).
        """
        channels = [attributes["index"] for attributes in population.attributes]
        picked = self.observations[:, :, channels]  # (B, T, n_units)
        values = np.ascontiguousarray(np.transpose(picked, (1, 2, 0))).reshape(self.n_samples, -1)
        observed = ~np.isnan(values)
        return np.where(observed, values, 0.0), observed.astype(np.float64)


def sampled_inputs(graph: nx.DiGraph, observations) -> SampledInputs:
    """Check observations (T, m) or (B, T, m) against the graph's input size.

    Raises
    ------
    ShapeError
        Wrong number of dimensions or channels, or no samples.
    NonFiniteError
        Infinite values (NaN is a missing sample; baseline graphs need every sample).
    """
    graph_type = graph.graph["graph_type"]
    n_channels = graph.graph[_INPUT_SIZE[graph_type]]
    y = as_float_array(observations, "observations")
    batched = y.ndim == 3
    y = y[None] if y.ndim == 2 else y
    if y.ndim != 3 or y.shape[-1] != n_channels or 0 in y.shape:
        raise ShapeError(f"observations must have shape (T, {n_channels}) or (B, T, {n_channels}) with B, T >= 1, "
                         f"got {np.shape(observations)}")
    if np.any(np.isinf(y)):
        raise NonFiniteError("observations contain infinite values (use NaN for missing samples)")
    if graph_type == "baseline" and np.any(np.isnan(y)):
        raise NonFiniteError("a baseline network has no gates: its inputs may not contain NaN")
    return SampledInputs(np.array(y, dtype=np.float64), batched)


def integration_step(graph: nx.DiGraph, dt: float | None) -> tuple[float, int]:
    """The Euler step (s) and the steps per sample K = Δ/dt; default dt is the graph's integration_step.

    Raises
    ------
    UnstableSettingError
        If dt does not divide the sampling interval Δ or is not below 2τ.
    """
    interval = graph.graph["sample_interval"]
    dt = graph.graph["integration_step"] if dt is None else positive_scalar(dt, "dt")
    steps_per_sample = steps_per_interval(interval, dt)
    check_euler_step(dt, graph.graph["tau"])
    return dt, steps_per_sample


def recorded_kinds(graph: nx.DiGraph, record: str | Iterable[str]) -> tuple[str, ...]:
    """The node kinds to monitor: the graph type's defaults plus ``record``, in a fixed order."""
    extra = {record} if isinstance(record, str) else set(record)
    present = {kind for _, kind in graph.nodes(data="kind")}
    unknown = sorted(map(str, extra - present))
    if unknown:
        raise ParameterError(f"record names node kinds that are not in the graph: {unknown} "
                             f"(present: {sorted(present)})")
    return tuple(sorted(extra | set(ALWAYS_RECORDED[graph.graph["graph_type"]])))


# ------------------------------------------------------------- graph layout
@dataclass(frozen=True)
class GraphLayout:
    """A validated graph as populations and projections: everything the build reads from the graph.

    Attributes
    ----------
    graph_type, activation : str
    sample_interval : float
        Δ in seconds.
    populations : dict of str to Population
        One per node kind, by kind.
    projections : tuple of Projection
        One per (edge kind, source kind, target kind, port).
    """

    graph_type: str
    activation: str
    sample_interval: float
    populations: dict[str, Population]
    projections: tuple[Projection, ...]

    def code_structure(self) -> tuple:
        """Names and sizes of every object: what shapes Brian2's generated code (not the numbers)."""
        units = tuple((kind, population.n_trials, population.n_units) for kind, population in self.populations.items())
        edges = tuple((projection.name, len(projection.pre)) for projection in self.projections)
        return self.graph_type, self.activation, self.sample_interval, units, edges

    def numbers_digest(self) -> str:
        """SHA-256 of every node attribute, edge endpoint and weight."""
        digest = hashlib.sha256()
        for population in self.populations.values():
            digest.update(repr([sorted(attributes.items()) for attributes in population.attributes]).encode())
        for projection in self.projections:
            for array in (projection.pre, projection.post, projection.weight):
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def graph_layout(graph: nx.DiGraph, n_trials: int) -> GraphLayout:
    """Group a validated graph's nodes into populations and its edges into projections."""
    units = _populations(graph, n_trials)
    return GraphLayout(graph.graph["graph_type"], graph.graph["activation"], graph.graph["sample_interval"],
                       units, _projections(graph, units))


def _populations(graph: nx.DiGraph, n_trials: int) -> dict[str, Population]:
    """One population per node kind, units sorted by their indices."""
    by_kind: dict[str, list] = defaultdict(list)
    for node, attributes in graph.nodes(data=True):
        by_kind[attributes["kind"]].append((index_key(attributes), node, attributes))
    result = {}
    for kind in sorted(by_kind):
        members = sorted(by_kind[kind], key=lambda member: member[0])
        result[kind] = Population(kind, tuple(node for _, node, _ in members),
                                  tuple(attributes for _, _, attributes in members), n_trials)
    return result


def _projections(graph: nx.DiGraph, units: Mapping[str, Population]) -> tuple[Projection, ...]:
    """One projection per (edge kind, source kind, target kind, port), edges sorted, in a fixed order."""
    position = {node: p for population in units.values() for p, node in enumerate(population.nodes)}
    kind_of = {node: population.kind for population in units.values() for node in population.nodes}
    edges: dict[tuple, list] = defaultdict(list)
    for source, target, attributes in graph.edges(data=True):
        key = (attributes["kind"], kind_of[source], kind_of[target], attributes.get("port", 0))
        edges[key].append((position[source], position[target], float(attributes["weight"])))
    result = []
    for key in sorted(edges):
        kind, source_kind, target_kind, port = key
        pre, post, weight = (np.array(column) for column in zip(*sorted(edges[key]), strict=True))
        result.append(Projection(kind, units[source_kind], units[target_kind], port or None, pre, post, weight))
    return tuple(result)


# --------------------------------------------------------------- schedule
@dataclass(frozen=True)
class _Producer:
    """An object that sets a variable within the step: a summed update or a computed variable."""

    runner: CodeRunner
    group: Group  # the variable's owner
    variable: str
    reads: tuple[tuple[Group, str], ...]  # (owner, variable) pairs its expression reads


def _producers(synapses: Iterable[Synapses], computed: Iterable[ComputedVariable]) -> list[_Producer]:
    result = []
    for connection in synapses:
        for updater in connection.summed_updaters.values():
            reads = []
            for name in sorted(get_identifiers(str(updater.expression))):
                for suffix, owner in (("_pre", connection.source), ("_post", connection.target)):
                    if name.endswith(suffix):
                        reads.append((owner, name.removesuffix(suffix)))
            result.append(_Producer(updater, updater.target, updater.target_varname.removesuffix("_post"),
                                    tuple(reads)))
    for item in computed:
        reads = tuple((item.group, name) for name in sorted(get_identifiers(item.expression)))
        result.append(_Producer(item.runner, item.group, item.variable, reads))
    return result


class _Levels:
    """Dependency level of everything computed within a step, from the equations Brian2 parsed.

    A producer (summed update or computed variable) that reads only state
    variables (μ, P, ℓ), constants or the TimedArray has level 1; one that
    reads a variable set by another producer, directly or through
    subexpressions (ε reads Σ −M ρ), comes one level after it. The levels
    become the producers' ``order`` in the ``before_groups`` slot.
    """

    def __init__(self, producers: list[_Producer]) -> None:
        self.by_variable = {(producer.group.name, producer.variable): producer for producer in producers}
        self.level: dict[str, int] = {}
        self.depends_on: dict[str, set[str]] = {}
        self._visiting: set[str] = set()

    def of(self, producer: _Producer) -> int:
        name = producer.runner.name
        if name not in self.level:
            if name in self._visiting:
                raise ScheduleError(f"{name} depends on itself through other messages")
            self._visiting.add(name)
            inputs = set().union(*(self._inputs(group, variable) for group, variable in producer.reads))
            self.depends_on[name] = {dependency.runner.name for dependency in inputs}
            self.level[name] = 1 + max((self.of(dependency) for dependency in inputs), default=0)
            self._visiting.discard(name)
        return self.level[name]

    def _inputs(self, group: Group, variable: str) -> set[_Producer]:
        """Producers whose variables ``variable`` of ``group`` reads within the same step."""
        if (group.name, variable) in self.by_variable:
            return {self.by_variable[(group.name, variable)]}
        equation = getattr(group, "equations", {}).get(variable)
        if equation is None or equation.type != SUBEXPRESSION:
            return set()  # a state variable, constant or synaptic weight: fixed during the step
        inputs = set().union(*(self._inputs(group, name) for name in equation.identifiers))
        if inputs and "constant over dt" in equation.flags:
            raise ScheduleError(f"{group.name}.{variable} is 'constant over dt' but reads messages that are "
                                "only computed later in the step")
        return inputs


def schedule_messages(synapses: Iterable[Synapses],
                      computed: Iterable[ComputedVariable]) -> tuple[dict[str, set[str]], int]:
    """Put every summed update and computed variable in ``before_groups``, ordered by dependency level.

    Returns
    -------
    depends_on : dict
        Producer name -> names of the producers it reads.
    deepest : int
        The highest level (0 without producers).
    """
    producers = _producers(synapses, computed)
    levels = _Levels(producers)
    for producer in producers:
        producer.runner.when = _MESSAGE_SLOT
        producer.runner.order = levels.of(producer)
    return levels.depends_on, max(levels.level.values(), default=0)


def check_schedule(network: Network, depends_on: Mapping[str, set[str]]) -> None:
    """Verify with Brian2's own schedule that each producer follows those it reads and precedes every update.

    Raises
    ------
    ScheduleError
        If an entry of ``network.scheduling_summary()`` breaks the order.
    """
    entries = network.scheduling_summary().entries
    position = {entry.name: p for p, entry in enumerate(entries)}
    for name, dependencies in depends_on.items():
        late = [dependency for dependency in dependencies if position[dependency] > position[name]]
        if late:
            raise ScheduleError(f"{name} is scheduled before {late}, which it reads")
    last_message = max((position[name] for name in depends_on), default=-1)
    early = [entry.name for entry in entries[:last_message] if entry.type in ("StateUpdater", "StateMonitor")]
    if early:
        raise ScheduleError(f"{early} run before all messages of the step are computed")


# ------------------------------------------------------------------ network
@dataclass
class BuiltNetwork:
    """A Brian2 network built from a graph, with the handles needed to run and read it.

    Attributes
    ----------
    network : brian2.Network
    populations : dict of str to Population
    groups : dict of str to brian2.NeuronGroup
        By node kind.
    synapses : dict of str to brian2.Synapses
        By projection name.
    monitors : dict of str to brian2.StateMonitor
        By node kind; they record at the sample times t_0 .. t_T.
    input_kind : str
        The node kind fed by the observations (``sensory`` or ``input``).
    input_arrays : tuple of brian2.TimedArray
        ``observation_values`` and, for an rRNN, ``gate_values``.
    duration : brian2.Quantity
        Run length, T·K + 1 integration steps.
    depends_on : dict of str to set of str
        The dependencies behind the schedule: producer name -> the producers it reads.
    """

    network: Network
    populations: dict[str, Population]
    groups: dict[str, NeuronGroup]
    synapses: dict[str, Synapses]
    monitors: dict[str, StateMonitor]
    input_kind: str
    input_arrays: tuple[TimedArray, ...]
    duration: object
    depends_on: dict[str, set[str]]

    def input_values(self, inputs: SampledInputs) -> list[np.ndarray]:
        """Values of :attr:`input_arrays` for ``inputs`` (same trial count and length as the build)."""
        return list(inputs.columns(self.populations[self.input_kind]))[: len(self.input_arrays)]

    def recordings(self) -> dict[str, dict[str, np.ndarray]]:
        """Monitored values per node kind: ``t`` (T+1,) in s and each variable as (B, T+1, n_units) floats."""
        result = {}
        for kind, monitor in self.monitors.items():
            population = self.populations[kind]
            values = {"t": np.asarray(monitor.variables["t"].get_value(), dtype=np.float64).copy()}
            for variable in monitor.record_variables:
                raw = np.asarray(monitor.variables[variable].get_value(), dtype=np.float64)  # (T+1, n*B)
                units = raw.reshape(raw.shape[0], population.n_units, population.n_trials)
                values[variable] = np.ascontiguousarray(np.transpose(units, (2, 0, 1)))
            result[kind] = values
        return result


def build_network(graph: nx.DiGraph, observations, *, dt: float | None = None,
                  record: str | Iterable[str] = ()) -> BuiltNetwork:
    """Validate ``graph`` and build its Brian2 network for ``observations`` on the current Brian2 device.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled graph (validated here; only its kinds and numbers are used).
    observations : array_like, shape (T, m) or (B, T, m)
        Inputs of the sensory (or baseline input) units; NaN = missing.
    dt : float, optional
        Euler step in seconds; default the graph's ``integration_step``.
    record : str or iterable of str
        Node kinds monitored in addition to the defaults.

    Returns
    -------
    BuiltNetwork
    """
    validate_graph(graph)
    inputs = sampled_inputs(graph, observations)
    step, steps_per_sample = integration_step(graph, dt)
    layout = graph_layout(graph, inputs.n_trials)
    return assemble_network(layout, inputs, step, steps_per_sample, recorded_kinds(graph, record))


def assemble_network(layout: GraphLayout, inputs: SampledInputs, dt: float, steps_per_sample: int,
                     record: tuple[str, ...]) -> BuiltNetwork:
    """Build the network of a graph's layout (see :func:`build_network`) on the current Brian2 device."""
    units = layout.populations
    input_kind = INPUT_KIND[layout.graph_type]
    input_arrays = _input_arrays(layout, inputs.columns(units[input_kind]))
    context = BuildContext(layout.activation, Clock(dt * second, name="integration_clock"),
                           namespace={array.name: array for array in input_arrays})
    for kind, population in units.items():
        context.groups[kind] = lookup_node(kind).build(context, population)
    synapses = {}
    for projection in layout.projections:
        synapses[projection.name] = lookup_edge(projection.kind).build(context, projection)
    depends_on, deepest = schedule_messages(synapses.values(), context.computed)
    sample_clock = Clock(layout.sample_interval * second, name="sample_clock")
    monitors = {kind: _monitor(context.groups[kind], kind, sample_clock, deepest + 1) for kind in record}
    network = Network(*context.groups.values(), *synapses.values(), *monitors.values(), name="rrnn_network")
    check_schedule(network, depends_on)
    duration = (inputs.n_samples * steps_per_sample + 1) * dt * second
    return BuiltNetwork(network, units, context.groups, synapses, monitors, input_kind, input_arrays, duration,
                        depends_on)


def _input_arrays(layout: GraphLayout, columns: tuple[np.ndarray, np.ndarray]) -> tuple[TimedArray, ...]:
    """The input TimedArrays: observations, and observed gates for an rRNN (baseline units have no gate)."""
    values, gates = columns
    interval = layout.sample_interval * second
    arrays = (TimedArray(values, dt=interval, name="observation_values"),)
    if layout.graph_type == "rrnn":
        arrays += (TimedArray(gates, dt=interval, name="gate_values"),)
    return arrays


def _monitor(group: NeuronGroup, kind: str, clock: Clock, order: int) -> StateMonitor:
    # Monitors run T+1 times, not every step: on the runtime device the numpy
    # target costs nothing measurable and saves a Cython compilation each.
    runtime = isinstance(get_device(), RuntimeDevice)
    return StateMonitor(group, list(lookup_node(kind).record), record=True, clock=clock, when=_MESSAGE_SLOT,
                        order=order, name=f"{kind}_monitor", codeobj_class=NumpyCodeObject if runtime else None)
