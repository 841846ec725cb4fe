"""The teacher_student demo: the spectral-bias study's conditions, summary and outputs."""

import csv
import json

import numpy as np
import pytest

from rrnn_net.demos import run_demo
from rrnn_net.demos.teacher_student import (
    FAST_CONFIG,
    Condition,
    StudyConfig,
    findings,
    recovery_by_modulus,
    summarise,
)
from rrnn_net.errors import ParameterError

from . import assert_one_line_summary


def test_hidden_sizes_of_the_conditions():
    assert [Condition(5, size, "linear").n_hidden for size in ("under", "exact", "over")] == [3, 5, 10]
    assert Condition(2, "under", "tanh").n_hidden == 1
    with pytest.raises(ParameterError):
        StudyConfig(conditions=(Condition(5, "huge", "linear"),))
    with pytest.raises(ParameterError):
        StudyConfig(conditions=(Condition(5, "exact", "linear"),), headline=Condition(3, "exact", "linear"))


def test_summary_counts_recoveries():
    config = StudyConfig(conditions=(Condition(2, "exact", "linear"),), headline=Condition(2, "exact", "linear"))
    base = {"order": 2, "size": "exact", "n_hidden": 2, "activation": "linear", "diverged": False,
            "test_nmse": 1e-6, "transfer_function_error": 1e-3, "spectral_radius_error": 0.001,
            "n_cancelled_modes": 0}
    rows = [
        base | {"all_recovered": True, "dominant_recovered": True, "pole_moduli": [0.9, 0.2],
                "pole_distances": [0.001, 0.01], "missed_moduli": []},
        base | {"all_recovered": False, "dominant_recovered": True, "pole_moduli": [0.8, 0.3],
                "pole_distances": [0.002, 0.2], "missed_moduli": [0.3]},
    ]
    (summary,) = summarise(rows, config)
    assert summary["frac_all_recovered"] == 0.5 and summary["dominant_recovery_rate"] == 1.0
    assert summary["pole_recovery_rate"] == 0.75 and summary["median_missed_modulus"] == 0.3
    lines = findings([summary], recovery_by_modulus(rows, config), config)
    assert "100% of 2 seeds" in lines[0]
    assert lines[1].endswith("0.00-0.25: 100% of 1, 0.25-0.50: 0% of 1, 0.50-0.75: n/a, 0.75-1.00: 100% of 2")


@pytest.mark.slow
def test_fast_demo_writes_tables_and_figures(tmp_path):
    metrics = run_demo("teacher_student", tmp_path, seed=0, fast=True)
    assert_one_line_summary("teacher_student", metrics)
    for name in ("metrics.json", "runs.csv", "summary.csv", "poles_polar.png", "loss_curves.png", "summary.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    n_runs = FAST_CONFIG.n_seeds * len(FAST_CONFIG.conditions)
    assert len(metrics["runs"]) == n_runs and len(metrics["summary"]) == len(FAST_CONFIG.conditions)
    with (tmp_path / "runs.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == n_runs
    exact = metrics["summary"][0]
    assert exact["condition"].startswith("order 3, exact")
    # The bias the study is about: the dominant pole is found more often than all poles together.
    assert exact["dominant_recovery_rate"] > exact["frac_all_recovered"]
    assert np.isfinite(exact["median_test_nmse"]) and exact["median_test_nmse"] < 1e-2
    assert "dominant pole recovered" in metrics["findings"][0]
