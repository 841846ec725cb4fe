"""Noise demo: decoding and recognition vs observation noise, rRNN vs trained input-driven RNNs.

Decoding: a limit-cycle GenerativeRNN is observed at increasing noise levels.
The rRNN (UKF) decodes the hidden state with the generative model's noise
level set to the true one (the Bayesian decoder weighs each observation by
its reliability) and, as a check of what the noise model buys, with the noise
level of the training condition. The conventional decoder is an echo-state
reservoir whose ridge readout is trained to output the hidden state at one
noise level (``TRAIN_NOISE_SD``) and tested at all.

Recognition: three limit-cycle classes (4, 6 and 8 Hz) are recorded at the
training noise; a bank of rRNNs is *learned* from them
(:class:`~rrnn_net.RRNNClassifier`, defaults) and an echo-state reservoir
classifier is trained on the same recordings. Test recordings get extra white
noise; the bank is scored as learned (nothing told), and told the added
variance (R ← R + σ²); the reservoir accumulates its log-probabilities.

Runs are Dask sweeps over noise level × seed. Writes ``noise.png``,
``records.csv`` and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..baseline import InputDrivenRNN, ReservoirClassifier
from ..datasets import class_sequences, to_batch_first
from ..filters import UKF
from ..model import GenerativeRNN
from ..recognition import RRNNClassifier
from ..sweep import sweep
from .plotting import COLORS, figure, save, write_metrics

NOISE_SD = (0.03, 0.1, 0.3, 0.6, 1.0)
TRAIN_NOISE_SD = 0.1
WASHOUT = 50  # samples excluded from the RMSE: both decoders' initial transients
_LABELS = {"rrnn": "rRNN (UKF), true noise level", "rrnn_train_noise": "rRNN (UKF), training noise level",
           "reservoir": f"reservoir trained at σ = {TRAIN_NOISE_SD}"}
CLASS_FREQUENCIES_HZ = (4.0, 6.0, 8.0)
_RECOGNITION_LABELS = {"bank": "rRNN bank, learned noise (nothing told)",
                       "bank_told": "rRNN bank, told the added noise (R + σ²)",
                       "reservoir": "reservoir, accumulated log-probabilities"}


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    n_trials, n_steps, n_seeds, reservoir_size = (8, 250, 1, 100) if fast else (16, 600, 3, 300)
    seeds = [seed + k for k in range(n_seeds)]
    model = GenerativeRNN.oscillator(8, 3, seed=seed, observation_noise=TRAIN_NOISE_SD**2)
    train_states, train_obs = model.simulate(n_steps, batch=n_trials, seed=seed + 100)
    reservoir = InputDrivenRNN.reservoir(3, reservoir_size, 8, tau=model.tau, sample_interval=model.sample_interval,
                                         seed=seed,
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
    metrics |= _recognition_under_noise(seed, fast, seeds)
    _plot(out_dir / "noise.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _recognition_under_noise(seed: int, fast: bool, seeds: list[int]) -> dict:
    """Accuracy at the end of each test recording vs added noise: learned bank, told bank, reservoir."""
    n_per_class, n_steps = (8, 100) if fast else (16, 200)
    models = [GenerativeRNN.oscillator(4, 3, frequency=frequency, seed=seed + index,
                                       observation_noise=TRAIN_NOISE_SD**2)
              for index, frequency in enumerate(CLASS_FREQUENCIES_HZ)]
    X_train, y_train = class_sequences(models, n_per_class, n_steps, seed=seed + 200)
    options = {"evidence_steps": 60, "conditional_steps": 30, "init_epochs": 30} if fast else None
    bank = RRNNClassifier(4, sample_interval=models[0].sample_interval, tau=models[0].tau, seed=seed,
                          fit_options=options).fit(X_train, y_train)
    reservoir = ReservoirClassifier(100, tau=models[0].tau, sample_interval=models[0].sample_interval, washout=10,
                                    seed=seed).fit(to_batch_first(X_train), y_train)

    def recognise(noise_sd: float, seed: int) -> dict:
        X, y = class_sequences(models, n_per_class, n_steps, seed=seed + 300)
        X = X + noise_sd * np.random.default_rng(seed).standard_normal(X.shape)
        reservoir_proba = reservoir.predict_proba(to_batch_first(X), accumulate=True)[:, -1]
        return {"bank": bank.score(X, y), "bank_told": bank.with_added_noise(noise_sd**2).score(X, y),
                "reservoir": float(np.mean(reservoir.classes_[reservoir_proba.argmax(axis=-1)] == y))}

    records = sweep(recognise, {"noise_sd": [0.0, *NOISE_SD]}, seeds=seeds).records
    return {"recognition_classes_hz": list(CLASS_FREQUENCIES_HZ), "recognition_n_per_class": n_per_class,
            "recognition_bank_evidence_scale": bank.evidence_scale_,
            **{f"recognition_{name}_accuracy": {
                str(sd): float(np.mean([r[name] for r in records if r["noise_sd"] == sd]))
                for sd in (0.0, *NOISE_SD)} for name in _RECOGNITION_LABELS}}


def _plot(path: Path, metrics: dict) -> None:
    fig, (ax, recognition_ax) = figure(1, 2, figsize=(14, 5.5))
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
    styles = {"bank": ("-", COLORS["ukf"]), "bank_told": ("--", COLORS["ukf"]), "reservoir": ("-", COLORS["baseline"])}
    for name, label in _RECOGNITION_LABELS.items():
        values = metrics[f"recognition_{name}_accuracy"]
        style, colour = styles[name]
        recognition_ax.semilogx([max(float(sd), 0.01) for sd in values], list(values.values()), style, marker="o",
                                color=colour, label=label)
    recognition_ax.axhline(1 / len(CLASS_FREQUENCIES_HZ), color="0.6", linewidth=0.8, label="chance")
    recognition_ax.set_xlabel(f"noise s.d. σ added to test recordings (a.u.; leftmost: none; "
                              f"all recorded at σ = {TRAIN_NOISE_SD})")
    recognition_ax.set_ylabel("test accuracy at the end of the recording")
    recognition_ax.set_ylim(0, 1.02)
    recognition_ax.set_title("Recognising 4 / 6 / 8 Hz limit cycles under added noise")
    recognition_ax.legend(loc="lower left", fontsize=9)
    save(fig, path)
