"""Topology demo: the rRNN as an explicit network — compile, summarise, draw and export it.

One limit-cycle GenerativeRNN is compiled three ways: the adaptive-gain rRNN
(the full Bayesian filter, covariance units included), the fixed-gain rRNN
(a time-averaged gain K, prediction and error units only) and, for comparison,
a conventional input-driven RNN (an echo-state reservoir with a ridge readout
trained to output the hidden state from the observations). Each graph is
drawn (``<name>.png``), written as GraphML and node-link JSON for external
tools (Gephi, Cytoscape, yEd, ``networkx``), read back and compared, and
summarised into ``metrics.json`` (units and connections per kind,
multiplicative units, the locality check). ``topology_scaling.png`` counts
units and connections of graphs compiled for growing N: O(N³) connections for
the adaptive form, O(N²) for the fixed-gain form and the baseline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.ticker import NullLocator

from ..baseline import InputDrivenRNN
from ..filters import average_filter_gain
from ..graph import GraphSummary, compile_baseline, compile_rrnn, draw, summarize
from ..graph.io import FORMATS, load_graph, save_graph
from ..model import GenerativeRNN
from .plotting import COLORS, WIDTH, figure, legend_below, write_metrics

N_HIDDEN, N_OBS = 4, 2  # small enough that every unit and connection can be drawn and labelled
GRAPH_COLORS = {"rrnn_adaptive": COLORS["rrnn"], "rrnn_fixed": COLORS["fixed_gain"], "baseline": COLORS["baseline"]}
GRAPH_LABELS = {"rrnn_adaptive": "rRNN, adaptive gain", "rrnn_fixed": "rRNN, fixed gain",
                "baseline": "conventional RNN (reservoir)"}


def run(out_dir: Path, *, seed: int = 0, fast: bool = False) -> dict:
    """Run the demo; returns the metrics written to ``out_dir/metrics.json``."""
    model = GenerativeRNN.oscillator(N_HIDDEN, N_OBS, seed=seed)
    graphs = _compile_all(model, seed=seed, fast=fast)
    metrics: dict[str, Any] = {
        "seed": seed,
        "fast": fast,
        "model": {"n_hidden": model.n_hidden, "n_obs": model.n_obs, "tau_s": model.tau,
                  "sample_interval_s": model.sample_interval},
        "graphs": {name: _export(G, name, out_dir) for name, G in graphs.items()},
    }
    sizes = (2, 4, 8) if fast else (2, 4, 8, 16, 32)
    metrics["scaling"] = _scaling(sizes, N_OBS)
    _plot_scaling(out_dir / "topology_scaling.png", metrics["scaling"], N_OBS)
    write_metrics(metrics, out_dir / "metrics.json")
    return metrics


def _compile_all(model: GenerativeRNN, *, seed: int, fast: bool) -> dict[str, nx.DiGraph]:
    """The adaptive and fixed-gain rRNNs of ``model`` and a reservoir trained to decode its state."""
    # The fast variant averages the fixed gain over less simulated data; the topology does not change.
    averaging = {"n_steps": 400, "batch": 2, "burn_in": 100} if fast else {}
    fixed_gain = average_filter_gain(model, seed=seed, **averaging)
    return {
        "rrnn_adaptive": compile_rrnn(model, gain_mode="adaptive"),
        "rrnn_fixed": compile_rrnn(model, gain_mode="fixed", fixed_gain=fixed_gain),
        "baseline": compile_baseline(_trained_reservoir(model, seed=seed, fast=fast)),
    }


def _trained_reservoir(model: GenerativeRNN, *, seed: int, fast: bool) -> InputDrivenRNN:
    """A reservoir with as many hidden units as the model, its readout fitted to the model's hidden state."""
    states, observations = model.simulate(200 if fast else 1000, batch=4, seed=seed + 1)
    reservoir = InputDrivenRNN.reservoir(model.n_obs, model.n_hidden, model.n_hidden, tau=model.tau,
                                         sample_interval=model.sample_interval, seed=seed + 2)
    return reservoir.fit_readout(observations, states, ridge=1e-3, washout=50)


def _export(G: nx.DiGraph, name: str, out_dir: Path) -> dict:
    """Draw ``G``, write it in every graph format, check each file reads back equal, and summarise it."""
    summary = summarize(G)
    files = [draw(G, out_dir / f"{name}.png", title=_title(summary, name)).name]
    roundtrip_equal = True
    for suffix in FORMATS:
        path = out_dir / f"{name}{suffix}"
        save_graph(G, path)
        roundtrip_equal &= nx.utils.graphs_equal(G, load_graph(path))
        files.append(path.name)
    return {**_summary_metrics(summary), "files": files, "files_read_back_equal": bool(roundtrip_equal)}


def _title(summary: GraphSummary, name: str) -> str:
    product = f", {summary.n_product_units} multiplicative" if summary.n_product_units else ""
    return (f"{GRAPH_LABELS[name]}: {summary.n_nodes} units, {summary.n_edges} connections{product}\n"
            f"(N = {summary.graph_attributes['n_hidden']} hidden units; locality check: "
            f"{'passed' if summary.is_local else 'FAILED'})")


def _summary_metrics(summary: GraphSummary) -> dict:
    return {
        "n_units": summary.n_nodes,
        "n_connections": summary.n_edges,
        "n_multiplicative_units": summary.n_product_units,
        "units_per_kind": dict(summary.node_counts),
        "connections_per_kind": dict(summary.edge_counts),
        "locality_ok": summary.is_local,
        "n_locality_violations": len(summary.locality_violations),
    }


def _scaling(sizes: tuple[int, ...], n_obs: int) -> dict:
    """Units and connections of each graph form for every N in ``sizes`` (m = ``n_obs`` channels)."""
    counts = {"n_hidden": list(sizes)}
    for n_hidden in sizes:
        model = GenerativeRNN.oscillator(n_hidden, n_obs, seed=0)
        # Counts do not depend on the weights, so a zero gain and an untrained readout stand in for real ones.
        graphs = {
            "rrnn_adaptive": compile_rrnn(model, gain_mode="adaptive"),
            "rrnn_fixed": compile_rrnn(model, gain_mode="fixed", fixed_gain=np.zeros((n_hidden, n_obs))),
            "baseline": compile_baseline(InputDrivenRNN.reservoir(n_obs, n_hidden, n_hidden, tau=model.tau,
                                                                  sample_interval=model.sample_interval, seed=0)),
        }
        for name, G in graphs.items():
            counts.setdefault(f"{name}_units", []).append(G.number_of_nodes())
            counts.setdefault(f"{name}_connections", []).append(G.number_of_edges())
    return counts


def _plot_scaling(path: Path, counts: dict, n_obs: int) -> None:
    """Units and connections of each graph form against N, with N² and N³ for reference."""
    sizes = np.asarray(counts["n_hidden"])
    with figure(path, 1, 2, size=(WIDTH, 7)) as (fig, axes):
        for ax, quantity in zip(axes, ("units", "connections"), strict=True):
            for name, label in GRAPH_LABELS.items():
                ax.loglog(sizes, counts[f"{name}_{quantity}"], "o-", color=GRAPH_COLORS[name], label=label)
            ax.set_xlabel("hidden (state) units $N$")
        axes[0].set_ylabel("units (neurons)")
        axes[1].set_ylabel("connections (synapses)")
        # Reference slopes anchored at the largest N, where the leading power dominates.
        axes[1].loglog(sizes, counts["rrnn_adaptive_connections"][-1] * (sizes / sizes[-1]) ** 3, ":",
                       color=COLORS["reference"], label=r"$\propto N^3$")
        axes[1].loglog(sizes, counts["rrnn_fixed_connections"][-1] * (sizes / sizes[-1]) ** 2, "--",
                       color=COLORS["reference"], label=r"$\propto N^2$")
        for ax in axes:  # after every loglog call, each of which resets the tick locators
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(sizes, [str(n) for n in sizes])
        legend_below(fig, ncol=3)
        largest = f"$N$ = {sizes[-1]}"
        fig.suptitle(f"The adaptive rRNN's connections grow as $N^3$, the fixed-gain rRNN's as $N^2$: at {largest}, "
                     f"{counts['rrnn_adaptive_connections'][-1]:,}\nvs {counts['rrnn_fixed_connections'][-1]:,} "
                     f"connections ($m$ = {n_obs} observed channels)")
