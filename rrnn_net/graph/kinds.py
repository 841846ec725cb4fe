"""One record per node kind and per edge kind: the single source of what a compiled graph may hold.

Everything that depends on a kind derives from these records: the schema
tables and validation (:mod:`rrnn_net.graph.schema`), the locality check,
drawing (:mod:`rrnn_net.graph.drawing`), the constant weights
:func:`~rrnn_net.graph.to_matrices` checks, and in every backend the input
variables a unit sums its messages into and the variables a message carries
(:func:`input_variables`, :func:`edge_messages`). Adding a node kind is its
record here, its compiler lines and one template per backend (see
``docs/architecture.md``).

Vocabulary. A node kind *provides* variables (computed within an integration
step, e.g. an error unit's ``weighted_error`` ξ = λ ε) and integrates *state*
variables (``mu``, ``cov``, ...). An edge kind *carries* one provided
variable of its source: each of its messages is ``weight × <carried
variable>`` summed into the target's *input variable* ``I_<edge kind>``, or,
into a multiplicative (product) unit, into the factor of its ``port``.
Variables declare which in-edge kinds they *read*, so a backend can order the
messages of a step without reading any equation text.

Examples
--------
>>> NODE_KINDS["error"].provided("weighted_error").unit
'hertz'
>>> EDGE_KINDS["feedback"].carries
'weighted_error'
>>> input_variables("state")
{'I_recurrent': '1', 'I_feedback': 'hertz', 'I_gain': 'hertz', 'I_fixed_gain': 'hertz'}
>>> [(m.source, m.target) for m in edge_messages("gain_product", "covariance_read", 1)]
[('cov', 'factor_a')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import ParameterError

__all__ = [
    "EDGE_KINDS",
    "GAIN_MODES",
    "NODE_KINDS",
    "PORT_VARIABLES",
    "UNIT_NAMES",
    "DrawStyle",
    "EdgeKind",
    "MessageSpec",
    "NodeKind",
    "Number",
    "Variable",
    "edge_messages",
    "input_variables",
    "message_unit",
    "register_edge_kind",
    "register_node_kind",
]

#: Physical units a record may name (rates, errors and covariances are dimensionless; precisions, process
#: noise and every message that is a time derivative are in hertz).
UNIT_NAMES = ("1", "hertz", "second")
#: The gain modes (graph forms) a kind may appear in.
GAIN_MODES = ("adaptive", "fixed", "none")
#: Factor variable of a product unit fed through each port (port 3 feeds both factors).
PORT_VARIABLES = {1: "factor_a", 2: "factor_b", 3: "factor_ab"}


@dataclass(frozen=True)
class Number:
    """A float attribute of a node: its name, unit and valid range.

    Attributes
    ----------
    name : str
    unit : {"1", "hertz", "second"}
    minimum : float
        Lower bound (default −inf).
    strict : bool
        Whether the bound excludes the minimum itself (τ > 0).
    time_constant : bool
        A decay time constant of the unit's state: forward Euler needs the
        graph's integration step below twice it.
    covariance : bool
        Over all units of the kind, indexed by their (row, col), the values
        form a symmetric positive semidefinite matrix.
    """

    name: str
    unit: str = "1"
    minimum: float = -math.inf
    strict: bool = False
    time_constant: bool = False
    covariance: bool = False

    def admits(self, value: float) -> bool:
        """Whether ``value`` lies in the range."""
        return value > self.minimum if self.strict else value >= self.minimum

    def describe_range(self) -> str:
        """``"> 0"``, ``">= 0"`` or ``"any"``."""
        if self.minimum == -math.inf:
            return "any"
        return f"{'>' if self.strict else '>='} {self.minimum:g}"


@dataclass(frozen=True)
class Variable:
    """A variable of a unit, computed within a step (provided) or integrated (state).

    Attributes
    ----------
    name : str
        The name every backend uses for it.
    unit : {"1", "hertz", "second"}
    symbol : str
        The mathematical symbol (docs, drawings).
    reads : tuple of str
        In-edge kinds whose messages of the same step it needs (for a state
        variable: its derivative's inputs).
    initial : str or None
        State variables only: the node number holding the initial value.
    """

    name: str
    unit: str
    symbol: str
    reads: tuple[str, ...] = ()
    initial: str | None = None


@dataclass(frozen=True)
class DrawStyle:
    """How a kind is drawn: colour (Okabe–Ito), legend label, and for block kinds a (name, formula) caption.

    Symbols in the label and the formula are mathtext (``"$P_{ik}$"``), so that drawings set subscripts.
    """

    colour: str
    label: str
    caption: tuple[str, str] | None = None


@dataclass(frozen=True)
class NodeKind:
    """One node kind.

    Attributes
    ----------
    name : str
        The ``kind`` string.
    indices : tuple of (str, str)
        Integer index attributes in node-id order, each with the graph-level
        size attribute giving its range (``index`` of a state runs over ``n_hidden``).
    numbers : tuple of Number
        Required float attributes, with units and ranges.
    modes : frozenset of str
        Gain modes whose graphs hold this kind (all its units, complete).
    optional : bool
        Whether a graph of those modes may also lack the kind altogether
        (an extension's kind: present, it is complete).
    inputs : mapping of str to (int, int or None)
        In-edge kind -> (minimum, maximum) count per node; any in-edge kind
        not listed breaks locality.
    provides : tuple of Variable
        Variables computed within a step that out-edges may carry.
    state : tuple of Variable
        Integrated variables (forward Euler at the integration step).
    recorded : tuple of str
        Variables a backend records for this kind (the result is assembled from them).
    product : bool
        Multiplicative unit: ``product = gain × (A + AB) × (B + AB)`` with A
        fed through port 1, B through port 2 and AB (both factors) through port 3.
    draw : DrawStyle
    """

    name: str
    indices: tuple[tuple[str, str], ...]
    numbers: tuple[Number, ...] = ()
    modes: frozenset[str] = frozenset()
    inputs: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)
    provides: tuple[Variable, ...] = ()
    state: tuple[Variable, ...] = ()
    recorded: tuple[str, ...] = ()
    product: bool = False
    optional: bool = False
    draw: DrawStyle = DrawStyle("#999999", "")

    @property
    def number_names(self) -> tuple[str, ...]:
        """Names of :attr:`numbers`, in order."""
        return tuple(number.name for number in self.numbers)

    def number(self, name: str) -> Number:
        """The :class:`Number` called ``name`` (KeyError if this kind has none)."""
        for number in self.numbers:
            if number.name == name:
                return number
        raise KeyError(f"node kind {self.name!r} has no number {name!r}; it has {list(self.number_names)}")

    def provided(self, name: str) -> Variable:
        """The provided variable called ``name`` (KeyError if this kind provides none)."""
        for variable in self.provides:
            if variable.name == name:
                return variable
        raise KeyError(f"node kind {self.name!r} provides no variable {name!r}")

    @property
    def variables(self) -> dict[str, Variable]:
        """Every provided and state variable by name."""
        return {variable.name: variable for variable in (*self.state, *self.provides)}


@dataclass(frozen=True)
class MessageSpec:
    """One message of an edge: ``[weight ×] <source variable>`` summed into ``target`` (None: derived).

    A ``None`` target sums into the target unit's ``I_<edge kind>``, or into
    the factor of the edge's port for a product unit.
    """

    source: str
    target: str | None = None
    weighted: bool = True


@dataclass(frozen=True)
class EdgeKind:
    """One edge kind.

    Attributes
    ----------
    name : str
        The ``kind`` string.
    carries : str
        The source variable its (first) message carries: a provided or state
        variable of every source kind in :attr:`pairs`.
    pairs : mapping of (str, str) to frozenset of int
        Allowed (source kind, target kind) -> allowed ``port`` values (empty:
        the edge has no ``port``; it is required exactly for product targets).
    modes : frozenset of str
        Gain modes whose graphs may hold it.
    relation : callable
        ``relation(source attributes, target attributes, port) -> bool``:
        whether the edge connects units whose indices it pairs up.
    weight_unit : {"1", "hertz"}
    constant_weight : float or None
        The weight the equations fix (any other value computes something else).
    target : str or None
        The target unit's variable the carried message sums into; None: the
        input variable ``I_<edge kind>`` (or a product unit's factor by port).
    extra : tuple of MessageSpec
        Messages besides the carried one (the sensory edge's unweighted gate).
    draw : DrawStyle or None
        Colour of a core edge drawn one by one; None for covariance wiring.
    bend : float
        Curvature of an individually drawn edge.
    """

    name: str
    carries: str
    pairs: Mapping[tuple[str, str], frozenset[int]]
    modes: frozenset[str]
    relation: Callable[[Mapping, Mapping, int | None], bool]
    weight_unit: str = "1"
    constant_weight: float | None = None
    target: str | None = None
    extra: tuple[MessageSpec, ...] = ()
    draw: DrawStyle | None = None
    bend: float = 0.0

    @property
    def messages(self) -> tuple[MessageSpec, ...]:
        """The carried message (into :attr:`target`, or the derived input variable) and :attr:`extra`."""
        return (MessageSpec(self.carries, self.target), *self.extra)


#: Every node kind by name; everything else reads kinds from here at call time, so a kind registered
#: later (an extension, a test's throwaway kind) is known everywhere at once.
NODE_KINDS: dict[str, NodeKind] = {}
#: Every edge kind by name.
EDGE_KINDS: dict[str, EdgeKind] = {}


def register_node_kind(kind: NodeKind) -> NodeKind:
    """Add a node kind to :data:`NODE_KINDS` (a kind is registered once; units must be known).

    Raises
    ------
    ParameterError
        A duplicate name, a unit outside :data:`UNIT_NAMES`, or covariance
        numbers on a kind not indexed by (row, col) over one size.
    """
    if kind.name in NODE_KINDS:
        raise ParameterError(f"node kind {kind.name!r} is already registered")
    square = [name for name, _ in kind.indices] == ["row", "col"] and len({size for _, size in kind.indices}) == 1
    if any(number.covariance for number in kind.numbers) and not square:
        raise ParameterError(f"node kind {kind.name!r}: covariance numbers need indices (row, col) over one size")
    units = {number.unit for number in kind.numbers} | {variable.unit for variable in (*kind.provides, *kind.state)}
    if not units <= set(UNIT_NAMES):
        raise ParameterError(f"node kind {kind.name!r} names units {sorted(units - set(UNIT_NAMES))}; "
                             f"known: {UNIT_NAMES}")
    NODE_KINDS[kind.name] = kind
    return kind


def register_edge_kind(kind: EdgeKind) -> EdgeKind:
    """Add an edge kind to :data:`EDGE_KINDS` (a kind is registered once, between known node kinds).

    Raises
    ------
    ParameterError
        A duplicate name, an unknown node kind in ``pairs``, or a weight unit
        outside :data:`UNIT_NAMES`.
    """
    if kind.name in EDGE_KINDS:
        raise ParameterError(f"edge kind {kind.name!r} is already registered")
    unknown = sorted({name for pair in kind.pairs for name in pair} - set(NODE_KINDS))
    if unknown:
        raise ParameterError(f"edge kind {kind.name!r} connects unknown node kinds {unknown}")
    if kind.weight_unit not in UNIT_NAMES:
        raise ParameterError(f"edge kind {kind.name!r}: weight unit {kind.weight_unit!r} is not one of {UNIT_NAMES}")
    EDGE_KINDS[kind.name] = kind
    return kind


# ------------------------------------------------------------- derived facts
def message_unit(edge_kind: str, source_kind: str, variable: str | None = None) -> str:
    """Unit of ``weight × <variable>`` (default: the carried variable) sent from a ``source_kind`` unit.

    >>> message_unit("fixed_gain", "error")
    'hertz'
    """
    edge = EDGE_KINDS[edge_kind]
    units = {NODE_KINDS[source_kind].variables[variable or edge.carries].unit, edge.weight_unit}
    if "second" in units or units == {"hertz"}:
        raise ValueError(f"{edge_kind!r} edges from {source_kind!r} units would carry an unsupported unit")
    return "hertz" if "hertz" in units else "1"


def edge_messages(target_kind: str, edge_kind: str, port: int | None) -> tuple[MessageSpec, ...]:
    """The messages of an ``edge_kind`` edge into a ``target_kind`` unit, each with its resolved target variable."""
    edge = EDGE_KINDS[edge_kind]
    if NODE_KINDS[target_kind].product:
        assert port is not None, f"an edge into a {target_kind!r} unit has a port"
        default = PORT_VARIABLES[port]
    else:
        default = f"I_{edge_kind}"
    return tuple(MessageSpec(spec.source, spec.target or default, spec.weighted) for spec in edge.messages)


def input_variables(kind: str) -> dict[str, str]:
    """Every variable the messages into a ``kind`` unit sum into, with its unit, in input order."""
    record = NODE_KINDS[kind]
    result: dict[str, str] = {}
    for edge_kind in record.inputs:
        for (source, target), ports in EDGE_KINDS[edge_kind].pairs.items():
            if target != kind:
                continue
            port_options: list[int | None] = [*sorted(ports)] or [None]
            for port in port_options:
                for spec in edge_messages(kind, edge_kind, port):
                    assert spec.target is not None  # edge_messages resolves every target
                    result[spec.target] = message_unit(edge_kind, source, spec.source)
    return result


# ------------------------------------------------------------------ relations
def _same(*pairs: tuple[str, str]) -> Callable[[Mapping, Mapping, int | None], bool]:
    """Relation: source attribute == target attribute for each (source name, target name) pair."""

    def relation(source: Mapping, target: Mapping, port: int | None) -> bool:
        return all(source[a] == target[b] for a, b in pairs)

    relation.__doc__ = " and ".join(f"source.{a} == target.{b}" for a, b in pairs)
    return relation


def _dense(source: Mapping, target: Mapping, port: int | None) -> bool:
    """All to all."""
    return True


def _drift(source: Mapping, target: Mapping, port: int | None) -> bool:
    """source.col in (target.row, target.col): (W D P + P D Wᵀ)_ik reads (D P)_lk and (D P)_li."""
    return source["col"] in (target["row"], target["col"])


def _quadratic_factor(source: Mapping, target: Mapping, port: int | None) -> bool:
    """Z_ji feeds port 1 (i = row), port 2 (i = col) or port 3 (row = col = i) of λ_j Z_ji Z_jk."""
    assert port is not None, "quadratic_factor edges have a port"
    factors = {1: (target["row"],), 2: (target["col"],), 3: (target["row"], target["col"])}[port]
    return source["row"] == target["obs"] and all(source["col"] == index for index in factors)


def _pairs(*entries: tuple[str, str, tuple[int, ...]]) -> dict[tuple[str, str], frozenset[int]]:
    return {(source, target): frozenset(ports) for source, target, ports in entries}


# --------------------------------------------------------------------- records
_OBS, _HIDDEN, _INPUT, _OUTPUT = "n_obs", "n_hidden", "n_input", "n_output"
_RRNN, _ADAPTIVE, _FIXED, _BASELINE = (frozenset({"adaptive", "fixed"}), frozenset({"adaptive"}),
                                       frozenset({"fixed"}), frozenset({"none"}))
_TAU = Number("tau", "second", 0.0, strict=True, time_constant=True)
_ANY = (0, None)
def _product_output(unit: str, reads: tuple[str, ...]) -> tuple[Variable, ...]:
    return (Variable("product", unit, "gain × A × B", reads=reads),)


for _kind in (
    NodeKind("sensory", (("index", _OBS),), modes=_RRNN,
             provides=(Variable("observation", "1", "y_j"), Variable("gate", "1", "g_j")),
             recorded=("observation", "gate"), draw=DrawStyle("#56B4E9", "sensory $y_j$")),
    NodeKind("error", (("index", _OBS),), (Number("offset"), Number("precision", "hertz", 0.0)), _RRNN,
             inputs={"sensory": (1, 1), "prediction": _ANY, "precision": (0, 1)},
             provides=(Variable("predicted", "1", "ŷ_j", ("prediction",)),
                       Variable("error", "1", "ε_j", ("sensory", "prediction")),
                       Variable("weighted_error", "hertz", "ξ_j = λ_j ε_j", ("sensory", "prediction", "precision")),
                       Variable("surprise", "hertz", "ξ_j ε_j", ("sensory", "prediction", "precision"))),
             recorded=("predicted", "error"), draw=DrawStyle("#D55E00", r"prediction error $\varepsilon_j$")),
    NodeKind("state", (("index", _HIDDEN),), (Number("bias"), _TAU, Number("mean0")), _RRNN,
             inputs={"recurrent": _ANY, "feedback": _ANY, "gain": _ANY, "fixed_gain": _ANY},
             provides=(Variable("rate", "1", "ρ_i = φ(μ_i)"), Variable("slope", "1", "φ'(μ_i)"),
                       Variable("back_error", "hertz", "u_i = φ'(μ_i) e_i", ("feedback",))),
             state=(Variable("mu", "1", "μ_i", ("recurrent", "gain", "fixed_gain"), initial="mean0"),
                    Variable("correction", "1", "∫ error-driven dμ_i/dt", ("gain", "fixed_gain"))),
             recorded=("mu", "correction"), draw=DrawStyle("#0072B2", r"state (prediction) $\mu_i$")),
    NodeKind("evidence", (), modes=_RRNN, inputs={"surprise": _ANY, "normaliser": _ANY},
             state=(Variable("evidence", "1", "ℓ", ("surprise", "normaliser")),), recorded=("evidence",),
             draw=DrawStyle("#F0E442", r"evidence $\ell$")),
    NodeKind("covariance", (("row", _HIDDEN), ("col", _HIDDEN)),
             (Number("process_noise", "hertz", covariance=True), _TAU, Number("cov0", covariance=True)), _ADAPTIVE,
             inputs={"drift": _ANY, "quadratic": _ANY},
             state=(Variable("cov", "1", "P_ik", ("drift", "quadratic"), initial="cov0"),),
             recorded=("cov",),
             draw=DrawStyle("#009E73", "covariance $P_{ik}$", ("covariance", "$P_{ik}$"))),
    NodeKind("scaled_covariance", (("row", _HIDDEN), ("col", _HIDDEN)), (Number("gain"),), _ADAPTIVE,
             inputs={"slope": (1, 1), "covariance_read": (1, 1)}, product=True,
             provides=_product_output("1", ("slope", "covariance_read")), recorded=("product",),
             draw=DrawStyle("#7FCDBB", r"scaled covariance $\varphi'(\mu_l)\,P_{lk}$",
                                ("scaled covariance", r"$\varphi'(\mu_l)\,P_{lk}$"))),
    NodeKind("projection", (("row", _OBS), ("col", _HIDDEN)), (Number("gain"),), _ADAPTIVE,
             inputs={"projection": (1, None), "gate": (0, 1), "precision_gate": (0, 1)}, product=True,
             provides=_product_output("1", ("projection", "gate", "precision_gate")), recorded=("product",),
             draw=DrawStyle("#CC79A7", r"projection $Z_{jk} = g_j \sum_l M_{jl}\,(DP)_{lk}$",
                            ("projection", "$Z_{jk}$"))),
    NodeKind("quadratic", (("obs", _OBS), ("row", _HIDDEN), ("col", _HIDDEN)),
             (Number("gain", "hertz", 0.0),), _ADAPTIVE, inputs={"quadratic_factor": (1, 2)}, product=True,
             provides=_product_output("hertz", ("quadratic_factor",)), recorded=("product",),
             draw=DrawStyle("#E69F00", r"quadratic $\lambda_j\,Z_{ji}\,Z_{jk}$",
                            ("quadratic", r"$\lambda_j\,Z_{ji}\,Z_{jk}$"))),
    NodeKind("gain_product", (("row", _HIDDEN), ("col", _HIDDEN)), (Number("gain"),), _ADAPTIVE,
             inputs={"covariance_read": (1, 1), "back_error": (1, 1)}, product=True,
             provides=_product_output("hertz", ("covariance_read", "back_error")), recorded=("product",),
             draw=DrawStyle("#8C6BB1", r"gain product $P_{ik}\,u_k$", ("gain product", r"$P_{ik}\,u_k$"))),
    # Online noise estimation (compile_rrnn(noise="adaptive")): one precision unit per channel.
    NodeKind("precision", (("index", _OBS),),
             (Number("alpha0", "1", 0.0, strict=True), Number("beta0", "1", 0.0, strict=True),
              Number("memory", "second", 0.0, strict=True, time_constant=True),
              Number("interval", "second", 0.0, strict=True)),
             _ADAPTIVE, optional=True, inputs={"noise_error": (1, 1), "noise_gate": (1, 1)},
             provides=(Variable("precision", "hertz", "λ_j = α_j / (β_j Δ)"),
                       Variable("noise", "1", "r̂_j = β_j / α_j"),
                       Variable("gated_root_precision", "1", "g_j √(λ_j Δ)", ("noise_gate",)),
                       Variable("normaliser", "hertz", "g_j log(2π r̂_j) / Δ", ("noise_gate",))),
             state=(Variable("alpha", "1", "α_j", ("noise_gate",), initial="alpha0"),
                    Variable("beta", "1", "β_j", ("noise_error", "noise_gate"), initial="beta0")),
             recorded=("noise",),
             draw=DrawStyle("#A6761D", r"precision $\lambda_j = \alpha_j/(\beta_j \Delta)$")),
    NodeKind("input", (("index", _INPUT),), modes=_BASELINE, provides=(Variable("observation", "1", "u_j"),),
             recorded=("observation",), draw=DrawStyle("#56B4E9", "input $u_j$")),
    NodeKind("hidden", (("index", _HIDDEN),), (Number("bias"), _TAU, Number("x0")), _BASELINE,
             inputs={"input": _ANY, "recurrent": _ANY}, provides=(Variable("rate", "1", "φ(x_i)"),),
             state=(Variable("x", "1", "x_i", ("recurrent", "input"), initial="x0"),), recorded=("x",),
             draw=DrawStyle("#0072B2", "hidden $x_i$")),
    NodeKind("output", (("index", _OUTPUT),), (Number("offset"),), _BASELINE, inputs={"readout": _ANY},
             provides=(Variable("output", "1", "o_q", ("readout",)),), recorded=("output",),
             draw=DrawStyle("#D55E00", "output $o_q$")),
):
    register_node_kind(_kind)

for _edge_kind in (
    EdgeKind("sensory", "observation", _pairs(("sensory", "error", ())), _RRNN, _same(("index", "index")),
             constant_weight=1.0, target="observation", extra=(MessageSpec("gate", "gate", weighted=False),),
             draw=DrawStyle("#7F7F7F", "sensory")),
    EdgeKind("prediction", "rate", _pairs(("state", "error", ())), _RRNN, _dense,
             draw=DrawStyle("#D55E00", "prediction"), bend=0.12),
    EdgeKind("recurrent", "rate", _pairs(("state", "state", ()), ("hidden", "hidden", ())), _RRNN | _BASELINE,
             _dense, draw=DrawStyle("#0072B2", "recurrent"), bend=-0.25),
    EdgeKind("feedback", "weighted_error", _pairs(("error", "state", ())), _ADAPTIVE, _dense,
             draw=DrawStyle("#009E73", "feedback"), bend=0.12),
    EdgeKind("fixed_gain", "error", _pairs(("error", "state", ())), _FIXED, _dense, weight_unit="hertz",
             draw=DrawStyle("#009E73", "fixed_gain"), bend=0.12),
    EdgeKind("surprise", "surprise", _pairs(("error", "evidence", ())), _RRNN, _dense, constant_weight=-0.5,
             draw=DrawStyle("#3F3F3F", "surprise"), bend=0.15),
    EdgeKind("slope", "slope", _pairs(("state", "scaled_covariance", (1,))), _ADAPTIVE, _same(("index", "row")),
             constant_weight=1.0),
    EdgeKind("covariance_read", "cov",
             _pairs(("covariance", "scaled_covariance", (2,)), ("covariance", "gain_product", (1,))), _ADAPTIVE,
             _same(("row", "row"), ("col", "col")), constant_weight=1.0),
    EdgeKind("back_error", "back_error", _pairs(("state", "gain_product", (2,))), _ADAPTIVE,
             _same(("index", "col")), constant_weight=1.0),
    EdgeKind("drift", "product", _pairs(("scaled_covariance", "covariance", ())), _ADAPTIVE, _drift,
             weight_unit="hertz"),
    EdgeKind("projection", "product", _pairs(("scaled_covariance", "projection", (1,))), _ADAPTIVE,
             _same(("col", "col"))),
    EdgeKind("gate", "gate", _pairs(("sensory", "projection", (2,))), _ADAPTIVE, _same(("index", "row")),
             constant_weight=1.0),
    EdgeKind("quadratic_factor", "product", _pairs(("projection", "quadratic", (1, 2, 3))), _ADAPTIVE,
             _quadratic_factor, constant_weight=1.0),
    EdgeKind("quadratic", "product", _pairs(("quadratic", "covariance", ())), _ADAPTIVE,
             _same(("row", "row"), ("col", "col")), constant_weight=-1.0),
    EdgeKind("gain", "product", _pairs(("gain_product", "state", ())), _ADAPTIVE, _same(("row", "index")),
             constant_weight=1.0),
    EdgeKind("noise_error", "error", _pairs(("error", "precision", ())), _ADAPTIVE, _same(("index", "index")),
             constant_weight=1.0),
    EdgeKind("noise_gate", "gate", _pairs(("sensory", "precision", ())), _ADAPTIVE, _same(("index", "index")),
             constant_weight=1.0),
    EdgeKind("precision", "precision", _pairs(("precision", "error", ())), _ADAPTIVE, _same(("index", "index")),
             constant_weight=1.0),
    EdgeKind("precision_gate", "gated_root_precision", _pairs(("precision", "projection", (2,))), _ADAPTIVE,
             _same(("index", "row")), constant_weight=1.0),
    EdgeKind("normaliser", "normaliser", _pairs(("precision", "evidence", ())), _ADAPTIVE, _dense,
             constant_weight=-0.5),
    EdgeKind("input", "observation", _pairs(("input", "hidden", ())), _BASELINE, _dense,
             draw=DrawStyle("#56B4E9", "input")),
    EdgeKind("readout", "rate", _pairs(("hidden", "output", ())), _BASELINE, _dense,
             draw=DrawStyle("#D55E00", "readout")),
):
    register_edge_kind(_edge_kind)
