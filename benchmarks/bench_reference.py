"""The numpy reference backend (the graph run as message passing) against the numpy ContinuousFilter.

Both integrate the same equations at the same Euler step on the same data
(a tanh oscillator, m = 3, Δ = 5 ms, 4 Euler steps per sample); the ratio is
the price of running the filter as a network of units and messages in numpy.
Best of 3 after one warm-up call.

    python benchmarks/bench_reference.py [--sizes 8 20] [--samples 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rrnn_net import ContinuousFilter, GenerativeRNN
from rrnn_net.backends import run
from rrnn_net.graph import compile_rrnn

BATCHES = (1, 16)


def best_time(function, *args, repeats: int = 3, **kwargs) -> float:
    function(*args, **kwargs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 20])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print("| N | gain | batch | reference (s) | ContinuousFilter (s) | ratio | max abs Δμ |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n_hidden in args.sizes:
        # The Brian2 benchmark's model: process noise 1/s keeps the Euler-integrated Riccati equation definite.
        model = GenerativeRNN.oscillator(n_hidden, 3, substeps=4, observation_noise=0.05, process_noise=1.0,
                                         sample_interval=0.005, seed=1)
        cov0 = 0.05 * np.eye(n_hidden)
        numpy_filter = ContinuousFilter(model)
        for gain in ("adaptive", "fixed"):
            graph = compile_rrnn(model, gain_mode=gain, cov0=cov0) if gain == "adaptive" else compile_rrnn(
                model, gain_mode="fixed")
            for batch in BATCHES:
                y = model.simulate(args.samples, batch=batch, seed=1)[1]
                network = best_time(run, graph, y, backend="reference")
                if gain == "adaptive":
                    peer = best_time(numpy_filter.filter, y, cov0=cov0)
                    error = np.abs(run(graph, y, backend="reference").mean - numpy_filter.filter(y, cov0=cov0).mean)
                    print(f"| {n_hidden} | {gain} | {batch} | {network:.3f} | {peer:.3f} | {network / peer:.1f}× "
                          f"| {error.max():.1e} |", flush=True)
                else:
                    print(f"| {n_hidden} | {gain} | {batch} | {network:.3f} | – | – | – |", flush=True)


if __name__ == "__main__":
    main()
