"""Decoding demo: the rRNN (UKF) recovers the hidden state of a tanh RNN from a wrong start.

A limit-cycle GenerativeRNN generates noisy observations; the UKF and the EKF
decode the hidden state from a deliberately wrong initial guess, and the
generator run open loop from the same guess shows what a conventional RNN
without error feedback does.

Then white noise is added to the observations at several signal-to-noise
ratios (relative to each channel's s.d.), and the UKF decodes them from the
same wrong start three ways: with the model's R (nothing told), estimating
each channel's noise online from its own prediction errors
(``noise="adaptive"``, nothing told), and told the added variance
(R ← R + σ²). The error is kept over all trials and for the median trial:
a filter that loses the phase of the cycle can take the mismatch for noise
and stay lost, and those few trials dominate the mean.

Writes ``decoding.png``, ``decoding_vs_snr.png`` and ``metrics.json``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..filters import EKF, UKF, FilterResult
from ..model import GenerativeRNN
from .metrics import time_to_tolerance
from .plotting import COLORS, WIDTH, figure, legend_below, log_ticks, signed, write_metrics

SETTLE_TOLERANCE = 0.2  # RMSE, as a fraction of the state's standard deviation, counted as "locked on"
SNR_DB = (20.0, 10.0, 5.0, 0.0, -5.0)
_SNR_DECODERS = {"ukf": "rRNN (UKF), the model's $R$ (told nothing)",
                 "ukf_adaptive_noise": "rRNN (UKF), noise estimated online (told nothing)",
                 "ukf_noise_known": r"rRNN (UKF), told the added noise ($R + \sigma^2$)",
                 "open_loop": "open-loop generator (no error feedback)"}
_SNR_STYLE = {"ukf": ("-", COLORS["rrnn"]), "ukf_adaptive_noise": ("-.", COLORS["online_noise"]),
              "ukf_noise_known": ("--", COLORS["rrnn"]), "open_loop": (":", COLORS["open_loop"])}


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
    metrics: dict[str, Any] = {
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

    # The quick version keeps fewer SNRs: it runs in the test suite, which is short of time.
    snr_db = (10.0, 0.0, -5.0) if fast else SNR_DB
    metrics |= _rmse_vs_snr(model, states, observations, wrong_start, open_loop, settled, snr_db, seed + 3)

    _plot(out_dir / "decoding.png", time_axis, states, observations, estimates["ukf"], open_loop, rmse_curves,
          metrics)
    _plot_snr(out_dir / "decoding_vs_snr.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _rmse_vs_snr(model: GenerativeRNN, states: np.ndarray, observations: np.ndarray, wrong_start: np.ndarray,
                 open_loop: np.ndarray, settled: slice, snr_db: Sequence[float], seed: int) -> dict:
    """State RMSE after settling vs the SNR of added white noise: model's R, online estimate, told, open loop.

    One noise draw serves every SNR (scaled per channel), so the curves differ by the noise level only. A
    decoder that is the same at every SNR filters all of them as one batch (faster than one call per SNR).
    """
    n_levels = len(snr_db)
    noise_std = observations.std(axis=(0, 1)) * 10.0 ** (-np.asarray(snr_db)[:, None] / 20.0)  # (S, m)
    unit_noise = np.random.default_rng(seed).standard_normal(observations.shape)
    noisy = observations + unit_noise * noise_std[:, None, None, :]  # (S, B, T, m)
    batch, starts = noisy.reshape(-1, *observations.shape[1:]), np.tile(wrong_start, (n_levels, 1))
    adaptive = UKF(model, noise="adaptive").filter(batch, mean0=starts)
    told = [UKF(model.replace(R=model.R + np.diag(std**2))).filter(y, mean0=wrong_start).mean
            for std, y in zip(noise_std, noisy, strict=True)]
    estimates = {"ukf": UKF(model).filter(batch, mean0=starts).mean, "ukf_adaptive_noise": adaptive.mean,
                 "ukf_noise_known": np.concatenate(told), "open_loop": np.tile(open_loop, (n_levels, 1, 1))}
    truth = np.tile(states, (n_levels, 1, 1))
    true_variance = np.diag(model.R) + noise_std**2
    assert adaptive.noise_variance is not None  # estimated with noise="adaptive"
    estimated = adaptive.noise_variance[:, settled].reshape(n_levels, len(states), -1, noise_std.shape[-1])
    ratio = np.mean(estimated / true_variance[:, None, None], axis=(2, 3))  # (S, B): per trial
    keys = [str(snr) for snr in snr_db]
    metrics = {"snr_db": list(snr_db), "snr_reference": "s.d. of each observed channel",
               "ukf_adaptive_noise_estimated_over_true_variance": dict(zip(keys, ratio.mean(axis=1).tolist(),
                                                                           strict=True)),
               "ukf_adaptive_noise_median_trial_estimated_over_true_variance": dict(zip(
                   keys, np.median(ratio, axis=1).tolist(), strict=True))}
    for name, estimate in estimates.items():
        squared = np.mean((estimate[:, settled] - truth[:, settled]) ** 2, axis=(1, 2)).reshape(n_levels, -1)
        metrics[f"{name}_rmse_vs_snr_db"] = dict(zip(keys, np.sqrt(squared.mean(axis=1)).tolist(), strict=True))
        metrics[f"{name}_median_trial_rmse_vs_snr_db"] = dict(zip(
            keys, np.sqrt(np.median(squared, axis=1)).tolist(), strict=True))
    return metrics


def _rmse_over_time(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root-mean-square error over trials and units at each step, shape (T,)."""
    return np.sqrt(np.mean((estimate - truth) ** 2, axis=(0, 2)))


def _plot(path: Path, time_axis: np.ndarray, states: np.ndarray, observations: np.ndarray, ukf: FilterResult,
          open_loop: np.ndarray, rmse_curves: dict[str, np.ndarray], metrics: dict[str, Any]) -> None:
    """One trial's state, its channel 1 with the rRNN's prediction and error, and the RMSE over all trials."""
    trial, unit = 0, 0
    with figure(path, 3, 1, size=(WIDTH, 9.5), sharex=True) as (fig, axes):
        axes[0].plot(time_axis, states[trial, :, unit], color=COLORS["truth"], label="true state")
        axes[0].plot(time_axis, ukf.mean[trial, :, unit], "--", color=COLORS["rrnn"],
                     label=r"rRNN (UKF): posterior mean $\mu$")
        axes[0].plot(time_axis, open_loop[trial, :, unit], ":", color=COLORS["open_loop"], label="open-loop generator")
        axes[0].set_ylabel(r"hidden unit $x_1$ (a.u.)")

        axes[1].plot(time_axis, observations[trial, :, 0], ".", color=COLORS["observation"], label=r"observation $y_1$")
        axes[1].plot(time_axis, ukf.predicted_obs[trial, :, 0], color=COLORS["prediction"],
                     label=r"rRNN prediction $\hat{y}_1$")
        axes[1].plot(time_axis, ukf.prediction_error[trial, :, 0], color=COLORS["error"], linewidth=1.2,
                     label=r"prediction error $\varepsilon_1$")
        axes[1].set_ylabel(r"channel $y_1$ (a.u.)")

        styles = {"ukf": ("-", COLORS["rrnn"], "rRNN (UKF)"), "ekf": ("--", COLORS["ekf"], "rRNN (EKF)"),
                  "open_loop": (":", COLORS["open_loop"], "open-loop generator")}
        for name, curve in rmse_curves.items():
            linestyle, colour, label = styles[name]
            axes[2].semilogy(time_axis, curve, linestyle, color=colour, label=label)
        axes[2].axhline(SETTLE_TOLERANCE * metrics["state_std"], color=COLORS["reference"], linestyle="--",
                        linewidth=1.2, label=f"tolerance ({SETTLE_TOLERANCE:.0%} of the state s.d.)")
        axes[2].set_ylabel(f"state RMSE, {metrics['n_trials']} trials (a.u.)")
        axes[2].set_xlabel("time since the wrong start (s)")
        legend_below(fig, ncol=3)
        fig.suptitle(f"From a wrong start the rRNN locks on {_lock_on(metrics, 'ukf')};\n"
                     f"the open-loop generator, without error feedback, {_lock_on(metrics, 'open_loop')}")


def _lock_on(metrics: dict, name: str) -> str:
    """When ``name``'s RMSE stays within the tolerance, in words."""
    seconds = metrics[f"{name}_time_to_tolerance_s"]
    return "never does" if seconds is None else f"within {seconds:.2g} s"


def _plot_snr(path: Path, metrics: dict) -> None:
    """RMSE vs SNR over all trials and for the median trial, and the online noise estimate against the truth."""
    snr_db = metrics["snr_db"]
    snr = [str(value) for value in snr_db]
    with figure(path, 1, 3, size=(WIDTH, 7.5)) as (fig, axes):
        axes[1].sharey(axes[0])  # before plotting, so that the shared limits hold both panels' curves
        panels = (("rmse_vs_snr_db", "all trials"), ("median_trial_rmse_vs_snr_db", "median trial"))
        for ax, (key, title) in zip(axes[:2], panels, strict=True):
            for name, label in _SNR_DECODERS.items():
                style, colour = _SNR_STYLE[name]
                values = metrics[f"{name}_{key}"]
                ax.semilogy(snr_db, [values[s] for s in snr], style, marker="o", color=colour, label=label)
            ax.axhline(SETTLE_TOLERANCE * metrics["state_std"], color=COLORS["reference"], linestyle="--",
                       linewidth=1.2, label=f"tolerance ({SETTLE_TOLERANCE:.0%} of the state s.d.)")
            ax.set_title(f"state RMSE, {title}")
        axes[0].set_ylabel("state RMSE after settling (a.u.)")
        log_ticks(axes[0].yaxis)
        highest = 0.0
        for key, style, label in (("", "-.", "all trials"), ("_median_trial", "--", "median trial")):
            ratio = metrics[f"ukf_adaptive_noise{key}_estimated_over_true_variance"]
            axes[2].plot(snr_db, [ratio[s] for s in snr], style, marker="o", color=COLORS["online_noise"],
                         label=f"online noise estimate, {label}")
            highest = max(highest, *ratio.values())
        axes[2].axhline(1.0, color=COLORS["reference"], linewidth=1.2, label="estimate = true variance")
        axes[2].set_ylim(0, max(2.0, 1.1 * highest))
        axes[2].set_ylabel("estimated / true noise variance (ratio)")
        axes[2].set_title("the noise estimate")
        for ax in axes:
            ax.set_xticks(snr_db)
            ax.invert_xaxis()  # noisier to the right
            ax.set_xlabel("SNR of added noise (dB)")
        legend_below(fig, ncol=2)
        fig.suptitle(_snr_claim(metrics))


def _snr_claim(metrics: dict, factor: float = 1.5) -> str:
    """The title: down to which SNR the median trial, estimating the noise online, decodes nearly as well as told."""
    online = metrics["ukf_adaptive_noise_median_trial_rmse_vs_snr_db"]
    told = metrics["ukf_noise_known_median_trial_rmse_vs_snr_db"]
    close = None
    for snr in sorted(metrics["snr_db"], reverse=True):  # from the least noise on
        if online[str(snr)] > factor * told[str(snr)]:
            break
        close = snr
    where = "at no SNR" if close is None else f"down to {signed(close)} dB SNR"
    return (f"In the median trial the rRNN estimating the noise online decodes within {factor:g}× of one told it\n"
            f"{where}; the few trials that lose the cycle's phase dominate the mean")
