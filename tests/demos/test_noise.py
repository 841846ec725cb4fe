import json

from rrnn_net.demos import run_demo


def test_fast_noise_demo(tmp_path):
    metrics = run_demo("noise", tmp_path, seed=0, fast=True)
    assert (tmp_path / "noise.png").stat().st_size > 20_000
    assert (tmp_path / "records.csv").read_text().startswith("noise_sd,")
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    rrnn, reservoir = metrics["rrnn_normalised_rmse"], metrics["reservoir_normalised_rmse"]
    assert list(rrnn) == ["0.03", "0.1", "0.3", "0.6", "1.0"]
    # The claim: away from its training noise the trained decoder degrades faster than the rRNN.
    assert rrnn["1.0"] < reservoir["1.0"]
    assert rrnn["1.0"] < metrics["rrnn_train_noise_normalised_rmse"]["1.0"]
    assert rrnn["0.03"] < rrnn["1.0"]
    # Recognition: the learned bank recognises clean recordings; told the added noise it holds up at the
    # strongest noise at least as well as the reservoir and as itself not told.
    bank, told = metrics["recognition_bank_accuracy"], metrics["recognition_bank_told_accuracy"]
    assert bank["0.0"] >= 0.9
    assert told["1.0"] >= max(bank["1.0"], metrics["recognition_reservoir_accuracy"]["1.0"])
