"""Lesion demo: which connections of the rRNN matter — a lesion map of decoding and recognition.

A limit-cycle GenerativeRNN (the true model) and a second one (a competitor,
another seed) are compiled into adaptive-gain rRNN graphs. Every connection
class (edge kind) of both networks is removed (scale 0) or scaled
(:func:`~rrnn_net.graph.lesion`), and the lesioned networks decode trials
simulated from both models on the reference backend (numpy, all trials in
one batch). Per lesion:

* state RMSE: each network's posterior mean against the true hidden state on
  its own model's trials (after the first quarter of every trial), relative
  to the intact networks;
* evidence accuracy: the fraction of trials whose generating model's network
  accumulates more evidence than the other network (ties count one half:
  0.5 is chance, all ties, or every trial given to the same model);
* the parts of the filter that the lesion puts at odds
  (:func:`~rrnn_net.graph.consistency`).

A lesion can make forward Euler on the covariance unstable: a network whose
start is already unstable is refused, one that diverges on the way stops;
both are reported, not hidden. The prior is a quarter of the Euler limit, so
that no single class scaled by 1.5 is refused. Writes ``lesions.png`` (two
heat maps, connection class × scale) and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..backends.reference import run_reference
from ..errors import DivergenceError, UnstableSettingError
from ..filters import FilterResult
from ..filters.stability import euler_safe_prior_variance
from ..graph import EDGE_KINDS, compile_rrnn, consistency, lesion
from ..model import GenerativeRNN
from .plotting import WIDTH, figure, legend_below, write_metrics

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

PRIOR_SAFETY = 0.25  # h·λ_max(P₀ Gᵀ Λ G) at the start: a class scaled by 1.5 raises it at most 2.25-fold
# One-letter tags of the filter's parts for the figure's row labels.
PART_TAGS = {"dynamics": "D", "likelihood": "L", "correction": "C", "covariance propagation": "P"}
_FAILED_COLOUR = "0.82"


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    n_hidden, n_obs = 4, 2
    n_trials, n_steps = (4, 32) if fast else (32, 400)
    scales = (0.0, 1.5) if fast else (0.0, 0.5, 1.5)
    models = [GenerativeRNN.oscillator(n_hidden, n_obs, seed=seed + offset) for offset in (0, 1)]
    simulated = [model.simulate(n_steps, batch=n_trials, seed=seed + 2 + index) for index, model in enumerate(models)]
    states = [trial_states for trial_states, _ in simulated]
    observations = np.concatenate([trial_observations for _, trial_observations in simulated])
    graphs = [compile_rrnn(model, cov0=euler_safe_prior_variance(model, PRIOR_SAFETY) * np.eye(n_hidden))
              for model in models]

    intact = _score(graphs, observations, states)
    present = {kind for *_, kind in graphs[0].edges(data="kind")}
    kinds = [kind for kind in EDGE_KINDS if kind in present]
    lesions: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in kinds:
        lesions[kind] = {}
        for scale in scales:
            lesioned = [lesion(G, edges=kind, scale=scale) for G in graphs]
            score = _score(lesioned, observations, states)
            if score["rmse"] is not None:
                score["rmse_relative"] = score["rmse"] / intact["rmse"]
            lesions[kind][f"{scale:g}"] = score
    metrics = {
        "seed": seed,
        "fast": fast,
        "n_hidden": n_hidden,
        "n_obs": n_obs,
        "n_trials_per_model": n_trials,
        "n_steps": n_steps,
        "sample_interval_s": models[0].sample_interval,
        "scales": list(scales),
        "state_std": float(np.std(states[0])),
        "intact": intact,
        "lesions": lesions,
        # The parts of the filter whose copies a lesion of the class puts at odds (the same for every scale ≠ 1).
        "parts": {kind: list(consistency(lesion(graphs[0], edges=kind, scale=0.5)).parts) for kind in kinds},
    }
    _plot(out_dir / "lesions.png", metrics)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _score(graphs: list[nx.DiGraph], observations: np.ndarray, states: list[np.ndarray]) -> dict:
    """State RMSE (each network on its own model's trials, after settling) and evidence accuracy of a bank.

    ``observations`` holds the trials of every model in turn, ``states[i]`` the hidden states of model i's.
    """
    results: list[FilterResult] = []
    try:
        for G in graphs:
            result = run_reference(G, observations)
            assert isinstance(result, FilterResult)  # what an rRNN graph gives
            results.append(result)
    except DivergenceError:
        return {"rmse": None, "evidence_accuracy": None, "status": "diverged"}
    except UnstableSettingError:
        return {"rmse": None, "evidence_accuracy": None, "status": "unstable start"}
    n_trials, n_steps = states[0].shape[:2]
    settled = slice(n_steps // 4, None)
    errors = [results[index].mean[index * n_trials:(index + 1) * n_trials, settled] - truth[:, settled]
              for index, truth in enumerate(states)]
    evidence = np.stack([result.total_loglik for result in results], axis=1)  # (trials, models)
    own, other = np.repeat(np.arange(len(graphs)), n_trials), np.repeat(np.arange(len(graphs))[::-1], n_trials)
    trials = np.arange(evidence.shape[0])
    margin = evidence[trials, own] - evidence[trials, other]
    return {"rmse": float(np.sqrt(np.mean(np.concatenate(errors) ** 2))),
            "evidence_accuracy": float(np.mean((margin > 0) + 0.5 * (margin == 0))), "status": "ran"}


def _plot(path: Path, metrics: dict) -> None:
    """Two heat maps, connection class × scale: state RMSE relative to intact, and evidence accuracy."""
    kinds, scales = list(metrics["lesions"]), [f"{scale:g}" for scale in metrics["scales"]]
    cells = [[metrics["lesions"][kind][scale] for scale in scales] for kind in kinds]
    ratio = np.array([[cell.get("rmse_relative", np.nan) for cell in row] for row in cells], dtype=float)
    accuracy = np.array([[np.nan if cell["evidence_accuracy"] is None else cell["evidence_accuracy"]
                          for cell in row] for row in cells])
    with figure(path, 1, 2, size=(WIDTH, 0.42 * len(kinds) + 3.8), sharey=True) as (fig, axes):
        # Symmetric on a log axis, so that "no change" (1) is the white centre of the diverging map.
        finite = ratio[np.isfinite(ratio)]
        spread = max(float(np.max(np.abs(np.log10(finite)))) if finite.size else 1.0, 0.1)
        _heat_map(fig, axes[0], ratio, cells, "RdBu_r", LogNorm(10 ** -spread, 10 ** spread), "×{:.2g}",
                  "state RMSE, lesioned / intact (ratio)")
        axes[0].set_title(f"decoding error (intact {metrics['intact']['rmse']:.2g})")
        _heat_map(fig, axes[1], accuracy, cells, "RdBu", None, "{:.2f}", "trials won by the true model (fraction)",
                  limits=(0.0, 1.0))
        axes[1].set_title(f"evidence accuracy (intact {metrics['intact']['evidence_accuracy']:.2f})")
        axes[0].set_yticks(range(len(kinds)), [f"{kind} [{''.join(PART_TAGS[part] for part in metrics['parts'][kind])}]"
                                               for kind in kinds])
        for ax in axes:
            ax.set_xticks(range(len(scales)), ["removed" if scale == "0" else f"× {scale}" for scale in scales])
            ax.set_xlabel("weight scale of the class")
        axes[0].set_ylabel("connection class [parts at odds]")
        tags = [Line2D([], [], linestyle="", label=f"{tag} {part}") for part, tag in PART_TAGS.items()]
        failed = Patch(color=_FAILED_COLOUR, label="refused (unstable start) or diverged")
        legend_below(fig, [*tags, failed], ncol=3).set_title("parts at odds:")
        fig.suptitle(_claim(metrics))


def _claim(metrics: dict) -> str:
    """What removing a connection class does, from the map's first column (for the title)."""
    removed = [metrics["lesions"][kind]["0"] for kind in metrics["lesions"]]
    ratios = [cell["rmse_relative"] for cell in removed if "rmse_relative" in cell]
    accuracy = [cell["evidence_accuracy"] for cell in removed if cell["evidence_accuracy"] is not None]
    n_hidden, n_obs = metrics["n_hidden"], metrics["n_obs"]
    return (f"Lesion map of the adaptive rRNN (N = {n_hidden}, m = {n_obs}): removing one connection class scales "
            f"the\ndecoding error ×{min(ratios):.2g} to ×{max(ratios):.2g}; the true model's evidence wins "
            f"{min(accuracy):.0%} to {max(accuracy):.0%} of trials")


def _heat_map(fig: Figure, ax: Axes, values: np.ndarray, cells: list[list[dict]], colour_map: str,
              norm: Normalize | None, text: str, label: str, limits: tuple[float, float] | None = None) -> None:
    """One annotated heat map (rows = connection classes, columns = scales) with its colour bar."""
    ax.set_facecolor(_FAILED_COLOUR)  # failed cells are NaN and show the background
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colour_map, norm=norm, aspect="auto",
                      vmin=limits[0] if limits else None, vmax=limits[1] if limits else None)
    for (row, col), value in np.ndenumerate(values):
        if np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            shade = "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"
            ax.text(col, row, text.format(value), ha="center", va="center", color=shade)
        else:
            status = cells[row][col]["status"]
            ax.text(col, row, "refused" if status == "unstable start" else status, ha="center", va="center",
                    color="0.25")
    bar = fig.colorbar(image, ax=ax, label=label, fraction=0.08, pad=0.03)
    if isinstance(norm, LogNorm):  # ratios as "×2" at 1-2-5 steps, not as powers of ten
        low, high = norm.vmin, norm.vmax
        assert low is not None and high is not None  # the caller's norm has both limits
        ticks = [tick for tick in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if low <= tick <= high]
        bar.set_ticks(ticks, labels=[f"×{tick:g}" for tick in ticks])
        bar.minorticks_off()
    ax.spines[:].set_visible(False)
