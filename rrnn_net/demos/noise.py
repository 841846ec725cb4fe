"""Noise demo: decoding accuracy vs observation noise, rRNN vs a trained input-driven RNN.

A limit-cycle GenerativeRNN is observed at increasing noise levels. The rRNN
(UKF) decodes the hidden state with the generative model's noise level set to
the true one (the Bayesian decoder weighs each observation by its
reliability) and, as a check of what the noise model buys, with the noise level
of the training condition. The conventional decoder is an echo-state reservoir
whose ridge readout is trained to output the hidden state at one noise level
(``TRAIN_NOISE_SD``) and tested at all. Runs are a Dask sweep over noise
level × seed. Writes ``noise.png``, ``records.csv`` and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..baseline import InputDrivenRNN
from ..filters import UKF
from ..model import GenerativeRNN
from ..sweep import sweep
from .plotting import COLORS, figure, save, write_metrics

NOISE_SD = (0.03, 0.1, 0.3, 0.6, 1.0)
TRAIN_NOISE_SD = 0.1
WASHOUT = 50  # samples excluded from the RMSE: both decoders' initial transients
_LABELS = {"rrnn": "rRNN (UKF), true noise level", "rrnn_train_noise": "rRNN (UKF), training noise level",
           "reservoir": f"reservoir trained at σ = {TRAIN_NOISE_SD}"}


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    n_trials, n_steps, n_seeds, reservoir_size = (8, 250, 1, 100) if fast else (16, 600, 3, 300)
    seeds = [seed + k for k in range(n_seeds)]
    model = GenerativeRNN.oscillator(8, 3, seed=seed, observation_noise=TRAIN_NOISE_SD**2)
    train_states, train_obs = model.simulate(n_steps, batch=n_trials, seed=seed + 100)
    reservoir = InputDrivenRNN.reservoir(3, reservoir_size, 8, tau=model.tau, dt=model.dt, seed=seed,
                                         spectral_radius=0.9).fit_readout(train_obs, train_states, ridge=1e-4,
                                                                          washout=WASHOUT)

    def decode(noise_sd: float, seed: int) -> dict:
        test_model = model.replace(R=noise_sd**2 * np.eye(3))
        states, y = test_model.simulate(n_steps, batch=n_trials, seed=seed)
        estimates = {"rrnn": UKF(test_model).filter(y).mean, "rrnn_train_noise": UKF(model).filter(y).mean,
                     "reservoir": reservoir.predict(y)}
        spread = states[:, WASHOUT:].std()
        return {name: float(np.sqrt(np.mean((estimate[:, WASHOUT:] - states[:, WASHOUT:]) ** 2)) / spread)
                for name, estimate in estimates.items()}

    result = sweep(decode, {"noise_sd": list(NOISE_SD)}, seeds=seeds)
    result.to_csv(out_dir / "records.csv")
    metrics = {"seed": seed, "fast": fast, "n_trials": n_trials, "n_steps": n_steps, "seeds": seeds,
               "train_noise_sd": TRAIN_NOISE_SD, "reservoir_size": reservoir_size,
               "metric": "state RMSE after washout / state s.d."}
    for name in _LABELS:
        metrics[f"{name}_normalised_rmse"] = {
            str(sd): float(np.mean([r[name] for r in result.records if r["noise_sd"] == sd])) for sd in NOISE_SD}
    _plot(out_dir / "noise.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _plot(path: Path, metrics: dict) -> None:
    fig, ax = figure(figsize=(8, 5))
    styles = {"rrnn": ("-", COLORS["ukf"]), "rrnn_train_noise": ("--", COLORS["ukf"]),
              "reservoir": ("-", COLORS["baseline"])}
    for name, label in _LABELS.items():
        values = metrics[f"{name}_normalised_rmse"]
        style, colour = styles[name]
        ax.loglog([float(sd) for sd in values], list(values.values()), style, marker="o", color=colour, label=label)
    ax.axvline(TRAIN_NOISE_SD, color="0.6", linestyle=":", linewidth=1, label="reservoir's training noise")
    ax.set_xlabel("observation noise s.d. σ (a.u.; signal s.d. ≈ 0.7)")
    ax.set_ylabel("state RMSE / state s.d.")
    ax.set_title("Decoding the hidden state of a tanh RNN under observation noise")
    ax.legend(loc="upper left", fontsize=9)
    save(fig, path)
