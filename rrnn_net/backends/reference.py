"""The reference backend: a plain numpy Euler evaluation of a graph, unit kind by unit kind.

Every population is an array of shape (B, n_units) per variable; every
projection a sparse matrix of its edges' weights. The wiring comes from the
kind records — which variables a unit sums its messages into, what each edge
carries, the order of a step's computations (a variable after every message
its record ``reads``, a message after the source variable it carries); the
equations of each kind are its template here, a few numpy lines each. Within
an integration step the provided variables are computed in that order, then
every state variable takes one Euler step. Nothing here reads a model or a
matrix of the filter: agreement with
:class:`~rrnn_net.filters.ContinuousFilter` shows that the graph *is* the
filter, and agreement with Brian2 that the Brian2 templates are the same
equations. It is the backend to check a new kind against first.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn
>>> model = GenerativeRNN.oscillator(3, 2, substeps=2, seed=0)
>>> _, y = model.simulate(20, seed=1)
>>> run_reference(compile_rrnn(model, gain_mode="fixed"), y[0]).mean.shape
(20, 3)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeAlias

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from tqdm.auto import tqdm

from .._validation import finite_array
from ..errors import ParameterError
from ..filters.result import FilterResult
from ..graph.kinds import NODE_KINDS, edge_messages, input_variables
from ..graph.schema import validate_graph
from .layout import (
    INPUT_KIND,
    BaselineResult,
    GraphLayout,
    Population,
    Projection,
    SampledInputs,
    check_covariance_stability,
    graph_layout,
    integration_step,
    recorded_kinds,
    result,
    sampled_inputs,
)
from .registry import TemplateRegistry

__all__ = ["TEMPLATES", "Evaluator", "Values", "evaluate", "run_reference"]

#: A population's variables: name -> array broadcasting to (B, n_units) (parameters are (n_units,)).
Values = dict[str, np.ndarray]
#: Node template: ``template(population, activation) -> {variable or "d<state>": function(values) -> array}``.
NodeTemplate = Callable[[Population, str], Mapping[str, Callable[[Values], np.ndarray]]]
# What a node template returns: its variables' (and "d<state>" derivatives') functions of the values.
_Rules: TypeAlias = dict[str, Callable[[Values], np.ndarray]]
# An input variable before any message of the step has arrived (read-only: messages rebind, never add in place).
_NO_MESSAGES = np.zeros(())
_NO_MESSAGES.setflags(write=False)


class _Messages:
    """The summed messages of one projection: ``target[input] += weight × source[variable]`` per message."""

    def __init__(self, projection: Projection) -> None:
        shape = (projection.target.n_units, projection.source.n_units)
        self.projection = projection
        self.parts: list[tuple[str, str, sparse.csr_matrix]] = []
        for spec in edge_messages(projection.target.kind, projection.kind, projection.port):
            assert spec.target is not None  # edge_messages resolves every target
            weights = projection.weight if spec.weighted else np.ones_like(projection.weight)
            matrix = sparse.csr_matrix((weights, (projection.post, projection.pre)), shape=shape)
            self.parts.append((spec.source, spec.target, matrix))

    def deliver(self, values: Mapping[str, Values]) -> None:
        source, target = values[self.projection.source.kind], values[self.projection.target.kind]
        for variable, into, matrix in self.parts:
            # (targets, sources) CSR times a dense (sources, B) block is scipy's direct kernel; dense @ sparse
            # would transpose the matrix again on every message (measured 2-4x slower for B <= 16).
            value = source[variable]  # (B, n_sources), or (n_sources,) for a parameter
            target[into] = target[into] + (matrix @ value if value.ndim == 1 else (matrix @ value.T).T)


def _summed_messages(projection: Projection) -> _Messages:
    """Default edge template: the messages of the kind's record."""
    return _Messages(projection)


TEMPLATES = TemplateRegistry("reference", default_edge=_summed_messages)

# Per activation: φ, and φ' written with the rate φ(μ) itself.
_RATES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, lambda rate: 1.0 - rate**2), "linear": (lambda v: v, np.ones_like)}


# ------------------------------------------------------------------ nodes
@TEMPLATES.node("sensory")
def _sensory(population: Population, activation: str) -> _Rules:
    """y_j and its gate g_j: the sample the backend placed in ``input_observation`` / ``input_gate``."""
    return {"observation": lambda v: v["input_observation"], "gate": lambda v: v["input_gate"]}


@TEMPLATES.node("error")
def _error(population: Population, activation: str) -> _Rules:
    """ŷ_j = c_j − Σ(−M_jk ρ_k); ε_j = g_j (y_j − ŷ_j); ξ_j = λ_j ε_j (own λ + a precision unit's); ξ_j ε_j."""
    return {
        "predicted": lambda v: v["offset"] - v["I_prediction"],
        "error": lambda v: v["gate"] * (v["observation"] - v["predicted"]),
        "weighted_error": lambda v: (v["precision"] + v["I_precision"]) * v["error"],
        "surprise": lambda v: v["weighted_error"] * v["error"],
    }


@TEMPLATES.node("state")
def _state(population: Population, activation: str) -> _Rules:
    """ρ = φ(μ), φ'(μ), u = φ'(μ) e; dμ/dt = (b − μ + Σ W ρ)/τ + gain terms; the correction integrates the latter."""
    rate, slope = _RATES[activation]
    return {
        "rate": lambda v: rate(v["mu"]),
        "slope": lambda v: slope(v["rate"]),
        "back_error": lambda v: v["slope"] * v["I_feedback"],
        "dmu": lambda v: (v["bias"] - v["mu"] + v["I_recurrent"]) / v["tau"] + v["I_gain"] + v["I_fixed_gain"],
        "dcorrection": lambda v: v["I_gain"] + v["I_fixed_gain"],
    }


@TEMPLATES.node("evidence")
def _evidence(population: Population, activation: str) -> _Rules:
    """dℓ/dt = Σ −½ ξ_j ε_j [+ Σ −½ g_j log(2π r̂_j)/Δ]."""
    return {"devidence": lambda v: v["I_surprise"] + v["I_normaliser"]}


@TEMPLATES.node("covariance")
def _covariance(population: Population, activation: str) -> _Rules:
    """dP_ik/dt = Q_ik − 2 P_ik/τ + drift + quadratic."""
    return {"dcov": lambda v: v["process_noise"] - 2.0 * v["cov"] / v["tau"] + v["I_drift"] + v["I_quadratic"]}


@TEMPLATES.node("precision")
def _precision(population: Population, activation: str) -> _Rules:
    """α, β of the channel's noise belief; λ = α/(βΔ), r̂ = β/α, g √(λΔ), g log(2π r̂)/Δ (see the Brian2 template)."""
    return {
        "precision": lambda v: v["alpha"] / (v["beta"] * v["interval"]),
        "noise": lambda v: v["beta"] / v["alpha"],
        "gated_root_precision": lambda v: v["I_noise_gate"] * np.sqrt(v["alpha"] / v["beta"]),
        "normaliser": lambda v: v["I_noise_gate"] * np.log(2.0 * np.pi * v["noise"]) / v["interval"],
        "dalpha": lambda v: v["I_noise_gate"] / (2.0 * v["interval"]) - v["alpha"] / v["memory"],
        "dbeta": lambda v: (v["I_noise_gate"] * v["I_noise_error"] ** 2 / (2.0 * v["interval"])
                            - v["beta"] / v["memory"]),
    }


@TEMPLATES.node("scaled_covariance", "projection", "quadratic", "gain_product")
def _product(population: Population, activation: str) -> _Rules:
    """gain × (A + AB) × (B + AB), the factors fed through ports 1, 2 and 3."""
    def product(v: Values) -> np.ndarray:
        both = v.get("factor_ab", 0.0)  # only kinds with a port-3 input declare it
        return v["gain"] * (v["factor_a"] + both) * (v["factor_b"] + both)

    return {"product": product}


@TEMPLATES.node("input")
def _input(population: Population, activation: str) -> _Rules:
    """u_j: the sample the backend placed in ``input_observation``."""
    return {"observation": lambda v: v["input_observation"]}


@TEMPLATES.node("hidden")
def _hidden(population: Population, activation: str) -> _Rules:
    """φ(x); τ dx/dt = −x + W φ(x) + U u + b."""
    rate, _ = _RATES[activation]
    return {"rate": lambda v: rate(v["x"]),
            "dx": lambda v: (v["bias"] - v["x"] + v["I_recurrent"] + v["I_input"]) / v["tau"]}


@TEMPLATES.node("output")
def _output(population: Population, activation: str) -> _Rules:
    """o_q = d_q + Σ C_qk φ(x_k)."""
    return {"output": lambda v: v["offset"] + v["I_readout"]}


# ------------------------------------------------------------------ schedule
# One step of the schedule: compute a kind's provided variable, or deliver a projection's messages.
_ScheduleStep: TypeAlias = tuple[Literal["compute"], str, str] | tuple[Literal["deliver"], _Messages]


def _schedule(layout: GraphLayout, messages: list[_Messages]) -> list[_ScheduleStep]:
    """Provided variables and message deliveries in an order where each follows what it reads.

    A provided variable follows the deliveries of the in-edge kinds its record
    reads and the variables its kind lists before it; a delivery follows the
    source variables its messages carry. Returns ("compute", kind, variable)
    and ("deliver", projection messages) steps.
    """
    into: dict[tuple[str, str], list[_Messages]] = {}
    for item in messages:
        into.setdefault((item.projection.target.kind, item.projection.kind), []).append(item)
    order: list[_ScheduleStep] = []
    done: set[object] = set()

    def compute(kind: str, variable: str) -> None:
        key: tuple[Literal["compute"], str, str] = ("compute", kind, variable)
        if key in done:
            return
        done.add(key)
        record = NODE_KINDS[kind]
        names = [provided.name for provided in record.provides]
        if variable in names:
            for earlier in names[: names.index(variable)]:
                compute(kind, earlier)
            for edge_kind in record.provided(variable).reads:
                for item in into.get((kind, edge_kind), []):
                    deliver(item)
            order.append(key)

    def deliver(item: _Messages) -> None:
        if id(item) in done:
            return
        done.add(id(item))
        for variable, _, _ in item.parts:
            compute(item.projection.source.kind, variable)
        order.append(("deliver", item))

    for kind in layout.populations:
        record = NODE_KINDS[kind]
        for provided in record.provides:
            compute(kind, provided.name)
        for state in record.state:
            for edge_kind in state.reads:
                for item in into.get((kind, edge_kind), []):
                    deliver(item)
    return order


# ------------------------------------------------------------------ run
def run_reference(graph: nx.DiGraph, observations: ArrayLike, *, step: float | None = None,
                  record: str | Iterable[str] = (), progress: bool = False) -> FilterResult | BaselineResult:
    """Run a compiled graph as a numpy Euler evaluation, kind by kind, from the records.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled rRNN or baseline graph; validated first.
    observations : array_like, shape (T, m) or (B, T, m)
        Samples y_1..y_T (NaN = missing), or the baseline's inputs u.
    step : float, optional
        Euler step h in seconds; must divide Δ. Default: the graph's ``integration_step``.
    record : str or iterable of str
        Node kinds recorded besides the defaults (``"covariance"`` fills ``result.cov``).
    progress : bool
        Show a progress bar over the samples.

    Returns
    -------
    FilterResult or BaselineResult
        As :func:`rrnn_net.backends.run` documents; ``extras`` holds
        ``monitors`` (per kind, ``t`` (T+1,) and each recorded variable
        (B, T+1, n_units)), ``node_ids``, ``step`` and ``run_seconds``.

    Raises
    ------
    GraphSchemaError, ShapeError, NonFiniteError, UnstableSettingError, ParameterError, MissingTemplateError
    """
    validate_graph(graph)
    inputs = sampled_inputs(graph, observations)
    step, steps_per_sample = integration_step(graph, step)
    check_covariance_stability(graph, step)
    kinds = recorded_kinds(graph, record)
    layout = graph_layout(graph, inputs.n_trials)
    start = time.perf_counter()
    recordings = _simulate(layout, inputs, step, steps_per_sample, kinds, progress)
    return result(layout, recordings, inputs, {"step": step, "run_seconds": time.perf_counter() - start})


class Evaluator:
    """The network of a layout as numpy arrays: compute every variable of one step, and the state derivatives.

    Parameters
    ----------
    layout : GraphLayout

    Attributes
    ----------
    values : dict of str to Values
        Per node kind: its numbers (n_units,), state variables (B, n_units),
        and after :meth:`compute` every provided and input variable.
    """

    def __init__(self, layout: GraphLayout) -> None:
        self.layout = layout
        self.values: dict[str, Values] = {}
        self.rules: dict[str, Mapping[str, Callable[[Values], np.ndarray]]] = {}
        for kind, population in layout.populations.items():
            record = NODE_KINDS[kind]
            self.rules[kind] = TEMPLATES.lookup_node(kind)(population, layout.activation)
            self.values[kind] = {number: population.values(number) for number in record.number_names}
            for state in record.state:
                initial = population.values(state.initial) if state.initial else np.zeros(population.n_units)
                self.values[kind][state.name] = np.broadcast_to(initial, (population.n_trials,
                                                                          population.n_units)).copy()
        messages = [TEMPLATES.lookup_edge(projection.kind)(projection) for projection in layout.projections]
        self.order = _schedule(layout, messages)
        self.input_kind = INPUT_KIND[layout.graph_type]
        self._inputs = {kind: tuple(input_variables(kind)) for kind in layout.populations}

    def compute(self, observation: np.ndarray, gate: np.ndarray) -> None:
        """Every provided variable of one step, from the states and the input kind's ``observation``/``gate`` (B, n)."""
        values = self.values
        values[self.input_kind]["input_observation"] = observation
        values[self.input_kind]["input_gate"] = gate
        for kind, names in self._inputs.items():
            for name in names:
                values[kind][name] = _NO_MESSAGES
        for item in self.order:
            if item[0] == "deliver":
                item[1].deliver(values)
            else:
                _, kind, variable = item
                values[kind][variable] = self.rules[kind][variable](values[kind])

    def derivatives(self) -> dict[tuple[str, str], np.ndarray]:
        """(kind, state variable) -> its time derivative, from the variables of :meth:`compute`."""
        return {(kind, state.name): self.rules[kind]["d" + state.name](self.values[kind])
                for kind in self.layout.populations for state in NODE_KINDS[kind].state}


def evaluate(graph: nx.DiGraph, observation: ArrayLike, states: Mapping[str, Mapping[str, np.ndarray]] | None = None
             ) -> dict[str, dict[str, np.ndarray]]:
    """Every variable of every unit, and every state derivative, at one instant: the graph's right-hand side.

    Parameters
    ----------
    graph : networkx.DiGraph
        A compiled graph (validated).
    observation : array_like, shape (m,)
        The sample the input units read (NaN = missing).
    states : mapping, optional
        Node kind -> state variable -> finite values (n_units,) in unit order
        (units sorted by their indices: a covariance's row-major P). Default:
        the graph's initial values.

    Returns
    -------
    dict
        Node kind -> variable -> (n_units,); the derivative of state variable
        ``v`` is ``"d" + v``.

    Raises
    ------
    ParameterError
        ``states`` names a kind the graph lacks or a variable that is not a state of that kind.
    ShapeError, NonFiniteError
        State values of the wrong size or not finite; an observation of the wrong size.

    Examples
    --------
    >>> import numpy as np
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn
    >>> model = GenerativeRNN.oscillator(3, 2, seed=0)
    >>> rhs = evaluate(compile_rrnn(model), np.zeros(2), {"state": {"mu": np.full(3, 0.1)}})
    >>> np.allclose(rhs["state"]["dmu"], model.drift(np.full(3, 0.1)) + rhs["state"]["I_gain"])
    True
    """
    validate_graph(graph)
    inputs = sampled_inputs(graph, np.asarray(observation, dtype=float)[None, :])
    evaluator = Evaluator(graph_layout(graph, 1))
    for kind, variables in (states or {}).items():
        if kind not in evaluator.layout.populations:
            raise ParameterError(f"states names node kind {kind!r}, which the graph does not hold "
                                 f"(present: {sorted(evaluator.layout.populations)})")
        known = [state.name for state in NODE_KINDS[kind].state]
        n_units = evaluator.layout.populations[kind].n_units
        for name, value in variables.items():
            if name not in known:
                raise ParameterError(f"{kind!r} units have state variables {known}, not {name!r}")
            evaluator.values[kind][name] = finite_array(value, f"states[{kind!r}][{name!r}]", (n_units,))[None]
    values, gates = inputs.channels(evaluator.layout.populations[evaluator.input_kind])
    evaluator.compute(values[:, 0], gates[:, 0])
    derivatives = evaluator.derivatives()
    result: dict[str, dict[str, np.ndarray]] = {}
    for kind, variables in evaluator.values.items():
        n_units = evaluator.layout.populations[kind].n_units
        result[kind] = {name: np.broadcast_to(value, (1, n_units))[0].copy() for name, value in variables.items()}
        result[kind].update({"d" + name: derivative[0] for (of, name), derivative in derivatives.items()
                             if of == kind})
    return result


def _simulate(layout: GraphLayout, inputs: SampledInputs, step: float, steps_per_sample: int,
              kinds: tuple[str, ...], progress: bool) -> dict[str, dict[str, np.ndarray]]:
    """Euler steps of the whole layout; recordings at the sample times t_0..t_T as (B, T+1, n_units)."""
    evaluator = Evaluator(layout)
    observations, gates = inputs.channels(layout.populations[evaluator.input_kind])  # (B, T, n_units) each
    recordings: dict[str, dict[str, list[np.ndarray]]] = {kind: {name: [] for name in NODE_KINDS[kind].recorded}
                                                          for kind in kinds}
    n_steps = inputs.n_samples * steps_per_sample + 1
    # Overflow only happens when Euler diverges; the result check reports that as a DivergenceError.
    with np.errstate(over="ignore", invalid="ignore"):
        _integrate(evaluator, observations, gates, recordings, n_steps, steps_per_sample, step, inputs, progress)
    times = np.arange(inputs.n_samples + 1) * layout.sample_interval
    return {kind: {"t": times, **{name: np.stack(series, axis=1) for name, series in recorded.items()}}
            for kind, recorded in recordings.items()}


def _integrate(evaluator: Evaluator, observations: np.ndarray, gates: np.ndarray,
               recordings: dict[str, dict[str, list[np.ndarray]]], n_steps: int,
               steps_per_sample: int, step: float, inputs: SampledInputs, progress: bool) -> None:
    """The Euler loop; records at every sample time t_0..t_T (the state is not advanced past t_T)."""
    values, layout = evaluator.values, evaluator.layout
    for index in tqdm(range(n_steps), desc="reference backend", unit="step", disable=not progress):
        sample = min(index // steps_per_sample, inputs.n_samples - 1)
        evaluator.compute(observations[:, sample], gates[:, sample])
        if index % steps_per_sample == 0:
            for kind, recorded in recordings.items():
                shape = (inputs.n_trials, layout.populations[kind].n_units)
                for name in recorded:
                    recorded[name].append(np.broadcast_to(values[kind][name], shape))
        if index == n_steps - 1:
            break
        for (kind, name), derivative in evaluator.derivatives().items():
            values[kind][name] = values[kind][name] + step * derivative
