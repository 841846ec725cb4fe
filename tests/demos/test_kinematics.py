import json

import pytest

from rrnn_net.demos import run_demo

from . import assert_one_line_summary

pytest.importorskip("aeon")


@pytest.mark.slow
def test_fast_kinematics_demo(tmp_path):
    metrics = run_demo("kinematics", tmp_path, seed=0, fast=True)
    assert_one_line_summary("kinematics", metrics)
    for name in ("posterior_examples.png", "accuracy_vs_time.png", "robustness.png"):
        assert (tmp_path / name).stat().st_size > 20_000, name
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert metrics["classes"] == ["badminton", "running", "standing", "walking"]
    # Even the small fast models recognise most recordings, and far above chance (0.25).
    assert metrics["rrnn_accuracy_at_100pct"] >= 0.75
    assert metrics["rrnn_accuracy_at_25pct"] > 0.4
    assert set(metrics["rrnn_accuracy_vs_snr_db"]) == {"20.0", "0.0", "-5.0"}  # the fast run's ends of the range
    # Told the added noise, the Bayesian bank holds up at the strongest noise better than the reservoir.
    assert metrics["rrnn_noise_known_accuracy_vs_snr_db"]["-5.0"] > metrics[
        "reservoir_accumulated_accuracy_vs_snr_db"]["-5.0"]
    # The bank estimating the noise online is measured at every SNR. (It beats the learned-R bank from 10 dB
    # down in the full run, not in this small one: see the README's demo table.)
    adaptive = metrics["rrnn_adaptive_noise_accuracy_vs_snr_db"]
    assert set(adaptive) == set(metrics["rrnn_accuracy_vs_snr_db"]) and all(0 <= a <= 1 for a in adaptive.values())
    assert metrics["rrnn_adaptive_noise_clean_accuracy"] >= 0.5  # chance is 0.25; the full run: 1.0
    assert 0 <= metrics["rrnn_accuracy_with_missing"]["0.3"] <= 1
    # Inferring the noise level over a grid (told nothing), the bank beats the reservoir at the strongest noise
    # and keeps its clean accuracy.
    grid = metrics["rrnn_noise_grid_accuracy_vs_snr_db"]
    assert grid["-5.0"] > metrics["reservoir_accumulated_accuracy_vs_snr_db"]["-5.0"]
    assert metrics["rrnn_noise_grid_clean_accuracy"] >= metrics["rrnn_accuracy_at_100pct"] - 0.025
