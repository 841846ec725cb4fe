"""Teacher–student demo, the spectral-bias study: which teacher poles does a BPTT-trained student recover?

For each condition (filter order n, hidden size under/exact/over, linear or
tanh student) and each seed s: an all-pole teacher with poles
``sample_poles(n, seed)`` filters Gaussian white noise (100 × 150 steps,
washout 50, 80/20 split by sequence); a student is trained by full BPTT with
Adam (lr 0.01, 3000 full-batch epochs); the eigenvalues of its W are matched
to the poles (Hungarian) and its transfer function compared with the
teacher's. The seeds of one condition train together (:func:`train_ensemble`)
and the teachers are shared across conditions of the same order (paired
design).

:func:`run_study` returns one row per run and a summary per condition;
:func:`write_outputs` writes them (JSON, CSV) with figures (PNG);
:func:`run` is the demo (``rrnn demo teacher_student [--fast]``). Its outputs:

- metrics.json   config, findings (sentences with numbers), per-condition summary, every run
- runs.csv       one row per (condition, seed)
- summary.csv    one row per condition
- poles_polar.png, loss_curves.png, summary.png

The full study takes a few minutes; ``--fast`` (order 3, 4 seeds, 400 epochs) about 10 s: it checks the
pipeline, not the claim.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

from .._files import write_atomically
from ..errors import ParameterError
from ..teacher import (
    IIRTeacher,
    StudentRNN,
    TeacherDataset,
    lyapunov_exponents,
    make_dataset,
    match_spectra,
    plot_spectra,
    sample_poles,
    spectral_radius_error,
    student_zpk,
    train_ensemble,
    transfer_function_error,
)
from .plotting import CATEGORY_COLORS, COLORS, WIDTH, figure, legend_below, scientific

__all__ = ["StudyConfig", "Condition", "FAST_CONFIG", "run_study", "summarise", "write_outputs", "run"]

SIZE_LABELS = ("under", "exact", "over")
MODULUS_BINS = (0.0, 0.25, 0.5, 0.75, 1.0)
LOW_LOSS = 1e-4  # test NMSE below which a run counts as fitting the teacher almost exactly
_STUDENT = COLORS["baseline"]  # the student is a conventional RNN trained by BPTT


@dataclass(frozen=True)
class Condition:
    """One cell of the sweep: filter order, hidden-size label and student activation."""

    order: int
    size: str
    activation: str

    @property
    def n_hidden(self) -> int:
        """Hidden units: order − 2 (under, at least 1), order (exact), 2·order (over)."""
        return {"under": max(1, self.order - 2), "exact": self.order, "over": 2 * self.order}[self.size]

    @property
    def name(self) -> str:
        return f"order {self.order}, {self.size} (N={self.n_hidden}), {self.activation}"


@dataclass(frozen=True)
class StudyConfig:
    """Settings of the study; the defaults are the teaching-rnns protocol with 20 seeds.

    ``headline`` is the condition the polar figure shows seed by seed.
    """

    conditions: tuple[Condition, ...] = (
        Condition(5, "exact", "linear"),
        Condition(5, "exact", "tanh"),
        Condition(5, "under", "linear"),
        Condition(5, "over", "linear"),
        Condition(3, "exact", "linear"),
        Condition(8, "exact", "linear"),
    )
    headline: Condition = Condition(5, "exact", "linear")
    n_seeds: int = 20
    base_seed: int = 0
    n_sequences: int = 100
    n_steps: int = 150
    washout: int = 50
    test_fraction: float = 0.2
    epochs: int = 3000
    lr: float = 0.01
    threshold: float = 0.05
    radius_threshold: float = 0.005
    record_every: int = 50
    init: str = "uniform"

    def __post_init__(self) -> None:
        for condition in self.conditions:
            if condition.size not in SIZE_LABELS or condition.activation not in ("linear", "tanh"):
                raise ParameterError(f"bad condition {condition}")
        if self.headline not in self.conditions:
            raise ParameterError("the headline condition must be one of the conditions")


FAST_CONFIG = StudyConfig(
    conditions=(Condition(3, "exact", "linear"), Condition(3, "exact", "tanh"), Condition(3, "over", "linear")),
    headline=Condition(3, "exact", "linear"),
    n_seeds=4,
    epochs=400,
    lr=0.02,
    record_every=20,
)


def _teachers(order: int, config: StudyConfig) -> list[IIRTeacher]:
    return [IIRTeacher(sample_poles(order, np.random.default_rng([config.base_seed, order, seed])))
            for seed in range(config.n_seeds)]


def run_condition(condition: Condition, config: StudyConfig, progress: bool | None = None) -> tuple[list[dict], dict]:
    """Train the seeds of one condition together and score each student.

    Returns the rows (one per seed) and the per-seed curves for the
    figures: ``loss`` (epochs, S), normalised by the target variance, and
    ``spectra`` (R, S, N), the eigenvalues of W during training.
    """
    teachers = _teachers(condition.order, config)
    datasets = [make_dataset(teacher, n_sequences=config.n_sequences, n_steps=config.n_steps,
                             washout=config.washout, test_fraction=config.test_fraction,
                             seed=np.random.default_rng([config.base_seed, condition.order, seed, 1]))
                for seed, teacher in enumerate(teachers)]
    students = [StudentRNN(1, condition.n_hidden, 1, activation=condition.activation, init=config.init,
                           seed=np.random.default_rng([config.base_seed, seed, 2])) for seed in range(config.n_seeds)]
    X = np.stack([d.X_train for d in datasets])
    Y = np.stack([d.Y_train for d in datasets])
    history = train_ensemble(
        students, X, Y, epochs=config.epochs, lr=config.lr, washout=config.washout,
        test_data=(np.stack([d.X_test for d in datasets]), np.stack([d.Y_test for d in datasets])),
        record_every=config.record_every, record_spectra=True, progress=progress,
    )
    variance = np.array([d.Y_train[:, d.mask].var() for d in datasets])
    test_variance = np.array([d.Y_test[:, d.mask].var() for d in datasets])
    # An ensemble trained with test data: every record is per student.
    assert history.diverged is not None and history.test_loss is not None
    assert isinstance(history.final_loss, np.ndarray)
    rows = []
    for seed, (teacher, student, data) in enumerate(zip(teachers, students, datasets, strict=True)):
        row = {"order": condition.order, "size": condition.size, "n_hidden": condition.n_hidden,
               "activation": condition.activation, "seed": seed, "diverged": bool(history.diverged[seed]),
               "train_nmse": float(history.final_loss[seed] / variance[seed]),
               "test_nmse": float(history.test_loss[-1, seed] / test_variance[seed])}
        # A diverged student (its loss overflowed) has no meaningful spectrum to score.
        rows.append(row if row["diverged"] else row | _score(teacher, student, data, config))
    curves = {"loss": history.loss / variance, "epochs": history.recorded_epochs, "spectra": history.spectra}
    return rows, curves


def _score(teacher: IIRTeacher, student: StudentRNN, data: TeacherDataset, config: StudyConfig) -> dict:
    """Spectral and transfer-function scores of one trained student against its teacher."""
    eigenvalues = np.linalg.eigvals(student.W)
    match = match_spectra(teacher.poles, eigenvalues)
    recovered = match.recovered(config.threshold)
    moduli = np.abs(teacher.poles)
    zeros, transfer_poles, _ = student_zpk(student)
    # Modes whose pole a zero (nearly) cancels: present in W, invisible in the input-output map.
    cancelled = match_spectra(transfer_poles, zeros).n_within(config.threshold) if zeros.size else 0
    return {
        "n_recovered": int(recovered.sum()),
        "all_recovered": bool(recovered.all()),
        "dominant_distance": match.dominant_distance,
        "dominant_recovered": bool(match.dominant_distance <= config.threshold),
        "spectral_radius_error": spectral_radius_error(teacher.poles, eigenvalues),
        "transfer_function_error": transfer_function_error(teacher, student),
        "n_cancelled_modes": cancelled,
        "max_lyapunov": float(lyapunov_exponents(student, data.X_test[:4], washout=config.washout).mean(0)[0]),
        "pole_moduli": moduli.round(6).tolist(),
        "pole_distances": match.reference_distance.round(6).tolist(),
        "missed_moduli": moduli[~recovered].round(6).tolist(),
        "teacher_poles": [[p.real, p.imag] for p in teacher.poles],
        "student_eigenvalues": [[e.real, e.imag] for e in eigenvalues],
    }


def summarise(rows: list[dict], config: StudyConfig) -> list[dict]:
    """Per-condition summary: recovery rates, spectral-radius error, NMSE and |p| of missed poles."""
    summary = []
    for condition in config.conditions:
        runs = [r for r in rows if (r["order"], r["size"], r["activation"])
                == (condition.order, condition.size, condition.activation)]
        group = [r for r in runs if not r["diverged"]]
        if not group:
            continue
        low_loss = [r for r in group if r["test_nmse"] < LOW_LOSS]
        missed = np.concatenate([r["missed_moduli"] for r in group] + [np.empty(0)])
        found = np.concatenate([np.array(r["pole_moduli"])[np.array(r["pole_distances"]) <= config.threshold]
                                for r in group] + [np.empty(0)])
        summary.append({
            "condition": condition.name, "order": condition.order, "size": condition.size,
            "n_hidden": condition.n_hidden, "activation": condition.activation, "n_runs": len(group),
            "n_diverged": len(runs) - len(group),
            "frac_all_recovered": float(np.mean([r["all_recovered"] for r in group])),
            "dominant_recovery_rate": float(np.mean([r["dominant_recovered"] for r in group])),
            "frac_radius_within": float(np.mean([abs(r["spectral_radius_error"]) <= config.radius_threshold
                                                 for r in group])),
            "pole_recovery_rate": float(np.mean(np.concatenate([np.array(r["pole_distances"]) <= config.threshold
                                                                for r in group]))),
            "median_test_nmse": float(np.median([r["test_nmse"] for r in group])),
            "n_low_loss": len(low_loss),
            "frac_all_recovered_low_loss": (float(np.mean([r["all_recovered"] for r in low_loss]))
                                            if low_loss else None),
            "median_transfer_function_error": float(np.median([r["transfer_function_error"] for r in group])),
            "mean_cancelled_modes": float(np.mean([r["n_cancelled_modes"] for r in group])),
            "n_missed_poles": int(missed.size),
            "median_missed_modulus": float(np.median(missed)) if missed.size else None,
            "median_recovered_modulus": float(np.median(found)) if found.size else None,
        })
    return summary


def recovery_by_modulus(rows: list[dict], config: StudyConfig) -> dict[str, list]:
    """Pole recovery rate in bins of |p|, per activation, over runs with N ≥ order."""
    edges = np.array(MODULUS_BINS)
    out = {"bin_edges": edges.tolist()}
    for activation in ("linear", "tanh"):
        group = [r for r in rows if r["activation"] == activation and r["n_hidden"] >= r["order"] and not r["diverged"]]
        if not group:
            continue
        moduli = np.concatenate([r["pole_moduli"] for r in group])
        hit = np.concatenate([np.array(r["pole_distances"]) <= config.threshold for r in group])
        which = np.clip(np.digitize(moduli, edges) - 1, 0, edges.size - 2)
        out[activation] = [float(hit[which == k].mean()) if np.any(which == k) else None
                           for k in range(edges.size - 1)]
        out[f"{activation}_counts"] = [int(np.sum(which == k)) for k in range(edges.size - 1)]
    return out


def findings(summary: list[dict], by_modulus: dict, config: StudyConfig) -> list[str]:
    """The study's result in sentences with numbers: one per condition, then recovery by |p|.

    ``by_modulus`` is :func:`recovery_by_modulus` of the same runs.
    """
    lines = []
    for s in summary:
        missed = ""
        if s["median_missed_modulus"] is not None:
            recovered = s["median_recovered_modulus"]
            missed = (f"; missed poles have median |p| {s['median_missed_modulus']:.2f} (recovered: "
                      + ("none" if recovered is None else f"{recovered:.2f}") + ")")
        lines.append(
            f"{s['condition']}: dominant pole recovered (within {config.threshold}) in "
            f"{s['dominant_recovery_rate']:.0%} of {s['n_runs']} seeds, all {s['order']} poles in "
            f"{s['frac_all_recovered']:.0%}; spectral radius within {config.radius_threshold} in "
            f"{s['frac_radius_within']:.0%}; median test NMSE {s['median_test_nmse']:.1e}{missed}"
            + ("" if s["frac_all_recovered_low_loss"] is None else
               f"; of the {s['n_low_loss']} runs with test NMSE < {LOW_LOSS:g}, "
               f"{s['frac_all_recovered_low_loss']:.0%} recovered all poles")
        )
    edges = by_modulus["bin_edges"]
    for activation in ("linear", "tanh"):
        if activation in by_modulus:
            bins = ", ".join(
                f"{lo:.2f}-{hi:.2f}: " + ("n/a" if rate is None else f"{rate:.0%} of {count}")
                for lo, hi, rate, count in zip(edges[:-1], edges[1:], by_modulus[activation],
                                               by_modulus[f"{activation}_counts"], strict=True))
            lines.append(f"poles recovered by |p| ({activation} students, N >= order): {bins}")
    return lines


def run_study(config: StudyConfig, progress: bool | None = None) -> tuple[list[dict], list[dict], dict]:
    """Run every condition; return (rows, summary, curves keyed by condition name)."""
    from tqdm.auto import tqdm

    rows, curves = [], {}
    for condition in tqdm(config.conditions, desc="teacher-student conditions", unit="condition",
                          disable=None if progress is None else not progress):
        condition_rows, curves[condition.name] = run_condition(condition, config, progress)
        rows.extend(condition_rows)
    return rows, summarise(rows, config), curves


# ---------------------------------------------------------------- outputs
_CSV_COLUMNS = ("order", "size", "n_hidden", "activation", "seed", "diverged", "train_nmse", "test_nmse",
                "n_recovered", "all_recovered", "dominant_distance", "dominant_recovered", "spectral_radius_error",
                "transfer_function_error", "n_cancelled_modes", "max_lyapunov", "missed_moduli")


def write_outputs(rows: list[dict], summary: list[dict], curves: dict, config: StudyConfig, out: Path,
                  elapsed: float) -> list[Path]:
    """Write runs.csv, summary.csv, the figures and, last (marking the run complete), metrics.json into ``out``.

    Returns the paths, metrics.json first.
    """
    out.mkdir(parents=True, exist_ok=True)
    by_modulus = recovery_by_modulus(rows, config)
    metrics = {"config": asdict(config), "elapsed_s": round(elapsed, 1),
               "findings": findings(summary, by_modulus, config), "summary": summary,
               "recovery_by_modulus": by_modulus, "runs": rows}
    runs = [{**row, "missed_moduli": " ".join(f"{m:.3f}" for m in row.get("missed_moduli", []))} for row in rows]
    tables = [_write_csv(out / "runs.csv", runs, _CSV_COLUMNS),
              _write_csv(out / "summary.csv", summary, list(summary[0]))]
    figures = _figures(rows, summary, curves, config, out)
    return [write_atomically(out / "metrics.json", json.dumps(metrics, indent=1)), *tables, *figures]


def _write_csv(path: Path, rows: list[dict], columns: Sequence[str]) -> Path:
    """Write ``rows`` as a CSV table with ``columns`` (other keys ignored)."""
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomically(path, table.getvalue())


def _figures(rows: list[dict], summary: list[dict], curves: dict[str, dict], config: StudyConfig,
             out: Path) -> list[Path]:
    return [_plot_poles(rows, summary, curves, config, out / "poles_polar.png"),
            _plot_losses(summary, curves, config, out / "loss_curves.png"),
            _plot_summary(rows, summary, config, out / "summary.png")]


def _runs_of(rows: list[dict], condition: Condition) -> list[dict]:
    """The runs of ``condition`` that did not diverge."""
    return [r for r in rows if (r["order"], r["size"], r["activation"])
            == (condition.order, condition.size, condition.activation) and not r["diverged"]]


def _summary_of(summary: list[dict], condition: Condition) -> dict:
    return next(s for s in summary if s["condition"] == condition.name)


def _plot_poles(rows: list[dict], summary: list[dict], curves: dict[str, dict], config: StudyConfig,
                path: Path) -> Path:
    """The headline condition seed by seed: teacher poles and student eigenvalues, in the complex plane."""
    headline = config.headline
    runs = _runs_of(rows, headline)
    n_cols = min(5, len(runs))
    n_rows = int(np.ceil(len(runs) / n_cols))
    spectra = curves[headline.name]["spectra"]
    with figure(path, n_rows, n_cols, size=(WIDTH, 2.6 * n_rows + 2.6), squeeze=False,
                subplot_kw={"projection": "polar"}) as (fig, axes):
        for ax, run in zip(axes.flat, runs, strict=False):
            poles = np.array([complex(*p) for p in run["teacher_poles"]])
            eigenvalues = np.array([complex(*e) for e in run["student_eigenvalues"]])
            trajectory = spectra[:, run["seed"]].ravel()
            ax.scatter(np.angle(trajectory), np.abs(trajectory), s=2, color=_STUDENT, alpha=0.2)
            plot_spectra(ax, poles, eigenvalues, threshold=config.threshold, color=_STUDENT)
            ax.set_title(f"seed {run['seed']}: {run['n_recovered']} of {headline.order}")
            # Numbers would crowd a small panel: rings at the summary's |p| bins, inside the unit circle, say enough.
            ax.set_rticks(MODULUS_BINS[1:-1], [])
            ax.set_xticklabels([])
        for ax in axes.flat[len(runs):]:
            ax.set_visible(False)
        legend_below(fig, [
            Line2D([], [], marker="x", linestyle="", color="black", markersize=10, label="teacher pole"),
            Line2D([], [], marker="o", linestyle="", color=_STUDENT, label="student eigenvalue (trained)"),
            Line2D([], [], marker="o", linestyle="", color=_STUDENT, alpha=0.3, markersize=3,
                   label="eigenvalues during training"),
            Line2D([], [], color="tab:red", linewidth=1, label=f"match farther than {config.threshold:g}"),
            Line2D([], [], color="0.6", linewidth=1,
                   label="unit circle |p| = 1; rings at " + ", ".join(f"{b:g}" for b in MODULUS_BINS[1:-1])),
        ], ncol=2)
        stats = _summary_of(summary, headline)
        fig.suptitle(f"{headline.name}: BPTT recovers the dominant pole in {stats['dominant_recovery_rate']:.0%} "
                     f"of seeds,\nall {headline.order} poles in {stats['frac_all_recovered']:.0%} "
                     f"(eigenvalues of W vs the teacher's poles)")
    return path


def _plot_losses(summary: list[dict], curves: dict[str, dict], config: StudyConfig, path: Path) -> Path:
    """Training loss of every seed per condition, with the median over seeds."""
    n_cols = min(3, len(config.conditions))
    n_rows = int(np.ceil(len(config.conditions) / n_cols))
    with figure(path, n_rows, n_cols, size=(WIDTH, 3.4 * n_rows + 2.4), squeeze=False, sharey=True) as (fig, axes):
        for ax, condition in zip(axes.flat, config.conditions, strict=False):
            loss = curves[condition.name]["loss"]
            epochs = np.arange(1, loss.shape[0] + 1)
            ax.semilogy(epochs, loss, color=_STUDENT, linewidth=0.8, alpha=0.5)
            ax.semilogy(epochs, np.median(loss, axis=1), color="black", linewidth=2.5)
            ax.set_title(f"order {condition.order}, {condition.activation}\n"
                         f"N = {condition.n_hidden} ({condition.size})")
        for ax in axes.flat[len(config.conditions):]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel("training NMSE (ratio)")
        for ax in axes[-1]:
            ax.set_xlabel("epoch")
        legend_below(fig, [Line2D([], [], color=_STUDENT, linewidth=0.8, label=f"one seed ({config.n_seeds})"),
                           Line2D([], [], color="black", linewidth=2.5, label="median over seeds")], ncol=2)
        nmse = [s["median_test_nmse"] for s in summary]
        fig.suptitle(f"BPTT training of the students: median test NMSE {scientific(min(nmse))} to "
                     f"{scientific(max(nmse))} across conditions")
    return path


def _plot_summary(rows: list[dict], summary: list[dict], config: StudyConfig, path: Path) -> Path:
    """Recovery by pole modulus, recovery per condition, and each pole's distance to its match."""
    with figure(path, size=(WIDTH, 9), mosaic=[["modulus", "distance"], ["conditions", "conditions"]],
                height_ratios=(1.2, 1)) as (fig, axes):
        by_modulus = recovery_by_modulus(rows, config)
        centres = 0.5 * (np.array(MODULUS_BINS[:-1]) + np.array(MODULUS_BINS[1:]))
        ax = axes["modulus"]
        for activation, colour in zip(("linear", "tanh"), CATEGORY_COLORS, strict=False):
            if activation in by_modulus:
                rates = np.array([np.nan if v is None else v for v in by_modulus[activation]])
                ax.plot(centres, rates, "o-", color=colour, label=f"{activation} students")
        ax.set_xlabel("teacher pole modulus |p|")
        ax.set_ylabel("poles recovered (fraction)")
        ax.set_ylim(0, 1.05)
        ax.set_title("recovery by |p| (N ≥ order)")

        ax = axes["distance"]
        full = [r for r in rows if r["n_hidden"] >= r["order"] and not r["diverged"]]
        moduli = np.concatenate([r["pole_moduli"] for r in full])
        distances = np.concatenate([r["pole_distances"] for r in full])
        nmse = np.concatenate([[r["test_nmse"]] * r["order"] for r in full])
        points = ax.scatter(moduli, np.maximum(distances, 1e-8), c=np.log10(np.maximum(nmse, 1e-16)), s=16,
                            cmap="viridis")
        ax.set_yscale("log")
        ax.axhline(config.threshold, color=COLORS["reference"], linestyle="--", linewidth=1.5,
                   label=f"recovered below {config.threshold:g}")
        ax.set_xlabel("teacher pole modulus |p|")
        ax.set_ylabel("distance to its eigenvalue")
        ax.set_title("every pole, by the run's test loss")
        fig.colorbar(points, ax=ax, label=r"test NMSE ($\log_{10}$)")

        ax = axes["conditions"]
        positions = np.arange(len(summary))
        ax.bar(positions - 0.2, [s["dominant_recovery_rate"] for s in summary], 0.4, color=CATEGORY_COLORS[0],
               label="dominant pole")
        ax.bar(positions + 0.2, [s["frac_all_recovered"] for s in summary], 0.4, color=CATEGORY_COLORS[1],
               label="all poles")
        ax.set_xticks(positions, [f"order {s['order']}, {s['activation']}\nN = {s['n_hidden']} ({s['size']})"
                                  for s in summary])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("seeds (fraction)")
        ax.set_title(f"recovered within {config.threshold:g}, per condition")
        legend_below(fig, ncol=5)
        fig.suptitle(f"Spectral bias: BPTT misses small poles. {_recovery_sentence(by_modulus)}")
    return path


def _recovery_sentence(by_modulus: dict) -> str:
    """Recovery of the smallest and the largest poles by linear students, in words (for a title)."""
    rates = by_modulus.get("linear")
    if rates is None or rates[0] is None or rates[-1] is None:
        return ""
    edges = by_modulus["bin_edges"]
    return (f"Linear students recover\n{rates[0]:.0%} of the poles with |p| < {edges[1]:g} and "
            f"{rates[-1]:.0%} of those with |p| > {edges[-2]:g}")


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the study (``fast``: :data:`FAST_CONFIG`) with base seed ``seed``; returns what ``metrics.json`` holds."""
    config = replace(FAST_CONFIG if fast else StudyConfig(), base_seed=seed)
    start = time.perf_counter()
    rows, summary, curves = run_study(config)
    write_outputs(rows, summary, curves, config, out_dir, time.perf_counter() - start)
    return json.loads((out_dir / "metrics.json").read_text())
