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
from ..recognition import NOISE_LEVELS, RRNNClassifier
from ..sweep import sweep
from .banks import bank_options
from .plotting import COLORS, WIDTH, figure, legend_below, log_ticks, write_metrics

NOISE_SD = (0.03, 0.1, 0.3, 0.6, 1.0)
TRAIN_NOISE_SD = 0.1
WASHOUT = 50  # samples excluded from the RMSE: both decoders' initial transients
# Decoders: the rRNN (UKF) with the training noise's R, estimating the noise online, told the noise (R = σ²); the
# network's equations estimating the noise online; the reservoir trained at TRAIN_NOISE_SD.
_DECODERS = ("rrnn_train_noise", "rrnn_adaptive_noise", "rrnn", "network_adaptive_noise", "reservoir")
CLASS_FREQUENCIES_HZ = (4.0, 6.0, 8.0)
# Classifiers: the learned bank (its learned noise, estimating the noise online by VB, inferring its level over a
# grid, told the added noise, R + σ²) and the reservoir accumulating its log-probabilities.
_CLASSIFIERS = ("bank", "bank_adaptive", "bank_grid", "bank_told", "reservoir")
# Decoders and classifiers in the same role share a line in the figure: (line style, marker, colour, legend label).
_STYLES = {"trained": ("-", "o", COLORS["rrnn"], "rRNN, the noise it was trained at (told nothing)"),
           "online": ("-.", "s", COLORS["online_noise"], "rRNN, noise estimated online (told nothing)"),
           "told": ("--", "D", COLORS["rrnn"], "rRNN, told the noise"),
           "grid": ("-", "^", COLORS["online_noise"], "rRNN bank, noise level inferred over a grid (told nothing)"),
           "network": (":", "v", COLORS["network"], "rRNN network equations, noise estimated online"),
           "reservoir": ("-", "o", COLORS["baseline"], rf"reservoir trained at $\sigma$ = {TRAIN_NOISE_SD:g}")}
_ROLES = {"rrnn_train_noise": "trained", "rrnn_adaptive_noise": "online", "rrnn": "told",
          "network_adaptive_noise": "network", "reservoir": "reservoir",
          "bank": "trained", "bank_adaptive": "online", "bank_grid": "grid", "bank_told": "told"}


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

    for name in _DECODERS:
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
    bank = RRNNClassifier(4, sample_interval=models[0].sample_interval, tau=models[0].tau, seed=seed,
                          **bank_options(fast)).fit(X_train, y_train)
    reservoir = ReservoirClassifier(100, tau=models[0].tau, sample_interval=models[0].sample_interval, washout=10,
                                    seed=seed).fit(X_train, y_train)
    # The same bank, inferring the sensor noise: by VB per class model, or marginalising a grid of levels.
    adaptive = copy.deepcopy(bank).set_params(noise="adaptive")
    grid = copy.deepcopy(bank).set_params(noise="grid", noise_levels=list(NOISE_LEVELS[::3]) if fast else None)

    def recognise(noise_sd: float, seed: int) -> dict:
        X, y = class_sequences(models, n_per_class, n_steps, seed=seed + 300)
        X = X + noise_sd * np.random.default_rng(seed).standard_normal(X.shape)
        return {"bank": bank.score(X, y), "bank_adaptive": adaptive.score(X, y), "bank_grid": grid.score(X, y),
                "bank_told": bank.with_added_noise(noise_sd**2).score(X, y),
                "reservoir": reservoir.score(X, y)}

    records = sweep(recognise, {"noise_sd": list(levels)}, seeds=seeds).records
    return {"recognition_classes_hz": list(CLASS_FREQUENCIES_HZ), "recognition_n_per_class": n_per_class,
            "recognition_bank_evidence_scales": [member.evidence_scale_ for member in bank.banks()],
            "recognition_bank_contaminations": [member.contamination_ for member in bank.banks()],
            **{f"recognition_{name}_accuracy": {
                str(sd): float(np.mean([r[name] for r in records if r["noise_sd"] == sd]))
                for sd in levels} for name in _CLASSIFIERS}}


def _plot(path: Path, metrics: dict) -> None:
    """Decoding error vs noise over all trials and for the median trial, and recognition accuracy vs added noise."""
    noise_sd = metrics["noise_sd"]
    with figure(path, 1, 3, size=(WIDTH, 8)) as (fig, (mean_ax, median_ax, recognition_ax)):
        median_ax.sharey(mean_ax)  # before plotting, so that the shared limits hold both panels' curves
        for ax, key, title in ((mean_ax, "", "decoding, all trials"), (median_ax, "_median_trial", "median trial")):
            for name in _DECODERS:
                values = metrics[f"{name}{key}_normalised_rmse"]
                linestyle, marker, colour, label = _STYLES[_ROLES[name]]
                ax.loglog(noise_sd, [values[str(sd)] for sd in noise_sd], linestyle, marker=marker, color=colour,
                          label=label, markerfacecolor="none", markeredgewidth=2, markersize=9)
            ax.axvline(TRAIN_NOISE_SD, color=COLORS["reference"], linestyle=":", linewidth=1.5,
                       label=rf"training noise, $\sigma$ = {TRAIN_NOISE_SD:g}")
            ax.set_xticks(noise_sd, [f"{sd:g}" for sd in noise_sd])
            ax.set_xticks([], minor=True)
            ax.set_xlabel(r"noise s.d. $\sigma$ (a.u.)")
            ax.set_title(title)
        mean_ax.set_ylabel("state RMSE / state s.d. (ratio)")
        log_ticks(mean_ax.yaxis)
        levels = (0.0, *noise_sd)
        for rank, name in enumerate(_CLASSIFIERS):
            values = metrics[f"recognition_{name}_accuracy"]
            linestyle, marker, colour, label = _STYLES[_ROLES[name]]
            # The banks often coincide (all at 1.0): hollow markers, each smaller than the one drawn before it,
            # keep every one visible.
            wider = len(_CLASSIFIERS) - 1 - rank
            # No added noise sits at the left end of the log axis.
            recognition_ax.semilogx([max(sd, 0.01) for sd in levels], [values[str(sd)] for sd in levels], linestyle,
                                    marker=marker, color=colour, label=label, markerfacecolor="none",
                                    markeredgewidth=2, markersize=7 + 3 * wider, zorder=2 + rank)
        recognition_ax.axhline(1 / len(CLASS_FREQUENCIES_HZ), color=COLORS["reference"], linestyle="--",
                               linewidth=1.2, label="chance")
        recognition_ax.set_xticks([max(sd, 0.01) for sd in levels], ["0", *(f"{sd:g}" for sd in noise_sd)])
        recognition_ax.set_xticks([], minor=True)
        recognition_ax.set_xlabel(r"added noise s.d. $\sigma$ (a.u.)")
        recognition_ax.set_ylabel("test accuracy (fraction)")
        recognition_ax.set_ylim(0, 1.06)  # room for the largest marker at 1.0
        recognition_ax.set_title("recognising 4, 6, 8 Hz")
        legend_below(fig, ncol=2)
        strongest = str(noise_sd[-1])
        fig.suptitle(rf"Under observation noise the rRNN degrades gracefully. At $\sigma$ = {noise_sd[-1]:g}: "
                     f"state error {metrics['rrnn_normalised_rmse'][strongest]:.2f}\n(rRNN told the noise) vs "
                     f"{metrics['reservoir_normalised_rmse'][strongest]:.2f} (reservoir); recognition "
                     f"{metrics['recognition_bank_told_accuracy'][strongest]:.0%} (bank told the noise) vs "
                     f"{metrics['recognition_reservoir_accuracy'][strongest]:.0%}")
