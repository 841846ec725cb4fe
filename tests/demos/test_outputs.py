"""A demo's output folder holds one run: run marker first, metrics.json last, other runs refused or cleaned.

The folder rules are the same for every demo, so a small stand-in demo
(registered for the test) exercises them without the cost of a real one.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rrnn_net.cli import EXIT_ERROR, main
from rrnn_net.demos import DEMOS, run_demo
from rrnn_net.demos.outputs import METRICS, RUN_MARKER
from rrnn_net.demos.plotting import figure, write_metrics
from rrnn_net.errors import OutputConflictError, ParameterError

written_before_metrics: list[set[str]] = []


def stand_in(out_dir, *, seed: int, fast: bool) -> dict:
    """Writes a figure named by its seed, then its metrics, as a real demo does."""
    written_before_metrics.append({path.name for path in out_dir.iterdir()})
    with figure(out_dir / f"figure_seed{seed}.png") as (_, ax):
        ax.plot([0, seed])
    metrics = {"seed": seed, "fast": fast}
    write_metrics(metrics, out_dir / METRICS)
    return metrics


def interrupted(out_dir, *, seed: int, fast: bool) -> dict:
    """Writes one file, then is interrupted (Ctrl-C)."""
    (out_dir / "partial.txt").write_text("half")
    raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    monkeypatch.setitem(DEMOS, "stand_in", f"{__name__}:stand_in")
    monkeypatch.setitem(DEMOS, "interrupted", f"{__name__}:interrupted")
    written_before_metrics.clear()


def names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_demo_folder_gets_a_run_marker_first_and_metrics_last(tmp_path):
    metrics = run_demo("stand_in", tmp_path / "new" / "out", seed=3, fast=True)
    out = tmp_path / "new" / "out"
    assert written_before_metrics == [{RUN_MARKER}]
    assert json.loads((out / RUN_MARKER).read_text())["demo"] == "stand_in"
    assert json.loads((out / METRICS).read_text()) == metrics
    assert names(out) == ["figure_seed3.png", METRICS, RUN_MARKER]


def test_the_same_run_again_replaces_its_files(tmp_path):
    run_demo("stand_in", tmp_path, seed=3, fast=True)
    run_demo("stand_in", tmp_path, seed=3, fast=True)
    # The old metrics.json is gone before the rerun writes anything: an interrupted rerun never looks complete.
    assert written_before_metrics[1] == {RUN_MARKER, "figure_seed3.png"}
    assert names(tmp_path) == ["figure_seed3.png", METRICS, RUN_MARKER]


@pytest.mark.parametrize("other", [{"seed": 4, "fast": True}, {"seed": 3, "fast": False}],
                         ids=["another seed", "full instead of fast"])
def test_a_folder_of_another_run_is_refused_and_left_as_it_was(tmp_path, other):
    run_demo("stand_in", tmp_path, seed=3, fast=True)
    before = {name: (tmp_path / name).read_bytes() for name in names(tmp_path)}
    with pytest.raises(OutputConflictError, match=r"holds demo stand_in \(seed 3, fast\).*--force"):
        run_demo("stand_in", tmp_path, **other)
    assert {name: (tmp_path / name).read_bytes() for name in names(tmp_path)} == before


def test_force_deletes_the_other_runs_files_but_not_subfolders(tmp_path):
    run_demo("stand_in", tmp_path, seed=3, fast=True)
    (tmp_path / "notes").mkdir()
    metrics = run_demo("stand_in", tmp_path, seed=4, fast=True, force=True)
    assert names(tmp_path) == ["figure_seed4.png", METRICS, "notes", RUN_MARKER]
    assert json.loads((tmp_path / METRICS).read_text()) == metrics
    assert json.loads((tmp_path / RUN_MARKER).read_text())["seed"] == 4


@pytest.mark.parametrize("content", ["{}", '{"demo": "mine"}', "not json"], ids=["empty", "foreign", "garbage"])
def test_a_folder_with_files_but_no_run_marker_is_refused_even_with_force(tmp_path, content):
    (tmp_path / "thesis.tex").write_text("precious")
    (tmp_path / RUN_MARKER).write_text(content)  # a file of the user's that happens to have the marker's name
    for force in (False, True):
        with pytest.raises(OutputConflictError, match="no run marker"):
            run_demo("stand_in", tmp_path, seed=0, fast=True, force=force)
    assert names(tmp_path) == [RUN_MARKER, "thesis.tex"] and (tmp_path / "thesis.tex").read_text() == "precious"


def test_an_interrupted_run_over_an_earlier_one_leaves_no_metrics(tmp_path):
    run_demo("stand_in", tmp_path, seed=3, fast=True)
    with pytest.raises(KeyboardInterrupt):
        run_demo("interrupted", tmp_path, seed=3, fast=True, force=True)
    # Incomplete (no metrics.json), and only this run's files: the earlier run's figure went with --force.
    assert names(tmp_path) == ["partial.txt", RUN_MARKER]
    assert json.loads((tmp_path / RUN_MARKER).read_text())["demo"] == "interrupted"


def test_run_marker_takes_numpy_integer_seeds_and_refuses_others(tmp_path):
    run_demo("stand_in", tmp_path, seed=np.int64(2), fast=True)
    run_demo("stand_in", tmp_path, seed=2, fast=True)  # the same run
    with pytest.raises(ParameterError, match="seed must be an integer"):
        run_demo("stand_in", tmp_path, seed="2", fast=True)


def test_cli_refuses_another_runs_folder_in_one_line_exit_1_and_force_cleans_it(tmp_path, capsys):
    assert main(["demo", "stand_in", "--fast", "--seed", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["demo", "stand_in", "--fast", "--seed", "2", "--out", str(tmp_path)]) == EXIT_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rrnn demo: error:") and "--force" in lines[0]
    assert main(["demo", "stand_in", "--fast", "--seed", "2", "--out", str(tmp_path), "--force"]) == 0
    assert names(tmp_path) == ["figure_seed2.png", METRICS, RUN_MARKER]
