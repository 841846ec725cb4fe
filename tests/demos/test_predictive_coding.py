import json

import numpy as np
import pytest

from rrnn_net.demos import run_demo
from rrnn_net.demos.predictive_coding import crossover_latency, leaky_evidence

from . import assert_one_line_summary

POSTERIORS = ("bank_cumulative", "bank_leaky", "network_leaky")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("predictive_coding")
    return out, run_demo("predictive_coding", out, seed=0, fast=True)


def test_writes_figures_and_metrics(demo):
    out, metrics = demo
    for name in ("predictive_coding_network", "predictive_coding_posterior"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    assert json.loads((out / "metrics.json").read_text()) == metrics
    for name in POSTERIORS:
        for key in ("accuracy_outside_transitions", "accuracy_before_switch", "fraction_of_trials_switching",
                    "median_crossover_latency_s", "max_crossover_latency_s"):
            assert f"{name}_{key}" in metrics


def test_prediction_errors_and_surprise_rise_when_the_dynamics_switch(demo):
    metrics = demo[1]
    # While the data fit the model the errors are observation noise; after the switch they are not.
    assert metrics["slow_network_rms_error_before_switch"] == pytest.approx(metrics["observation_noise_sd"], rel=0.3)
    assert metrics["slow_network_rms_error_after_switch"] > 3 * metrics["slow_network_rms_error_before_switch"]
    assert (metrics["slow_network_surprise_rate_after_switch_per_s"]
            > 10 * metrics["slow_network_surprise_rate_before_switch_per_s"])
    assert len(metrics["slow_network_surprise_rate_per_unit_after_switch_per_s"]) == metrics["n_obs"]
    # The per-unit surprise read from the error units adds up to what the evidence unit integrated.
    assert metrics["per_unit_surprise_vs_evidence_unit_relative_difference"] < 0.15


def test_leaky_evidence_follows_the_switch_sooner_than_cumulative_evidence(demo):
    metrics = demo[1]
    assert metrics["fast_frequency_hz"] > metrics["slow_frequency_hz"]
    for name in POSTERIORS:
        assert metrics[f"{name}_accuracy_before_switch"] > 0.95
        assert metrics[f"{name}_fraction_of_trials_switching"] == 1.0
    for name in ("bank_leaky", "network_leaky"):
        assert metrics[f"{name}_accuracy_outside_transitions"] > 0.95
        assert metrics[f"{name}_max_crossover_latency_s"] < metrics["bank_cumulative_median_crossover_latency_s"]
    # The Brian2 networks' evidence units and the UKF bank agree on when the posterior flips.
    assert metrics["network_leaky_median_crossover_latency_s"] == pytest.approx(
        metrics["bank_leaky_median_crossover_latency_s"], abs=0.02)


def test_leaky_evidence_settles_at_increment_times_window():
    increments = np.ones((2, 400, 3))
    leaky = leaky_evidence(increments, 0.01, 0.05)
    assert leaky[:, -1] == pytest.approx(np.full((2, 3), 1.0 / (1.0 - np.exp(-0.2))))
    assert leaky[0, 0] == pytest.approx([1.0, 1.0, 1.0])


def test_crossover_latency_counts_from_the_switch_until_it_stays_above_half():
    prob = np.array([[0.1, 0.1, 0.2, 0.7, 0.4, 0.8, 0.9],
                     [0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9],
                     [0.1, 0.1, 0.2, 0.3, 0.4, 0.8, 0.3]])
    assert crossover_latency(prob, 2, 0.5) == pytest.approx([1.5, 0.0, np.nan], nan_ok=True)


def test_the_one_line_summary_names_its_headline_metrics(demo):
    assert_one_line_summary("predictive_coding", demo[1])
