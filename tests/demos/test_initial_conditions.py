import json

import numpy as np
import pytest

from rrnn_net.demos import run_demo
from rrnn_net.demos.initial_conditions import StartRun, telling_trial
from rrnn_net.demos.metrics import time_to_tolerance

from . import assert_one_line_summary

FIGURES = ("initial_conditions_rmse", "initial_conditions_time_to_tolerance", "initial_conditions_example")
DECODERS = ("ukf", "ekf", "brian2_adaptive", "brian2_fixed", "open_loop")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("initial_conditions")
    return out, run_demo("initial_conditions", out, seed=0, fast=True)


def test_writes_figures_metrics_and_sweep_records(demo):
    out, metrics = demo
    for name in FIGURES:
        assert (out / f"{name}.png").stat().st_size > 10_000
    assert json.loads((out / "metrics.json").read_text()) == metrics
    records = json.loads((out / "sweep_records.json").read_text())
    assert len(records) == metrics["n_starts"] == 4
    assert {record["distance"] for record in records} == set(metrics["distances_in_state_sd"])
    assert len((out / "sweep_records.csv").read_text().splitlines()) == 1 + len(records)
    curves = np.load(out / "rmse_curves.npz")
    assert curves["ukf"].shape == (len(records), curves["time_in_tau"].size)


def test_the_rrnn_forgets_a_wrong_start_and_the_open_loop_generator_does_not(demo):
    metrics = demo[1]
    for name in DECODERS:
        for key in ("fraction_of_starts_reaching_tolerance", "fraction_of_starts_within_claim",
                    "worst_time_to_tolerance_tau",
                    "median_time_to_tolerance_tau", "settled_rmse_fraction_of_sd"):
            assert f"{name}_{key}" in metrics
    assert metrics["claim_holds"]
    for name in ("ukf", "ekf", "brian2_adaptive"):
        assert metrics[f"{name}_fraction_of_starts_within_claim"] == 1.0
        assert 0 < metrics[f"{name}_worst_time_to_tolerance_tau"] <= metrics["claim_time_constants"]
        assert metrics[f"{name}_settled_rmse_fraction_of_sd"] < metrics["tolerance_fraction_of_sd"]
    assert metrics["open_loop_fraction_of_starts_within_claim"] == 0.0
    assert metrics["open_loop_settled_rmse_fraction_of_sd"] > 0.5
    # The network's forward-Euler Riccati integration stayed stable over every run.
    assert metrics["max_euler_factor"] < 1.0


def test_time_to_tolerance_is_when_the_curve_stays_below():
    assert time_to_tolerance(np.array([3.0, 0.5, 2.0, 0.5, 0.5]), 1.0, 0.1) == pytest.approx(0.4)
    assert time_to_tolerance(np.array([0.5, 0.5]), 1.0, 0.1) == 0.0
    assert time_to_tolerance(np.array([0.5, 2.0]), 1.0, 0.1) is None


def test_the_example_shows_the_trial_where_the_open_loop_generator_is_farthest_off():
    states = np.zeros((3, 9, 2))
    open_loop = states.copy()
    open_loop[1, 6:, 1] = 2.0  # off at the end: the example's trial and unit
    open_loop[2, :3, 0] = 5.0  # farther off, but only at the start, as every decoder from a wrong start
    example = StartRun(states, {"open_loop": open_loop}, max_euler_factor=0.5)
    assert telling_trial(example) == (1, 1)


def test_the_one_line_summary_names_its_headline_metrics(demo):
    assert_one_line_summary("initial_conditions", demo[1])
