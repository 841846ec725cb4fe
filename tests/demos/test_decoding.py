import json

import numpy as np
import pytest

from rrnn_net.cli import main
from rrnn_net.demos import get_demo, run_demo

from . import assert_one_line_summary


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """One fast run (seed 3) shared by the tests of this module: each run costs the suite seconds."""
    out_dir = tmp_path_factory.mktemp("decoding")
    return out_dir, run_demo("decoding", out_dir, seed=3, fast=True)


def test_fast_decoding_demo_writes_figure_and_metrics(fast_run):
    out_dir, metrics = fast_run
    assert (out_dir / "decoding.png").stat().st_size > 10_000
    written = json.loads((out_dir / "metrics.json").read_text())
    assert written == metrics
    # The claim the demo makes: the rRNN locks on from a wrong start, the open-loop generator does not.
    assert metrics["ukf_rmse_after_settling"] < 0.2 * metrics["state_std"]
    assert metrics["open_loop_rmse_after_settling"] > 0.5 * metrics["state_std"]
    assert metrics["ukf_time_to_tolerance_s"] is not None


def test_fast_decoding_demo_under_added_noise(fast_run):
    out_dir, metrics = fast_run
    assert (out_dir / "decoding_vs_snr.png").stat().st_size > 10_000
    levels = [str(snr) for snr in metrics["snr_db"]]
    assert levels == ["10.0", "0.0", "-5.0"]
    decoders = ("ukf", "ukf_adaptive_noise", "ukf_noise_known", "open_loop")
    rmse = {name: metrics[f"{name}_rmse_vs_snr_db"] for name in decoders}
    median = {name: metrics[f"{name}_median_trial_rmse_vs_snr_db"] for name in decoders}
    ratio = metrics["ukf_adaptive_noise_median_trial_estimated_over_true_variance"]
    for curve in (*rmse.values(), *median.values(), ratio, metrics["ukf_adaptive_noise_estimated_over_true_variance"]):
        assert list(curve) == levels and np.all(np.isfinite(list(curve.values())))
    # The noise estimate, told nothing, lands within 20 % of the true variance at every SNR in the median trial.
    assert all(0.8 < value < 1.2 for value in ratio.values())
    # In the median trial, estimating the noise and being told it both beat the model's R at low SNR; over all
    # trials, being told does at least as well as estimating.
    for snr in ("0.0", "-5.0"):
        assert max(median["ukf_adaptive_noise"][snr], median["ukf_noise_known"][snr]) < median["ukf"][snr]
    assert rmse["ukf_noise_known"]["-5.0"] <= rmse["ukf_adaptive_noise"]["-5.0"]
    # The open-loop generator, blind to the observations, stays far off at every SNR.
    assert min(rmse["open_loop"].values()) > max(max(rmse[name].values()) for name in decoders[:3])


def test_cli_reruns_the_demo_reproducibly(fast_run, tmp_path, capsys):
    first = fast_run[1]
    assert main(["demo", "decoding", "--fast", "--seed", "3", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and "ukf_rmse_after_settling=" in printed and "metrics.json" in printed
    second = json.loads((tmp_path / "metrics.json").read_text())
    timing_free = {k: v for k, v in first.items() if "per_second" not in k}
    assert timing_free == {k: v for k, v in second.items() if "per_second" not in k}


def test_unknown_demo_is_a_clear_error():
    with pytest.raises(KeyError, match="known demos"):
        get_demo("nope")
    with pytest.raises(SystemExit):
        main(["demo", "nope"])


def test_every_registered_demo_resolves():
    from rrnn_net.demos import DEMOS

    for name in DEMOS:
        assert callable(get_demo(name))


def test_the_one_line_summary_names_its_headline_metrics(fast_run):
    assert_one_line_summary("decoding", fast_run[1])
