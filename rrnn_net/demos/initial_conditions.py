"""Initial-conditions demo: the rRNN forgets a wrong initial state, the open-loop generator does not.

A limit-cycle GenerativeRNN generates noisy observations from a point on its
cycle. Every decoder starts from a *wrong* belief: the true start moved by a
distance d (root-mean-square per unit, in units of the state's s.d. σ) along
a random direction. A Dask sweep (:func:`rrnn_net.sweep.sweep`) runs
d × seeds (each seed: another true start, direction and noise); in every run
the UKF, the EKF, the compiled rRNN run in Brian2 (adaptive gain and fixed
gain, numpy target) and the generator run open loop decode the same trials.
The state RMSE over time, the time from which it stays below 10% of σ and
the claim — the Bayesian rRNN (UKF, EKF, adaptive network; the fixed-gain
network is reported beside it) gets there within :data:`CLAIM_TIME_CONSTANTS`
time constants from every start, the open-loop generator from none — are
written to ``metrics.json``; per-run records to
``sweep_records.json``/``.csv`` and the RMSE curves to ``rmse_curves.npz``.

Prior covariance and stability: the network integrates the Riccati equation
by forward Euler, which needs h·λ_max(P Gᵀ R_c⁻¹ G) < 1 (see
:class:`~rrnn_net.filters.ContinuousFilter`). Since G = M D with D ≤ I,
λ_max(P Gᵀ R_c⁻¹ G) ≤ c·λ_max(Mᵀ R_c⁻¹ M) for P = c·I, so every decoder
starts with cov0 = c·I where c makes that bound 0.5
(:func:`rrnn_net.filters.stability.euler_safe_prior_variance`) — the broadest
isotropic prior the network integrates stably. The factor
actually reached over each run is read back from the network's recorded
covariance units and reported (``max_euler_factor``; < 1 means stable).

The sampling interval (1.25 ms for τ = 20 ms) is chosen because the network
holds each sample over the interval before it, which costs an RMSE floor of
roughly |dx/dt|·Δ/2 that peaks where the cycle is fastest: about 5% of σ on
average at Δ = 2.5 ms with peaks above the tolerance for some models, 9% at
Δ = 5 ms; the discrete UKF and EKF settle near 3% at any of these Δ.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from dask.diagnostics import ProgressBar

from .._files import write_atomically
from ..backends import run_brian2
from ..filters import EKF, UKF, FilterResult, average_filter_gain
from ..filters.stability import EULER_SAFETY, euler_safe_prior_variance, riccati_euler_factor
from ..graph import compile_rrnn
from ..model import GenerativeRNN
from ..sweep import sweep
from .metrics import time_to_tolerance
from .plotting import COLORS, WIDTH, figure, legend_below, write_metrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TOLERANCE = 0.1  # state RMSE, as a fraction of the state's s.d., counted as "locked on"
CLAIM_TIME_CONSTANTS = 20.0  # the claim: the Bayesian rRNN locks on within this many τ from every tested start
DECODERS = ("ukf", "ekf", "brian2_adaptive", "brian2_fixed", "open_loop")
# The Bayesian rRNN in its three forms; the fixed-gain network approximates it with a time-averaged gain, so its
# error floor depends on how much the optimal gain varies along the cycle: it is reported, not part of the claim.
CLAIM_DECODERS = ("ukf", "ekf", "brian2_adaptive")
LABELS = {"ukf": "rRNN (UKF)", "ekf": "rRNN (EKF)", "brian2_adaptive": "rRNN as a Brian2 network, adaptive gain",
          "brian2_fixed": "rRNN as a Brian2 network, fixed gain", "open_loop": "open-loop generator"}
# (line style, colour, width, z-order). The UKF, EKF and adaptive network often coincide: the UKF, wide and on top of
# the networks, stays visible, and the EKF, narrow and dashed, shows on top of it.
STYLES = {"ukf": ("-", COLORS["rrnn"], 4.0, 4), "ekf": ("--", COLORS["ekf"], 2.0, 5),
          "brian2_adaptive": ("-", COLORS["network"], 2.2, 3), "brian2_fixed": ("-.", COLORS["fixed_gain"], 2.2, 2),
          "open_loop": ("-", COLORS["open_loop"], 2.2, 1)}


@dataclass(frozen=True)
class StartProblem:
    """Everything one run of the sweep needs besides its distance and seed.

    Attributes
    ----------
    model : GenerativeRNN
        The generator of the data and the model every decoder inverts.
    fixed_gain : ndarray, shape (N, m)
        K of the fixed-gain network (time-averaged filter gain).
    prior_variance : float
        c in cov0 = c·I, shared by every decoder (see the module notes).
    state_sd : float
        σ, the s.d. of the hidden state on the limit cycle.
    cycle : ndarray, shape (P, N)
        States along the limit cycle; true starts are drawn from them.
    n_steps, n_trials : int
        Samples per trial and noisy trials per start.
    """

    model: GenerativeRNN
    fixed_gain: np.ndarray
    prior_variance: float
    state_sd: float
    cycle: np.ndarray
    n_steps: int
    n_trials: int


@dataclass
class StartRun:
    """One wrong start decoded: true states (B, T, N), each decoder's estimate (B, T, N), the Euler factor."""

    states: np.ndarray
    estimates: dict[str, np.ndarray]
    max_euler_factor: float


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    problem = build_problem(seed=seed, fast=fast)
    distances = (1.0, 4.0) if fast else (1.0, 2.0, 3.0, 4.0)
    seeds = [seed + offset for offset in range(2 if fast else 8)]
    task = partial(_sweep_task, problem=problem)
    # Brian2's preferences are process-global, so runs must not overlap in threads of one process: the fast
    # sweep runs them one after another, the full one in worker processes.
    # Dask's bar has no label of its own.
    print(f"initial_conditions: decoding from {len(distances)} start distances × {len(seeds)} seeds", file=sys.stderr)
    with ProgressBar(out=sys.stderr):
        result = sweep(task, {"distance": list(distances)}, seeds=seeds,
                       scheduler="synchronous" if fast else "processes")
    curves = {name: np.array([record.pop(f"rmse_{name}") for record in result.records]) for name in DECODERS}
    result.to_json(out_dir / "sweep_records.json")
    result.to_csv(out_dir / "sweep_records.csv")
    time_in_tau = np.arange(1, problem.n_steps + 1) * problem.model.sample_interval / problem.model.tau
    arrays: dict[str, Any] = {"time_in_tau": time_in_tau, "distance": result.column("distance"),
                              "seed": result.column("seed"), **curves}
    write_atomically(out_dir / "rmse_curves.npz", lambda handle: np.savez(handle, **arrays))

    metrics = _metrics(problem, result.records, seed=seed, fast=fast)
    example = decode_from_wrong_start(problem, max(distances), seeds[0])
    _plot_rmse(out_dir / "initial_conditions_rmse.png", time_in_tau, curves, np.array(result.column("distance")),
               problem, metrics)
    _plot_time_to_tolerance(out_dir / "initial_conditions_time_to_tolerance.png", result.records, metrics)
    _plot_example(out_dir / "initial_conditions_example.png", time_in_tau, example, problem, max(distances))
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


# ------------------------------------------------------------------ setup
def build_problem(*, seed: int, fast: bool) -> StartProblem:
    """The model, its limit cycle, the shared prior and the fixed gain for one demo run."""
    n_hidden, n_obs = (6, 3) if fast else (8, 4)
    model = GenerativeRNN.oscillator(n_hidden, n_obs, sample_interval=0.00125, substeps=2, observation_noise=0.02,
                                     process_noise=0.05, seed=seed)
    burn_in, cycle_samples = round(2.0 / model.sample_interval), round(1.0 / model.sample_interval)
    start = np.random.default_rng(seed).standard_normal(n_hidden)
    cycle = model.run_open_loop(start, burn_in + cycle_samples)[burn_in:]
    averaging = {"n_steps": 800, "batch": 4, "burn_in": 200} if fast else {}
    return StartProblem(
        model=model,
        fixed_gain=average_filter_gain(model, seed=seed, **averaging),
        prior_variance=euler_safe_prior_variance(model),
        state_sd=float(cycle.std()),
        cycle=cycle,
        n_steps=round((0.4 if fast else 0.75) / model.sample_interval),
        n_trials=4 if fast else 8,
    )


# ------------------------------------------------------------------ decoding
def decode_from_wrong_start(problem: StartProblem, distance: float, seed: int) -> StartRun:
    """Simulate trials from a true start on the cycle and decode them from a start ``distance``·σ away.

    The seed fixes the true start, the direction of the error and the noise,
    so runs with the same seed differ only in the distance.
    """
    model, n = problem.model, problem.model.n_hidden
    rng = np.random.default_rng(seed)
    true_start = problem.cycle[rng.integers(len(problem.cycle))]
    direction = rng.standard_normal(n)
    # Scaled so that the root-mean-square error per unit is distance·σ.
    wrong_start = true_start + distance * problem.state_sd * np.sqrt(n) * direction / np.linalg.norm(direction)
    states, observations = model.simulate(problem.n_steps, batch=problem.n_trials, x0=true_start, seed=rng)
    cov0 = problem.prior_variance * np.eye(n)
    estimates = {
        "ukf": UKF(model).filter(observations, mean0=wrong_start, cov0=cov0).mean,
        "ekf": EKF(model).filter(observations, mean0=wrong_start, cov0=cov0).mean,
    }
    adaptive = run_brian2(compile_rrnn(model, gain_mode="adaptive", mean0=wrong_start, cov0=cov0), observations,
                          record="covariance")
    fixed = run_brian2(compile_rrnn(model, gain_mode="fixed", mean0=wrong_start, fixed_gain=problem.fixed_gain),
                       observations)
    assert isinstance(adaptive, FilterResult) and isinstance(fixed, FilterResult)  # what rRNN graphs give
    assert adaptive.cov is not None  # recorded
    estimates["brian2_adaptive"] = adaptive.mean
    estimates["brian2_fixed"] = fixed.mean
    estimates["open_loop"] = model.run_open_loop(np.broadcast_to(wrong_start, (problem.n_trials, n)),
                                                 problem.n_steps)
    # Read back from the network's own recorded μ and P: did forward Euler stay stable over the whole run?
    return StartRun(states, estimates, float(riccati_euler_factor(model, adaptive.mean, adaptive.cov).max()))


def _sweep_task(distance: float, seed: int, *, problem: StartProblem) -> dict:
    """One sweep run: times to tolerance and settled RMSE per decoder, plus the RMSE curves (as lists)."""
    start_run = decode_from_wrong_start(problem, distance, seed)
    record: dict[str, Any] = {"max_euler_factor": start_run.max_euler_factor}
    settled = slice(2 * problem.n_steps // 3, None)
    for name, estimate in start_run.estimates.items():
        curve = rmse_over_time(estimate, start_run.states) / problem.state_sd
        record[f"{name}_time_to_tolerance_tau"] = time_to_tolerance(curve, TOLERANCE, problem.model.sample_interval
                                                                    / problem.model.tau)
        record[f"{name}_settled_rmse_fraction_of_sd"] = float(np.sqrt(np.mean(curve[settled] ** 2)))
        record[f"rmse_{name}"] = curve.tolist()
    return record


def rmse_over_time(estimate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Root-mean-square error over trials and units at each sample, shape (T,)."""
    return np.sqrt(np.mean((estimate - truth) ** 2, axis=(0, 2)))


# ------------------------------------------------------------------ metrics
def _metrics(problem: StartProblem, records: list[dict], *, seed: int, fast: bool) -> dict:
    model = problem.model
    metrics = {
        "seed": seed,
        "fast": fast,
        "n_hidden": model.n_hidden,
        "n_obs": model.n_obs,
        "tau_s": model.tau,
        "sample_interval_s": model.sample_interval,
        "euler_step_s": model.step,
        "trial_duration_tau": problem.n_steps * model.sample_interval / model.tau,
        "n_starts": len(records),
        "n_trials_per_start": problem.n_trials,
        "distances_in_state_sd": sorted({record["distance"] for record in records}),
        "state_sd": problem.state_sd,
        "prior_variance": problem.prior_variance,
        "euler_factor_at_start_bound": EULER_SAFETY,
        "max_euler_factor": max(record["max_euler_factor"] for record in records),
        "tolerance_fraction_of_sd": TOLERANCE,
        "claim_time_constants": CLAIM_TIME_CONSTANTS,
    }
    for name in DECODERS:
        times = [record[f"{name}_time_to_tolerance_tau"] for record in records]
        reached = [time for time in times if time is not None]
        metrics[f"{name}_fraction_of_starts_reaching_tolerance"] = len(reached) / len(times)
        within_claim = [time for time in reached if time <= CLAIM_TIME_CONSTANTS]
        metrics[f"{name}_fraction_of_starts_within_claim"] = len(within_claim) / len(times)
        metrics[f"{name}_worst_time_to_tolerance_tau"] = max(reached) if len(reached) == len(times) else None
        metrics[f"{name}_median_time_to_tolerance_tau"] = float(np.median(reached)) if reached else None
        metrics[f"{name}_settled_rmse_fraction_of_sd"] = float(np.mean(
            [record[f"{name}_settled_rmse_fraction_of_sd"] for record in records]))
    metrics["claim_holds"] = bool(
        all(metrics[f"{name}_fraction_of_starts_within_claim"] == 1.0 for name in CLAIM_DECODERS)
        and metrics["open_loop_fraction_of_starts_within_claim"] == 0.0
        and metrics["max_euler_factor"] < 1.0
    )
    return metrics


# ------------------------------------------------------------------ figures
def _time_axis_label(model: GenerativeRNN) -> str:
    return rf"time since the wrong start (units of $\tau$ = {model.tau * 1e3:g} ms)"


def _claim_title(metrics: dict) -> str:
    """The claim, as the sweep measured it: how soon the Bayesian rRNN locks on, and how often the generator does."""
    worst = [metrics[f"{name}_worst_time_to_tolerance_tau"] for name in CLAIM_DECODERS]
    reaching = min(metrics[f"{name}_fraction_of_starts_reaching_tolerance"] for name in CLAIM_DECODERS)
    rrnn = rf"locks on within {max(worst):.1f} $\tau$" if None not in worst else f"locks on from {reaching:.0%}"
    reached = round(metrics["open_loop_fraction_of_starts_reaching_tolerance"] * metrics["n_starts"])
    return (f"From every wrong start the rRNN (UKF, EKF, Brian2 network) {rrnn};\n"
            f"the open-loop generator gets there from {reached or 'none'} of the {metrics['n_starts']} starts")


def _plot_rmse(path: Path, time_in_tau: np.ndarray, curves: dict, distances: np.ndarray,
               problem: StartProblem, metrics: dict) -> None:
    levels = np.unique(distances)
    n_columns = 2
    n_rows = int(np.ceil(levels.size / n_columns))
    with figure(path, n_rows, n_columns, size=(WIDTH, 4.3 * n_rows + 3.2), sharex=True, sharey=True,
                squeeze=False) as (fig, axes):
        for ax, level in zip(axes.flat, levels, strict=False):
            runs = distances == level
            for name in DECODERS:
                linestyle, colour, width, order = STYLES[name]
                runs_curves = curves[name][runs]
                ax.semilogy(time_in_tau, np.median(runs_curves, axis=0), linestyle, color=colour, label=LABELS[name],
                            linewidth=width, zorder=order)
                ax.fill_between(time_in_tau, runs_curves.min(axis=0), runs_curves.max(axis=0), color=colour,
                                alpha=0.1, linewidth=0)
            _reference_lines(ax, vertical=True)
            ax.set_title(rf"wrong start {level:g} $\sigma$ away ({runs.sum()} starts)")
        for ax in axes.flat[levels.size:]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(r"state RMSE / state s.d. $\sigma$")
        for ax in axes[-1]:
            ax.set_xlabel(_time_axis_label(problem.model))
        legend_below(fig, ncol=2)
        fig.suptitle(_claim_title(metrics))


def _reference_lines(ax: Axes, *, vertical: bool) -> None:
    """The tolerance, and the claim's time limit (on the time axis: x when ``vertical``, else y)."""
    claim = rf"claim: locked on within {CLAIM_TIME_CONSTANTS:g} $\tau$"
    if vertical:
        ax.axhline(TOLERANCE, color=COLORS["reference"], linestyle=":", linewidth=1.5,
                   label=rf"tolerance ({TOLERANCE:.0%} of $\sigma$)")
        ax.axvline(CLAIM_TIME_CONSTANTS, color=COLORS["reference"], linestyle="--", linewidth=1.5, label=claim)
    else:
        ax.axhline(CLAIM_TIME_CONSTANTS, color=COLORS["reference"], linestyle="--", linewidth=1.5, label=claim)


def _plot_time_to_tolerance(path: Path, records: list[dict], metrics: dict) -> None:
    levels = metrics["distances_in_state_sd"]
    width = 0.15
    duration = metrics["trial_duration_tau"]
    never = 1.12 * duration  # where "never within the trial" is drawn, above the trial's end
    with figure(path, size=(WIDTH, 7.5)) as (fig, ax):
        for offset, name in enumerate(DECODERS):
            colour = STYLES[name][1]
            position = np.arange(len(levels)) + (offset - (len(DECODERS) - 1) / 2) * width
            for index, level in enumerate(levels):
                times = [record[f"{name}_time_to_tolerance_tau"] for record in records if record["distance"] == level]
                shown = [never if time is None else time for time in times]
                ax.scatter(np.full(len(shown), position[index]), shown, s=70, color=colour, alpha=0.8,
                           marker="x" if None in times else "o", label=LABELS[name] if index == 0 else None)
        _reference_lines(ax, vertical=False)
        ticks = [tick for tick in ax.get_yticks() if 0 <= tick <= duration]
        ax.set_yticks([*ticks, never], [f"{tick:g}" for tick in ticks] + ["never"])
        ax.set_ylim(0, never * 1.06)
        ax.set_xticks(np.arange(len(levels)), [rf"{level:g} $\sigma$" for level in levels])
        ax.set_xlabel(r"distance of the wrong start (RMS per unit, in state s.d. $\sigma$)")
        ax.set_ylabel(rf"time to stay < {TOLERANCE:.0%} of $\sigma$ (units of $\tau$)")
        legend_below(fig, ncol=2)
        fig.suptitle(_claim_title(metrics))


def telling_trial(example: StartRun) -> tuple[int, int]:
    """The trial and hidden unit where the open-loop generator is farthest off over the last third of the run.

    Where a generator lands on the limit cycle in phase, open loop looks as good as decoding; the example shows
    the trial where it does not, chosen from the data.
    """
    last = slice(2 * example.states.shape[1] // 3, None)
    miss = np.sqrt(np.mean((example.estimates["open_loop"][:, last] - example.states[:, last]) ** 2, axis=1))
    trial, unit = np.unravel_index(np.argmax(miss), miss.shape)
    return int(trial), int(unit)


def _plot_example(path: Path, time_in_tau: np.ndarray, example: StartRun, problem: StartProblem,
                  distance: float) -> None:
    trial, unit = telling_trial(example)
    truth = example.states[trial]
    errors = {name: np.sqrt(np.mean((estimate[trial] - truth) ** 2, axis=-1)) / problem.state_sd
              for name, estimate in example.estimates.items()}
    with figure(path, 2, 1, size=(WIDTH, 9), sharex=True) as (fig, axes):
        # Wider than every estimate, so that it shows as their outline once they lock on.
        axes[0].plot(time_in_tau, truth[:, unit], color=COLORS["truth"], linewidth=7, label="true state", zorder=1)
        for name in DECODERS:
            linestyle, colour, width, order = STYLES[name]
            axes[0].plot(time_in_tau, example.estimates[name][trial, :, unit], linestyle, color=colour,
                         linewidth=width, zorder=order)
            axes[1].semilogy(time_in_tau, errors[name], linestyle, color=colour, linewidth=width, zorder=order,
                             label=LABELS[name])
        axes[0].set_ylabel(f"hidden unit $x_{{{unit + 1}}}$ (a.u.)")
        axes[1].axhline(TOLERANCE, color=COLORS["reference"], linestyle=":", linewidth=1.5,
                        label=rf"tolerance ({TOLERANCE:.0%} of $\sigma$)")
        axes[1].set_ylabel(r"state error / $\sigma$ (all units)")
        axes[1].set_xlabel(_time_axis_label(problem.model))
        legend_below(fig, ncol=3)
        settled = time_to_tolerance(errors["ukf"], TOLERANCE, problem.model.sample_interval / problem.model.tau)
        locked = "never locks on" if settled is None else rf"locks on after {settled:.1f} $\tau$"
        fig.suptitle(rf"Trial {trial + 1}, wrong start {distance:g} $\sigma$ away: the rRNN (UKF) {locked};"
                     f"\nthe open-loop generator is still {errors['open_loop'][-1]:.1f} $\\sigma$ off at the end")
