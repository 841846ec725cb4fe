"""The circuit demo (fast): figures, metrics, and the claims it makes about spiking input and downstream cells."""

import json

import numpy as np
import pytest

from rrnn_net.demos import run_demo
from rrnn_net.demos.circuit import TAU_SYN_S, kernel_area

from . import assert_one_line_summary

FIGURES = ("circuit_front_end.png", "circuit_predictions.png", "circuit_downstream.png", "circuit_accuracy.png")
SPIKING_KEYS = {"rmse", "rmse_told_noise", "front_end_noise_variance", "front_end_noise_variance_theory",
                "front_end_offset", "front_end_noise_over_R", "effective_noise_exceeds_R", "decoded_rms_error",
                "evidence_per_sample", "evidence_per_sample_minus_rate_input", "evidence_per_sample_told_noise"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("circuit")
    return out, run_demo("circuit", out, seed=0, fast=True)


def test_writes_figures_and_metrics(demo):
    out, metrics = demo
    for name in FIGURES:
        assert (out / name).stat().st_size > 10_000, name
    assert json.loads((out / "metrics.json").read_text()) == metrics
    sizes = metrics["neurons_per_channel"]
    assert len(sizes) == 2 and sizes == sorted(sizes)
    assert set(metrics["spiking"]) == {str(n) for n in sizes}
    assert all(set(row) == SPIKING_KEYS for row in metrics["spiking"].values())


def test_the_rate_input_circuit_is_the_filter(demo):
    _, metrics = demo
    assert metrics["rate_circuit_vs_run_brian2_max_abs_difference"] <= 1e-12
    assert metrics["rate_circuit_vs_numpy_filter_max_abs_difference"] <= 1e-9
    assert metrics["numpy_filter_psd_repairs"] == 0


def test_spiking_input_costs_accuracy_that_more_neurons_win_back(demo):
    _, metrics = demo
    few, many = (metrics["spiking"][str(n)] for n in metrics["neurons_per_channel"])
    assert all(np.isfinite(row["rmse"]) and np.isfinite(row["rmse_told_noise"]) for row in (few, many))
    assert few["rmse"] > many["rmse"]
    assert few["front_end_noise_variance"] > many["front_end_noise_variance"]
    # The fewest neurons cost accuracy against both noise-free references: the observations read directly,
    # and the same front end without spike noise (whose synaptic low-pass alone may even help).
    assert few["rmse"] > 1.5 * max(metrics["rate_circuit_rmse"], metrics["expected_input_rmse"])
    assert few["evidence_per_sample_minus_rate_input"] < 0


def test_the_front_end_noise_is_calibrated_and_telling_the_rrnn_helps(demo):
    _, metrics = demo
    for row in metrics["spiking"].values():
        # The calibration agrees with Poisson theory and the decoding is unbiased (offset ≪ noise s.d.).
        assert row["front_end_noise_variance"] == pytest.approx(row["front_end_noise_variance_theory"], rel=0.3)
        assert abs(row["front_end_offset"]) < 0.1 * np.sqrt(row["front_end_noise_variance"])
        assert row["effective_noise_exceeds_R"] == (row["front_end_noise_variance"] > metrics["model_R"])
        # Told its input is noisier, the rRNN explains the spiking input better, where the front end's noise
        # dominates (in full runs, near R the synapse's smoothing can leave the model's R the better fit).
        if row["front_end_noise_over_R"] > 2:
            assert row["evidence_per_sample_told_noise"] > row["evidence_per_sample"]
    few = metrics["spiking"][str(metrics["neurons_per_channel"][0])]
    assert few["effective_noise_exceeds_R"]
    assert few["rmse_told_noise"] < few["rmse"]


def test_downstream_cells_read_the_errors_of_the_same_step_and_follow_them(demo):
    _, metrics = demo
    assert metrics["downstream_reads_same_step_error_max_abs_difference"] <= 1e-12
    assert metrics["downstream_mean_rate_hz"] > 1
    assert metrics["downstream_rate_error_correlation"] > 0.5


def test_kernel_area_is_the_sampled_kernel_sum():
    step = 0.001
    assert kernel_area(step) == pytest.approx(step * np.sum(np.exp(-np.arange(10_000) * step / TAU_SYN_S)))
    assert kernel_area(1e-7) == pytest.approx(TAU_SYN_S, rel=1e-4)


def test_the_one_line_summary_names_its_headline_metrics(demo):
    assert_one_line_summary("circuit", demo[1])
