"""Compile time, graph size and memory of the rRNN compiler at N = 10, 20, 40 (adaptive and fixed gain).

Run: ``python benchmarks/bench_compile.py``. Times are the best of ``--repeats``
runs without tracing; memory is the tracemalloc peak of one separate run (the
Python objects of the graph: networkx dicts, attribute dicts, strings).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import networkx as nx

from rrnn_net import GenerativeRNN
from rrnn_net.filters import average_filter_gain
from rrnn_net.graph import compile_rrnn, validate_graph
from rrnn_net.graph.io import graph_to_bytes


def best_time(function: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def peak_megabytes(function: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(label: str, build: Callable[[], nx.DiGraph], repeats: int) -> dict:
    G = build()
    return {
        "graph": label, "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
        "compile_s": best_time(build, repeats), "peak_MB": peak_megabytes(build),
        "validate_s": best_time(lambda: validate_graph(G), repeats),
        "graphml_MB": len(graph_to_bytes(G, "graphml")) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 40], help="numbers of state units N")
    parser.add_argument("--n-obs", type=int, default=4, help="observed channels m")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        model = GenerativeRNN.oscillator(n, args.n_obs, seed=0)
        gain = average_filter_gain(model)
        rows.append(measure(f"adaptive N={n}", lambda model=model: compile_rrnn(model), args.repeats))
        rows.append(measure(f"fixed N={n} (K given)",
                            lambda model=model, gain=gain: compile_rrnn(model, gain_mode="fixed", fixed_gain=gain),
                            args.repeats))
        # The default gain runs the continuous filter on simulated data (GAIN_AVERAGE_DEFAULTS): once is enough.
        rows.append(measure(f"fixed N={n} (K averaged)", lambda model=model: compile_rrnn(model, gain_mode="fixed"), 1))
    print(f"m = {args.n_obs} observed channels; compile_s = best of {args.repeats}")
    header = f"{'graph':<26}{'nodes':>8}{'edges':>9}{'compile_s':>11}{'peak_MB':>9}{'validate_s':>12}{'graphml_MB':>12}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['graph']:<26}{row['nodes']:>8}{row['edges']:>9}{row['compile_s']:>11.4f}{row['peak_MB']:>9.1f}"
              f"{row['validate_s']:>12.4f}{row['graphml_MB']:>12.2f}")


if __name__ == "__main__":
    main()
