"""Noise demo: decoding and recognition vs observation noise, rRNN vs trained input-driven RNNs.

Decoding: a limit-cycle GenerativeRNN is observed at increasing noise levels.
The rRNN (UKF) decodes the hidden state three ways: with the noise level of
the training condition (its fixed R, nothing told), estimating the noise
online from its own prediction errors (``noise="adaptive"``, nothing told),
and told the true noise level (the Bayesian decoder weighs each observation
by its reliability). The continuous filter with online noise estimation
shows the same estimate in the network's equations: the compiled network
(:func:`~rrnn_net.compile_rrnn` with ``noise="adaptive"``) equals it to
1e-9, so no Brian2 run is needed here. The conventional decoder is an
echo-state reservoir whose ridge readout is trained to output the hidden
state at one noise level (``TRAIN_NOISE_SD``) and tested at all. Besides the
error over all trials, the median trial's error is kept: a filter estimating
the noise can take a wrong phase of the cycle for noise and stay there for
seconds, and those few trials dominate the mean. The noise s.d. the UKF
estimates (√ of its mean r̂ after the washout, over all trials and for the
median trial) is kept too.

Recognition: three limit-cycle classes (4, 6 and 8 Hz) are recorded at the
training noise; a bank of rRNNs is *learned* from them
(:class:`~rrnn_net.RRNNClassifier`, defaults) and an echo-state reservoir
classifier is trained on the same recordings. Test recordings get extra white
noise; the bank is scored as learned, estimating the noise online (both told
nothing), and told the added variance (R ← R + σ²); the reservoir accumulates
its log-probabilities.

Runs are Dask sweeps over noise level × seed. Writes ``noise.png``,
``records.csv`` and ``metrics.json``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from ..baseline import InputDrivenRNN, ReservoirClassifier
from ..datasets import class_sequences
from ..filters import UKF, ContinuousFilter
from ..model import GenerativeRNN
from ..recognition import RRNNClassifier
from ..sweep import sweep
from .plotting import COLORS, figure, save, write_metrics

NOISE_SD = (0.03, 0.1, 0.3, 0.6, 1.0)
TRAIN_NOISE_SD = 0.1
WASHOUT = 50  # samples excluded from the RMSE: both decoders' initial transients
_LABELS = {"rrnn_train_noise": "rRNN (UKF), R of the training noise (nothing told)",
           "rrnn_adaptive_noise": "rRNN (UKF), online noise estimate (nothing told)",
           "rrnn": "rRNN (UKF), told the noise (R = σ²)",
           "network_adaptive_noise": "network equations (continuous filter), online noise estimate",
           "reservoir": f"reservoir trained at σ = {TRAIN_NOISE_SD}"}
CLASS_FREQUENCIES_HZ = (4.0, 6.0, 8.0)
_RECOGNITION_LABELS = {"bank": "rRNN bank, learned noise (nothing told)",
                       "bank_adaptive": "rRNN bank, online noise estimate (nothing told)",
                       "bank_told": "rRNN bank, told the added noise (R + σ²)",
                       "reservoir": "reservoir, accumulated log-probabilities"}


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    n_trials, n_steps, n_seeds, reservoir_size = (8, 250, 1, 100) if fast else (16, 600, 3, 300)
    # The quick version keeps the ends and the middle of the range: it runs in the test suite, which is short of time.
    levels = (0.03, 0.3, 1.0) if fast else NOISE_SD
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
        adaptive = UKF(model, noise="adaptive").filter(y)
        estimates = {"rrnn_train_noise": UKF(model).filter(y).mean, "rrnn_adaptive_noise": adaptive.mean,
                     "rrnn": UKF(test_model).filter(y).mean,
                     "network_adaptive_noise": ContinuousFilter(model, noise="adaptive").filter(y).mean,
                     "reservoir": reservoir.predict(y)}
        spread = states[:, WASHOUT:].std()
        assert adaptive.noise_variance is not None  # estimated with noise="adaptive"
        estimated = adaptive.noise_variance[:, WASHOUT:].mean(axis=(1, 2))  # per trial
        record = {"rrnn_adaptive_noise_estimated_sd": float(np.sqrt(estimated.mean())),
                  "rrnn_adaptive_noise_median_trial_estimated_sd": float(np.sqrt(np.median(estimated)))}
        for name, estimate in estimates.items():
            squared = np.mean((estimate[:, WASHOUT:] - states[:, WASHOUT:]) ** 2, axis=(1, 2))  # per trial
            record[name] = float(np.sqrt(squared.mean()) / spread)
            record[f"{name}_median_trial"] = float(np.sqrt(np.median(squared)) / spread)
        return record

    result = sweep(decode, {"noise_sd": list(levels)}, seeds=seeds)
    result.to_csv(out_dir / "records.csv")
    metrics = {"seed": seed, "fast": fast, "noise_sd": list(levels), "n_trials": n_trials, "n_steps": n_steps,
               "seeds": seeds, "train_noise_sd": TRAIN_NOISE_SD, "reservoir_size": reservoir_size,
               "metric": "state RMSE after washout / state s.d., mean over seeds",
               "median_trial_metric": "the same for the median trial (RMSE of each trial, median over trials)",
               "network_adaptive_noise_note": "ContinuousFilter(noise='adaptive') at the model's Euler step; the "
                                              "compiled network (compile_rrnn(noise='adaptive')) equals it to 1e-9. "
                                              "Its floor at low noise is the zero-order hold of each sample."}

    def mean_over_seeds(key: str) -> dict:
        return {str(sd): float(np.mean([r[key] for r in result.records if r["noise_sd"] == sd])) for sd in levels}

    for name in _LABELS:
        metrics[f"{name}_normalised_rmse"] = mean_over_seeds(name)
        metrics[f"{name}_median_trial_normalised_rmse"] = mean_over_seeds(f"{name}_median_trial")
    for key in ("estimated_sd", "median_trial_estimated_sd"):
        metrics[f"rrnn_adaptive_noise_{key}"] = mean_over_seeds(f"rrnn_adaptive_noise_{key}")
    metrics |= _recognition_under_noise(seed, fast, seeds, (0.0, *levels))
    _plot(out_dir / "noise.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _recognition_under_noise(seed: int, fast: bool, seeds: list[int], levels: tuple[float, ...]) -> dict:
    """Accuracy at the end of each test recording vs added noise s.d. ``levels``.

    Scored: the learned bank, the same bank estimating the noise online, the bank told the added noise, and the
    reservoir.
    """
    n_per_class, n_steps = (8, 100) if fast else (16, 200)
    models = [GenerativeRNN.oscillator(4, 3, frequency=frequency, seed=seed + index,
                                       observation_noise=TRAIN_NOISE_SD**2)
              for index, frequency in enumerate(CLASS_FREQUENCIES_HZ)]
    X_train, y_train = class_sequences(models, n_per_class, n_steps, seed=seed + 200)
    options = {"evidence_steps": 40, "conditional_steps": 20, "init_epochs": 30} if fast else None
    bank = RRNNClassifier(4, sample_interval=models[0].sample_interval, tau=models[0].tau, seed=seed,
                          fit_options=options).fit(X_train, y_train)
    reservoir = ReservoirClassifier(100, tau=models[0].tau, sample_interval=models[0].sample_interval, washout=10,
                                    seed=seed).fit(X_train, y_train)
    adaptive = copy.deepcopy(bank).set_params(noise="adaptive")  # the same bank, inferring the sensor noise

    def recognise(noise_sd: float, seed: int) -> dict:
        X, y = class_sequences(models, n_per_class, n_steps, seed=seed + 300)
        X = X + noise_sd * np.random.default_rng(seed).standard_normal(X.shape)
        return {"bank": bank.score(X, y), "bank_adaptive": adaptive.score(X, y),
                "bank_told": bank.with_added_noise(noise_sd**2).score(X, y),
                "reservoir": reservoir.score(X, y)}

    records = sweep(recognise, {"noise_sd": list(levels)}, seeds=seeds).records
    return {"recognition_classes_hz": list(CLASS_FREQUENCIES_HZ), "recognition_n_per_class": n_per_class,
            "recognition_bank_evidence_scale": bank.evidence_scale_,
            **{f"recognition_{name}_accuracy": {
                str(sd): float(np.mean([r[name] for r in records if r["noise_sd"] == sd]))
                for sd in levels} for name in _RECOGNITION_LABELS}}


def _plot(path: Path, metrics: dict) -> None:
    fig, (mean_ax, median_ax, recognition_ax) = figure(1, 3, figsize=(18, 6.5))
    noise_sd = metrics["noise_sd"]
    styles = {"rrnn_train_noise": ("-", COLORS["ukf"]), "rrnn_adaptive_noise": ("-.", COLORS["ekf"]),
              "rrnn": ("--", COLORS["ukf"]), "network_adaptive_noise": (":", COLORS["continuous"]),
              "reservoir": ("-", COLORS["baseline"])}
    panels = ((mean_ax, "", "all trials: the few trials that lose the cycle dominate the mean"),
              (median_ax, "_median_trial", "median trial: the online estimate comes close to being told"))
    for ax, key, title in panels:
        for name, label in _LABELS.items():
            values = metrics[f"{name}{key}_normalised_rmse"]
            style, colour = styles[name]
            ax.loglog(noise_sd, [values[str(sd)] for sd in noise_sd], style, marker="o", color=colour, label=label)
        ax.axvline(TRAIN_NOISE_SD, color="0.6", linestyle=":", linewidth=1, label="training noise (R, reservoir)")
        ax.set_xticks(noise_sd, [f"{sd:g}" for sd in noise_sd])
        ax.set_xticks([], minor=True)
        ax.set_xlabel("observation noise s.d. σ (a.u.; signal s.d. ≈ 0.7)")
        ax.set_ylabel("state RMSE / state s.d. (after washout)")
        ax.set_title(f"Decoding, {title}", fontsize=10)
    median_ax.sharey(mean_ax)
    styles = {"bank": ("-", COLORS["ukf"]), "bank_adaptive": ("-.", COLORS["ekf"]), "bank_told": ("--", COLORS["ukf"]),
              "reservoir": ("-", COLORS["baseline"])}
    levels = (0.0, *noise_sd)
    for name, label in _RECOGNITION_LABELS.items():
        values = metrics[f"recognition_{name}_accuracy"]
        style, colour = styles[name]
        # No added noise sits at the left end of the log axis.
        recognition_ax.semilogx([max(sd, 0.01) for sd in levels], [values[str(sd)] for sd in levels], style,
                                marker="o", color=colour, label=label)
    recognition_ax.axhline(1 / len(CLASS_FREQUENCIES_HZ), color="0.6", linewidth=0.8, label="chance")
    recognition_ax.set_xticks([max(sd, 0.01) for sd in levels], ["none", *(f"{sd:g}" for sd in noise_sd)])
    recognition_ax.set_xticks([], minor=True)
    recognition_ax.set_xlabel("noise s.d. σ added to the test recordings (a.u.)")
    recognition_ax.set_ylabel("test accuracy at the end of the recording")
    recognition_ax.set_ylim(0, 1.02)
    recognition_ax.set_title(f"Recognising 4 / 6 / 8 Hz limit cycles (recorded at σ = {TRAIN_NOISE_SD})",
                             fontsize=10)
    # Below the panels: inside, the legends would cover the curves.
    fig.legend(*mean_ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.35, 0.0), ncol=2,
               fontsize=9, frameon=False)
    fig.legend(*recognition_ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.84, 0.0),
               fontsize=9, frameon=False)
    fig.suptitle("Under observation noise the rRNN degrades gracefully; estimating the noise online it comes close "
                 "to being told in the typical trial, but some trials lose the cycle's phase")
    save(fig, path, rect=(0, 0.17, 1, 1))
