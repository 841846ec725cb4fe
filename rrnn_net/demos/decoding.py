"""Decoding demo: the rRNN (UKF) recovers the hidden state of a tanh RNN from a wrong start.

A limit-cycle GenerativeRNN generates noisy observations; the UKF and the EKF
decode the hidden state from a deliberately wrong initial guess, and the
generator run open loop from the same guess shows what a conventional RNN
without error feedback does. Writes ``decoding.png`` and ``metrics.json``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..filters import EKF, UKF
from ..model import GenerativeRNN
from .metrics import time_to_tolerance
from .plotting import COLORS, figure, save, write_metrics

_LEGEND_ABOVE = {"loc": "lower left", "bbox_to_anchor": (0.0, 1.0), "ncol": 4, "fontsize": 9}
SETTLE_TOLERANCE = 0.2  # RMSE, as a fraction of the state's standard deviation, counted as "locked on"


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    n_hidden, n_obs = (6, 3) if fast else (12, 4)
    n_trials, n_steps = (8, 200) if fast else (64, 600)
    model = GenerativeRNN.oscillator(n_hidden, n_obs, seed=seed)
    states, observations = model.simulate(n_steps, batch=n_trials, seed=seed + 1)
    rng = np.random.default_rng(seed + 2)
    wrong_start = rng.uniform(-2.5, 2.5, size=(n_trials, n_hidden))

    decoders = {"ukf": UKF(model), "ekf": EKF(model)}
    estimates, seconds = {}, {}
    for name, decoder in tqdm(decoders.items(), desc="decoding", leave=False):
        start = time.perf_counter()
        estimates[name] = decoder.filter(observations, mean0=wrong_start)
        seconds[name] = time.perf_counter() - start
    open_loop = model.run_open_loop(wrong_start, n_steps)

    spread = float(states.std())
    time_axis = np.arange(1, n_steps + 1) * model.sample_interval
    rmse_curves = {name: _rmse_over_time(result.mean, states) for name, result in estimates.items()}
    rmse_curves["open_loop"] = _rmse_over_time(open_loop, states)
    settled = slice(n_steps // 4, None)
    metrics = {
        "seed": seed,
        "fast": fast,
        "n_hidden": n_hidden,
        "n_obs": n_obs,
        "n_trials": n_trials,
        "n_steps": n_steps,
        "sample_interval_s": model.sample_interval,
        "state_std": spread,
        "settle_tolerance_fraction_of_std": SETTLE_TOLERANCE,
    }
    for name, curve in rmse_curves.items():
        metrics[f"{name}_rmse_after_settling"] = float(np.sqrt(np.mean(curve[settled] ** 2)))
        metrics[f"{name}_time_to_tolerance_s"] = time_to_tolerance(curve, SETTLE_TOLERANCE * spread,
                                                                   model.sample_interval)
    for name, result in estimates.items():
        metrics[f"{name}_mean_total_loglik"] = float(np.mean(result.total_loglik))
        metrics[f"{name}_trial_steps_per_second"] = n_trials * n_steps / seconds[name]
        metrics[f"{name}_psd_repairs"] = int(np.sum(result.n_psd_repairs))

    _plot(out_dir / "decoding.png", time_axis, states, observations, estimates["ukf"], open_loop, rmse_curves,
          spread)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _rmse_over_time(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root-mean-square error over trials and units at each step, shape (T,)."""
    return np.sqrt(np.mean((estimate - truth) ** 2, axis=(0, 2)))


def _plot(path, time_axis, states, observations, ukf, open_loop, rmse_curves, spread) -> None:
    fig, axes = figure(3, 1, figsize=(9, 9), sharex=True)
    trial = 0
    for unit, shade in zip((0, 1), (1.0, 0.55), strict=True):
        axes[0].plot(time_axis, states[trial, :, unit], color=COLORS["truth"], alpha=shade,
                     label="true state" if unit == 0 else None)
        axes[0].plot(time_axis, ukf.mean[trial, :, unit], "--", color=COLORS["ukf"], alpha=shade,
                     label="rRNN posterior mean μ (UKF)" if unit == 0 else None)
        axes[0].plot(time_axis, open_loop[trial, :, unit], ":", color=COLORS["open_loop"], alpha=shade,
                     label="open-loop generator" if unit == 0 else None)
    axes[0].set_ylabel("hidden state x (a.u.)")
    fig.suptitle("rRNN decoding from a wrong initial state (two hidden units of one trial)")
    axes[0].legend(**_LEGEND_ABOVE)

    axes[1].plot(time_axis, observations[trial, :, 0], ".", color=COLORS["observation"], markersize=3,
                 label="observation y₁")
    axes[1].plot(time_axis, ukf.predicted_obs[trial, :, 0], color=COLORS["ukf"], label="prediction ŷ₁")
    axes[1].plot(time_axis, ukf.prediction_error[trial, :, 0], color="0.25", linewidth=0.8,
                 label="prediction error ε₁")
    axes[1].set_ylabel("channel 1 (a.u.)")
    axes[1].legend(**_LEGEND_ABOVE)

    labels = {"ukf": "UKF", "ekf": "EKF", "open_loop": "open-loop generator"}
    for name, curve in rmse_curves.items():
        axes[2].semilogy(time_axis, curve, "--" if name == "ekf" else "-", color=COLORS[name], label=labels[name])
    axes[2].axhline(SETTLE_TOLERANCE * spread, color="0.5", linestyle="--", linewidth=0.8,
                    label=f"tolerance ({SETTLE_TOLERANCE:.0%} of state s.d.)")
    axes[2].set_ylabel("state RMSE over trials")
    axes[2].set_xlabel("time (s)")
    axes[2].legend(**_LEGEND_ABOVE)
    save(fig, path)
