import json

import pytest

from rrnn_net.cli import main
from rrnn_net.demos import get_demo, run_demo


def test_fast_decoding_demo_writes_figure_and_metrics(tmp_path):
    metrics = run_demo("decoding", tmp_path, seed=3, fast=True)
    assert (tmp_path / "decoding.png").stat().st_size > 10_000
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == metrics
    # The claim the demo makes: the rRNN locks on from a wrong start, the open-loop generator does not.
    assert metrics["ukf_rmse_after_settling"] < 0.2 * metrics["state_std"]
    assert metrics["open_loop_rmse_after_settling"] > 0.5 * metrics["state_std"]
    assert metrics["ukf_time_to_tolerance_s"] is not None


def test_demo_is_reproducible_with_its_seed(tmp_path):
    first = run_demo("decoding", tmp_path / "a", seed=5, fast=True)
    second = run_demo("decoding", tmp_path / "b", seed=5, fast=True)
    timing_free = {k: v for k, v in first.items() if "per_second" not in k}
    assert timing_free == {k: v for k, v in second.items() if "per_second" not in k}


def test_cli_runs_demo(tmp_path, capsys):
    assert main(["demo", "decoding", "--fast", "--out", str(tmp_path)]) == 0
    assert "metrics.json" in capsys.readouterr().out
    assert (tmp_path / "metrics.json").exists()


def test_unknown_demo_is_a_clear_error():
    with pytest.raises(KeyError, match="known demos"):
        get_demo("nope")
    with pytest.raises(SystemExit):
        main(["demo", "nope"])


def test_every_registered_demo_resolves():
    from rrnn_net.demos import DEMOS

    for name in DEMOS:
        assert callable(get_demo(name))
