"""Kinematics demo: online recognition of human movement from a smart watch (BasicMotions).

One GenerativeRNN per movement class (standing, walking, running, badminton)
is learned from the training recordings (3-D accelerometer + 3-D gyroscope,
10 Hz, 10 s) through the rRNN's own evidence — maximum likelihood, then the
bank's conditional likelihood, with the kept steps and the evidence scale
chosen on a validation split of the training recordings
(:func:`rrnn_net.learning.fit_bank`); a bank of rRNNs (UKFs) then scores each
test recording online by accumulated log evidence. The conventional comparison is
an echo-state reservoir with a ridge-regression softmax readout trained on the
same data, read both instantaneously and with its log-probabilities
accumulated over time (the stronger of the two).

Measured: accuracy at the end of the sequence, accuracy and expected
calibration error (ECE) vs the fraction of the sequence observed (decision
speed), accuracy under white noise added to the test recordings at several
SNRs, and with 10 % / 30 % of the samples missing. Under noise the rRNN is
shown twice: with the noise model it learned (nothing told), and told the
added noise variance (R ← R + σ²), which a Bayesian decoder can use and a
trained reservoir cannot.

Writes ``posterior_examples.png``, ``accuracy_vs_time.png``,
``robustness.png`` and ``metrics.json``.
"""

from __future__ import annotations

import copy
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from ..baseline import ReservoirClassifier
from ..datasets import load_basic_motions
from ..learning import expected_calibration_error
from ..recognition import NOISE_LEVELS, RRNNClassifier
from ..sweep import sweep
from .banks import bank_options
from .plotting import CATEGORY_COLORS, COLORS, WIDTH, figure, legend_below, signed, write_metrics

SNR_DB = (20.0, 10.0, 5.0, 0.0, -5.0)
MISSING_FRACTIONS = (0.1, 0.3)
# The fast run (what the tests run) keeps the ends of each range.
FAST_SNR_DB = (20.0, 0.0, -5.0)
FAST_MISSING_FRACTIONS = (0.3,)
DECISION_THRESHOLD = 0.9
RESERVOIR_SIZE = 100
_METHODS = {
    "rrnn": "rRNN bank (learned noise)",
    "rrnn_noise_grid": "rRNN bank, noise level inferred over a grid (told nothing)",
    "rrnn_adaptive_noise": "rRNN bank, noise estimated online by VB (told nothing)",
    "rrnn_noise_known": r"rRNN bank, told the added noise ($R + \sigma^2$)",
    "reservoir_accumulated": "reservoir, accumulated log-probabilities",
    "reservoir_instantaneous": "reservoir, instantaneous readout",
}
_STYLE = {"rrnn": ("-", COLORS["rrnn"]), "rrnn_noise_known": ("--", COLORS["rrnn"]),
          "rrnn_noise_grid": ("-", COLORS["online_noise"]), "rrnn_adaptive_noise": ("-.", COLORS["online_noise"]),
          "reservoir_accumulated": ("-", COLORS["baseline"]), "reservoir_instantaneous": (":", COLORS["baseline"])}


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    data = load_basic_motions()
    assert data.sample_rate_hz is not None  # BasicMotions is sampled at 10 Hz
    snr_levels: tuple[float, ...]
    missing_fractions: tuple[float, ...]
    if fast:
        n_hidden, noise_seeds, snr_levels, missing_fractions = 6, [seed], FAST_SNR_DB, FAST_MISSING_FRACTIONS
    else:
        n_hidden, noise_seeds = 8, [seed, seed + 1, seed + 2]
        snr_levels, missing_fractions = SNR_DB, MISSING_FRACTIONS

    start = time.perf_counter()
    rrnn = RRNNClassifier(n_hidden, sample_interval=1.0 / data.sample_rate_hz, seed=seed,
                          **bank_options(fast)).fit(data.X_train, data.y_train)
    rrnn_fit_seconds = time.perf_counter() - start
    reservoir = ReservoirClassifier(RESERVOIR_SIZE, tau=0.2, sample_interval=1.0 / data.sample_rate_hz, washout=10,
                                    seed=seed).fit(data.X_train, data.y_train)

    # The same bank, inferring the sensor noise: by variational Bayes per class model, or marginalising a grid of
    # levels (the fast run's grid has 9 dB steps, to save time).
    adaptive = copy.deepcopy(rrnn).set_params(noise="adaptive")
    noise_levels = list(NOISE_LEVELS[::3] if fast else NOISE_LEVELS)
    grid = copy.deepcopy(rrnn).set_params(noise="grid", noise_levels=noise_levels)
    online = _online_posteriors(rrnn, reservoir, data.X_test)
    accuracy_curves = {name: _accuracy_over_time(proba, rrnn.classes_, data.y_test)
                       for name, proba in online.items()}
    n_steps = data.X_test.shape[-1]
    time_axis = np.arange(1, n_steps + 1) / data.sample_rate_hz

    signal_std = np.nanstd(data.X_test, axis=(0, 2))

    def noisy_accuracy(snr_db: float, seed: int) -> dict:
        noise_std = signal_std * 10.0 ** (-snr_db / 20.0)
        rng = np.random.default_rng(seed)
        X = data.X_test + rng.standard_normal(data.X_test.shape) * noise_std[None, :, None]
        informed = rrnn.with_added_noise(noise_std**2)
        return _end_accuracies(rrnn, reservoir, X, data.y_test, informed=informed, adaptive=adaptive, grid=grid)

    def missing_accuracy(fraction: float, seed: int) -> dict:
        rng = np.random.default_rng(seed)
        X = np.where(rng.random(data.X_test.shape) < fraction, np.nan, data.X_test)
        return _end_accuracies(rrnn, reservoir, X, data.y_test, adaptive=adaptive, grid=grid)

    noise_records = sweep(noisy_accuracy, {"snr_db": list(snr_levels)}, seeds=noise_seeds).records
    missing_records = sweep(missing_accuracy, {"fraction": list(missing_fractions)}, seeds=noise_seeds).records

    metrics = {
        "seed": seed, "fast": fast, "dataset": data.name, "n_train": len(data.y_train), "n_test": len(data.y_test),
        "classes": [str(label) for label in rrnn.classes_], "n_hidden_per_class_model": n_hidden,
        "reservoir_size": RESERVOIR_SIZE, "rrnn_fit_seconds": rrnn_fit_seconds,
        "decision_threshold": DECISION_THRESHOLD,
        "rrnn_mean_decision_time_s": _mean_decision_time(rrnn.decision_time(data.X_test, DECISION_THRESHOLD),
                                                         data.sample_rate_hz),
        "rrnn_fraction_decided": float(np.mean(np.isfinite(rrnn.decision_time(data.X_test, DECISION_THRESHOLD)))),
        "rrnn_evidence_scales": [bank.evidence_scale_ for bank in rrnn.banks()],
        "rrnn_contaminations": [bank.contamination_ for bank in rrnn.banks()],
        "rrnn_adaptive_noise_clean_accuracy": adaptive.score(data.X_test, data.y_test),
        "rrnn_noise_grid_clean_accuracy": grid.score(data.X_test, data.y_test),
        "rrnn_noise_grid_levels": noise_levels,
    }
    truth = np.searchsorted(rrnn.classes_, data.y_test)
    for name, curve in accuracy_curves.items():
        for percent in (25, 50, 100):
            index = int(n_steps * percent / 100) - 1
            metrics[f"{name}_accuracy_at_{percent}pct"] = float(curve[index])
            metrics[f"{name}_ece_at_{percent}pct"] = expected_calibration_error(online[name][:, index], truth)
    for name in _METHODS:
        metrics[f"{name}_accuracy_vs_snr_db"] = {
            str(snr): float(np.mean([r[name] for r in noise_records if r["snr_db"] == snr]))
            for snr in snr_levels if name in noise_records[0]}
        metrics[f"{name}_accuracy_with_missing"] = {
            str(fraction): float(np.mean([r[name] for r in missing_records if r["fraction"] == fraction]))
            for fraction in missing_fractions if name in missing_records[0]}
    metrics = {key: value for key, value in metrics.items() if value != {}}
    metrics["noise_seeds"] = noise_seeds

    _plot_examples(out_dir / "posterior_examples.png", time_axis, online, rrnn.classes_, data.y_test, metrics)
    _plot_accuracy_over_time(out_dir / "accuracy_vs_time.png", time_axis, accuracy_curves, len(rrnn.classes_),
                             metrics)
    _plot_robustness(out_dir / "robustness.png", metrics, len(rrnn.classes_))
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _online_posteriors(rrnn: RRNNClassifier, reservoir: ReservoirClassifier, X: np.ndarray) -> dict:
    """Class posteriors after each sample, (n, T, K) per method, classes in the same order."""
    if not np.array_equal(reservoir.classes_, rrnn.classes_):
        raise AssertionError("both classifiers sort the same labels, so their class order must agree")
    return {"rrnn": rrnn.predict_proba_online(X),
            "reservoir_accumulated": reservoir.predict_proba_online(X, accumulate=True),
            "reservoir_instantaneous": reservoir.predict_proba_online(X, accumulate=False)}


def _accuracy_over_time(proba: np.ndarray, classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.mean(classes[np.argmax(proba, axis=-1)] == labels[:, None], axis=0)


def _end_accuracies(rrnn: RRNNClassifier, reservoir: ReservoirClassifier, X: np.ndarray, labels: np.ndarray, *,
                    informed: RRNNClassifier | None = None, adaptive: RRNNClassifier | None = None,
                    grid: RRNNClassifier | None = None) -> dict:
    accuracies = {name: float(_accuracy_over_time(proba, rrnn.classes_, labels)[-1])
                  for name, proba in _online_posteriors(rrnn, reservoir, X).items()}
    if informed is not None:
        accuracies["rrnn_noise_known"] = informed.score(X, labels)
    if adaptive is not None:
        accuracies["rrnn_adaptive_noise"] = adaptive.score(X, labels)
    if grid is not None:
        accuracies["rrnn_noise_grid"] = grid.score(X, labels)
    return accuracies


def _mean_decision_time(samples: np.ndarray, sample_rate_hz: float) -> float | None:
    decided = samples[np.isfinite(samples)]
    return float(decided.mean() / sample_rate_hz) if decided.size else None


def _plot_examples(path: Path, time_axis: np.ndarray, online: dict[str, np.ndarray], classes: np.ndarray,
                   labels: np.ndarray, metrics: dict[str, Any]) -> None:
    """One test recording per class: the posterior over classes of the rRNN bank and of the reservoir."""
    with figure(path, 2, 2, size=(WIDTH, 8.5), sharex=True, sharey=True) as (fig, axes):
        for ax, label in zip(axes.flat, classes, strict=False):
            trial = int(np.nonzero(labels == label)[0][0])  # the first test recording of the class
            for k, colour in zip(range(len(classes)), itertools.cycle(CATEGORY_COLORS)):
                ax.plot(time_axis, online["rrnn"][trial, :, k], color=colour)
                ax.plot(time_axis, online["reservoir_accumulated"][trial, :, k], ":", color=colour)
            ax.set_title(f"a recording of '{label}'")
            ax.set_ylim(-0.03, 1.03)
        for ax in axes[:, 0]:
            ax.set_ylabel("posterior probability")
        for ax in axes[-1]:
            ax.set_xlabel("time observed (s)")
        classes_shown = [Line2D([], [], color=colour, label=str(name))
                         for name, colour in zip(classes, itertools.cycle(CATEGORY_COLORS))]
        methods = [Line2D([], [], color=COLORS["reference"], label="rRNN bank"),
                   Line2D([], [], color=COLORS["reference"], linestyle=":", label="reservoir (accumulated)")]
        legend_below(fig, [*classes_shown, *methods], ncol=3)
        decided = metrics["rrnn_mean_decision_time_s"]
        when = "" if decided is None else (f": its posterior for the true movement\nstays above "
                                           f"{DECISION_THRESHOLD:g} from {decided:.1f} s on, on average")
        fig.suptitle(f"The rRNN bank recognises movements online{when}")


def _plot_accuracy_over_time(path: Path, time_axis: np.ndarray, curves: dict[str, np.ndarray], n_classes: int,
                             metrics: dict[str, Any]) -> None:
    with figure(path, size=(WIDTH, 7)) as (fig, ax):
        for name, curve in curves.items():
            style, colour = _STYLE[name]
            ax.plot(time_axis, curve, style, color=colour, label=_METHODS[name])
        ax.axhline(1.0 / n_classes, color=COLORS["reference"], linestyle="--", linewidth=1.2, label="chance")
        ax.set_xlabel("time observed (s)")
        ax.set_ylabel("test accuracy (fraction correct)")
        ax.set_ylim(0, 1.02)
        legend_below(fig, ncol=2)
        fig.suptitle(f"Decision speed: after 25% of each recording the rRNN bank is "
                     f"{metrics['rrnn_accuracy_at_25pct']:.0%} correct,\nthe reservoir "
                     f"{metrics['reservoir_accumulated_accuracy_at_25pct']:.0%} (accumulated) and "
                     f"{metrics['reservoir_instantaneous_accuracy_at_25pct']:.0%} (instantaneous)")


def _plot_robustness(path: Path, metrics: dict[str, Any], n_classes: int) -> None:
    with figure(path, 1, 2, size=(WIDTH, 7.5), gridspec_kw={"width_ratios": [3, 2]}) as (fig, axes):
        noise_ax, missing_ax = axes
        for name in _METHODS:
            values = metrics.get(f"{name}_accuracy_vs_snr_db")
            if values:
                style, colour = _STYLE[name]
                snr = sorted(values, key=float)  # metrics read back from JSON come with sorted string keys
                noise_ax.plot([float(s) for s in snr], [values[s] for s in snr], style, marker="o", color=colour,
                              label=_METHODS[name])
        noise_ax.axhline(1.0 / n_classes, color=COLORS["reference"], linestyle="--", linewidth=1.2, label="chance")
        noise_ax.invert_xaxis()  # noisier to the right
        noise_ax.set_xlabel("SNR of added white noise (dB)")
        noise_ax.set_ylabel("test accuracy at the end (fraction)")
        noise_ax.set_ylim(0, 1.02)
        noise_ax.set_title("added noise")

        names = [name for name in _METHODS if metrics.get(f"{name}_accuracy_with_missing")]
        width = 0.8 / len(names)
        for offset, name in enumerate(names):
            values = metrics[f"{name}_accuracy_with_missing"]
            positions = np.arange(len(values)) + (offset - (len(names) - 1) / 2) * width
            missing_ax.bar(positions, list(values.values()), width, color=_STYLE[name][1],
                           alpha=1.0 if _STYLE[name][0] == "-" else 0.5, label=_METHODS[name])
        fractions = [float(fraction) for fraction in metrics[f"{names[0]}_accuracy_with_missing"]]
        missing_ax.set_xticks(np.arange(len(fractions)), [f"{f:.0%}" for f in fractions])
        missing_ax.set_xlabel("samples missing (NaN, % of all)")
        missing_ax.set_ylabel("test accuracy at the end (fraction)")
        missing_ax.set_ylim(0, 1.02)
        missing_ax.set_title("missing samples")
        legend_below(fig, ncol=2)
        noisiest = min(metrics["rrnn_noise_known_accuracy_vs_snr_db"], key=float)
        at_noisiest = {name: metrics[f"{name}_accuracy_vs_snr_db"][noisiest]
                       for name in ("rrnn_noise_known", "rrnn_noise_grid", "rrnn_adaptive_noise",
                                    "reservoir_accumulated")}
        fig.suptitle(f"At {signed(float(noisiest))} dB SNR the rRNN bank told the added noise is "
                     f"{at_noisiest['rrnn_noise_known']:.0%} correct, inferring its level\n"
                     f"{at_noisiest['rrnn_noise_grid']:.0%}, estimating it by VB "
                     f"{at_noisiest['rrnn_adaptive_noise']:.0%}, the reservoir "
                     f"{at_noisiest['reservoir_accumulated']:.0%}")
