import json

import numpy as np
import pytest

from rrnn_net.demos import run_demo

from . import assert_one_line_summary


@pytest.mark.slow
def test_fast_noise_demo(tmp_path):
    metrics = run_demo("noise", tmp_path, seed=0, fast=True)
    assert_one_line_summary("noise", metrics)
    assert (tmp_path / "noise.png").stat().st_size > 20_000
    header = (tmp_path / "records.csv").read_text().splitlines()[0].split(",")
    assert {"noise_sd", "seed", "rrnn_adaptive_noise"} <= set(header)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    levels = [str(sd) for sd in metrics["noise_sd"]]
    assert levels == ["0.03", "0.3", "1.0"]
    decoders = ("rrnn_train_noise", "rrnn_adaptive_noise", "rrnn", "network_adaptive_noise", "reservoir")
    rmse = {name: metrics[f"{name}_normalised_rmse"] for name in decoders}
    median = {name: metrics[f"{name}_median_trial_normalised_rmse"] for name in decoders}
    estimated = (metrics["rrnn_adaptive_noise_estimated_sd"], metrics["rrnn_adaptive_noise_median_trial_estimated_sd"])
    for curve in (*rmse.values(), *median.values(), *estimated):
        assert list(curve) == levels and np.all(np.isfinite(list(curve.values())))
    # The claim: away from its training noise the trained decoder degrades faster than the rRNN told the noise.
    told = rmse["rrnn"]
    assert told["1.0"] < rmse["reservoir"]["1.0"]
    assert told["1.0"] < rmse["rrnn_train_noise"]["1.0"]
    assert told["1.0"] <= rmse["rrnn_adaptive_noise"]["1.0"]
    assert told["0.03"] < told["1.0"]
    # Estimating the noise online, told nothing, the median trial decodes as well as told up to σ = 0.3, and
    # better than with the training R where that R is too large.
    for sd in ("0.03", "0.3"):
        assert median["rrnn_adaptive_noise"][sd] <= 1.1 * median["rrnn"][sd]
    assert median["rrnn_adaptive_noise"]["0.03"] < median["rrnn_train_noise"]["0.03"]
    # Recognition: the learned bank recognises clean recordings, with or without online noise estimation; told
    # the added noise it holds up best at the strongest noise; estimating it, it beats the reservoir throughout.
    bank, online, told_bank, reservoir = (metrics[f"recognition_{name}_accuracy"]
                                          for name in ("bank", "bank_adaptive", "bank_told", "reservoir"))
    assert list(bank) == list(online) == ["0.0", *levels]
    assert min(bank["0.0"], online["0.0"]) >= 0.9
    assert told_bank["1.0"] >= max(bank["1.0"], online["1.0"], reservoir["1.0"])
    assert all(online[sd] >= reservoir[sd] for sd in online)
    # Inferring the noise level over a grid, told nothing: as good as told at the strongest noise, clean intact.
    grid = metrics["recognition_bank_grid_accuracy"]
    assert grid["0.0"] >= bank["0.0"] - 0.05 and grid["1.0"] >= told_bank["1.0"] - 0.05
