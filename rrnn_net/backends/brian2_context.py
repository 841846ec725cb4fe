"""What a Brian2 template receives besides its population or projection: the build context.

Populations and projections (:mod:`rrnn_net.backends.layout`) are replicated
over the B trials of a batch inside the same Brian2 objects, so one network
and one run serve the whole batch. The trial is the fastest-varying index:
unit ``p`` of trial ``b`` is neuron ``p * B + b``, and the B copies of an edge
are adjacent synapses. The copies then read and write neighbouring memory,
which is what makes a batch cheaper per trial than single runs (a trial-major
layout walks the whole synapse table once per trial and falls out of cache at
N = 40).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from brian2 import Clock, NeuronGroup, Synapses, hertz, second
from brian2.groups.group import CodeRunner

from ..graph.kinds import NODE_KINDS, input_variables
from .layout import Population, Projection

__all__ = ["UNITS", "BuildContext", "ComputedVariable", "Message", "unit_parameters"]

#: Units a template may use, by the name it writes in equation text.
UNITS = {"1": 1.0, "hertz": hertz, "second": second}


def unit_parameters(kind: str) -> dict[str, tuple[str, str]]:
    """Node attribute -> (group variable, unit name in :data:`UNITS`) a unit of ``kind`` is set from.

    Every number of the kind's record goes into the variable of that name,
    and each state variable's initial value into the state variable.
    """
    record = NODE_KINDS[kind]
    parameters = {number.name: (number.name, number.unit) for number in record.numbers}
    parameters.update({state.initial: (state.name, state.unit) for state in record.state if state.initial})
    return parameters


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
    prefix : str
        Start of every object name (the circuit's name).
    driven : bool
        Whether the input units read a user's group (through ``I_drive``) instead of the input TimedArrays.
    """

    activation: str
    clock: Clock
    namespace: dict
    prefix: str = "rrnn"
    driven: bool = False
    groups: dict[str, NeuronGroup] = field(default_factory=dict)
    computed: list[ComputedVariable] = field(default_factory=list)

    def neuron_group(
        self, population: Population, equations: str, parameters: Mapping[str, tuple[str, str]] | None = None
    ) -> NeuronGroup:
        """A NeuronGroup of B * n_units neurons with variables set from node attributes.

        The variables the kind's messages sum into (``I_<edge kind>``, a
        product unit's factors) are declared here from the kind records, so a
        template writes only its own equations.

        Parameters
        ----------
        population : Population
        equations : str
            Brian2 equations (from a template, never from the graph).
        parameters : mapping of str to (str, str)
            Node attribute -> (group variable, unit name in :data:`UNITS`);
            also used for initial values of state variables. Default:
            :func:`unit_parameters` of the kind.
        """
        if parameters is None:
            parameters = unit_parameters(population.kind)
        inputs = "\n".join(f"{name} : {unit}" for name, unit in input_variables(population.kind).items())
        group = NeuronGroup(
            population.n_trials * population.n_units,
            f"{equations}\n{inputs}",
            method="euler",
            clock=self.clock,
            namespace=self.namespace,
            name=f"{self.prefix}_{population.name}",
        )
        for attribute, (variable, unit) in parameters.items():
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
            name=f"{self.prefix}_{projection.name}",
        )
        pre, post = projection.neuron_indices()
        synapses.connect(i=pre, j=post)
        synapses.w = np.repeat(projection.weight, projection.source.n_trials) * UNITS[weight_unit]
        return synapses
