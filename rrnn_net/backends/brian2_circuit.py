"""A compiled graph as one Brian2 object: :class:`RRNNCircuit`, to place in one's own Brian2 network.

Each population (:mod:`rrnn_net.backends.layout`) becomes one NeuronGroup and
each projection one Synapses object, through the templates of
:data:`rrnn_net.backends.brian2_templates.TEMPLATES`; a batch of B trials
replicates the units and edges inside the same objects. The circuit is a
``BrianObject`` whose ``contained_objects`` are those groups, synapses and
monitors, so ``Network(circuit)``, ``Network.add(circuit)`` and Brian2's
magic ``run()`` take it whole; every object name starts with the circuit's
name, so several circuits share one network.

Inputs: with ``observations`` the sensory units read a 2-D TimedArray
(one column per sensory neuron, one row per sample, and a second one for the
observed gates); without, they read whatever :meth:`RRNNCircuit.drive` feeds
them from a group of the user's.

Timing (the contract of :mod:`rrnn_net.backends.layout`) in Brian2's
schedule: within every step, ``(constant over dt)`` rates are evaluated first
(``before_start``), then all summed messages and stored products in order of
their dependency level (``before_groups``,
:func:`~rrnn_net.backends.brian2_build.schedule_messages`), then every state
variable takes one Euler step (``groups``): every update reads values from
the start of the step, as in the numpy Euler scheme. Monitors record in
``before_groups`` after the last message, at the sample times t_0, t_1, …,
so they see the state at t_k together with the messages computed from it; a
run with observations lasts :attr:`RRNNCircuit.duration` = T·K + 1 steps to
reach t_T.

Limits a circuit does not check during a run (Brian2 runs it, not this
package): run past :attr:`~RRNNCircuit.duration`, the sensory units hold
the last sample as observed (only :meth:`~RRNNCircuit.result` refuses the
run afterwards); a driven sensory value is always observed, so a NaN from
the driving group is not a missing sample and turns the network NaN; a
clock changed after the build raises the circuit's :class:`CircuitError`
wrapped in Brian2's ``BrianObjectException`` (its ``__cause__``); object
names must stay unique in a network, which Brian2 checks with a
``ValueError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
from brian2 import BrianObject, Clock, NeuronGroup, Quantity, StateMonitor, Synapses, TimedArray, second
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.devices.device import RuntimeDevice, get_device
from numpy.typing import ArrayLike

from .._validation import finite_array, positive_int
from ..errors import CircuitError, ParameterError, ShapeError
from ..filters.result import FilterResult
from ..graph.kinds import EDGE_KINDS, NODE_KINDS
from ..graph.schema import validate_graph
from .brian2_build import MESSAGE_SLOT, preferences, schedule_messages
from .brian2_context import UNITS, BuildContext, unit_parameters
from .brian2_templates import TEMPLATES
from .layout import (
    INPUT_KIND,
    BaselineResult,
    GraphLayout,
    SampledInputs,
    check_covariance_stability,
    graph_layout,
    integration_step,
    recorded_kinds,
    result,
    sampled_inputs,
)

__all__ = ["CircuitError", "RRNNCircuit"]


class RRNNCircuit(BrianObject):
    """A compiled rRNN (or baseline) graph as one Brian2 object for one's own network.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled graph; validated before anything is built. Only its kinds
        and numbers are used.
    name : str
        Prefix of every Brian2 object name (a Python identifier), so that
        several circuits share one ``Network``.
    observations : array_like, shape (T, m) or (B, T, m), optional
        Samples y_1..y_T (NaN = missing) that the sensory units read, each held
        over the interval before its time t_k = kΔ. Without them, the sensory
        units read what :meth:`drive` feeds them (zero until then).
    batch : int
        Trials B run side by side when ``observations`` is not given (else
        their leading axis).
    clock : brian2.Clock, optional
        The integration clock; its dt must divide Δ and stay below 2τ.
    dt : float or brian2.Quantity, optional
        Euler step in seconds, on a clock of the circuit's own (only without ``clock``).
        Without either, the circuit runs on Brian2's ``defaultclock``.
    record : str or iterable of str
        Node kinds recorded for :meth:`result` besides the defaults (state,
        error, evidence; hidden, output for a baseline); ``"covariance"``
        fills ``result().cov``.

    Attributes
    ----------
    sensory, errors, states, evidence : brian2.NeuronGroup
        The groups of the sensory, prediction-error, prediction (state) and
        evidence units (rRNN graphs). Unit p of trial b is neuron p·B + b.
    groups : dict of str to brian2.NeuronGroup
        Every group, by node kind.
    synapses : dict of str to brian2.Synapses
        Every projection, by name (without the prefix).
    sample_interval : brian2.Quantity
        Δ.
    layout : GraphLayout
        The populations and projections the circuit was built from.

    Raises
    ------
    GraphSchemaError, ShapeError, NonFiniteError, ParameterError
        Invalid graph, observations, name or batch.
    UnstableSettingError
        A step that does not divide Δ or is not below 2τ, or an adaptive
        network whose covariance update is unstable from the start.

    Examples
    --------
    Two circuits in one network, one reading recordings, one driven by a group of one's own:

    >>> from brian2 import Network, NeuronGroup, ms, prefs
    >>> prefs.codegen.target = "numpy"  # a short run: Brian2's numpy target compiles nothing
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, substeps=2, seed=0)
    >>> _, y = model.simulate(20, seed=1)
    >>> graph = compile_rrnn(model, gain_mode="fixed")
    >>> listener = RRNNCircuit(graph, name="listener", observations=y[0], dt=model.step)
    >>> source = NeuronGroup(2, "value : 1", name="source")
    >>> follower = RRNNCircuit(graph, name="follower", dt=model.step)
    >>> _ = follower.drive(source, "value")
    >>> errors = follower.monitor("error", ["error"])
    >>> Network(listener, follower, source, errors).run(listener.duration)
    >>> listener.result().mean.shape, errors.error.shape
    ((20, 3), (2, 21))
    """

    add_to_magic_network = True

    def __init__(self, graph: nx.DiGraph, *, name: str = "rrnn", observations: ArrayLike | None = None,
                 batch: int = 1, clock: Clock | None = None, dt: float | Quantity | None = None,
                 record: str | Iterable[str] = ()) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ParameterError(f"name must be a Python identifier (it prefixes Brian2 object names), got {name!r}")
        validate_graph(graph)
        self._graph_type = graph.graph["graph_type"]
        if observations is not None:
            self._inputs: SampledInputs | None = sampled_inputs(graph, observations)
            n_trials = self._inputs.n_trials
        else:
            self._inputs = None
            n_trials = positive_int(batch, "batch")
        clock = _integration_clock(clock, dt, name)
        step, _ = integration_step(graph, float(clock.dt_))
        check_covariance_stability(graph, step)
        self._build(graph_layout(graph, n_trials), clock, step, recorded_kinds(graph, record), name)

    @classmethod
    def from_layout(cls, layout: GraphLayout, inputs: SampledInputs, *, step: float, record: tuple[str, ...],
                    name: str = "rrnn") -> RRNNCircuit:
        """A circuit with observations from a layout whose graph, step and ``record`` kinds are already checked.

        What :func:`~rrnn_net.backends.brian2_run.run_brian2` builds on (it validates the graph once).
        """
        circuit = cls.__new__(cls)
        circuit._graph_type, circuit._inputs = layout.graph_type, inputs
        circuit._build(layout, Clock(step * second, name=f"{name}_clock"), step, record, name)
        return circuit

    def _build(self, layout: GraphLayout, clock: Clock, step: float, kinds: tuple[str, ...], name: str) -> None:
        super().__init__(clock=clock, when="start", order=0, name=name)
        self.step = step
        self._steps_per_sample = round(layout.sample_interval / step)
        self.layout = layout
        self.sample_interval = layout.sample_interval * second
        self._sample_clock = Clock(self.sample_interval, name=f"{name}_sample_clock")
        self._drive: Synapses | None = None
        self._monitors: list[StateMonitor] = []
        self.input_arrays = self._input_arrays()
        runtime = isinstance(get_device(), RuntimeDevice)
        # Construction code (connect, assignments) runs once: generated for numpy it compiles nothing, where
        # Cython would compile each piece on a cold cache. Runs use the target the preferences name.
        with preferences({"codegen.target": "numpy"}) if runtime else contextlib.nullcontext():
            # The templates' names for the input arrays (a baseline has no gates, a driven circuit no arrays).
            namespace = dict(zip(("observation_values", "gate_values"), self.input_arrays, strict=False))
            context = BuildContext(layout.activation, clock, namespace, prefix=name, driven=self._inputs is None)
            for kind, population in layout.populations.items():
                context.groups[kind] = TEMPLATES.lookup_node(kind)(context, population)
            self.groups: dict[str, NeuronGroup] = context.groups
            self.synapses: dict[str, Synapses] = {
                projection.name: TEMPLATES.lookup_edge(projection.kind)(context, projection)
                for projection in layout.projections}
        self._computed = context.computed
        self.depends_on: dict[str, set[str]] = {}
        self._message_levels = 0
        self._schedule()
        if self._inputs is None and self._graph_type == "rrnn":
            kinds = tuple(sorted({*kinds, "sensory"}))  # a driven circuit's samples are what its sensory units read
        self._recorders = {kind: self._state_monitor(kind, NODE_KINDS[kind].recorded, f"{name}_{kind}_monitor")
                           for kind in kinds}
        self.contained_objects.extend([*self.groups.values(), *self.synapses.values(), *self._recorders.values()])

    # ------------------------------------------------------------ access
    def _group(self, kind: str) -> NeuronGroup:
        if kind not in self.groups:
            raise ParameterError(f"this {self._graph_type} circuit has no {kind!r} units")
        return self.groups[kind]

    @property
    def sensory(self) -> NeuronGroup:
        """Sensory units y_j (``observation``, ``gate``)."""
        return self._group("sensory")

    @property
    def errors(self) -> NeuronGroup:
        """Prediction-error units ε_j (``error``, ``weighted_error``, ``predicted``, ``surprise``)."""
        return self._group("error")

    @property
    def states(self) -> NeuronGroup:
        """Prediction units μ_i (``mu``, ``correction``, ``rate``)."""
        return self._group("state")

    @property
    def evidence(self) -> NeuronGroup:
        """The evidence unit ℓ (``evidence``)."""
        return self._group("evidence")

    @property
    def n_trials(self) -> int:
        """B."""
        return next(iter(self.layout.populations.values())).n_trials

    @property
    def duration(self) -> Quantity:
        """Run length that reaches t_T, T·K + 1 steps of the clock (circuits with observations).

        Raises
        ------
        CircuitError
            For a driven circuit, whose length is the user's choice.
        """
        if self._inputs is None:
            raise CircuitError("a driven circuit has no length of its own: run it for circuit.duration_for(T) "
                               "to read T samples")
        return self.duration_for(self._inputs.n_samples)

    def duration_for(self, n_samples: int) -> Quantity:
        """Run length that records t_0..t_T for ``n_samples`` = T samples: T·K + 1 steps of the clock."""
        return (positive_int(n_samples, "n_samples") * self._steps_per_sample + 1) * self.step * second

    @property
    def sample_clock(self) -> Clock:
        """The clock of the circuit's monitors, ticking at the sample times t_0, t_1, … (dt = Δ)."""
        return self._sample_clock

    # ------------------------------------------------------------ wiring
    def drive(self, source: NeuronGroup, variable: str, weights: ArrayLike | None = None) -> Synapses:
        """Feed ``variable`` of the user's group ``source`` into the sensory input, in the right schedule slot.

        The sensory value of neuron j is Σ_i w_ij · ``variable``_i (in the
        variable's SI unit) at the start of each step, delivered before the
        errors read it, so it is what a sample held over that step would be.
        It is always observed: NaN is not a missing sample here (the network
        would turn NaN), unlike in the observations a circuit is built with.

        Parameters
        ----------
        source : brian2.NeuronGroup
            Any group (rate units, a synaptic trace of spiking units, …).
        variable : str
            A variable of ``source``.
        weights : array_like, shape (len(source), n_sensory), optional
            w_ij, sensory neurons in the order of :attr:`sensory` (channel p of
            trial b is neuron p·B + b). Default: one-to-one, which needs
            ``len(source)`` sensory neurons.

        Returns
        -------
        brian2.Synapses
            The driving synapses (already part of the circuit).

        Raises
        ------
        CircuitError
            The circuit reads observations, or is already driven.
        ParameterError, ShapeError, NonFiniteError
            Unknown variable, or weights of the wrong shape or not finite.
        """
        if self._inputs is not None:
            raise CircuitError("this circuit reads the observations it was built with; build it without "
                               "observations to drive it from a group")
        if self._drive is not None:
            raise CircuitError("this circuit is already driven (Brian2 sums one group into a variable); combine "
                               "the sources into one group, or pass a weight matrix")
        if not isinstance(source, NeuronGroup):
            raise ParameterError(f"source must be a brian2.NeuronGroup, got {type(source).__name__}")
        if variable not in source.variables or not hasattr(source.variables[variable], "dim"):
            raise ParameterError(f"{source.name} has no variable {variable!r}")
        target = self.groups[INPUT_KIND[self._graph_type]]
        shape = (len(source), len(target))
        if weights is None:
            if shape[0] != shape[1]:
                raise ShapeError(f"a one-to-one drive needs {shape[1]} source neurons, {source.name} has {shape[0]}; "
                                 "pass weights of shape (len(source), n_sensory)")
            weights = np.eye(shape[0])
        weights = finite_array(weights, "weights", shape)
        pre, post = np.nonzero(weights)
        unit = Quantity(1.0, dim=source.variables[variable].dim)
        # The source's own namespace too: a subexpression read through the synapses may use its constants.
        self._drive = Synapses(source, target, model=f"w : 1 (constant)\nI_drive_post = w * {variable}_pre / "
                                                    "drive_unit : 1 (summed)",
                               clock=self.clock, namespace={**source.namespace, "drive_unit": unit},
                               name=f"{self.name}_drive")
        self._drive.connect(i=pre, j=post)
        self._drive.w = weights[pre, post]
        self.contained_objects.append(self._drive)
        self._schedule()
        return self._drive

    def monitor(self, kind: str, variables: str | Sequence[str] | None = None) -> StateMonitor:
        """A StateMonitor of ``kind``'s units recording at the sample times t_0, t_1, …, after the step's messages.

        A StateMonitor in Brian2's default slot would read message-driven
        values (errors, predictions) from the step before; this one reads
        them with the state they were computed from.

        Parameters
        ----------
        kind : str
            A node kind of the graph (``"state"``, ``"error"``, ...).
        variables : str or sequence of str, optional
            Default: the kind's recorded variables.

        Returns
        -------
        brian2.StateMonitor
            Part of the circuit; values (n_neurons, n_samples + 1).
        """
        group = self._group(kind)
        variables = NODE_KINDS[kind].recorded if variables is None else variables
        variables = [variables] if isinstance(variables, str) else list(variables)
        unknown = [name for name in variables if name not in group.variables]
        if unknown:
            raise ParameterError(f"{kind!r} units have no variable(s) {unknown}")
        monitor = self._state_monitor(kind, variables, f"{self.name}_{kind}_monitor_{len(self._monitors)}")
        self.contained_objects.append(monitor)
        return monitor

    def _state_monitor(self, kind: str, variables: Sequence[str], name: str) -> StateMonitor:
        # Monitors run T+1 times, not every step: on the runtime device the numpy
        # target costs nothing measurable and saves a Cython compilation each.
        runtime = isinstance(get_device(), RuntimeDevice)
        monitor = StateMonitor(self.groups[kind], list(variables), record=True, clock=self._sample_clock,
                               when=MESSAGE_SLOT, order=self._message_levels + 1, name=name,
                               codeobj_class=NumpyCodeObject if runtime else None)
        self._monitors.append(monitor)
        return monitor

    def _schedule(self) -> None:
        """Order every message by dependency level and put the monitors after the last one."""
        synapses = [*self.synapses.values(), *([self._drive] if self._drive is not None else [])]
        self.depends_on, self._message_levels = schedule_messages(synapses, self._computed)
        for monitor in self._monitors:
            monitor.order = self._message_levels + 1

    # ------------------------------------------------------------ inputs and numbers
    def _input_arrays(self) -> tuple[TimedArray, ...]:
        """Observation values, and observed gates for an rRNN, as TimedArrays (none for a driven circuit)."""
        if self._inputs is None:
            return ()
        values, gates = self._inputs.columns(self.layout.populations[INPUT_KIND[self._graph_type]])
        arrays: tuple[TimedArray, ...] = (TimedArray(values, dt=self.sample_interval,
                                                     name=f"{self.name}_observation_values"),)
        if self._graph_type == "rrnn":
            arrays += (TimedArray(gates, dt=self.sample_interval, name=f"{self.name}_gate_values"),)
        return arrays

    def input_values(self, inputs: SampledInputs) -> list[np.ndarray]:
        """Values of :attr:`input_arrays` for ``inputs`` (the trial count and length of the build)."""
        return list(inputs.columns(self.layout.populations[INPUT_KIND[self._graph_type]]))[: len(self.input_arrays)]

    def reload(self, layout: GraphLayout, inputs: SampledInputs, *, numbers: bool = True) -> None:
        """Put new numbers (weights, unit parameters, initial states) and observations into the built objects.

        The caller guarantees the same code structure and input shape
        (:meth:`GraphLayout.code_structure`); state variables take their
        initial values again, so a run after ``Network.restore`` of the state
        stored at build time starts from the new graph's prior. With
        ``numbers=False`` only the observations change (the caller knows the
        numbers are those already in place).
        """
        self.layout, self._inputs = layout, inputs
        for array, values in zip(self.input_arrays, self.input_values(inputs), strict=True):
            array.values[...] = values  # in place: the generated code holds this buffer
        if not numbers:
            return
        for kind, population in layout.populations.items():
            for name, (variable, unit) in unit_parameters(kind).items():
                setattr(self.groups[kind], variable, population.parameter(name) * UNITS[unit])
        for projection in layout.projections:
            weight_unit = UNITS[EDGE_KINDS[projection.kind].weight_unit]
            self.synapses[projection.name].w = np.repeat(projection.weight, projection.source.n_trials) * weight_unit

    # ------------------------------------------------------------ results
    def recordings(self) -> dict[str, dict[str, np.ndarray]]:
        """Monitored values per node kind: ``t`` (n_records,) in s and each variable as (B, n_records, n_units)."""
        recordings = {}
        for kind, monitor in self._recorders.items():
            population = self.layout.populations[kind]
            values = {"t": np.asarray(monitor.variables["t"].get_value(), dtype=np.float64).copy()}
            for variable in monitor.record_variables:
                raw = np.asarray(monitor.variables[variable].get_value(), dtype=np.float64)  # (records, n*B)
                units = raw.reshape(raw.shape[0], population.n_units, population.n_trials)
                # A copy, always: the monitor's own storage is rewritten when a built network runs again.
                values[variable] = np.transpose(units, (2, 0, 1)).copy()
            recordings[kind] = values
        return recordings

    def result(self, extras: dict | None = None) -> FilterResult | BaselineResult:
        """What the numpy decoders return, from the circuit's own monitors after a run.

        With observations, the run must have lasted :attr:`duration`. A driven
        circuit's samples are the sensory values at the start of each
        interval, and T is the number of whole sample intervals run.

        Raises
        ------
        CircuitError
            Nothing recorded yet, or a run of another length than the observations.
        DivergenceError
            A recorded value is not finite.
        """
        recordings = self.recordings()
        n_records = len(next(iter(recordings.values()))["t"])
        if n_records < 2:
            raise CircuitError("the circuit has not run a whole sample interval yet (run it for circuit.duration)")
        inputs = self._inputs
        if inputs is None:
            sensory = recordings[INPUT_KIND[self._graph_type]]
            observed = np.where(sensory["gate"] > 0, sensory["observation"], np.nan) if "gate" in sensory \
                else sensory["observation"]
            inputs = SampledInputs(observed[:, :-1].copy(), batched=self.n_trials > 1)
        elif n_records != inputs.n_samples + 1:
            raise CircuitError(f"the circuit recorded {n_records} sample times; its {inputs.n_samples} samples need "
                               f"{inputs.n_samples + 1}: run it once for circuit.duration")
        return result(self.layout, recordings, inputs, {"step": self.step, **(extras or {})})

    def before_run(self, run_namespace: dict[str, Any] | None) -> None:
        """Check that the clock's step still suits the graph (a shared clock may have changed since the build)."""
        if float(self.clock.dt_) != self.step:
            raise CircuitError(f"the circuit was built for dt = {self.step:g} s, its clock now has dt = "
                               f"{float(self.clock.dt_):g} s: build it again after changing the clock")
        super().before_run(run_namespace)


def _integration_clock(clock: Clock | None, dt: float | Quantity | None, name: str) -> Clock:
    if clock is not None and dt is not None:
        raise ParameterError("give clock or dt, not both")
    if (clock is None and dt is None) or getattr(clock, "_is_proxy", False):
        return get_device().defaultclock  # what Brian2's defaultclock stands for on the active device
    if clock is not None:
        if not isinstance(clock, Clock):
            raise ParameterError(f"clock must be a brian2.Clock, got {type(clock).__name__}")
        return clock
    assert dt is not None  # without dt, returned above
    if isinstance(dt, Quantity):
        if not dt.has_same_dimensions(second):
            raise ParameterError(f"dt must be a time, got {dt}")
        dt = float(dt / second)
    return Clock(float(dt) * second, name=f"{name}_clock")
