import json

import numpy as np
import pytest

from rrnn_net.errors import ParameterError, SweepError
from rrnn_net.sweep import parameter_grid, sweep


def decode_rmse(noise, n_hidden, seed):
    """A small but real workload: UKF state RMSE at one noise level."""
    from rrnn_net import UKF, GenerativeRNN

    model = GenerativeRNN.oscillator(n_hidden, 2, observation_noise=noise, seed=1)
    states, y = model.simulate(60, batch=2, seed=seed)
    estimate = UKF(model).filter(y).mean
    return {"rmse": float(np.sqrt(np.mean((estimate[:, 20:] - states[:, 20:]) ** 2)))}


def test_grid_order_and_records():
    assert parameter_grid({"a": [1, 2], "b": [3, 4]}) == [
        {"a": 1, "b": 3}, {"a": 1, "b": 4}, {"a": 2, "b": 3}, {"a": 2, "b": 4}]
    result = sweep(decode_rmse, {"noise": [0.01, 0.5], "n_hidden": [4]}, seeds=[0, 1, 2])
    assert len(result.records) == 6
    assert [(r["noise"], r["seed"]) for r in result.records] == [
        (0.01, 0), (0.01, 1), (0.01, 2), (0.5, 0), (0.5, 1), (0.5, 2)]
    noisy = np.mean([r["rmse"] for r in result.records if r["noise"] == 0.5])
    clean = np.mean([r["rmse"] for r in result.records if r["noise"] == 0.01])
    assert noisy > clean


def test_reruns_with_same_seeds_are_identical_across_schedulers():
    grid = {"noise": [0.05, 0.2], "n_hidden": [3, 5]}
    threaded = sweep(decode_rmse, grid, seeds=[4, 5]).records
    assert sweep(decode_rmse, grid, seeds=[4, 5]).records == threaded
    assert sweep(decode_rmse, grid, seeds=[4, 5], scheduler="synchronous").records == threaded


def test_distributed_client_gives_the_same_records():
    distributed = pytest.importorskip("dask.distributed")
    grid = {"noise": [0.05], "n_hidden": [3, 4]}
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        on_client = sweep(decode_rmse, grid, seeds=[0, 1], client=client).records
    assert on_client == sweep(decode_rmse, grid, seeds=[0, 1]).records


def test_writes_json_and_csv(tmp_path):
    result = sweep(decode_rmse, {"noise": [0.1], "n_hidden": [3]}, seeds=[0])
    assert json.loads(result.to_json(tmp_path / "r.json").read_text()) == result.records
    lines = result.to_csv(tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "n_hidden,noise,rmse,seed" and len(lines) == 2


@pytest.mark.parametrize(
    ("grid", "kwargs", "message"),
    [
        ({}, {}, "non-empty mapping"),
        ({"noise": 0.1}, {}, "list of values"),
        ({"noise": []}, {}, "empty"),
        ({"seed": [1]}, {}, "reserved"),
        ({"noise": [0.1], "n_hidden": [3]}, {"seeds": []}, "seeds"),
        ({"noise": [0.1], "n_hidden": [3]}, {"scheduler": "mpi"}, "scheduler"),
    ],
)
def test_bad_sweeps_are_rejected(grid, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        sweep(decode_rmse, grid, **kwargs)


def test_function_must_return_metrics():
    with pytest.raises(ParameterError, match="mapping"):
        sweep(lambda x, seed: 3.0, {"x": [1]})
    with pytest.raises(ParameterError, match="clash"):
        sweep(lambda x, seed: {"x": 1}, {"x": [1]})


def test_a_generator_of_grid_values_gives_every_record():
    result = sweep(lambda a, seed: {"double": 2 * a}, {"a": (value for value in (1, 2, 3))}, scheduler="synchronous")
    assert result.column("double") == [2, 4, 6]


def test_a_failing_run_is_named_and_the_finished_records_are_kept():
    def fragile(a, seed):
        if a == 2:
            raise RuntimeError("no convergence")
        return {"double": 2 * a}

    with pytest.raises(SweepError, match=r"RuntimeError: no convergence at a=2, seed=0 and 1 more run\(s\); "
                                         r"4 of 6 run\(s\) finished") as caught:
        sweep(fragile, {"a": [1, 2, 3]}, seeds=[0, 1], scheduler="synchronous")
    assert [(record["a"], record["seed"]) for record in caught.value.records] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert [(params, seed) for params, seed, _ in caught.value.failures] == [({"a": 2}, 0), ({"a": 2}, 1)]
    assert isinstance(caught.value.__cause__, RuntimeError)
