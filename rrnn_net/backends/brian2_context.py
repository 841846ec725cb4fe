"""What a Brian2 template receives: populations, projections and a build context.

A *population* is every node of one kind; a *projection* is every edge of one
kind between two populations into one port. Both are replicated over the B
trials of a batch inside the same Brian2 objects, so one network and one run
serve the whole batch. The trial is the fastest-varying index: unit ``p`` of
trial ``b`` is neuron ``p * B + b``, and the B copies of an edge are adjacent
synapses. The copies then read and write neighbouring memory, which is what
makes a batch cheaper per trial than single runs (a trial-major layout walks
the whole synapse table once per trial and falls out of cache at N = 40).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from brian2 import Clock, NeuronGroup, Synapses, hertz, second
from brian2.groups.group import CodeRunner

__all__ = ["UNITS", "BuildContext", "ComputedVariable", "Message", "Population", "Projection"]

#: Units a template may use, by the name it writes in equation text.
UNITS = {"1": 1.0, "hertz": hertz, "second": second}


@dataclass(frozen=True)
class Population:
    """All nodes of one kind, in a fixed unit order, replicated over trials.

    Attributes
    ----------
    kind : str
        Node kind.
    nodes : tuple of str
        Node ids in unit order (sorted by their indices) within one trial.
    attributes : tuple of mapping
        The nodes' attribute dictionaries, same order.
    n_trials : int
        Number of trials B sharing the group.
    """

    kind: str
    nodes: tuple[str, ...]
    attributes: tuple[Mapping, ...]
    n_trials: int

    @property
    def n_units(self) -> int:
        """Units per trial."""
        return len(self.nodes)

    @property
    def group_name(self) -> str:
        """Fixed Brian2 name of the group (fixed names keep the Cython cache warm)."""
        return f"{self.kind}_units"

    def parameter(self, name: str) -> np.ndarray:
        """Float attribute ``name`` of every neuron, shape (n_units * B,), unit-major."""
        values = np.array([float(attributes[name]) for attributes in self.attributes])
        return np.repeat(values, self.n_trials)


@dataclass(frozen=True)
class Projection:
    """All edges of one kind from one population into one port of another.

    Attributes
    ----------
    kind : str
        Edge kind.
    source, target : Population
    port : int or None
        Product-unit input port (1, 2 or 3), None for ordinary targets.
    pre, post : ndarray of int, shape (n_edges,)
        Unit positions of each edge's source and target within one trial.
    weight : ndarray, shape (n_edges,)
        The edges' ``weight`` attributes.
    """

    kind: str
    source: Population
    target: Population
    port: int | None
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray

    @property
    def name(self) -> str:
        """Fixed Brian2 name of the Synapses object."""
        port = "" if self.port is None else f"_port{self.port}"
        return f"{self.kind}_{self.source.kind}_to_{self.target.kind}{port}"

    def neuron_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Presynaptic and postsynaptic neuron indices, shape (n_edges * B,) each, edge-major."""
        n_trials = self.source.n_trials
        trials = np.arange(n_trials)
        pre = self.pre[:, None] * n_trials + trials
        post = self.post[:, None] * n_trials + trials
        return pre.ravel(), post.ravel()


@dataclass(frozen=True)
class Message:
    """One summed message a synapse delivers: ``<target>_post = <expression> : <unit> (summed)``."""

    target: str
    expression: str
    unit: str


@dataclass(frozen=True)
class ComputedVariable:
    """``variable = expression`` evaluated once per neuron and step (:meth:`BuildContext.computed_variable`)."""

    group: NeuronGroup
    variable: str
    expression: str
    runner: CodeRunner


@dataclass
class BuildContext:
    """Shared state and helpers handed to every template.

    Attributes
    ----------
    activation : str
        The graph's rate nonlinearity (``"tanh"`` or ``"linear"``).
    clock : brian2.Clock
        The integration clock every group and synapse runs on.
    namespace : dict
        External names the templates' equations may use (the input TimedArrays).
    groups : dict
        NeuronGroups built so far, by node kind.
    computed : list of ComputedVariable
        Variables the templates compute once per neuron and step.
    """

    activation: str
    clock: Clock
    namespace: dict
    groups: dict[str, NeuronGroup] = field(default_factory=dict)
    computed: list[ComputedVariable] = field(default_factory=list)

    def neuron_group(
        self, population: Population, equations: str, parameters: Mapping[str, tuple[str, str]] | None = None
    ) -> NeuronGroup:
        """A NeuronGroup of B * n_units neurons with variables set from node attributes.

        Parameters
        ----------
        population : Population
        equations : str
            Brian2 equations (from a template, never from the graph).
        parameters : mapping of str to (str, str)
            Node attribute -> (group variable, unit name in :data:`UNITS`);
            also used for initial values of state variables.
        """
        group = NeuronGroup(
            population.n_trials * population.n_units,
            equations,
            method="euler",
            clock=self.clock,
            namespace=self.namespace,
            name=population.group_name,
        )
        for attribute, (variable, unit) in (parameters or {}).items():
            setattr(group, variable, population.parameter(attribute) * UNITS[unit])
        # Without differential equations the state updater is empty, yet it would still be compiled and
        # called every step.
        group.state_updater.active = bool(group.equations.diff_eq_names)
        return group

    def computed_variable(self, group: NeuronGroup, variable: str, expression: str) -> None:
        """Set ``variable = expression`` once per neuron and step, scheduled after the messages it reads.

        Use it for a value many synapses read: a subexpression would be
        re-evaluated by every synapse that reads it (for a product unit, four
        loads instead of one, on the N³ drift synapses).
        """
        runner = group.run_regularly(f"{variable} = {expression}", when="before_groups",
                                     name=f"{group.name}_{variable}_update")
        self.computed.append(ComputedVariable(group, variable, expression, runner))

    def synapses(self, projection: Projection, messages: Sequence[Message], weight_unit: str) -> Synapses:
        """Synapses carrying ``messages`` along every edge of ``projection``, weights ``w`` from the graph.

        Each message sums into its own target variable (Brian2 allows one
        summed variable per target); its expression may use ``w`` and
        ``<source variable>_pre``.
        """
        lines = [f"w : {weight_unit} (constant)"]
        lines += [f"{message.target}_post = {message.expression} : {message.unit} (summed)" for message in messages]
        synapses = Synapses(
            self.groups[projection.source.kind],
            self.groups[projection.target.kind],
            model="\n".join(lines),
            clock=self.clock,
            namespace=self.namespace,
            name=projection.name,
        )
        pre, post = projection.neuron_indices()
        synapses.connect(i=pre, j=post)
        synapses.w = np.repeat(projection.weight, projection.source.n_trials) * UNITS[weight_unit]
        return synapses
