"""Brian2 equation templates: one registered function per node kind; edges from their records.

The equations are those of ``docs/graph_spec.md`` (the extended Kalman–Bucy
filter of :class:`rrnn_net.filters.ContinuousRHS`, and the input-driven
baseline RNN). Conventions that make the network reproduce the numpy Euler
scheme:

* Nonlinearities are ``(constant over dt)`` subexpressions, evaluated once per
  neuron at the start of each step (not once per synapse).
* Every message sums into its own input variable (``I_<edge kind>``, or for
  product units the ``factor_*`` variable of its port), declared from the
  kind records by :meth:`BuildContext.neuron_group`; the builder orders the
  summed updates by dependency level, so every message of a step is computed
  from the state at the start of that step.
* Products of two variables of different units are taken by product units
  whose factors arrive through summed (relay) synapses, never through linked
  variables. A product is stored once per neuron and step (a computed
  variable ordered after its factors), so the many synapses that read it
  load one number instead of re-evaluating the product each.
* Every edge kind is built by :func:`summed_synapses` from its record
  (carried variable, weight unit, extra messages): no edge equation is
  written twice.

Units: rates, errors and covariances are dimensionless; precisions, process
noise and every message that is a time derivative are in hertz.
"""

from __future__ import annotations

from brian2 import NeuronGroup, Synapses

from ..graph.kinds import EDGE_KINDS, NODE_KINDS, edge_messages, input_variables, message_unit
from .brian2_context import BuildContext, Message
from .layout import Population, Projection
from .registry import TemplateRegistry

__all__ = ["RATE_EQUATIONS", "SLOPE_EQUATIONS", "TEMPLATES", "summed_synapses"]

#: Rate φ(v) and slope φ'(v) per activation; ``{v}`` is the unit's state variable.
RATE_EQUATIONS = {"tanh": "rate = tanh({v}) : 1 (constant over dt)", "linear": "rate = {v} : 1 (constant over dt)"}
SLOPE_EQUATIONS = {"tanh": "slope = 1 - rate**2 : 1 (constant over dt)", "linear": "slope = 1 : 1 (constant over dt)"}


def summed_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """Synapses delivering the messages of the edge kind's record: ``[w *] <source variable>_pre``, summed."""
    edge = EDGE_KINDS[projection.kind]
    messages = []
    for spec in edge_messages(projection.target.kind, projection.kind, projection.port):
        assert spec.target is not None  # edge_messages resolves every target
        messages.append(Message(spec.target, f"w * {spec.source}_pre" if spec.weighted else f"{spec.source}_pre",
                                message_unit(projection.kind, projection.source.kind, spec.source) if spec.weighted
                                else NODE_KINDS[projection.source.kind].variables[spec.source].unit))
    return context.synapses(projection, messages, edge.weight_unit)


TEMPLATES = TemplateRegistry("brian2", default_edge=summed_synapses)


def _rates(context: BuildContext, variable: str, *, slope: bool = False) -> str:
    """φ of ``variable``, and φ' when the kind provides a slope."""
    rate = RATE_EQUATIONS[context.activation].format(v=variable)
    return f"{rate}\n{SLOPE_EQUATIONS[context.activation]}" if slope else rate


# ------------------------------------------------------------------ nodes
#: Input units driven by a user's group: the drive synapses sum into ``I_drive``; nothing is missing.
_DRIVEN_INPUT = """
observation = I_drive : 1
I_drive : 1
"""


@TEMPLATES.node("sensory")
def sensory_units(context: BuildContext, population: Population) -> NeuronGroup:
    """y_j(t) and the observed gate g_j(t), read from the input TimedArrays (column = neuron), or driven."""
    if context.driven:
        return context.neuron_group(population, f"{_DRIVEN_INPUT}\ngate = 1 : 1")
    equations = """
    observation = observation_values(t, i) : 1 (constant over dt)
    gate = gate_values(t, i) : 1 (constant over dt)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("error")
def error_units(context: BuildContext, population: Population) -> NeuronGroup:
    """ε_j = g_j (y_j − ŷ_j) with ŷ_j = c_j + Σ_k M_jk ρ_k; ξ_j = λ_j ε_j; surprise ξ_j ε_j.

    λ_j is the unit's own ``precision`` plus what a precision unit sends (online noise estimation).
    """
    equations = """
    predicted = offset - I_prediction : 1
    error = gate * (observation - predicted) : 1
    weighted_error = (precision + I_precision) * error : hertz
    surprise = weighted_error * error : hertz
    offset : 1 (constant)
    precision : hertz (constant)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("state")
def state_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Prediction units μ_i; ``correction`` integrates the error-driven part of dμ/dt."""
    equations = f"""
    dmu/dt = (bias - mu + I_recurrent) / tau + I_gain + I_fixed_gain : 1
    dcorrection/dt = I_gain + I_fixed_gain : 1
    {_rates(context, "mu", slope=True)}
    back_error = slope * I_feedback : hertz
    bias : 1 (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("evidence")
def evidence_unit(context: BuildContext, population: Population) -> NeuronGroup:
    """ℓ with dℓ/dt = −½ Σ_j ξ_j ε_j [− ½ Σ_j g_j log(2π r̂_j)/Δ] (the weights −½ sit on the edges)."""
    equations = """
    devidence/dt = I_surprise + I_normaliser : 1
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("covariance")
def covariance_units(context: BuildContext, population: Population) -> NeuronGroup:
    """P_ik with dP_ik/dt = −2 P_ik/τ + Q_ik + drift (W D P + P D Wᵀ)/τ − quadratic (P Gᵀ Λ G P)."""
    equations = """
    dcov/dt = process_noise - 2 * cov / tau + I_drift + I_quadratic : 1
    process_noise : hertz (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("precision")
def precision_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Online noise estimate of channel j: an inverse-gamma belief (α, β) driven by its own error and gate.

    dα/dt = g/(2Δ) − α/memory; dβ/dt = g ε²/(2Δ) − β/memory
    (:mod:`rrnn_net.filters.noise`). Provides λ = α/(βΔ), r̂ = β/α, the
    factor g √(λΔ) of the projection units and the evidence normaliser
    g log(2π r̂)/Δ.
    """
    equations = """
    dalpha/dt = I_noise_gate / (2 * interval) - alpha / memory : 1
    dbeta/dt = I_noise_gate * I_noise_error**2 / (2 * interval) - beta / memory : 1
    precision = alpha / (beta * interval) : hertz
    noise = beta / alpha : 1
    gated_root_precision = I_noise_gate * sqrt(alpha / beta) : 1
    normaliser = I_noise_gate * log(2 * pi * noise) / interval : hertz
    memory : second (constant)
    interval : second (constant)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("scaled_covariance", "projection", "quadratic", "gain_product")
def product_units(context: BuildContext, population: Population) -> NeuronGroup:
    """``product = gain × (A + AB) × (B + AB)``: factors through ports 1, 2 and 3 (declared from the records).

    (D P)_lk = s_l P_lk; Z_jk = g_j Σ_l M_jl (D P)_lk (the gate drops a
    missing channel from the quadratic term); λ_j Z_ji Z_jk; P_ik u_k. The
    product is stored once per step, after its factors.
    """
    record = NODE_KINDS[population.kind]
    factors = input_variables(population.kind)
    gain_unit = record.number("gain").unit
    equations = f"""
    product : {record.provided("product").unit}
    gain : {gain_unit} (constant)
    """
    group = context.neuron_group(population, equations)
    a = "(factor_a + factor_ab)" if "factor_ab" in factors else "factor_a"
    b = "(factor_b + factor_ab)" if "factor_ab" in factors else "factor_b"
    context.computed_variable(group, "product", f"gain * {a} * {b}")
    return group


@TEMPLATES.node("input")
def input_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline input u_j(t), read from the input TimedArray, or driven."""
    if context.driven:
        return context.neuron_group(population, _DRIVEN_INPUT)
    return context.neuron_group(population, "observation = observation_values(t, i) : 1 (constant over dt)")


@TEMPLATES.node("hidden")
def hidden_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline hidden units: τ dx/dt = −x + W φ(x) + U u + b."""
    equations = f"""
    dx/dt = (bias - x + I_recurrent + I_input) / tau : 1
    {_rates(context, "x")}
    bias : 1 (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations)


@TEMPLATES.node("output")
def output_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline readout o_q = d_q + Σ_k C_qk φ(x_k)."""
    equations = """
    output = offset + I_readout : 1
    offset : 1 (constant)
    """
    return context.neuron_group(population, equations)
