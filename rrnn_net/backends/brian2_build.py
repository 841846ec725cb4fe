"""The schedule of a Brian2 rRNN network: every message of a step ordered after those it reads.

Within every step, ``(constant over dt)`` rates are evaluated first
(``before_start``), then all summed messages and stored products in order of
their dependency level (``before_groups``, :data:`MESSAGE_SLOT`), then every
state variable takes one Euler step (``groups``): every update reads values
from the start of the step, as in the numpy Euler scheme. The levels come from
the equations Brian2 parsed, so a template or a user's drive added later is
ordered without being named here. :class:`~rrnn_net.backends.brian2_circuit.RRNNCircuit`
builds the objects.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from brian2 import Network, Synapses, prefs
from brian2.equations.equations import SUBEXPRESSION
from brian2.groups.group import CodeRunner, Group
from brian2.utils.stringtools import get_identifiers

from ..errors import RRNNError
from .brian2_context import ComputedVariable

__all__ = ["MESSAGE_SLOT", "ScheduleError", "check_schedule", "preferences", "schedule_messages"]

#: Brian2 slot of every message and computed variable, and of the circuit's monitors (ordered after them).
MESSAGE_SLOT = "before_groups"


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
            reads: list[tuple[Group, str]] = []
            for name in sorted(get_identifiers(str(updater.expression))):
                for suffix, owner in (("_pre", connection.source), ("_post", connection.target)):
                    if name.endswith(suffix):
                        reads.append((owner, name.removesuffix(suffix)))
            result.append(_Producer(updater, updater.target, updater.target_varname.removesuffix("_post"),
                                    tuple(reads)))
    for item in computed:
        result.append(_Producer(item.runner, item.group, item.variable,
                                tuple((item.group, name) for name in sorted(get_identifiers(item.expression)))))
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
        producer.runner.when = MESSAGE_SLOT
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
