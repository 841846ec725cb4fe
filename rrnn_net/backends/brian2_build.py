"""Build a Brian2 network from a compiled graph alone: groups, synapses, schedule, monitors.

Each population (:mod:`rrnn_net.backends.layout`) becomes one NeuronGroup and
each projection one Synapses object, through the templates of
:data:`rrnn_net.backends.brian2_templates.TEMPLATES`; a batch of B trials replicates the units
and edges inside the same objects. Observations enter through a 2-D
TimedArray ``observation_values(t, i)`` (and the observed gates through
``gate_values(t, i)``), one column per sensory neuron, one row per sample.

Timing (the contract of :mod:`rrnn_net.backends.layout`) in Brian2's
schedule: within every step, ``(constant over dt)`` rates are evaluated first
(``before_start``), then all summed messages and stored products in order of
their dependency level (``before_groups``), then every state variable takes
one Euler step (``groups``): every update reads values from the start of the
step, as in the numpy Euler scheme. Monitors record in ``before_groups`` after
the last message, at the sample times t_0 .. t_T, so they see the state at
t_k together with the messages computed from it; the run lasts T·K + 1 steps
to reach t_T.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
from brian2 import Clock, Network, NeuronGroup, StateMonitor, Synapses, TimedArray, prefs, second
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.devices.device import RuntimeDevice, get_device
from brian2.equations.equations import SUBEXPRESSION
from brian2.groups.group import CodeRunner, Group
from brian2.utils.stringtools import get_identifiers

from ..errors import RRNNError
from ..graph.kinds import NODE_KINDS
from ..graph.schema import validate_graph
from .brian2_context import BuildContext, ComputedVariable
from .brian2_templates import TEMPLATES
from .layout import (
    INPUT_KIND,
    GraphLayout,
    Population,
    SampledInputs,
    graph_layout,
    integration_step,
    recorded_kinds,
    sampled_inputs,
)

__all__ = ["BuiltNetwork", "ScheduleError", "assemble_network", "build_network", "preferences"]

_MESSAGE_SLOT = "before_groups"


class ScheduleError(RRNNError, RuntimeError):
    """The messages of a step cannot be ordered so that each reads only values of the same step."""


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


@contextlib.contextmanager
def preferences(values: dict[str, object]) -> Iterator[None]:
    """Temporarily set Brian2 preferences, restoring the previous values afterwards."""
    previous = {name: prefs[name] for name in values}
    try:
        for name, value in values.items():
            prefs[name] = value
        yield
    finally:
        for name, value in previous.items():
            prefs[name] = value


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


def build_network(graph: nx.DiGraph, observations, *, step: float | None = None,
                  record: str | Iterable[str] = ()) -> BuiltNetwork:
    """Validate ``graph`` and build its Brian2 network for ``observations`` on the current Brian2 device.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled graph (validated here; only its kinds and numbers are used).
    observations : array_like, shape (T, m) or (B, T, m)
        Inputs of the sensory (or baseline input) units; NaN = missing.
    step : float, optional
        Euler step h in seconds; default the graph's ``integration_step``.
    record : str or iterable of str
        Node kinds monitored in addition to the defaults.

    Returns
    -------
    BuiltNetwork
    """
    validate_graph(graph)
    inputs = sampled_inputs(graph, observations)
    step, steps_per_sample = integration_step(graph, step)
    layout = graph_layout(graph, inputs.n_trials)
    # Construction code (connect, assignments) is run once: generated for numpy it compiles nothing, where
    # Cython would compile each piece on a cold cache. A later run uses the target the preferences name.
    with preferences({"codegen.target": "numpy"}):
        return assemble_network(layout, inputs, step, steps_per_sample, recorded_kinds(graph, record))


def assemble_network(layout: GraphLayout, inputs: SampledInputs, step: float, steps_per_sample: int,
                     record: tuple[str, ...]) -> BuiltNetwork:
    """Build the network of a graph's layout (see :func:`build_network`) on the current Brian2 device."""
    units = layout.populations
    input_kind = INPUT_KIND[layout.graph_type]
    input_arrays = _input_arrays(layout, inputs.columns(units[input_kind]))
    context = BuildContext(layout.activation, Clock(step * second, name="integration_clock"),
                           namespace={array.name: array for array in input_arrays})
    for kind, population in units.items():
        context.groups[kind] = TEMPLATES.lookup_node(kind)(context, population)
    synapses = {}
    for projection in layout.projections:
        synapses[projection.name] = TEMPLATES.lookup_edge(projection.kind)(context, projection)
    depends_on, deepest = schedule_messages(synapses.values(), context.computed)
    sample_clock = Clock(layout.sample_interval * second, name="sample_clock")
    monitors = {kind: _monitor(context.groups[kind], kind, sample_clock, deepest + 1) for kind in record}
    network = Network(*context.groups.values(), *synapses.values(), *monitors.values(), name="rrnn_network")
    check_schedule(network, depends_on)
    duration = (inputs.n_samples * steps_per_sample + 1) * step * second
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
    return StateMonitor(group, list(NODE_KINDS[kind].recorded), record=True, clock=clock, when=_MESSAGE_SLOT,
                        order=order, name=f"{kind}_monitor", codeobj_class=NumpyCodeObject if runtime else None)
