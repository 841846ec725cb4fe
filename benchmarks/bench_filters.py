"""Throughput of the batched numpy decoders against filterpy, measured side by side.

Model: GenerativeRNN.oscillator(N=20, m=6), T=1000 samples. Prints trial-steps
per second for filterpy's UnscentedKalmanFilter (one filter, the only way it
runs) and for our UKF (additive), augmented UKF, EKF and ContinuousFilter at
batch 1 and batch 64, with the ratio to filterpy.

    python benchmarks/bench_filters.py [--steps 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rrnn_net import EKF, UKF, ContinuousFilter, GenerativeRNN


def best_seconds(function, repeats: int) -> float:
    """Fastest of ``repeats`` runs (least disturbed by other load)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def filterpy_seconds(model: GenerativeRNN, y: np.ndarray, repeats: int) -> float | None:
    try:
        from filterpy.kalman import MerweScaledSigmaPoints, UnscentedKalmanFilter
    except ImportError:
        return None

    def run() -> None:
        points = MerweScaledSigmaPoints(model.n_hidden, alpha=1.0, beta=2.0, kappa=0.0)
        ukf = UnscentedKalmanFilter(model.n_hidden, model.n_obs, model.sample_interval, hx=model.observe,
                                    fx=lambda x, dt: model.transition(x), points=points)
        ukf.x, ukf.P = np.zeros(model.n_hidden), np.eye(model.n_hidden)
        ukf.Q, ukf.R = model.Q * model.sample_interval, model.R.copy()
        for sample in y:
            ukf.predict()
            ukf.update(sample)

    return best_seconds(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model = GenerativeRNN.oscillator(20, 6, seed=0)
    continuous_model = model.replace(R=0.05 * np.eye(6))
    _, y = model.simulate(args.steps, batch=64, seed=1)
    _, y_continuous = continuous_model.simulate(args.steps, batch=64, seed=1)
    filterpy_time = filterpy_seconds(model, y[0], args.repeats)
    reference = args.steps / filterpy_time if filterpy_time else None

    decoders = {
        "UKF additive": (lambda: UKF(model), y, {}),
        "UKF augmented": (lambda: UKF(model, variant="augmented"), y, {}),
        "EKF": (lambda: EKF(model), y, {}),
        "ContinuousFilter": (lambda: ContinuousFilter(continuous_model), y_continuous, {"cov0": 0.01 * np.eye(20)}),
    }
    print(f"N=20, m=6, T={args.steps}; trial-steps per second (best of {args.repeats})")
    print(f"{'decoder':<18}{'batch':>6}{'trial-steps/s':>16}{'vs filterpy':>14}")
    if reference:
        print(f"{'filterpy UKF':<18}{1:>6}{reference:>16,.0f}{1.0:>13.1f}x")
    else:
        print("filterpy not installed: no reference ratio")
    for name, (make, data, kwargs) in decoders.items():
        for batch in (1, 64):
            decoder = make()
            seconds = best_seconds(lambda d=decoder, b=batch, kw=kwargs, yy=data: d.filter(yy[:b], **kw), args.repeats)
            throughput = batch * args.steps / seconds
            ratio = f"{throughput / reference:>13.1f}x" if reference else f"{'-':>14}"
            print(f"{name:<18}{batch:>6}{throughput:>16,.0f}{ratio}")


if __name__ == "__main__":
    main()
