"""Circuit demo: an rRNN read by spiking neurons, and its prediction errors read by spiking neurons.

The compiled adaptive-gain rRNN of a limit-cycle GenerativeRNN is placed as
one :class:`~rrnn_net.backends.brian2_circuit.RRNNCircuit` in a Brian2
network of the user's own:

* **Spiking front end.** Each observation channel is rate-coded by n Poisson
  units firing at r₀ + g·y(t) (y held over each sample interval, as the
  rate circuit reads it). A decoding neuron per channel sums their spikes in
  an exponential synaptic trace s (time constant τ_s); its variable
  ``decoded`` = (s/(n·A) − r₀)/g undoes the encoding (A is the area of the
  trace's kernel on the integration grid), and
  :meth:`~rrnn_net.backends.brian2_circuit.RRNNCircuit.drive` feeds it into
  the rRNN's sensory units.
* **Downstream population.** Each prediction-error unit ε_j drives 2 × 20
  leaky integrate-and-fire cells through summed synapses: ON cells excited by
  ε_j > 0, OFF cells by ε_j < 0.

The same network holds the circuit reading the observations directly (rate
input; checked against :func:`~rrnn_net.backends.run_brian2`), one driven
by the front end's expected trace (the n → ∞ limit: its synaptic low-pass
without spike noise), and, per population size, a second spiking-driven
circuit *told* its input is noisier (R + σ², with σ² the front end's noise
measured in a calibration run at y = 0). The numpy
:class:`~rrnn_net.ContinuousFilter` on the observations is the reference.
Reported: state RMSE against the true hidden state and evidence per sample
against the population size n, and the front end's noise against the
model's R. The low-pass alone can *lower* the RMSE below the rate input's:
the filter reads each noisy sample held over its interval, and the synapse
smooths away part of that noise; the spike noise is the front end's cost.

Writes ``circuit_front_end.png``, ``circuit_predictions.png``,
``circuit_downstream.png``, ``circuit_accuracy.png`` and ``metrics.json``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from brian2 import (
    Clock,
    Hz,
    Network,
    NeuronGroup,
    PoissonGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    ms,
    second,
)
from brian2 import seed as brian2_seed
from matplotlib import colormaps

from ..backends import BaselineResult, run_brian2
from ..backends.brian2_build import preferences
from ..backends.brian2_circuit import RRNNCircuit
from ..filters import ContinuousFilter, FilterResult
from ..filters.stability import euler_safe_prior_variance
from ..graph import compile_rrnn
from ..model import GenerativeRNN
from .plotting import COLORS, WIDTH, figure, legend_below, write_metrics

BASELINE_RATE_HZ = 100.0  # r₀, an encoding neuron's rate at y = 0
GAIN_HZ = 60.0  # g, rate per unit of y: the observations stay within ±1.5, so rates stay positive
TAU_SYN_S = 0.005  # τ_s: short against the ~0.2 s cycle, so the trace lags little
DOWNSTREAM_CELLS = 20  # ON cells, and OFF cells, per prediction-error unit
DOWNSTREAM_WEIGHT = 2.0  # input to a downstream cell per unit of ε (threshold 1 above reset)
DOWNSTREAM_REST = (0.7, 0.95)  # range of the cells' resting drive: below threshold, heterogeneous
DOWNSTREAM_TAU_S = 0.01  # their membrane time constant
CALIBRATION_BLOCK_S = 0.2  # blocks of 40 τ_s: their means carry the low-frequency noise (variance 2.5 % low)
CORRELATION_BIN_S = 0.025  # bins of the downstream rates compared with ε
WINDOW_S = 1.0  # time shown in the time-course figures
_RATE = "clip(baseline + gain * stimulus(t, {column}), 0 * Hz, inf * Hz)"  # an encoder's rate r₀ + g·y, r ≥ 0
ON_OFF_COLORS = ("#D55E00", "#0072B2")  # downstream cells excited by +ε (ON) and by −ε (OFF)


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    sizes = (5, 40) if fast else (5, 20, 80, 320)
    n_trials, n_samples = (4, 120) if fast else (8, 600)
    model = GenerativeRNN.oscillator(4, 2, sample_interval=0.005, substeps=5, observation_noise=0.02, seed=seed)
    states, observations = model.simulate(n_samples, batch=n_trials, seed=seed + 1)
    prior = euler_safe_prior_variance(model) * np.eye(model.n_hidden)
    noise = calibrate(model, sizes, duration=1.0 if fast else 2.0, seed=seed + 2)
    graph = compile_rrnn(model, cov0=prior)
    # Told the front end's noise: the same model with R + σ², so the rRNN trusts the decoded input less.
    told = {n: compile_rrnn(model.replace(R=model.R + noise[n]["variance"] * np.eye(model.n_obs)), cov0=prior)
            for n in sizes}
    runs = run_circuits(model, graph, told, observations, sizes, seed=seed + 3)
    numpy_filter = ContinuousFilter(model).filter(observations, cov0=prior)
    reference = _rrnn_result(run_brian2(graph, observations))

    settled = slice(n_samples // 4, None)
    r_variance = float(np.mean(np.diag(model.R)))
    metrics = {
        "seed": seed,
        "fast": fast,
        "n_hidden": model.n_hidden,
        "n_obs": model.n_obs,
        "n_trials": n_trials,
        "n_samples": n_samples,
        "sample_interval_s": model.sample_interval,
        "step_s": model.step,
        "baseline_rate_hz": BASELINE_RATE_HZ,
        "gain_hz_per_unit": GAIN_HZ,
        "tau_syn_s": TAU_SYN_S,
        "neurons_per_channel": list(sizes),
        "model_R": r_variance,
        "state_std": float(states.std()),
        "brian2_seconds": runs.seconds,
        "numpy_filter_rmse": _rmse(numpy_filter, states, settled),
        "numpy_filter_psd_repairs": int(np.sum(numpy_filter.n_psd_repairs)),
        "rate_circuit_rmse": _rmse(runs.rate, states, settled),
        "rate_circuit_evidence_per_sample": _evidence_per_sample(runs.rate, model.R, settled),
        "expected_input_rmse": _rmse(runs.expected, states, settled),
        "expected_input_evidence_per_sample": _evidence_per_sample(runs.expected, model.R, settled),
        "rate_circuit_vs_run_brian2_max_abs_difference": _max_difference(runs.rate, reference),
        "rate_circuit_vs_numpy_filter_max_abs_difference": _max_difference(runs.rate, numpy_filter),
        "spiking": {str(n): _spiking_metrics(runs, n, noise[n], model, observations, states, settled)
                    for n in sizes},
        **_downstream_metrics(runs, model.sample_interval, settled),
    }
    time_axis = np.arange(1, n_samples + 1) * model.sample_interval
    clean = model.observe(states)
    _plot_front_end(out_dir / "circuit_front_end.png", runs, observations, clean, model, sizes, metrics)
    _plot_predictions(out_dir / "circuit_predictions.png", time_axis, runs, observations, clean, sizes, metrics)
    _plot_downstream(out_dir / "circuit_downstream.png", runs, model, metrics)
    _plot_accuracy(out_dir / "circuit_accuracy.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


# ------------------------------------------------------------------ the user's groups
def kernel_area(step: float) -> float:
    """Area A = h / (1 − e^(−h/τ_s)) of the trace's kernel as the circuit reads it, every step h.

    A spike adds 1 at the end of a step and the trace decays by e^(−h/τ_s)
    per step, so a steady rate r leaves a mean trace of n·r·A per channel
    (A = τ_s + h/2 + O(h²); with τ_s instead, the decoded value would be off
    by h/(2τ_s) of the rate, 10 % here).

    Examples
    --------
    >>> round(kernel_area(0.001) * 1e3, 4)  # ms, against τ_s = 5 ms
    5.5167
    """
    return float(step / -np.expm1(-step / TAU_SYN_S))


def spiking_front_end(columns: np.ndarray, n_per_channel: int, clock: Clock, sample_interval: float,
                      name: str) -> tuple[PoissonGroup, Synapses, NeuronGroup]:
    """Poisson units rate-coding each column of ``columns`` (T, k), and one trace neuron per column decoding them.

    Neuron c·n + q (q < n) of the encoders codes column c; trace neuron c
    sums their spikes. Its ``decoded`` value is column c low-pass filtered
    by the synapse plus the spike-count noise, in the column's units.

    Returns
    -------
    encoders, synapses, traces
        To add to a network; ``traces.decoded`` is what a circuit is driven with.
    """
    stimulus = TimedArray(columns, dt=sample_interval * second, name=f"{name}_stimulus")
    encoders = PoissonGroup(columns.shape[1] * n_per_channel, rates=_RATE.format(column="i // n_per_channel"),
                            namespace={"baseline": BASELINE_RATE_HZ * Hz, "gain": GAIN_HZ * Hz, "stimulus": stimulus,
                                       "n_per_channel": n_per_channel},
                            clock=clock, name=f"{name}_encoders")
    traces = _trace_group(columns, n_per_channel, clock, stimulus, name)
    synapses = Synapses(encoders, traces, on_pre="spike_trace_post += 1", clock=clock, name=f"{name}_synapses")
    synapses.connect(i=np.arange(len(encoders)), j=np.arange(len(encoders)) // n_per_channel)
    return encoders, synapses, traces


def expected_front_end(columns: np.ndarray, clock: Clock, sample_interval: float, name: str) -> NeuronGroup:
    """The front end without its spike noise (n → ∞): trace neurons holding the trace's expected value.

    Each step the trace decays as a spiking one does (``groups`` slot) and
    gains an encoder's expected spike count r·h where the spikes would
    arrive (``synapses`` slot); n cancels in ``decoded``. What is left of
    the front end is its low-pass filter.
    """
    stimulus = TimedArray(columns, dt=sample_interval * second, name=f"{name}_stimulus")
    traces = _trace_group(columns, 1, clock, stimulus, name)
    traces.run_regularly(f"spike_trace += {_RATE.format(column='i')} * dt", when="synapses",
                         name=f"{name}_expected_spikes")
    return traces


def _trace_group(columns: np.ndarray, n_per_channel: int, clock: Clock, stimulus: TimedArray,
                 name: str) -> NeuronGroup:
    """One decoding neuron per column: the synaptic trace of its n encoders' spikes, and ``decoded``."""
    # The decoding constants are parameters of the group, not namespace entries: the circuit's drive synapses
    # evaluate the subexpression `decoded` in their own namespace, which would not resolve them.
    # (The trace is not called `trace`: SymPy, which Brian2 uses for the exact integration, reads it as the
    # matrix trace.)
    traces = NeuronGroup(columns.shape[1], """
    dspike_trace/dt = -spike_trace / tau_syn : 1
    decoded = (spike_trace / (n_per_channel * area) - baseline) / gain : 1
    tau_syn : second (constant, shared)
    area : second (constant, shared)
    n_per_channel : 1 (constant, shared)
    baseline : hertz (constant, shared)
    gain : hertz (constant, shared)
    """, method="exact", namespace={"stimulus": stimulus}, clock=clock, name=f"{name}_traces")
    area = kernel_area(float(clock.dt_))
    traces.tau_syn, traces.area, traces.n_per_channel = TAU_SYN_S * second, area * second, n_per_channel
    traces.baseline, traces.gain = BASELINE_RATE_HZ * Hz, GAIN_HZ * Hz
    # As if the front end had been running before t = 0: the trace's mean at the first sample's rates.
    traces.spike_trace = n_per_channel * area * np.maximum(BASELINE_RATE_HZ + GAIN_HZ * columns[0], 0.0)
    return traces


def error_population(circuit: RRNNCircuit, rest: np.ndarray, name: str) -> tuple[NeuronGroup, Synapses]:
    """LIF cells driven by the circuit's prediction errors: per error unit, ON cells then OFF cells.

    Cell (u·2 + s)·c + k, with c = :data:`DOWNSTREAM_CELLS`, is cell k of
    error unit u, ON (s = 0, weight +w) or OFF (s = 1, weight −w); ``rest``
    holds every cell's resting drive.
    """
    cells = NeuronGroup(len(rest), """
    dv/dt = (rest + I_error - v) / tau_m : 1 (unless refractory)
    rest : 1 (constant)
    I_error : 1
    """, threshold="v > 1", reset="v = 0", refractory=2 * ms, method="exact",
                        namespace={"tau_m": DOWNSTREAM_TAU_S * second}, clock=circuit.clock, name=f"{name}_cells")
    cells.rest = rest
    cells.v = rest
    # When the cells read ε. The circuit computes ε at step k in 'before_groups', from the state at the start of
    # the step (its drive and prediction are summed variables set there). Brian2 runs the update of a summed
    # variable in 'groups', at order target.order − 1: after every 'before_groups' message and just before the
    # cells' own Euler step, so I_error holds w·ε of step k, the value the circuit's state units integrate in
    # the same step. (Read in 'start', or copied in 'before_groups' ahead of the circuit's messages, it would be
    # ε of step k − 1.) The demo records I_error at the end of each sample step and checks it against
    # circuit.monitor("error").
    synapses = Synapses(circuit.errors, cells, model="w : 1 (constant)\nI_error_post = w * error_pre : 1 (summed)",
                        clock=circuit.clock, name=f"{name}_synapses")
    target = np.arange(len(rest))
    synapses.connect(i=target // (2 * DOWNSTREAM_CELLS), j=target)
    synapses.w = np.where((target // DOWNSTREAM_CELLS) % 2 == 0, DOWNSTREAM_WEIGHT, -DOWNSTREAM_WEIGHT)
    return cells, synapses


# ------------------------------------------------------------------ runs
def calibrate(model: GenerativeRNN, sizes: tuple[int, ...], *, duration: float, seed: int,
              n_channels: int = 64) -> dict[int, dict[str, float]]:
    """The front end's noise per population size, from a run at y = 0, as a per-sample variance.

    The rRNN integrates its input, so what counts is the noise's intensity at
    low frequencies, q = T_b·Var(mean over blocks of T_b ≫ τ_s); a held sample
    of white noise of variance σ² has intensity σ²Δ, hence σ² = q/Δ, to
    compare with R. For Poisson units q = r₀(1 − r₀h)/(n g²) (Bernoulli spikes
    at step h), reported as ``theory``; ``offset`` is the mean decoded value,
    0 when the decoding is unbiased.
    """
    step, n_steps = model.step, round(duration / model.step)
    block = round(CALIBRATION_BLOCK_S / step)
    columns = np.zeros((round(duration / model.sample_interval), n_channels))
    with preferences({"codegen.target": "numpy"}):
        clock = Clock(step * second, name="calibration_clock")
        objects, monitors = [], {}
        for n in sizes:
            front_end = spiking_front_end(columns, n, clock, model.sample_interval, f"calibration_{n}")
            monitors[n] = StateMonitor(front_end[2], "decoded", record=True, name=f"calibration_{n}_monitor")
            objects += [*front_end, monitors[n]]
        brian2_seed(seed)
        Network(*objects).run(n_steps * step * second, namespace={})
    noise = {}
    for n, monitor in monitors.items():
        decoded = np.asarray(monitor.decoded)[:, : n_steps // block * block]
        block_means = decoded.reshape(n_channels, -1, block).mean(axis=-1)
        intensity = block * step * float(np.var(block_means))
        theory = BASELINE_RATE_HZ * (1 - BASELINE_RATE_HZ * step) / (n * GAIN_HZ**2)
        noise[n] = {"variance": intensity / model.sample_interval, "theory": theory / model.sample_interval,
                    "offset": float(decoded.mean())}
    return noise


@dataclass
class CircuitRuns:
    """What the demo's network recorded (all as numpy arrays), and its run time."""

    rate: FilterResult
    expected: FilterResult  # driven by the front end's expected trace (n → ∞)
    spiking: dict[int, FilterResult]
    told: dict[int, FilterResult]
    encoder_spikes: dict[int, tuple[np.ndarray, np.ndarray]]  # channel 0, trial 0: (times s, neuron)
    decoded: dict[int, tuple[np.ndarray, np.ndarray]]  # channel 0, trial 0, every step: (times s, value)
    downstream_spikes: tuple[np.ndarray, np.ndarray]  # every cell: (times s, cell)
    downstream_input: np.ndarray  # I_error (cells, T + 1) at the sample times, end of the step
    downstream_weights: np.ndarray  # (cells,)
    downstream_errors: np.ndarray  # ε (units, T + 1) of the circuit the cells read, from circuit.monitor
    downstream_size: int  # neurons per channel of the front end feeding that circuit
    seconds: float


def run_circuits(model: GenerativeRNN, graph: nx.DiGraph, told: dict[int, nx.DiGraph], observations: np.ndarray,
                 sizes: tuple[int, ...], *, seed: int) -> CircuitRuns:
    """One network: the rate-input circuit, the noise-free front end's, and per population size two more.

    The two circuits of a population size (the model's R, and told R + σ²)
    read the same spikes. The largest size's model-R circuit drives the
    downstream cells.
    """
    n_trials, n_samples, n_obs = observations.shape
    columns = np.transpose(observations, (1, 2, 0)).reshape(n_samples, n_obs * n_trials)  # p·B + b: sensory order
    with preferences({"codegen.target": "numpy"}):
        clock = Clock(model.step * second, name="circuit_demo_clock")
        rate = RRNNCircuit(graph, name="rate_input", observations=observations, clock=clock)
        expected_traces = expected_front_end(columns, clock, model.sample_interval, "expected_front_end")
        expected = RRNNCircuit(graph, name="expected_input", batch=n_trials, clock=clock)
        expected.drive(expected_traces, "decoded")
        objects: list = [rate, expected_traces, expected]
        spiking, told_circuits, rasters, decoded = {}, {}, {}, {}
        for n in sizes:
            encoders, synapses, traces = spiking_front_end(columns, n, clock, model.sample_interval, f"front_end_{n}")
            spiking[n] = RRNNCircuit(graph, name=f"spiking_{n}", batch=n_trials, clock=clock)
            told_circuits[n] = RRNNCircuit(told[n], name=f"told_{n}", batch=n_trials, clock=clock)
            for circuit in (spiking[n], told_circuits[n]):
                circuit.drive(traces, "decoded")  # one-to-one: trace neuron p·B + b feeds sensory unit p·B + b
            rasters[n] = SpikeMonitor(encoders[:n], name=f"front_end_{n}_raster")
            decoded[n] = StateMonitor(traces, "decoded", record=[0], name=f"front_end_{n}_decoded")
            objects += [encoders, synapses, traces, spiking[n], told_circuits[n], rasters[n], decoded[n]]
        source = spiking[sizes[-1]]
        resting = np.random.default_rng(seed).uniform(*DOWNSTREAM_REST, size=len(source.errors) * 2 * DOWNSTREAM_CELLS)
        cells, cell_synapses = error_population(source, resting, "downstream")
        cell_spikes = SpikeMonitor(cells, name="downstream_spikes")
        cell_input = StateMonitor(cells, "I_error", record=True, dt=source.sample_interval, when="end",
                                  name="downstream_input")
        errors = source.monitor("error", "error")
        objects += [cells, cell_synapses, cell_spikes, cell_input]
        brian2_seed(seed)
        start = time.perf_counter()
        Network(*objects).run(rate.duration, namespace={})  # every group resolves its own names
        seconds = time.perf_counter() - start
    return CircuitRuns(
        rate=_rrnn_result(rate.result()),
        expected=_rrnn_result(expected.result()),
        spiking={n: _rrnn_result(circuit.result()) for n, circuit in spiking.items()},
        told={n: _rrnn_result(circuit.result()) for n, circuit in told_circuits.items()},
        encoder_spikes={n: (np.asarray(monitor.t / second), np.asarray(monitor.i)) for n, monitor in rasters.items()},
        decoded={n: (np.asarray(monitor.t / second), np.asarray(monitor.decoded[0])) for n, monitor in decoded.items()},
        downstream_spikes=(np.asarray(cell_spikes.t / second), np.asarray(cell_spikes.i)),
        downstream_input=np.asarray(cell_input.I_error),
        downstream_weights=np.asarray(cell_synapses.w),
        downstream_errors=np.asarray(errors.error),
        downstream_size=sizes[-1],
        seconds=seconds,
    )


# ------------------------------------------------------------------ metrics
def _rrnn_result(result: FilterResult | BaselineResult) -> FilterResult:
    """The result of a run of the demo's rRNN graphs (which never give a baseline's)."""
    assert isinstance(result, FilterResult)
    return result


def _rmse(result: FilterResult, states: np.ndarray, settled: slice) -> float:
    """State RMSE over trials, time after settling and units."""
    return float(np.sqrt(np.mean((result.mean[:, settled] - states[:, settled]) ** 2)))


def _evidence_per_sample(result: FilterResult, noise: np.ndarray, settled: slice) -> float:
    """Mean log evidence per sample after settling, with the normalisation −½ log det(2πR) the network leaves out.

    With it, circuits told different R are compared on the same footing.
    """
    _, log_det = np.linalg.slogdet(2 * np.pi * noise)
    return float(np.mean(result.loglik[:, settled]) - 0.5 * log_det)


def _max_difference(result: FilterResult, other: FilterResult) -> float:
    fields = ("mean", "predicted_obs", "prediction_error", "loglik")
    return float(max(np.max(np.abs(getattr(result, name) - getattr(other, name))) for name in fields))


def _spiking_metrics(runs: CircuitRuns, n: int, noise: dict, model: GenerativeRNN, observations: np.ndarray,
                     states: np.ndarray, settled: slice) -> dict:
    spiking, told = runs.spiking[n], runs.told[n]
    r_variance = float(np.mean(np.diag(model.R)))
    read = spiking.predicted_obs + spiking.prediction_error  # the decoded value the circuit read for each sample
    return {
        "rmse": _rmse(spiking, states, settled),
        "rmse_told_noise": _rmse(told, states, settled),
        "front_end_noise_variance": noise["variance"],
        "front_end_noise_variance_theory": noise["theory"],
        "front_end_offset": noise["offset"],
        "front_end_noise_over_R": noise["variance"] / r_variance,
        "effective_noise_exceeds_R": bool(noise["variance"] > r_variance),
        # Lag and noise together: what the circuit read against the observation it stands for.
        "decoded_rms_error": float(np.sqrt(np.mean((read[:, settled] - observations[:, settled]) ** 2))),
        "evidence_per_sample": _evidence_per_sample(spiking, model.R, settled),
        "evidence_per_sample_minus_rate_input": _evidence_per_sample(spiking, model.R, settled)
        - _evidence_per_sample(runs.rate, model.R, settled),
        "evidence_per_sample_told_noise": _evidence_per_sample(
            told, model.R + noise["variance"] * np.eye(model.n_obs), settled),
    }


def _signed_rates(runs: CircuitRuns, n_samples: int, sample_interval: float) -> np.ndarray:
    """ON minus OFF population rate (Hz per cell) of each error unit per sample interval, (units, T)."""
    times, cells = runs.downstream_spikes
    sample = np.minimum((times / sample_interval).astype(int), n_samples - 1)
    unit, is_off = cells // (2 * DOWNSTREAM_CELLS), (cells // DOWNSTREAM_CELLS) % 2
    n_units = runs.downstream_errors.shape[0]
    counts = np.zeros((n_units, 2, n_samples))
    np.add.at(counts, (unit, is_off, sample), 1.0)
    return (counts[:, 0] - counts[:, 1]) / (DOWNSTREAM_CELLS * sample_interval)


def _downstream_metrics(runs: CircuitRuns, sample_interval: float, settled: slice) -> dict:
    """Whether the cells read ε of the same step, how much they fire, and how well ON − OFF follows ε."""
    errors = runs.downstream_errors  # (units, T + 1): ε at t_0 .. t_T
    n_cells, n_samples = len(runs.downstream_weights), errors.shape[1] - 1
    expected = runs.downstream_weights[:, None] * errors[np.arange(n_cells) // (2 * DOWNSTREAM_CELLS)]
    signed = _signed_rates(runs, n_samples, sample_interval)[:, settled]
    per_bin = round(CORRELATION_BIN_S / sample_interval)
    n_bins = signed.shape[1] // per_bin
    binned_rates = signed[:, : n_bins * per_bin].reshape(len(signed), n_bins, per_bin).mean(axis=-1)
    binned_errors = errors[:, :-1][:, settled][:, : n_bins * per_bin].reshape(len(signed), n_bins, per_bin).mean(-1)
    return {
        "downstream_cells": n_cells,
        "downstream_driven_by_neurons_per_channel": runs.downstream_size,
        "downstream_reads_same_step_error_max_abs_difference": float(np.max(np.abs(runs.downstream_input - expected))),
        "downstream_mean_rate_hz": float(len(runs.downstream_spikes[0]) / (n_cells * n_samples * sample_interval)),
        "downstream_rate_error_correlation": float(np.corrcoef(binned_rates.ravel(), binned_errors.ravel())[0, 1]),
    }


# ------------------------------------------------------------------ figures
def _window(times: np.ndarray) -> np.ndarray:
    """The part of a run the time-course figures show."""
    return times <= WINDOW_S


def _plot_front_end(path: Path, runs: CircuitRuns, observations: np.ndarray, clean: np.ndarray,
                    model: GenerativeRNN, sizes: tuple[int, ...], metrics: dict) -> None:
    n_samples = observations.shape[1]
    edges = np.arange(n_samples + 1) * model.sample_interval
    held = _window(edges[1:])
    shown = (sizes[0], sizes[-1])
    with figure(path, 2, 2, size=(WIDTH, 9), sharex=True, height_ratios=(1.2, 1)) as (fig, axes):
        for column, n in enumerate(shown):
            times, neurons = runs.encoder_spikes[n]
            keep = _window(times)
            axes[0, column].plot(times[keep], neurons[keep], "|", color=_size_color(sizes, n),
                                 markersize=max(3.0, 150 / n))
            axes[0, column].set_ylim(-0.5, n - 0.5)
            axes[0, column].set_title(f"{n} Poisson neurons code $y_1$")
            axes[1, column].stairs(observations[0, held, 0], edges[: held.sum() + 1], color=COLORS["observation"],
                                   linewidth=2.5, label="observation $y_1$ (held over each sample)")
            axes[1, column].plot(edges[1:][held], clean[0, held, 0], color=COLORS["truth"], linewidth=1.5,
                                 label="noise-free signal")
            times, value = runs.decoded[n]
            keep = _window(times)
            axes[1, column].plot(times[keep], value[keep], color=_size_color(sizes, n), linewidth=1.5,
                                 label=f"decoded synaptic trace, {n} neurons")
            axes[1, column].set_xlabel("time (s)")
        axes[0, 0].set_ylabel("encoding neuron (index)")
        axes[1, 0].set_ylabel("channel $y_1$ (a.u.)")
        legend_below(fig, ncol=2)
        noise = [metrics["spiking"][str(n)]["front_end_noise_variance"] / metrics["model_R"] for n in shown]
        fig.suptitle(f"Spiking front end (rate {BASELINE_RATE_HZ:g} Hz + {GAIN_HZ:g} Hz·y, synapse "
                     rf"$\tau_s$ = {TAU_SYN_S * 1e3:g} ms): its noise is {noise[0]:.2g} × R"
                     f"\nwith {shown[0]} neurons per channel, {noise[1]:.2g} × R with {shown[1]}")


def _plot_predictions(path: Path, time_axis: np.ndarray, runs: CircuitRuns, observations: np.ndarray,
                      clean: np.ndarray, sizes: tuple[int, ...], metrics: dict) -> None:
    keep = _window(time_axis)
    t = time_axis[keep]
    with figure(path, 2, 1, size=(WIDTH, 9), sharex=True) as (fig, axes):
        axes[0].plot(t, observations[0, keep, 0], ".", color=COLORS["observation"], markersize=8,
                     label="observation $y_1$")
        axes[0].plot(t, clean[0, keep, 0], color=COLORS["truth"], linewidth=2, label="noise-free signal")
        axes[0].plot(t, runs.rate.predicted_obs[0, keep, 0], color=COLORS["network"], linewidth=3,
                     label="rRNN, rate input")
        axes[1].plot(t, runs.rate.prediction_error[0, keep, 0], color=COLORS["network"], linewidth=3)
        for n in (sizes[0], sizes[-1]):
            colour = _size_color(sizes, n)
            axes[0].plot(t, runs.spiking[n].predicted_obs[0, keep, 0], color=colour, linewidth=1.8,
                         label=f"rRNN, {n} spiking neurons per channel")
            axes[1].plot(t, runs.spiking[n].prediction_error[0, keep, 0], color=colour, linewidth=1.5, alpha=0.9)
        axes[0].set_ylabel(r"$y_1$ and prediction $\hat{y}_1$ (a.u.)")
        axes[1].set_ylabel(r"prediction error $\varepsilon_1$ (a.u.)")
        axes[1].set_xlabel("time (s)")
        legend_below(fig, ncol=2)
        rmse = {n: metrics["spiking"][str(n)]["rmse"] for n in (sizes[0], sizes[-1])}
        fig.suptitle(r"The rRNN's predictions $\hat{y}$ track the signal under spiking input too; its errors "
                     f"carry the front\nend's noise (state RMSE {rmse[sizes[0]]:.2f} with {sizes[0]} neurons, "
                     f"{rmse[sizes[-1]]:.2f} with {sizes[-1]}, {metrics['rate_circuit_rmse']:.2f} with rate input)")


def _plot_downstream(path: Path, runs: CircuitRuns, model: GenerativeRNN, metrics: dict) -> None:
    times, cells = runs.downstream_spikes
    mine = (cells < 2 * DOWNSTREAM_CELLS) & _window(times)  # error unit 0: channel 1 of trial 1
    on = mine & (cells < DOWNSTREAM_CELLS)
    n_samples = runs.downstream_errors.shape[1] - 1
    sample_times = np.arange(n_samples + 1) * model.sample_interval
    keep = _window(sample_times)
    signed = _signed_rates(runs, n_samples, model.sample_interval)[0]
    per_bin = round(CORRELATION_BIN_S / model.sample_interval)
    smooth = np.convolve(signed, np.ones(per_bin) / per_bin, mode="same")
    with figure(path, 2, 1, size=(WIDTH, 9), sharex=True, height_ratios=(1.1, 1)) as (fig, axes):
        axes[0].plot(times[on], cells[on], "|", color=ON_OFF_COLORS[0], markersize=8,
                     label=r"ON cells (+$\varepsilon$)")
        axes[0].plot(times[mine & ~on], cells[mine & ~on], "|", color=ON_OFF_COLORS[1], markersize=8,
                     label=r"OFF cells ($-\varepsilon$)")
        axes[0].set_ylabel("downstream LIF cell (index)")
        axes[0].set_ylim(-0.5, 2 * DOWNSTREAM_CELLS - 0.5)
        axes[0].set_title(rf"cells driven by error unit $\varepsilon_1$ ({runs.downstream_size} input neurons "
                          "per channel)")
        axes[1].plot(sample_times[:-1][keep[:-1]], smooth[keep[:-1]], color="black", linewidth=2.5,
                     label=f"ON − OFF rate ({CORRELATION_BIN_S * 1e3:g} ms window)")
        axes[1].set_ylabel("ON − OFF rate (Hz per cell)")
        axes[1].set_xlabel("time (s)")
        error_axis = axes[1].twinx()
        error_axis.plot(sample_times[keep], runs.downstream_errors[0, keep], color=COLORS["error"], linewidth=2,
                        label=r"prediction error $\varepsilon_1$")
        error_axis.set_ylabel(r"$\varepsilon_1$ (a.u.)", color=COLORS["error"])
        error_axis.spines["right"].set_visible(True)
        legend_below(fig, [*axes[0].get_legend_handles_labels()[0], *axes[1].get_legend_handles_labels()[0],
                           *error_axis.get_legend_handles_labels()[0]], ncol=2)
        fig.suptitle(f"Downstream LIF cells read the prediction error: their signed rate follows ε\n(correlation "
                     f"{metrics['downstream_rate_error_correlation']:.2f} in {CORRELATION_BIN_S * 1e3:g} ms bins, "
                     "all units and trials)")


def _plot_accuracy(path: Path, metrics: dict) -> None:
    sizes = metrics["neurons_per_channel"]
    rows = [metrics["spiking"][str(n)] for n in sizes]
    spiking = _size_color(sizes, sizes[-1])
    with figure(path, 1, 2, size=(WIDTH, 7.5)) as (fig, axes):
        axes[0].plot(sizes, [row["rmse"] for row in rows], "o-", color=spiking, markersize=10,
                     label="spiking input, told the model's R")
        axes[0].plot(sizes, [row["rmse_told_noise"] for row in rows], "s--", color=spiking, markersize=9,
                     label="spiking input, told R + front-end noise")
        axes[0].axhline(metrics["rate_circuit_rmse"], color=COLORS["network"], linewidth=5, label="rate input")
        axes[0].axhline(metrics["numpy_filter_rmse"], color=COLORS["rrnn"], linewidth=2, linestyle=":",
                        label="numpy ContinuousFilter (on the rate input's line)")
        axes[0].axhline(metrics["expected_input_rmse"], color=COLORS["reference"], linewidth=2, linestyle="-.",
                        label=r"front end without spike noise ($n \to \infty$)")
        axes[0].set_ylim(bottom=0)
        axes[0].set_ylabel("state RMSE (a.u.)")
        axes[0].set_title("accuracy")
        axes[1].plot(sizes, [row["front_end_noise_variance"] for row in rows], "o", color=spiking, markersize=10,
                     label="front-end noise, measured at y = 0")
        axes[1].plot(sizes, [row["front_end_noise_variance_theory"] for row in rows], "-", color=COLORS["reference"],
                     label=r"Poisson theory $r_0(1 - r_0 h) / (n g^2 \Delta)$")
        axes[1].axhline(metrics["model_R"], color=COLORS["truth"], linestyle="--", linewidth=2,
                        label="the model's observation noise R")
        axes[1].set_yscale("log")
        axes[1].set_ylabel("noise variance per sample (a.u.²)")
        axes[1].set_title(r"front-end noise $\propto 1/n$")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xticks(sizes, [str(n) for n in sizes])
            ax.minorticks_off()
            ax.set_xlabel("encoding neurons per channel $n$")
        legend_below(fig, ncol=2)
        fig.suptitle(f"Driven by Poisson populations the rRNN (N = {metrics['n_hidden']}) decodes with state RMSE "
                     f"{rows[0]['rmse']:.2f} at $n$ = {sizes[0]},\n{rows[-1]['rmse']:.2f} at $n$ = {sizes[-1]} "
                     f"(rate input {metrics['rate_circuit_rmse']:.2f}): the cost of spikes shrinks with $n$")


def _size_color(sizes: Sequence[int], n: int) -> tuple[float, float, float, float]:
    """The colour of a population of ``n`` neurons per channel among ``sizes``: purples, darker for more neurons."""
    position = list(sizes).index(n) / max(len(sizes) - 1, 1)
    return colormaps["Purples"](0.55 + 0.45 * position)
