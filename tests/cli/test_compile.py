"""`rrnn compile` and `rrnn info`, and the committed example graphs in graphs/."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

import rrnn_net.cli
from rrnn_net import GenerativeRNN
from rrnn_net.graph import load_graph, to_matrices
from rrnn_net.graph.examples import EXAMPLES

GRAPHS = Path(__file__).resolve().parents[2] / "graphs"


def test_every_command_is_registered(capsys):
    with pytest.raises(SystemExit):
        rrnn_net.cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in ("demo", "compile", "info", "decode"))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("graphs")
    assert rrnn_net.cli.main(["compile", "--example", "all", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_committed_graphs_match_the_compiler_byte_for_byte(regenerated, name, suffix):
    committed = GRAPHS / f"{name}{suffix}"
    assert committed.exists(), f"{committed} missing: run `rrnn compile --example all --out graphs/`"
    assert (regenerated / f"{name}{suffix}").read_bytes() == committed.read_bytes(), (
        f"{committed} is out of date: run `rrnn compile --example all --out graphs/`")


def test_compile_a_saved_model(tmp_path, capsys):
    model = GenerativeRNN.oscillator(3, 2, seed=4)
    model_path = model.save(tmp_path / "model.npz")
    out = tmp_path / "model.json"
    assert rrnn_net.cli.main(["compile", str(model_path), "--gain-mode", "adaptive", "--out", str(out), "--draw"]) == 0
    assert to_matrices(load_graph(out))["W"].tolist() == model.W.tolist()
    assert (tmp_path / "model.png").stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out


def test_info_prints_the_summary(capsys):
    assert rrnn_net.cli.main(["info", str(GRAPHS / "rrnn_adaptive.graphml")]) == 0
    out = capsys.readouterr().out
    assert "gain_mode=adaptive" in out and "locality: ok" in out and "drift" in out


def test_info_accepts_a_file_re_saved_by_gephi(tmp_path, capsys):
    # What Gephi adds to a saved file: its position and size keys, their data after each node's own, edge ids.
    text = (GRAPHS / "baseline.graphml").read_text(encoding="utf-8")
    keys = "".join(f'  <key attr.name="{name}" attr.type="float" for="node" id="{name}"/>\n' for name in "xy")
    text = text.replace("  <graph ", keys + '  <key attr.name="size" attr.type="float" for="node" id="size"/>\n'
                        "  <graph ", 1)
    text = text.replace("    </node>", '      <data key="size">10.0</data>\n      <data key="x">-12.5</data>\n'
                                      '      <data key="y">40.25</data>\n    </node>')
    edge_ids = itertools.count()
    text = re.sub("<edge ", lambda _: f'<edge id="{next(edge_ids)}" ', text)
    path = tmp_path / "gephi.graphml"
    path.write_text(text, encoding="utf-8")
    assert rrnn_net.cli.main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "gain_mode=none" in out and "locality: ok" in out


def test_info_reports_a_bad_file_as_an_error(tmp_path, capsys):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph edgedefault='directed'>")
    assert rrnn_net.cli.main(["info", str(bad)]) == 2
    assert "not well-formed" in capsys.readouterr().err


def test_compile_needs_a_source(capsys):
    with pytest.raises(SystemExit):
        rrnn_net.cli.main(["compile", "--out", "x.graphml"])
    assert "required" in capsys.readouterr().err


def test_help_describes_the_commands(capsys):
    for command in ("compile", "info"):
        with pytest.raises(SystemExit):
            rrnn_net.cli.main([command, "--help"])
        assert "graph" in capsys.readouterr().out
