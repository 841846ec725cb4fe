"""What every backend reads from a graph and hands back: populations, projections, inputs, results.

Nothing here knows a simulator. A *population* is every node of one kind; a
*projection* is every edge of one kind between two populations into one port.
A backend builds one object (a Brian2 NeuronGroup, a numpy array) per
population and one per projection, replicated over the B trials of a batch,
runs it, and returns *recordings*: per node kind, the variables the kind's
record lists (:attr:`~rrnn_net.graph.kinds.NodeKind.recorded`) at the sample
times t_0 .. t_T, shaped (B, T+1, n_units). :func:`filter_result` and
:func:`baseline_result` turn recordings into what the numpy decoders return,
the same for every backend.

Timing contract (that of :class:`rrnn_net.filters.ContinuousFilter`): sample
k (k = 1..T) is held over the K = Δ/h integration steps of (t_{k−1}, t_k];
every step computes all messages from the state at its start (and the sample
held over the interval that starts there), then takes one Euler step of every
state variable. Recordings at t_k hold the state at t_k and the messages of
the step that starts there: an error unit's ε at t_k is that of y_{k+1}
(at t_T the last sample is read again). A run evaluates T·K + 1 steps, the
last one only to record t_T.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    check_euler_step,
    check_observations,
    positive_scalar,
    recorded_outputs,
    steps_per_interval,
    strip_unit,
)
from ..errors import DivergenceError, NonFiniteError, UnstableSettingError
from ..filters._common import divergence_error
from ..filters.result import FilterResult
from ..filters.stability import graph_riccati_euler_factor
from ..graph.schema import index_key, shortest_time_constant, validate_graph

__all__ = [
    "ALWAYS_RECORDED",
    "INPUT_KIND",
    "RECORDED_WHEN_PRESENT",
    "BaselineResult",
    "CheckedGraph",
    "GraphLayout",
    "Population",
    "Projection",
    "SampledInputs",
    "baseline_result",
    "check_covariance_stability",
    "checked_graph",
    "filter_result",
    "graph_layout",
    "integration_step",
    "recorded_kinds",
    "sampled_inputs",
]

#: Node kind that carries the observations, and the kinds always recorded, per graph type.
INPUT_KIND = {"rrnn": "sensory", "baseline": "input"}
ALWAYS_RECORDED = {"rrnn": ("state", "error", "evidence"), "baseline": ("hidden", "output")}
#: Kinds recorded whenever a graph holds them: their recordings fill a result field.
RECORDED_WHEN_PRESENT = ("precision",)
_INPUT_SIZE = {"rrnn": "n_obs", "baseline": "n_input"}


# ---------------------------------------------------------------- layout
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
        Number of trials B sharing the population.
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
    def name(self) -> str:
        """Fixed object name (fixed names keep compiled-code caches warm)."""
        return f"{self.kind}_units"

    def values(self, attribute: str) -> np.ndarray:
        """Float attribute ``attribute`` of every unit of one trial, shape (n_units,)."""
        return np.array([float(attributes[attribute]) for attributes in self.attributes])

    def parameter(self, attribute: str) -> np.ndarray:
        """Float attribute ``attribute`` of every unit and trial, shape (n_units * B,), unit-major."""
        return np.repeat(self.values(attribute), self.n_trials)


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
        """Fixed object name."""
        port = "" if self.port is None else f"_port{self.port}"
        return f"{self.kind}_{self.source.kind}_to_{self.target.kind}{port}"

    def neuron_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Source and target indices over all trials, shape (n_edges * B,) each, edge-major.

        Unit ``p`` of trial ``b`` is index ``p * B + b``: the B copies of an
        edge are adjacent, so they read and write neighbouring memory.
        """
        n_trials = self.source.n_trials
        trials = np.arange(n_trials)
        pre = self.pre[:, None] * n_trials + trials
        post = self.post[:, None] * n_trials + trials
        return pre.ravel(), post.ravel()


@dataclass(frozen=True)
class GraphLayout:
    """A validated graph as populations and projections: everything a backend reads from the graph.

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
        """Names and sizes of every object: what shapes generated code (not the numbers)."""
        units = tuple((kind, population.n_trials, population.n_units) for kind, population in self.populations.items())
        edges = tuple((projection.name, len(projection.pre)) for projection in self.projections)
        return self.graph_type, self.activation, self.sample_interval, units, edges

    @functools.cached_property
    def numbers_digest(self) -> str:
        """SHA-256 of every node attribute, edge endpoint and weight (computed once per layout)."""
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


@dataclass(frozen=True)
class CheckedGraph:
    """What a run reads from a validated graph: the Euler step, the recorded kinds, its layout per trial count."""

    step: float
    steps_per_sample: int
    kinds: tuple[str, ...]
    _layouts: dict = field(default_factory=dict, repr=False)

    def layout(self, graph: nx.DiGraph, n_trials: int) -> GraphLayout:
        """The populations and projections of ``graph`` (the content checked) for ``n_trials`` trials, built once."""
        if n_trials not in self._layouts:
            self._layouts[n_trials] = graph_layout(graph, n_trials)
        return self._layouts[n_trials]


_last_checked: dict[tuple, CheckedGraph] = {}


def checked_graph(graph: nx.DiGraph, step: float | None, record: str | Iterable[str]) -> CheckedGraph:
    """:func:`~rrnn_net.graph.schema.validate_graph`, the step and stability checks and the layouts, once per content.

    The result for the last graph content seen is remembered: a call with a
    graph whose attributes, nodes and edges are byte-for-byte the same as the
    last one's (their pickle's digest, which costs a fraction of one
    validation pass over a large graph) reuses the checks and the layouts. A
    graph that cannot be pickled is simply checked every time.

    Raises
    ------
    GraphSchemaError, UnstableSettingError, ParameterError
        As the checks find them.
    """
    if not isinstance(record, str) and hasattr(record, "__iter__"):
        record = tuple(record)  # an iterator would be used up by the key below, and then record nothing
    seconds = strip_unit(step, "step", "second")  # a Brian2 time is no dictionary key: seconds, as the checks take
    try:
        # The graph's own dictionaries: every attribute of the graph, its nodes and its edges, in order.
        content = pickle.dumps((graph.graph, graph._node, graph._adj), protocol=pickle.HIGHEST_PROTOCOL)
        key = (hashlib.blake2b(content).digest(), None if seconds is None else float(cast(float, seconds)),
               (record,) if isinstance(record, str) else record)
    except Exception:  # unpicklable content (or not a graph): no memo; the checks below name what is wrong
        key = None
    if key is not None and key in _last_checked:
        return _last_checked[key]
    validate_graph(graph)
    step, steps_per_sample = integration_step(graph, step)
    check_covariance_stability(graph, step)
    checked = CheckedGraph(step, steps_per_sample, recorded_kinds(graph, record))
    _last_checked.clear()
    if key is not None:
        _last_checked[key] = checked
    return checked


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
    edges: dict[tuple, tuple[list, list, list]] = {}
    for source, target, attributes in graph.edges(data=True):
        key = (attributes["kind"], kind_of[source], kind_of[target], attributes.get("port", 0))
        columns = edges.get(key) or edges.setdefault(key, ([], [], []))
        columns[0].append(position[source])
        columns[1].append(position[target])
        columns[2].append(attributes["weight"])
    result = []
    for key in sorted(edges):
        kind, source_kind, target_kind, port = key
        pre, post, weight = (np.array(column) for column in edges[key])
        order = np.lexsort((post, pre))  # by source, then target: (pre, post) pairs are unique in a DiGraph
        result.append(Projection(kind, units[source_kind], units[target_kind], port or None, pre[order], post[order],
                                 weight[order].astype(np.float64)))
    return tuple(result)


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

    def channels(self, population: Population) -> tuple[np.ndarray, np.ndarray]:
        """Values and observed gates of the population's units, shape (B, T, n_units) each.

        Unit p reads channel ``index`` of its node; a missing sample reads 0
        with gate 0 (its error unit then reads ε = 0).
        """
        picked = self.observations[:, :, [attributes["index"] for attributes in population.attributes]]
        observed = ~np.isnan(picked)
        return np.where(observed, picked, 0.0), observed.astype(np.float64)

    def columns(self, population: Population) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`channels` as (T, n_units * B) tables, column p * B + b (the neuron order)."""
        values, gates = (np.ascontiguousarray(np.transpose(table, (1, 2, 0))).reshape(self.n_samples, -1)
                         for table in self.channels(population))
        return values, gates


def sampled_inputs(graph: nx.DiGraph, observations: ArrayLike) -> SampledInputs:
    """Check observations (T, m) or (B, T, m) against the graph's input size.

    Raises
    ------
    ShapeError
        Wrong number of dimensions or channels, or no samples.
    NonFiniteError
        Infinite values (NaN is a missing sample; baseline graphs need every sample).
    """
    graph_type = graph.graph["graph_type"]
    y, batched = check_observations(observations, graph.graph[_INPUT_SIZE[graph_type]])
    if graph_type == "baseline" and np.any(np.isnan(y)):
        raise NonFiniteError("a baseline network has no gates: its inputs may not contain NaN")
    return SampledInputs(y, batched)


def integration_step(graph: nx.DiGraph, step: float | None) -> tuple[float, int]:
    """The Euler step h (s) and the steps per sample K = Δ/h; default h is the graph's integration_step.

    Raises
    ------
    UnstableSettingError
        If h does not divide the sampling interval Δ or is not below 2τ.
    """
    interval = graph.graph["sample_interval"]
    step = graph.graph["integration_step"] if step is None else positive_scalar(step, "step", unit="second")
    steps_per_sample = steps_per_interval(interval, step)
    # Every unit's own time constant counts: a graph may be edited unit by unit.
    check_euler_step(step, shortest_time_constant(graph)[0])
    return step, steps_per_sample


def check_covariance_stability(graph: nx.DiGraph, step: float) -> None:
    """Refuse an adaptive network whose forward-Euler covariance update is unstable at its start.

    A network cannot repair P (the numpy filter can), so an unstable start
    would otherwise run to finite but meaningless estimates.

    Raises
    ------
    UnstableSettingError
    """
    if graph.graph.get("gain_mode") != "adaptive":
        return
    factor = graph_riccati_euler_factor(graph, step)
    if factor >= 1.0:
        raise UnstableSettingError(
            f"the initial covariance is too broad for forward Euler at step h = {step:g} s: "
            f"h·λ_max(P Gᵀ R_c⁻¹ G) = {factor:.3g} must stay below 1; compile with a smaller cov0 "
            f"(rrnn_net.filters.euler_safe_prior_variance), a smaller step or more substeps"
        )


def recorded_kinds(graph: nx.DiGraph, record: str | Iterable[str]) -> tuple[str, ...]:
    """The node kinds to record: the graph type's defaults plus ``record``, in a fixed order.

    Raises
    ------
    ParameterError
        If ``record`` names a node kind the graph does not hold.
    """
    present = {kind for _, kind in graph.nodes(data="kind")}
    extra = recorded_outputs(record, present) | (present & set(RECORDED_WHEN_PRESENT))
    return tuple(sorted(extra | set(ALWAYS_RECORDED[graph.graph["graph_type"]])))


# ------------------------------------------------------------------ results
@dataclass
class BaselineResult:
    """Output of a baseline (input-driven RNN) graph run by a backend.

    Attributes
    ----------
    states : ndarray, shape (B, T, N)
        Hidden state x(t_k) at each sample time.
    outputs : ndarray, shape (B, T, n_output)
        Readout o(t_k) = C φ(x(t_k)) + d.
    extras : dict
        Raw recordings and timings.
    """

    states: np.ndarray
    outputs: np.ndarray
    extras: dict = field(default_factory=dict)


def filter_result(recordings: Mapping[str, Mapping[str, np.ndarray]], inputs: SampledInputs,
                  extras: dict) -> FilterResult:
    """Recordings at t_0..t_T → the per-sample fields of :class:`~rrnn_net.filters.FilterResult`."""
    state, error = recordings["state"], recordings["error"]
    means = state["mu"][:, 1:]
    correction = np.diff(state["correction"], axis=1)
    predicted_obs = error["predicted"][:, :-1]  # ŷ from μ(t_{k−1}), when y_k arrives
    cov = None
    if "covariance" in recordings:
        cov_units = recordings["covariance"]["cov"][:, 1:]
        n_hidden = means.shape[-1]
        cov = cov_units.reshape(*cov_units.shape[:2], n_hidden, n_hidden)  # units sorted by (row, col)
    result = FilterResult(
        predicted_state=means - correction,
        predicted_obs=predicted_obs,
        prediction_error=inputs.observations - predicted_obs,
        state_prediction_error=correction,
        mean=means,
        loglik=np.diff(recordings["evidence"]["evidence"][..., 0], axis=1),
        cov=cov,
        innovation_cov=None,
        n_psd_repairs=np.zeros(inputs.n_trials, dtype=np.int64),
        extras=extras,
        noise_variance=recordings["precision"]["noise"][:, 1:] if "precision" in recordings else None,
    )
    return result if inputs.batched else result.unbatched()


def baseline_result(recordings: Mapping[str, Mapping[str, np.ndarray]], inputs: SampledInputs,
                    extras: dict) -> BaselineResult:
    """Recordings at t_0..t_T → hidden states and outputs at t_1..t_T."""
    states = recordings["hidden"]["x"][:, 1:]
    outputs = recordings["output"]["output"][:, 1:]
    if not inputs.batched:
        states, outputs = states[0], outputs[0]
    return BaselineResult(states, outputs, extras)


def result(layout: GraphLayout, recordings: Mapping, inputs: SampledInputs,
           extras: dict) -> FilterResult | BaselineResult:
    """:func:`filter_result` or :func:`baseline_result` by graph type; ``extras`` gains ``node_ids``."""
    broken = [(kind, name) for kind, variables in recordings.items() for name, values in variables.items()
              if not np.isfinite(values).all()]
    if broken == [("evidence", "evidence")]:
        # Only the evidence overflowed: the squared errors of observations far outside the model's range.
        finite = np.isfinite(recordings["evidence"]["evidence"]).all(axis=(0, 2))  # per time t_0 .. t_T
        sample = max(int(np.argmin(finite)) - 1, 0)  # the evidence at t_k has integrated sample k (0-based k - 1)
        raise divergence_error("the network", sample, inputs.observations[:, sample], state_finite=True)
    if broken:
        kind, name = broken[0]
        raise DivergenceError(f"the network diverged: {kind} units' {name} is no longer finite (a smaller "
                              "step, more substeps or a narrower prior cov0 keeps forward Euler stable)")
    extras = {"monitors": recordings, "node_ids": {kind: list(population.nodes)
                                                   for kind, population in layout.populations.items()}, **extras}
    if layout.graph_type == "baseline":
        return baseline_result(recordings, inputs, extras)
    return filter_result(recordings, inputs, extras)
