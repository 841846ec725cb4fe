"""Brian2 equation templates, one registered function per node kind and per edge kind.

The equations are those of ``docs/graph_spec.md`` (the extended Kalman–Bucy
filter of :class:`rrnn_net.filters.ContinuousRHS`, and the input-driven
baseline RNN). Conventions that make the network reproduce the numpy Euler
scheme:

* Nonlinearities are ``(constant over dt)`` subexpressions, evaluated once per
  neuron at the start of each step (not once per synapse).
* Every projection sums into its own ``I_<kind>`` variable (or, for product
  units, the ``factor_*`` variable of its port); the builder orders the
  summed updates by dependency level, so every message of a step is computed
  from the state at the start of that step.
* Products of two variables of different units are taken by product units
  whose factors arrive through summed (relay) synapses, never through linked
  variables. A product is stored once per neuron and step (a computed
  variable ordered after its factors), so the many synapses that read it
  load one number instead of re-evaluating the product each.

Units: rates, errors and covariances are dimensionless; precisions, process
noise and every message that is a time derivative are in hertz.
"""

from __future__ import annotations

from brian2 import NeuronGroup, Synapses

from .brian2_context import BuildContext, Message, Population, Projection
from .registry import edge_template, node_template

__all__ = ["PORT_VARIABLES", "RATE_EQUATIONS"]

#: Rate φ(v) and slope φ'(v) per activation; ``{v}`` is the unit's state variable.
RATE_EQUATIONS = {
    "tanh": "rate = tanh({v}) : 1 (constant over dt)\nslope = 1 - rate**2 : 1 (constant over dt)",
    "linear": "rate = {v} : 1 (constant over dt)\nslope = 1 : 1 (constant over dt)",
}

#: Factor variable of a product unit fed through each port (port 3 feeds both factors).
PORT_VARIABLES = {1: "factor_a", 2: "factor_b", 3: "factor_ab"}


def _rates(context: BuildContext, variable: str) -> str:
    return RATE_EQUATIONS[context.activation].format(v=variable)


# ------------------------------------------------------------------ nodes
@node_template("sensory", record=("observation", "gate"))
def sensory_units(context: BuildContext, population: Population) -> NeuronGroup:
    """y_j(t) and the observed gate g_j(t), read from the input TimedArrays (column = neuron)."""
    equations = """
    observation = observation_values(t, i) : 1 (constant over dt)
    gate = gate_values(t, i) : 1 (constant over dt)
    """
    return context.neuron_group(population, equations)


@node_template("error", record=("predicted", "error"))
def error_units(context: BuildContext, population: Population) -> NeuronGroup:
    """ε_j = g_j (y_j − ŷ_j) with ŷ_j = c_j + Σ_k M_jk ρ_k; ξ_j = λ_j ε_j; surprise ξ_j ε_j."""
    equations = """
    observation : 1
    gate : 1
    I_prediction : 1
    predicted = offset - I_prediction : 1
    error = gate * (observation - predicted) : 1
    weighted_error = precision * error : hertz
    surprise = weighted_error * error : hertz
    offset : 1 (constant)
    precision : hertz (constant)
    """
    return context.neuron_group(population, equations, {"offset": ("offset", "1"),
                                                         "precision": ("precision", "hertz")})


@node_template("state", record=("mu", "correction"))
def state_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Prediction units μ_i; ``correction`` integrates the error-driven part of dμ/dt."""
    equations = f"""
    dmu/dt = (bias - mu + I_recurrent) / tau + I_gain + I_fixed_gain : 1
    dcorrection/dt = I_gain + I_fixed_gain : 1
    {_rates(context, "mu")}
    back_error = slope * I_feedback : hertz
    I_recurrent : 1
    I_feedback : hertz
    I_gain : hertz
    I_fixed_gain : hertz
    bias : 1 (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations, {"bias": ("bias", "1"), "tau": ("tau", "second"),
                                                         "mean0": ("mu", "1")})


@node_template("evidence", record=("evidence",))
def evidence_unit(context: BuildContext, population: Population) -> NeuronGroup:
    """ℓ with dℓ/dt = −½ Σ_j ξ_j ε_j (the weight −½ sits on the surprise edges)."""
    equations = """
    devidence/dt = I_surprise : 1
    I_surprise : hertz
    """
    return context.neuron_group(population, equations)


@node_template("covariance", record=("cov",))
def covariance_units(context: BuildContext, population: Population) -> NeuronGroup:
    """P_ik with dP_ik/dt = −2 P_ik/τ + Q_ik + drift (W D P + P D Wᵀ)/τ − quadratic (P Gᵀ Λ G P)."""
    equations = """
    dcov/dt = process_noise - 2 * cov / tau + I_drift + I_quadratic : 1
    I_drift : hertz
    I_quadratic : hertz
    process_noise : hertz (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations, {"process_noise": ("process_noise", "hertz"),
                                                         "tau": ("tau", "second"), "cov0": ("cov", "1")})


def _product_units(context: BuildContext, population: Population, factor_a: str, factor_b: str, gain: str,
                   product: str, port_three: bool = False) -> NeuronGroup:
    """``product = gain × A × B`` with A fed through ports 1 (and 3), B through ports 2 (and 3).

    Unit names of the factors, gain and product are template constants.
    ``port_three`` adds the input that feeds both factors (diagonal quadratic
    units λ_j Z_ji²). The product is stored once per step, after its factors.
    """
    equations = f"""
    factor_a : {factor_a}
    factor_b : {factor_b}
    {f"factor_ab : {factor_a}" if port_three else ""}
    product : {product}
    gain : {gain} (constant)
    """
    group = context.neuron_group(population, equations, {"gain": ("gain", gain)})
    both = "gain * (factor_a + factor_ab) * (factor_b + factor_ab)"
    context.computed_variable(group, "product", both if port_three else "gain * factor_a * factor_b")
    return group


@node_template("scaled_covariance", record=("product",))
def scaled_covariance_units(context: BuildContext, population: Population) -> NeuronGroup:
    """(D P)_lk = s_l P_lk."""
    return _product_units(context, population, "1", "1", "1", product="1")


@node_template("gain_product", record=("product",))
def gain_product_units(context: BuildContext, population: Population) -> NeuronGroup:
    """P_ik u_k, the terms of the gain Σ_k P_ik u_k = (P Gᵀ Λ ε)_i."""
    return _product_units(context, population, "1", "hertz", "1", product="hertz")


@node_template("quadratic", record=("product",))
def quadratic_units(context: BuildContext, population: Population) -> NeuronGroup:
    """λ_j Z_ji Z_jk, the rank-m terms of P Gᵀ Λ G P."""
    return _product_units(context, population, "1", "1", "hertz", product="hertz", port_three=True)


@node_template("projection", record=("product",))
def projection_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Z_jk = g_j Σ_l M_jl (D P)_lk: the gate drops a missing channel from the quadratic term."""
    return _product_units(context, population, "1", "1", "1", product="1")


@node_template("input", record=("observation",))
def input_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline input u_j(t), read from the input TimedArray."""
    return context.neuron_group(population, "observation = observation_values(t, i) : 1 (constant over dt)")


@node_template("hidden", record=("x",))
def hidden_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline hidden units: τ dx/dt = −x + W φ(x) + U u + b."""
    equations = f"""
    dx/dt = (bias - x + I_recurrent + I_input) / tau : 1
    {_rates(context, "x")}
    I_recurrent : 1
    I_input : 1
    bias : 1 (constant)
    tau : second (constant)
    """
    return context.neuron_group(population, equations, {"bias": ("bias", "1"), "tau": ("tau", "second"),
                                                         "x0": ("x", "1")})


@node_template("output", record=("output",))
def output_units(context: BuildContext, population: Population) -> NeuronGroup:
    """Baseline readout o_q = d_q + Σ_k C_qk φ(x_k)."""
    equations = """
    I_readout : 1
    output = offset + I_readout : 1
    offset : 1 (constant)
    """
    return context.neuron_group(population, equations, {"offset": ("offset", "1")})


# ------------------------------------------------------------------ edges
def _weighted(context: BuildContext, projection: Projection, carries: str, unit: str, into: str | None = None,
              weight_unit: str = "1") -> Synapses:
    """Synapses summing ``w * <carries>_pre`` into ``into``, or into the port's factor of a product unit."""
    target = into if projection.port is None else PORT_VARIABLES[projection.port]
    if target is None:
        raise ValueError(f"{projection.name}: a {projection.kind!r} edge needs a port")
    return context.synapses(projection, [Message(target, f"w * {carries}_pre", unit)], weight_unit)


@edge_template("sensory")
def sensory_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """y_j and its gate g_j into error unit j (the gate is not weighted)."""
    messages = [Message("observation", "w * observation_pre", "1"), Message("gate", "gate_pre", "1")]
    return context.synapses(projection, messages, "1")


@edge_template("prediction")
def prediction_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """−M_jk ρ_k into error unit j."""
    return _weighted(context, projection, "rate", "1", into="I_prediction")


@edge_template("recurrent")
def recurrent_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """W_ik ρ_k into state (or hidden) unit i."""
    return _weighted(context, projection, "rate", "1", into="I_recurrent")


@edge_template("feedback")
def feedback_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """M_jk ξ_j into state unit k (the back-projected error e_k)."""
    return _weighted(context, projection, "weighted_error", "hertz", into="I_feedback")


@edge_template("fixed_gain")
def fixed_gain_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """K_ij ε_j into state unit i (K in s⁻¹)."""
    return _weighted(context, projection, "error", "hertz", into="I_fixed_gain", weight_unit="hertz")


@edge_template("surprise")
def surprise_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """−½ ξ_j ε_j into the evidence unit."""
    return _weighted(context, projection, "surprise", "hertz", into="I_surprise")


@edge_template("slope")
def slope_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """s_l into a scaled-covariance unit (its port)."""
    return _weighted(context, projection, "slope", "1")


@edge_template("covariance_read")
def covariance_read_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """P_lk into a product unit (its port)."""
    return _weighted(context, projection, "cov", "1")


@edge_template("back_error")
def back_error_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """u_k = s_k e_k into a gain-product unit (its port)."""
    return _weighted(context, projection, "back_error", "hertz")


@edge_template("drift")
def drift_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """(W_il/τ) (D P)_lk into covariance unit (i, k) (weights in s⁻¹)."""
    return _weighted(context, projection, "product", "hertz", into="I_drift", weight_unit="hertz")


@edge_template("projection")
def projection_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """M_jl (D P)_lk into a projection unit (its port)."""
    return _weighted(context, projection, "product", "1")


@edge_template("gate")
def gate_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """g_j into a projection unit (its port)."""
    return _weighted(context, projection, "gate", "1")


@edge_template("quadratic_factor")
def quadratic_factor_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """Z_ji into a quadratic unit (its port)."""
    return _weighted(context, projection, "product", "1")


@edge_template("quadratic")
def quadratic_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """−λ_j Z_ji Z_jk into covariance unit (i, k)."""
    return _weighted(context, projection, "product", "hertz", into="I_quadratic")


@edge_template("gain")
def gain_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """P_ik u_k into state unit i."""
    return _weighted(context, projection, "product", "hertz", into="I_gain")


@edge_template("input")
def input_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """U_ij u_j into hidden unit i."""
    return _weighted(context, projection, "observation", "1", into="I_input")


@edge_template("readout")
def readout_synapses(context: BuildContext, projection: Projection) -> Synapses:
    """C_qk φ(x_k) into output unit q."""
    return _weighted(context, projection, "rate", "1", into="I_readout")
