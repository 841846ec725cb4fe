"""Predictive-coding demo: prediction errors, surprise and a recognition bank when the dynamics switch.

Two limit-cycle GenerativeRNNs share their readout and differ only in the
speed of their rotation (a slow and a fast oscillation). Observations come
from the slow model and switch to the fast one half way through
(:func:`rrnn_net.datasets.switching_sequences`; the hidden state carries
over). The compiled adaptive-gain rRNN of the slow model runs in Brian2; its
error units' prediction errors ε_j stay at the noise level while the data fit
the model and grow after the switch, and so does the surprise each error unit
contributes, ½ λ_j ε_j² per unit time (λ_j its precision), whose sum the
evidence unit integrates (ℓ = −accumulated surprise).

A recognition bank (:meth:`rrnn_net.recognition.RRNNClassifier.from_models`
over both models, UKF) turns the models' evidence into a posterior over the
dynamics. The bank accumulates evidence from t = 0, so after the switch the
fast model must first make up for everything the slow one gained before:
the *cumulative* posterior crosses over late, the more so the longer the
first regime lasted. For tracking a switch the demo also reads the bank with
*leaky* evidence, L_k = e^(−Δ/T_w) L_(k−1) + log p(y_k | y_<k, model), a
memory of about T_w = :data:`EVIDENCE_WINDOW_S` (the leak is applied to the
bank's per-sample increments; it is not a unit of the compiled graph), and
reports the time after the switch at which each posterior crosses 0.5 for
good. The same leaky posterior is read from the evidence units of the two
models' Brian2 networks (a bank of networks; both models share R, so the
normalisation the network leaves out cancels).

Writes ``predictive_coding_network.png``, ``predictive_coding_posterior.png``
and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from ..backends import run_brian2
from ..datasets import switching_sequences
from ..filters import FilterResult
from ..filters.stability import euler_safe_prior_variance
from ..graph import compile_rrnn
from ..model import GenerativeRNN
from ..recognition import RRNNClassifier, softmax_posterior
from .plotting import CATEGORY_COLORS, COLORS, WIDTH, figure, legend_below, write_metrics

EVIDENCE_WINDOW_S = 0.05  # T_w, memory of the leaky evidence
SETTLE_S = 0.1  # left out after t = 0 and after the switch when scoring the posterior (the bank's transients)
MODEL_NAMES = ("slow", "fast")
MODEL_COLORS = dict(zip(MODEL_NAMES, CATEGORY_COLORS, strict=False))


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    slow, quick = switching_models(seed=seed, fast=fast)
    interval = slow.sample_interval
    n_trials, half = (4, 60) if fast else (16, 100)
    n_steps = 2 * half
    _, observations, active = switching_sequences(slow, quick, n_steps, half, batch=n_trials, seed=seed + 1)
    prior_variance = euler_safe_prior_variance(slow)
    networks = {name: _run_network(model, observations, prior_variance)
                for name, model in zip(MODEL_NAMES, (slow, quick), strict=True)}
    bank = RRNNClassifier.from_models([slow, quick], classes=list(MODEL_NAMES), prior_variance=prior_variance)
    bank_increments = np.diff(bank.log_evidence_online(np.swapaxes(observations, 1, 2)), axis=1, prepend=0.0)
    network_increments = np.stack([networks[name].loglik for name in MODEL_NAMES], axis=-1)
    posteriors = {
        "bank_cumulative": softmax_posterior(np.cumsum(bank_increments, axis=1))[..., 1],
        "bank_leaky": softmax_posterior(leaky_evidence(bank_increments, interval, EVIDENCE_WINDOW_S))[..., 1],
        "network_leaky": softmax_posterior(leaky_evidence(network_increments, interval, EVIDENCE_WINDOW_S))[..., 1],
    }
    time_axis = np.arange(1, n_steps + 1) * slow.sample_interval
    surprise = surprise_per_unit(networks["slow"], slow)

    metrics = {
        "seed": seed,
        "fast": fast,
        "n_hidden": slow.n_hidden,
        "n_obs": slow.n_obs,
        "n_trials": n_trials,
        "sample_interval_s": slow.sample_interval,
        "tau_s": slow.tau,
        "switch_time_s": half * slow.sample_interval,
        "duration_s": n_steps * slow.sample_interval,
        "slow_frequency_hz": dominant_frequency(slow),
        "fast_frequency_hz": dominant_frequency(quick),
        "prior_variance": prior_variance,
        "evidence_window_s": EVIDENCE_WINDOW_S,
        "settle_s": SETTLE_S,
        **_error_metrics(networks["slow"], surprise, half, slow),
        **_posterior_metrics(posteriors, active, slow.sample_interval),
    }
    _plot_network(out_dir / "predictive_coding_network.png", time_axis, observations, networks, surprise, metrics)
    _plot_posterior(out_dir / "predictive_coding_posterior.png", time_axis, bank_increments, posteriors, metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


# ------------------------------------------------------------------ models and decoding
def switching_models(*, seed: int, fast: bool) -> tuple[GenerativeRNN, GenerativeRNN]:
    """A slow and a fast oscillator with the same seed, hence the same readout M and background weights."""
    n_hidden, n_obs = (6, 3) if fast else (8, 4)
    settings: dict[str, Any] = {"sample_interval": 0.005, "substeps": 4, "observation_noise": 0.02, "seed": seed}
    return (GenerativeRNN.oscillator(n_hidden, n_obs, frequency=8.0, **settings),
            GenerativeRNN.oscillator(n_hidden, n_obs, frequency=12.0, **settings))


def dominant_frequency(model: GenerativeRNN, duration: float = 5.0) -> float:
    """Peak of the spectrum (Hz) of the first hidden unit on the model's noise-free limit cycle."""
    n_samples = round(duration / model.sample_interval)
    trace = model.run_open_loop(np.ones(model.n_hidden), 2 * n_samples)[n_samples:, 0]
    spectrum = np.abs(np.fft.rfft(trace - trace.mean()))
    return float(np.fft.rfftfreq(n_samples, model.sample_interval)[np.argmax(spectrum)])


def _run_network(model: GenerativeRNN, observations: np.ndarray, prior_variance: float) -> FilterResult:
    """The model's adaptive-gain rRNN compiled and run in Brian2 (numpy target) from the prior N(0, c·I)."""
    graph = compile_rrnn(model, gain_mode="adaptive", cov0=prior_variance * np.eye(model.n_hidden))
    result = run_brian2(graph, observations)
    assert isinstance(result, FilterResult)  # what an rRNN graph gives
    return result


def surprise_per_unit(network: FilterResult, model: GenerativeRNN) -> np.ndarray:
    """Surprise each error unit adds per sample, ½ λ_j ε_j² Δ (B, T, m), from the errors at each sample's arrival.

    The evidence unit integrates the sum over units at every Euler step, while
    the network reports ε once per sample, so Σ_j of this approximates the
    evidence unit's −Δℓ (the agreement is reported in the metrics).
    """
    precision = 1.0 / (np.diag(model.R) * model.sample_interval)
    return 0.5 * precision * network.prediction_error**2 * model.sample_interval


def leaky_evidence(increments: np.ndarray, sample_interval: float, window: float) -> np.ndarray:
    """L_k = e^(−Δ/T_w) L_(k−1) + increment_k along axis 1 of (B, T, K) increments."""
    retain = np.exp(-sample_interval / window)
    leaky = np.empty_like(increments)
    level = np.zeros_like(increments[:, 0])
    for k in range(increments.shape[1]):
        level = retain * level + increments[:, k]
        leaky[:, k] = level
    return leaky


def crossover_latency(prob_second: np.ndarray, switch_step: int, sample_interval: float) -> np.ndarray:
    """Per trial, time (s) after the switch from which P(second model) stays above 0.5; NaN if it never does.

    ``prob_second`` has shape (B, T); the switch happens at sample index ``switch_step``.
    """
    after = prob_second[:, switch_step:]
    latency = np.full(after.shape[0], np.nan)
    for trial, below in enumerate(after <= 0.5):
        if not below[-1]:
            last_below = np.nonzero(below)[0]
            latency[trial] = (last_below[-1] + 1 if last_below.size else 0) * sample_interval
    return latency


# ------------------------------------------------------------------ metrics
def _error_metrics(network: FilterResult, surprise: np.ndarray, switch_step: int, model: GenerativeRNN) -> dict:
    interval = model.sample_interval
    settle = round(SETTLE_S / interval)
    before = slice(settle, switch_step)
    after = slice(switch_step + settle, None)
    error = network.prediction_error
    network_surprise = -np.sum(network.loglik, axis=1)
    return {
        "slow_network_rms_error_before_switch": float(np.sqrt(np.mean(error[:, before] ** 2))),
        "slow_network_rms_error_after_switch": float(np.sqrt(np.mean(error[:, after] ** 2))),
        "observation_noise_sd": float(np.sqrt(np.mean(np.diag(model.R)))),
        "slow_network_surprise_rate_before_switch_per_s": float(-np.mean(network.loglik[:, before]) / interval),
        "slow_network_surprise_rate_after_switch_per_s": float(-np.mean(network.loglik[:, after]) / interval),
        "slow_network_surprise_rate_per_unit_after_switch_per_s": (np.mean(surprise[:, after], axis=(0, 1))
                                                                    / model.sample_interval).tolist(),
        # Σ_j of the per-unit estimate against what the evidence unit integrated, over the whole run.
        "per_unit_surprise_vs_evidence_unit_relative_difference": float(np.median(
            np.abs(surprise.sum(axis=(1, 2)) - network_surprise) / network_surprise)),
    }


def _posterior_metrics(posteriors: dict, active: np.ndarray, sample_interval: float) -> dict:
    switch_step = int(np.argmax(active))
    settle = round(SETTLE_S / sample_interval)
    scored = np.ones(active.size, dtype=bool)
    scored[:settle] = scored[switch_step:switch_step + settle] = False
    metrics: dict[str, float | None] = {}
    for name, prob_fast in posteriors.items():
        correct = (prob_fast > 0.5) == (active == 1)
        latency = crossover_latency(prob_fast, switch_step, sample_interval)
        metrics[f"{name}_accuracy_outside_transitions"] = float(np.mean(correct[:, scored]))
        metrics[f"{name}_accuracy_before_switch"] = float(np.mean(correct[:, settle:switch_step]))
        metrics[f"{name}_fraction_of_trials_switching"] = float(np.mean(~np.isnan(latency)))
        metrics[f"{name}_median_crossover_latency_s"] = None if np.isnan(latency).all() else \
            float(np.nanmedian(latency))
        metrics[f"{name}_max_crossover_latency_s"] = None if np.isnan(latency).any() else float(latency.max())
    return metrics


# ------------------------------------------------------------------ figures
def _switch_line(ax: Axes, metrics: dict) -> None:
    ax.axvline(metrics["switch_time_s"], color=COLORS["reference"], linestyle="--", linewidth=1.5,
               label="switch slow → fast")


def _stacked(ax: Axes, time_axis: np.ndarray, traces: np.ndarray, spacing: float, symbol: str, **style: Any) -> None:
    """Channels (T, m) drawn one above the other, channel 1 on top, each around its own baseline, ticked by symbol."""
    n_channels = traces.shape[-1]
    baselines = spacing * np.arange(n_channels)[::-1]
    for channel, baseline in enumerate(baselines):
        ax.plot(time_axis, baseline + traces[:, channel], **(style if channel == 0 else {**style, "label": None}))
    ax.set_yticks(baselines, [f"${symbol}_{{{channel + 1}}}$" for channel in range(n_channels)])


def _plot_network(path: Path, time_axis: np.ndarray, observations: np.ndarray, networks: dict,
                  surprise: np.ndarray, metrics: dict) -> None:
    """One trial: every channel with both networks' predictions, the slow network's errors, and the surprise."""
    trial = 0
    slow_errors = networks["slow"].prediction_error[trial]
    with figure(path, 3, 1, size=(WIDTH, 11), sharex=True, height_ratios=(1.3, 1.3, 1)) as (fig, axes):
        spacing = 2.2 * float(np.max(np.abs(observations[trial])))
        _stacked(axes[0], time_axis, observations[trial], spacing, "y", linestyle="", marker=".",
                 color=COLORS["observation"], label="observation $y_j$")
        for name in MODEL_NAMES:
            _stacked(axes[0], time_axis, networks[name].predicted_obs[trial], spacing, "y", color=MODEL_COLORS[name],
                     label=rf"prediction $\hat{{y}}_j$, {name} model's network")
        axes[0].set_ylabel("channel (a.u., stacked)")

        spacing = 2.2 * float(np.max(np.abs(slow_errors)))
        noise = metrics["observation_noise_sd"]
        for baseline in spacing * np.arange(slow_errors.shape[-1]):
            axes[1].axhspan(baseline - 2 * noise, baseline + 2 * noise, color="0.88", linewidth=0,
                            label="±2 s.d. of the observation noise" if baseline == 0 else None)
        _stacked(axes[1], time_axis, slow_errors, spacing, r"\varepsilon", color=COLORS["error"], linewidth=1.5,
                 label=r"prediction error $\varepsilon_j$, slow model's network")
        axes[1].set_ylabel("error unit (a.u., stacked)")

        accumulated = np.cumsum(surprise[trial], axis=0)
        for unit in range(accumulated.shape[-1]):
            axes[2].plot(time_axis, accumulated[:, unit], color=COLORS["error"], linewidth=1.2,
                         label="surprise of each error unit, slow network" if unit == 0 else None)
        for name in MODEL_NAMES:
            axes[2].plot(time_axis, -np.cumsum(networks[name].loglik[trial]), color=MODEL_COLORS[name], linewidth=3,
                         label=rf"evidence unit $-\ell$, {name} model's network")
        axes[2].set_yscale("log")
        axes[2].set_ylabel(r"surprise $\frac{1}{2}\int\lambda\varepsilon^2 dt$ (nats)")
        axes[2].set_xlabel("time (s)")
        for ax in axes:
            _switch_line(ax, metrics)
        legend_below(fig, ncol=2)
        fig.suptitle(f"When the data switch from {metrics['slow_frequency_hz']:.1f} to "
                     f"{metrics['fast_frequency_hz']:.1f} Hz dynamics, the slow model's prediction errors rise\n(RMS "
                     f"{metrics['slow_network_rms_error_before_switch']:.2f} → "
                     f"{metrics['slow_network_rms_error_after_switch']:.2f}) and so does its surprise "
                     f"({metrics['slow_network_surprise_rate_before_switch_per_s']:,.0f} → "
                     f"{metrics['slow_network_surprise_rate_after_switch_per_s']:,.0f} nats/s)")


def _latency(metrics: dict, name: str) -> str:
    """When posterior ``name`` crosses over for good after the switch (median over trials), in words."""
    latency = metrics[f"{name}_median_crossover_latency_s"]
    return "never" if latency is None else f"{latency * 1e3:.0f} ms"


def _plot_posterior(path: Path, time_axis: np.ndarray, bank_increments: np.ndarray, posteriors: dict,
                    metrics: dict) -> None:
    """The bank's evidence for each model, and the posterior on the fast model read three ways."""
    with figure(path, 2, 1, size=(WIDTH, 9), sharex=True) as (fig, axes):
        evidence = np.cumsum(bank_increments, axis=1)
        for index, name in enumerate(MODEL_NAMES):
            axes[0].plot(time_axis, evidence[..., index].mean(axis=0), color=MODEL_COLORS[name],
                         label=f"log evidence of the {name} model ({metrics[f'{name}_frequency_hz']:.1f} Hz), "
                               f"mean of {metrics['n_trials']} trials")
        axes[0].set_ylabel("log evidence (nats)")

        window = rf"$T_w$ = {EVIDENCE_WINDOW_S * 1e3:g} ms"
        styles = {"bank_cumulative": (":", COLORS["rrnn"], "bank (UKF), evidence from t = 0"),
                  "bank_leaky": ("-", COLORS["rrnn"], f"bank (UKF), leaky evidence ({window})"),
                  "network_leaky": ("--", COLORS["network"], "Brian2 networks' evidence units, leaky")}
        for name, (linestyle, colour, label) in styles.items():
            prob = posteriors[name]
            axes[1].plot(time_axis, np.median(prob, axis=0), linestyle, color=colour, linewidth=3,
                         label=f"{label}: crosses 0.5 after {_latency(metrics, name)}")
            axes[1].fill_between(time_axis, prob.min(axis=0), prob.max(axis=0), color=colour, alpha=0.12,
                                 linewidth=0)
        axes[1].axhline(0.5, color=COLORS["reference"], linewidth=1)
        axes[1].set_ylim(-0.03, 1.03)
        axes[1].set_ylabel("P(fast model | data)")
        axes[1].set_xlabel("time (s); posterior: median over trials, band: all trials")
        for ax in axes:
            _switch_line(ax, metrics)
        legend_below(fig, ncol=1)
        fig.suptitle(f"The bank's posterior crosses to the fast model {_latency(metrics, 'bank_leaky')} after the "
                     f"switch\nwith leaky evidence, {_latency(metrics, 'bank_cumulative')} with evidence from t = 0")
