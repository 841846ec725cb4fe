"""Brian2 backend speed against the numpy ContinuousFilter, per target, network size and gain mode.

For N in {8, 20, 40}, adaptive and fixed gain, 2 s simulated at dt = Δ/4 (a
tanh oscillator, m = 3, Δ = 5 ms), each target runs in a fresh process and
reports

* build: network construction, code generation and compilation of the first
  call (cold compile when the cache root is new; Cython reuses its objects
  across N, standalone compiles each size),
* run: the simulation loop as Brian2 times it, on a warm second call with new
  observations (standalone: inside the binary),
* call: that whole warm ``run_brian2`` call (validation and, on runtime
  targets, the network construction included),
* the same for a batch of 16 trials, per trial, and its share of the single
  trial's time (the goal is <= 1/4),
* peak resident memory of the Python process and of its children (compilers
  and the standalone binary),

next to the numpy ContinuousFilter on the same data, and prints ratios. A
``*`` after the call time marks a call that reused the loaded network
(runtime targets: new weights and observations loaded into it) or binary
(standalone).

Usage::

    python benchmarks/bench_brian2.py            # full table (~10 min with a cold cache on 2 cores)
    python benchmarks/bench_brian2.py --quick    # N = 8 only, 0.5 s simulated
    python benchmarks/bench_brian2.py --cache-root /tmp/bench_cache   # keep compiled code between runs
    python benchmarks/bench_brian2.py --sizes 40 --gains adaptive     # the warm-call goal only
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SAMPLE_INTERVAL = 0.005
TARGETS = ("numpy", "cython", "cpp_standalone")
GAINS = ("adaptive", "fixed")
BATCH = 16


# ------------------------------------------------------------------ worker
def _model(n_hidden: int):
    from rrnn_net import GenerativeRNN

    # Process noise 1/s keeps the Euler-integrated Riccati equation positive definite up to N = 40 here
    # (at 0.05/s the numpy filter repairs P at N = 40 and the unrepaired network drifts away from it).
    return GenerativeRNN.oscillator(n_hidden, 3, substeps=4, observation_noise=0.05, process_noise=1.0,
                                    sample_interval=SAMPLE_INTERVAL, seed=1)


def _best_time(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _timed_call(graph, y: np.ndarray, target: str, cache: Path) -> tuple[float, object]:
    """Wall time and result of one ``run_brian2`` call; compiled code goes under ``cache``."""
    from rrnn_net.backends import run_brian2

    directories = {"cython": cache / "cython",
                   "cpp_standalone": cache / "standalone" / f"{graph.graph['gain_mode']}_N{graph.graph['n_hidden']}"
                                                            f"_B{y.shape[0]}"}
    start = time.perf_counter()
    result = run_brian2(graph, y, target=target, build_dir=directories.get(target))
    return time.perf_counter() - start, result


def worker(n_hidden: int, gain: str, target: str, n_samples: int, cache: Path) -> dict:
    """Measure one (N, gain, target) configuration in this process; returns a JSON-able dict."""
    from rrnn_net import ContinuousFilter
    from rrnn_net.graph import compile_rrnn

    model = _model(n_hidden)
    cov0 = 0.05 * np.eye(n_hidden)
    graph = compile_rrnn(model, gain_mode=gain, cov0=cov0) if gain == "adaptive" else compile_rrnn(model,
                                                                                                   gain_mode="fixed")
    y = [model.simulate(n_samples, batch=batch, seed=seed)[1] for batch, seed in ((1, 2), (1, 3), (BATCH, 4))]
    reference = ContinuousFilter(model)
    numpy_single = _best_time(lambda: reference.filter(y[1], cov0=cov0))
    numpy_batch = _best_time(lambda: reference.filter(y[2], cov0=cov0))
    _, first = _timed_call(graph, y[0], target, cache)
    warm_wall, warm = _timed_call(graph, y[1], target, cache)
    _timed_call(graph, y[2], target, cache)  # builds (standalone) or compiles the batch-shaped input
    batch_wall, batch = _timed_call(graph, y[2], target, cache)
    error = None
    if gain == "adaptive":
        expected = reference.filter(y[1], cov0=cov0)
        error = np.abs(warm.mean - expected.mean).max() if not expected.n_psd_repairs.any() else np.nan
    return {
        "N": n_hidden, "gain": gain, "target": target,
        "build_s": first.extras["build_seconds"],
        "run_s": warm.extras["run_seconds"], "call_s": warm_wall, "rebuilt": warm.extras["rebuilt"],
        "batch_run_s": batch.extras["run_seconds"], "batch_call_s": batch_wall,
        "numpy_s": numpy_single, "numpy_batch_s": numpy_batch,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "max_abs_dmu": None if error is None else float(error),
    }


# ------------------------------------------------------------------ driver
def measure(n_hidden: int, gain: str, target: str, n_samples: int, cache: Path) -> dict:
    """Run :func:`worker` in a fresh interpreter (peak memory and Brian2 device state of its own)."""
    command = [sys.executable, __file__, "--worker", str(n_hidden), gain, target, str(n_samples), str(cache)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode:
        raise RuntimeError(f"worker {n_hidden} {gain} {target} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def format_row(row: dict) -> str:
    run_per_trial, call_per_trial = row["batch_run_s"] / BATCH, row["batch_call_s"] / BATCH
    error = "" if row["max_abs_dmu"] is None else f"{row['max_abs_dmu']:.0e}"  # nan: the numpy filter repaired P
    reused = "" if row["rebuilt"] else "*"
    cells = [f"{row['N']:>2}", f"{row['gain']:<8}", f"{row['target']:<14}", f"{row['build_s']:6.1f}",
             f"{row['run_s']:6.3f}", f"{row['call_s']:6.3f}{reused}", f"{row['numpy_s']:6.3f}",
             f"{row['run_s'] / row['numpy_s']:5.1f}", f"{row['call_s'] / row['numpy_s']:5.1f}",
             f"{run_per_trial:7.4f}", f"{run_per_trial / row['run_s']:4.2f}", f"{call_per_trial:6.3f}",
             f"{call_per_trial / row['call_s']:4.2f}", f"{row['numpy_batch_s'] / BATCH:6.4f}",
             f"{row['peak_mb']:4.0f}", f"{row['children_peak_mb']:4.0f}", f"{error:>5}"]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "|  N | gain     | target         | build s | run s | call s | numpy s | run/np | call/np "
    "| B16 run/trial s | share | B16 call/trial s | share | numpy B16/trial s | peak MB | child MB | max abs dmu |\n"
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def goals(rows: list[dict]) -> list[str]:
    """The goals: loop and warm call on the best target at the largest N, batch-16 per-trial share <= 1/4."""
    largest = max(row["N"] for row in rows)
    lines = []
    adaptive = [row for row in rows if row["N"] == largest and row["gain"] == "adaptive"]
    if adaptive:
        best = min(adaptive, key=lambda row: row["call_s"] / row["numpy_s"])
        ratio = best["call_s"] / best["numpy_s"]
        lines.append(f"adaptive gain, N={largest}: warm run_brian2 call on the best target {best['target']} takes "
                     f"{ratio:.2f}x the numpy filter (goal <= 3x): {'met' if ratio <= 3 else 'NOT met'}")
    for gain, limit in (("fixed", 3.0), ("adaptive", 6.0)):
        candidates = [row for row in rows if row["N"] == largest and row["gain"] == gain]
        if candidates:
            best = min(candidates, key=lambda row: row["run_s"])
            ratio = best["run_s"] / best["numpy_s"]
            verdict = "met" if ratio <= limit else "NOT met"
            lines.append(f"{gain} gain, N={largest}: best target {best['target']} runs at {ratio:.2f}x the numpy "
                         f"filter (goal <= {limit:g}x): {verdict}")
    for row in rows:
        shares = [row["batch_run_s"] / BATCH / row["run_s"], row["batch_call_s"] / BATCH / row["call_s"]]
        if min(shares) > 0.25:
            lines.append(f"batch-16 per-trial share > 1/4 at N={row['N']} {row['gain']} {row['target']}: "
                         f"run {shares[0]:.2f}, call {shares[1]:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 8 only, 0.5 s simulated")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated subset of " + ", ".join(TARGETS))
    parser.add_argument("--sizes", help="comma-separated N (default 8,20,40; --quick: 8)")
    parser.add_argument("--gains", default=",".join(GAINS), help="comma-separated subset of " + ", ".join(GAINS))
    parser.add_argument("--cache-root", type=Path, help="keep Cython objects and standalone projects here")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        n_hidden, gain, target, n_samples, cache = args.worker
        print(json.dumps(worker(int(n_hidden), gain, target, int(n_samples), Path(cache))))
        return
    sizes, n_samples = ((8,), 100) if args.quick else ((8, 20, 40), 400)
    if args.sizes:
        sizes = tuple(int(size) for size in args.sizes.split(","))
    cache = args.cache_root or Path(tempfile.mkdtemp(prefix="rrnn_bench_"))
    print(f"{n_samples * SAMPLE_INTERVAL:g} s simulated at step h = {SAMPLE_INTERVAL / 4 * 1e3:g} ms, batch {BATCH}, "
          f"caches under {cache}\n")
    print(HEADER, flush=True)
    rows = []
    try:
        for gain in args.gains.split(","):
            for target in args.targets.split(","):
                for n_hidden in sizes:
                    rows.append(measure(n_hidden, gain, target, n_samples, cache))
                    print(format_row(rows[-1]), flush=True)
    finally:
        if args.cache_root is None:
            shutil.rmtree(cache, ignore_errors=True)
    print()
    print("\n".join(goals(rows)))


if __name__ == "__main__":
    main()
