"""Whether the redundant copies of a graph's parameters still agree: :func:`consistency`.

A compiled adaptive graph holds each model parameter more than once, because
every part of the filter that needs it reads it locally: W on the
``recurrent`` edges (the dynamics of the mean) and, divided by τ, on the
``drift`` edges (the covariance propagation); M on the ``prediction`` edges
(the likelihood), the ``feedback`` edges (the error-driven correction of the
mean) and the ``projection`` edges (the covariance propagation); each
precision λ_j on error unit j (the likelihood) and as the ``gain`` of its
quadratic units (the covariance propagation); τ on every state and
covariance unit. With online noise estimation (``compile_rrnn(noise="adaptive")``)
λ_j is a state of precision unit j instead: the error units' own precision
is then fixed at 0 and the quadratic units' gain at 1/Δ. Weights the equations fix (a sensory edge's 1, a surprise
edge's −½, the covariance wiring's 1 and −1, the unit gains of 1) are copies
of the equations. Editing or lesioning one copy leaves a network that still
runs but is no longer the exact filter of any single GenerativeRNN;
:func:`consistency` says which entries disagree and which parts of the
filter therefore use different models. :func:`~rrnn_net.graph.to_matrices`
accepts a graph only when it is exact.

A fixed-gain graph holds W, M and K once each (only τ and the fixed weights
can disagree); a baseline graph is no filter and holds each weight once.

Examples
--------
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn
>>> G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
>>> consistency(G).is_exact
True
>>> G.edges["state:2", "state:1"]["weight"] = 0.0  # W[1,2] in the dynamics only
>>> report = consistency(G)
>>> report.is_exact, [mismatch.entry for mismatch in report.mismatches], report.parts
(False, [(1, 2)], ('dynamics', 'covariance propagation'))
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from .kinds import EDGE_KINDS, NODE_KINDS
from .schema import mode_edge_kinds, validate_graph

__all__ = ["PARTS", "Consistency", "Copy", "Mismatch", "consistency"]

#: The parts of the filter a copy belongs to, in the order of the equations: the mean's own dynamics, the
#: likelihood (predicted observation, prediction errors, evidence), the error-driven correction of the mean
#: (the gain P Gᵀ Λ) and the covariance propagation (the Riccati equation).
PARTS = ("dynamics", "likelihood", "correction", "covariance propagation", "noise estimation")
_METADATA = "metadata"  # the graph attribute τ: read by no unit
_SHOWN_ENTRIES = 4  # per parameter in str(); the record holds them all
# Copies agree when they differ by at most this relative amount: a few ulps, the rounding of W/τ or of a scaled
# weight, far below any deliberate edit.
_ROUNDING = 4 * sys.float_info.epsilon

# The part that reads a fixed weight or gain, by the kind of unit it feeds.
_PART_OF_TARGET = {"error": "likelihood", "evidence": "likelihood", "state": "correction",
                   "gain_product": "correction", "scaled_covariance": "covariance propagation",
                   "projection": "covariance propagation", "quadratic": "covariance propagation",
                   "covariance": "covariance propagation", "precision": "noise estimation"}
# What each parameter-bearing connection class holds (str() of an absent class says what is gone).
_HOLDS = {"recurrent": "W", "drift": "W/τ", "prediction": "−M", "feedback": "M", "projection": "M",
          "fixed_gain": "K", "input": "U", "readout": "C"}
# Alternatives: with precision units the projection units' factor comes from them, not from the sensory gate.
_REPLACED_WITH_NOISE_ESTIMATION = frozenset({"gate"})


@dataclass(frozen=True)
class Copy:
    """The copies of one parameter entry held in one place of the graph.

    Attributes
    ----------
    location : str
        An edge kind (``"recurrent"``, ``"drift"``), a node kind (``"error"``,
        ``"quadratic"``), ``"graph"`` (the graph attribute τ) or
        ``"equations"`` (the value the equations fix).
    part : str
        The part of the filter that reads it: one of :data:`PARTS`, or
        ``"metadata"`` for the graph attribute τ.
    values : tuple of float
        The distinct values present, sorted, in the parameter's own units
        (a drift weight times τ, a merged diagonal drift edge halved, a
        prediction weight negated).
    n_absent : int
        Copies the compiler writes that the graph lacks; each reads as 0.
    agrees : bool
        Whether every copy here (absent ones as 0) equals the reference, the
        first copy of the :class:`Mismatch`.
    """

    location: str
    part: str
    values: tuple[float, ...]
    n_absent: int
    agrees: bool

    def __str__(self) -> str:
        shown = [f"{value:.4g}" for value in self.values]
        if self.n_absent:
            shown.append("absent (0)")
        return f"{self.location} {', '.join(shown)}"


@dataclass(frozen=True)
class Mismatch:
    """One parameter entry whose copies disagree.

    Attributes
    ----------
    parameter : str
        ``"W"``, ``"M"``, ``"precision"`` (λ), ``"tau"``, ``"<edge kind> weight"``
        (a weight the equations fix) or ``"<node kind> gain"``.
    entry : tuple of int
        The matrix entry: (i, k) of W, (j, k) of M, (j,) of λ; () for a scalar.
    copies : tuple of Copy
        The reference copy first (recurrent W, prediction M, error-unit λ,
        graph τ, the equations' fixed value), then every other place that holds it.
    """

    parameter: str
    entry: tuple[int, ...]
    copies: tuple[Copy, ...]

    @property
    def label(self) -> str:
        """``"W[1,2]"``, ``"precision[0]"`` or ``"tau"``."""
        return f"{self.parameter}[{','.join(map(str, self.entry))}]" if self.entry else self.parameter

    def __str__(self) -> str:
        return f"{self.label}: " + ", ".join(map(str, self.copies))


@dataclass(frozen=True)
class Consistency:
    """Which redundant copies of a graph's parameters disagree; ``str()`` explains what that means.

    Attributes
    ----------
    graph_type : {"rrnn", "baseline"}
    gain_mode : {"adaptive", "fixed", "none"}
    mismatches : tuple of Mismatch
        Every entry whose copies disagree, grouped by parameter.
    absent_kinds : tuple of str
        Connection classes (edge kinds) the graph's form holds when compiled
        but that have no edge left (lesioned or deleted).
    """

    graph_type: str
    gain_mode: str
    mismatches: tuple[Mismatch, ...]
    absent_kinds: tuple[str, ...]

    @property
    def is_exact(self) -> bool:
        """Whether every copy agrees: the network computes exactly what one model's compiled graph computes."""
        return not self.mismatches

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts of the filter (:data:`PARTS`) that hold disagreeing copies, in equation order."""
        present = {copy.part for copies in self.differences.values() for copy in copies}
        return tuple(part for part in PARTS if part in present)

    @property
    def differences(self) -> dict[str, tuple[Copy, ...]]:
        """Per parameter with mismatches: its reference place and every place whose copies disagree with it."""
        places: dict[str, dict[str, Copy]] = {}
        for mismatch in self.mismatches:
            found = places.setdefault(mismatch.parameter, {mismatch.copies[0].location: mismatch.copies[0]})
            for copy in mismatch.copies[1:]:
                if not copy.agrees:
                    found.setdefault(copy.location, copy)
        return {parameter: tuple(found.values()) for parameter, found in places.items()}

    @property
    def headline(self) -> str:
        """One line: exact, not applicable, or which parameters the parts of the filter hold differently."""
        if self.is_exact:
            return {"adaptive": "exact: every copy of W, M, λ and τ agrees and every fixed weight is as compiled "
                                "(the filter of one GenerativeRNN)",
                    "fixed": "exact: τ and the fixed weights agree (a fixed-gain graph holds W, M and K once "
                             "each, so no copies can disagree)",
                    "none": "not applicable: a baseline graph is no filter and holds each weight once"
                    }[self.gain_mode]
        what = "; ".join(f"{parameter}: " + " vs ".join(f"{copy.location} ({copy.part})" for copy in copies)
                         for parameter, copies in self.differences.items())
        subject = "no single GenerativeRNN's exact filter" if self.graph_type == "rrnn" else "no single RNN"
        return f"inexact, {len(self.mismatches)} disagreeing entr{'y' if len(self.mismatches) == 1 else 'ies'} " \
               f"({subject}): {what}"

    def __str__(self) -> str:
        lines = [f"consistency: {self.headline}"]
        by_parameter: dict[str, list[Mismatch]] = defaultdict(list)
        for mismatch in self.mismatches:
            by_parameter[mismatch.parameter].append(mismatch)
        for parameter, mismatches in by_parameter.items():
            lines.append(f"  {parameter}, {len(mismatches)} entr{'y' if len(mismatches) == 1 else 'ies'}:")
            lines += [f"    {mismatch}" for mismatch in mismatches[:_SHOWN_ENTRIES]]
            if len(mismatches) > _SHOWN_ENTRIES:
                lines.append(f"    (and {len(mismatches) - _SHOWN_ENTRIES} more)")
        if self.absent_kinds:
            lines.append("  connection classes with no edges: " + ", ".join(
                f"{kind} ({_HOLDS[kind]})" if kind in _HOLDS else kind for kind in self.absent_kinds))
        return "\n".join(lines)


def consistency(G: nx.DiGraph) -> Consistency:
    """Compare every redundant copy of the graph's parameters with its reference copy.

    References: W on the recurrent edges, M on the prediction edges, λ_j on
    error unit j, τ in the graph attributes, and the value the equations fix
    for every fixed weight and unit gain. Copies agree when equal up to a
    few ulps (the rounding of W/τ, or of a weight scaled by
    :func:`~rrnn_net.graph.lesion`); an absent edge the compiler writes
    (every compiled graph holds all of them, zeros included) reads as 0.

    Parameters
    ----------
    G : networkx.DiGraph
        A compiled graph (validated first), e.g. one edited by hand or
        lesioned with :func:`~rrnn_net.graph.lesion`.

    Returns
    -------
    Consistency

    Raises
    ------
    GraphSchemaError
        If the graph is invalid.

    Examples
    --------
    >>> from rrnn_net import GenerativeRNN
    >>> from rrnn_net.graph import compile_rrnn, lesion
    >>> G = compile_rrnn(GenerativeRNN.oscillator(2, 1, seed=0))
    >>> print(consistency(lesion(G, edges="feedback")))  # doctest: +NORMALIZE_WHITESPACE
    consistency: inexact, 2 disagreeing entries (no single GenerativeRNN's exact filter):
        M: prediction (likelihood) vs feedback (correction)
      M, 2 entries:
        M[0,0]: prediction -0.3788, feedback absent (0), projection -0.3788
        M[0,1]: prediction 0.2557, feedback absent (0), projection 0.2557
      connection classes with no edges: feedback (M)
    """
    validate_graph(G)
    return _consistency(G)


def _consistency(G: nx.DiGraph) -> Consistency:
    """:func:`consistency` of a graph already validated."""
    graph = G.graph
    mismatches = [*_tau_mismatches(G), *_fixed_number_mismatches(G)]
    if graph["gain_mode"] == "adaptive":
        n, tau = graph["n_hidden"], graph["tau"]
        recurrent = _Place("recurrent", "dynamics", lambda s, t, w: ((t["index"], s["index"]), w))
        drift = _Place("drift", "covariance propagation", _drift_entry, copies=2 * n - 1,
                       to_copy=lambda value: value / tau, to_parameter=lambda value: value * tau)
        prediction = _Place("prediction", "likelihood", lambda s, t, w: ((t["index"], s["index"]), -w))
        feedback = _Place("feedback", "correction", lambda s, t, w: ((s["index"], t["index"]), w))
        projection = _Place("projection", "covariance propagation", lambda s, t, w: ((t["row"], s["row"]), w),
                            copies=n)
        mismatches += _copy_mismatches(G, "W", recurrent, (drift,))
        mismatches += _copy_mismatches(G, "M", prediction, (feedback, projection))
        if _estimates_noise(G):
            mismatches += _estimated_precision_mismatches(G)
        else:
            precision = _Place("error", "likelihood", lambda a: ((a["index"],), a["precision"]), nodes=True)
            quadratic = _Place("quadratic", "covariance propagation", lambda a: ((a["obs"],), a["gain"]),
                               copies=n * n, nodes=True)
            mismatches += _copy_mismatches(G, "precision", precision, (quadratic,))
    return Consistency(graph["graph_type"], graph["gain_mode"], tuple(mismatches), _absent_kinds(G))


def _estimates_noise(G: nx.DiGraph) -> bool:
    """Whether the graph holds precision units (online noise estimation)."""
    return any(kind == "precision" for _, kind in G.nodes(data="kind"))


def _absent_kinds(G: nx.DiGraph) -> tuple[str, ...]:
    """Edge kinds the compiler writes for a graph of this form (its unit kinds) that have no edge left."""
    units = {kind for _, kind in G.nodes(data="kind")}
    present = {kind for _, _, kind in G.edges(data="kind")}
    expected = {kind for kind in mode_edge_kinds(G.graph["gain_mode"])
                if any(source in units and target in units for source, target in EDGE_KINDS[kind].pairs)}
    if "precision" in units:
        expected -= _REPLACED_WITH_NOISE_ESTIMATION
    return tuple(kind for kind in EDGE_KINDS if kind in expected - present)


def _estimated_precision_mismatches(G: nx.DiGraph) -> list[Mismatch]:
    """With precision units: the numbers the equations then fix (error λ 0, quadratic gain 1/Δ, unit Δ)."""
    interval = G.graph["sample_interval"]
    fixed = {("error", "precision"): ("likelihood", 0.0), ("quadratic", "gain"): ("covariance propagation",
                                                                                   1.0 / interval),
             ("precision", "interval"): ("noise estimation", interval)}
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _, attributes in G.nodes(data=True):
        for kind, number in fixed:
            if attributes["kind"] == kind:
                values[kind, number].append(attributes[number])
    mismatches = []
    for (kind, number), (part, value) in fixed.items():
        mismatches += _fixed_mismatch(f"{kind} {number}", kind, part, value, values[kind, number], 0)
    return mismatches


# ------------------------------------------------------------------ copies
@dataclass(frozen=True)
class _Place:
    """Where copies of a parameter live: an edge kind, or a node kind's number (``nodes=True``).

    ``read(source, target, weight)`` (edges) or ``read(attributes)`` (nodes)
    gives (entry, value in the copy's units); ``copies`` is how many the
    compiler writes per entry; ``to_copy`` turns a reference value into the
    copy's units and ``to_parameter`` a copy's value into the parameter's.
    """

    location: str
    part: str
    read: Callable
    copies: int = 1
    nodes: bool = False
    to_copy: Callable[[float], float] = lambda value: value
    to_parameter: Callable[[float], float] = lambda value: value

    def collect(self, G: nx.DiGraph) -> dict[tuple[int, ...], list[float]]:
        """Entry -> the values (copy units) of every copy present."""
        found: dict[tuple[int, ...], list[float]] = defaultdict(list)
        if self.nodes:
            for _, attributes in G.nodes(data=True):
                if attributes["kind"] == self.location:
                    entry, value = self.read(attributes)
                    found[entry].append(value)
            return found
        nodes = G.nodes
        for source, target, attributes in G.edges(data=True):
            if attributes["kind"] == self.location:
                entry, value = self.read(nodes[source], nodes[target], attributes["weight"])
                found[entry].append(value)
        return found


def _drift_entry(source: Mapping, target: Mapping, weight: float) -> tuple[tuple[int, int], float]:
    """Undo the drift wiring: source (l, c) -> covariance (i, k) carries W_il/τ if c = k ≠ i (F P),
    W_kl/τ if c = i ≠ k (P Fᵀ), and the merged 2 W_il/τ if i = k."""
    row, col, through = target["row"], target["col"], source["row"]
    if row == col:
        return (row, through), 0.5 * weight
    return ((row, through) if source["col"] == col else (col, through)), weight


def _copy_mismatches(G: nx.DiGraph, parameter: str, reference: _Place, others: tuple[_Place, ...]) -> list[Mismatch]:
    """Entries of ``parameter`` where a copy in ``others`` differs from the (single) reference copy."""
    reference_values = {entry: values[0] for entry, values in reference.collect(G).items()}
    found = [place.collect(G) for place in others]
    # An entry matters where any copy is present, or where the reference is non-zero (absent copies then differ).
    entries = sorted({entry for copies in found for entry in copies}
                     | {entry for entry, value in reference_values.items() if value != 0.0})
    mismatches = []
    for entry in entries:
        value = reference_values.get(entry, 0.0)
        copies = [_copy(reference, [value] if entry in reference_values else [], value)]
        copies += [_copy(place, values.get(entry, []), place.to_copy(value)) for place, values in zip(
            others, found, strict=True)]
        if not all(copy.agrees for copy in copies):
            mismatches.append(Mismatch(parameter, entry, tuple(copies)))
    return mismatches


def _agree(value: float, expected: float) -> bool:
    """Equal up to the rounding of one or two float operations (s·(W/τ) against (s·W)/τ)."""
    return value == expected or abs(value - expected) <= _ROUNDING * max(abs(value), abs(expected))


def _copy(place: _Place, values: list[float], expected: float) -> Copy:
    """The copies of one entry in one place, compared (in the copy's units) with ``expected``."""
    n_absent = place.copies - len(values)
    agrees = all(_agree(value, expected) for value in values) and (n_absent == 0 or expected == 0.0)
    return Copy(place.location, place.part, tuple(sorted({place.to_parameter(value) for value in values})),
                n_absent, agrees)


# ------------------------------------------------------------ scalar copies
def _tau_mismatches(G: nx.DiGraph) -> list[Mismatch]:
    """τ of every unit that has one, against the graph attribute."""
    tau = G.graph["tau"]
    by_kind: dict[str, set[float]] = defaultdict(set)
    for _, attributes in G.nodes(data=True):
        if "tau" in attributes:
            by_kind[attributes["kind"]].add(attributes["tau"])
    copies = [Copy(kind, _tau_part(kind), tuple(sorted(values)), 0, all(_agree(value, tau) for value in values))
              for kind, values in by_kind.items()]
    if all(copy.agrees for copy in copies):
        return []
    return [Mismatch("tau", (), (Copy("graph", _METADATA, (tau,), 0, True), *copies))]


def _tau_part(kind: str) -> str:
    return "covariance propagation" if kind == "covariance" else "dynamics"


def _fixed_number_mismatches(G: nx.DiGraph) -> list[Mismatch]:
    """Weights the equations fix (per edge kind and target kind) and unit gains of 1, against those values."""
    weights: dict[tuple[str, str], list[float]] = defaultdict(list)
    nodes = G.nodes
    for _, target, attributes in G.edges(data=True):
        if EDGE_KINDS[attributes["kind"]].constant_weight is not None:
            weights[attributes["kind"], nodes[target]["kind"]].append(attributes["weight"])
    units: dict[str, int] = defaultdict(int)
    gains: dict[str, list[float]] = defaultdict(list)
    for _, attributes in G.nodes(data=True):
        units[attributes["kind"]] += 1
        if attributes["kind"] in _UNIT_GAIN_KINDS:
            gains[attributes["kind"]].append(attributes["gain"])
    mismatches = []
    replaced = _REPLACED_WITH_NOISE_ESTIMATION if units.get("precision") else frozenset()
    for kind, record in EDGE_KINDS.items():
        if record.constant_weight is None or kind in replaced:
            continue
        for source_kind, target_kind in record.pairs:
            if not units.get(target_kind) or not units.get(source_kind):
                continue
            values = weights.get((kind, target_kind), [])
            # A fixed-weight edge a unit may lack is, when compiled, one per target unit that reads at most one
            # (precision, precision_gate), else one per source unit (surprise, quadratic, gain, normaliser).
            low, high = NODE_KINDS[target_kind].inputs[kind]
            n_absent = (units[target_kind] if high == 1 else units[source_kind]) - len(values) if low == 0 else 0
            location = kind if len(record.pairs) == 1 else f"{kind} → {target_kind}"
            mismatches += _fixed_mismatch(f"{kind} weight", location, _PART_OF_TARGET[target_kind],
                                          record.constant_weight, values, n_absent)
    for kind, values in gains.items():
        mismatches += _fixed_mismatch(f"{kind} gain", kind, _PART_OF_TARGET[kind], 1.0, values, 0)
    return mismatches


#: Product units whose gain the equations fix at 1 (a quadratic unit's gain is the precision λ_j).
_UNIT_GAIN_KINDS = ("scaled_covariance", "projection", "gain_product")


def _fixed_mismatch(parameter: str, location: str, part: str, fixed: float, values: list[float],
                    n_absent: int) -> list[Mismatch]:
    copy = Copy(location, part, tuple(sorted(set(values))), n_absent,
                all(_agree(value, fixed) for value in values) and n_absent == 0)
    return [] if copy.agrees else [Mismatch(parameter, (), (Copy("equations", part, (fixed,), 0, True), copy))]
