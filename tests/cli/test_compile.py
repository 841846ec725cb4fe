"""`rrnn compile` and `rrnn info`, and the committed example graphs in graphs/."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import rrnn_net.cli
from rrnn_net import GenerativeRNN
from rrnn_net.cli import EXIT_ERROR
from rrnn_net.filters.stability import default_prior_variance, euler_safe_prior_variance
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
    assert committed.exists(), f"{committed} missing: run `rrnn compile --example all --out graphs/ --force`"
    assert (regenerated / f"{name}{suffix}").read_bytes() == committed.read_bytes(), (
        f"{committed} is out of date: run `rrnn compile --example all --out graphs/ --force`")


def test_compile_a_saved_model(tmp_path, capsys):
    model = GenerativeRNN.oscillator(3, 2, seed=4)
    model_path = model.save(tmp_path / "model.npz")
    out = tmp_path / "model.json"
    assert rrnn_net.cli.main(["compile", str(model_path), "--gain-mode", "adaptive", "--out", str(out), "--draw"]) == 0
    assert to_matrices(load_graph(out))["W"].tolist() == model.W.tolist()
    assert (tmp_path / "model.png").stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out


def test_compile_chooses_an_euler_safe_prior_says_so_and_takes_another(tmp_path, capsys):
    model = GenerativeRNN.oscillator(3, 2, observation_noise=0.01, seed=4)  # precise: 1 is too broad for Euler
    model_path = model.save(tmp_path / "model.npz")
    assert rrnn_net.cli.main(["compile", str(model_path), "--out", str(tmp_path / "default.json")]) == 0
    variance = default_prior_variance(model)
    assert variance < 1 and f"prior N(0, {variance:.4g}·I) (default" in capsys.readouterr().out
    np.testing.assert_allclose(to_matrices(load_graph(tmp_path / "default.json"))["cov0"], variance * np.eye(3))
    assert rrnn_net.cli.main(["compile", str(model_path), "--prior-variance", "0.001",
                              "--out", str(tmp_path / "narrow.json")]) == 0
    np.testing.assert_allclose(to_matrices(load_graph(tmp_path / "narrow.json"))["cov0"], 0.001 * np.eye(3))
    assert "(given)" in capsys.readouterr().out
    too_broad = 2 * euler_safe_prior_variance(model, 1.0)
    for args, message in ((["--prior-variance", str(too_broad)], "too broad"),
                          (["--prior-variance", "-1"], "positive"),
                          (["--gain-mode", "fixed", "--prior-variance", "0.1"], "fixed-gain")):
        out = tmp_path / "refused.json"
        assert rrnn_net.cli.main(["compile", str(model_path), *args, "--out", str(out)]) == EXIT_ERROR
        assert message in capsys.readouterr().err and not out.exists()


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


def test_info_completes_a_gephi_export_like_the_file_it_came_from(tmp_path, capsys):
    text = (GRAPHS / "rrnn_fixed.graphml").read_text(encoding="utf-8")
    text = re.sub(r'  <key id="g_[^"]*"[^>]*/>\n', "", text)  # Gephi exports no graph-level keys or data
    text = re.sub(r'    <data key="g_[^"]*">[^<]*</data>\n', "", text)
    path = tmp_path / "gephi.graphml"
    path.write_text(text, encoding="utf-8")
    assert rrnn_net.cli.main(["info", str(path)]) == 1
    assert "schema_version must be 1, got None (no graph attributes: a file re-saved by Gephi or Cytoscape? " \
           "load_graph(..., like=G) or the rrnn commands' --like FILE take them" in capsys.readouterr().err
    assert rrnn_net.cli.main(["info", str(path), "--like", str(GRAPHS / "rrnn_fixed.graphml")]) == 0
    assert "gain_mode=fixed" in capsys.readouterr().out


def test_info_reports_a_bad_file_as_an_error(tmp_path, capsys):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph edgedefault='directed'>")
    assert rrnn_net.cli.main(["info", str(bad)]) == EXIT_ERROR
    assert "not well-formed" in capsys.readouterr().err


def test_compile_refuses_existing_outputs_without_force(tmp_path, capsys):
    model_path = GenerativeRNN.oscillator(3, 2, seed=4).save(tmp_path / "model.npz")
    out = tmp_path / "model.json"
    out.write_text("earlier graph")
    assert rrnn_net.cli.main(["compile", str(model_path), "--gain-mode", "fixed", "--out", str(out)]) == EXIT_ERROR
    assert "exists; --force overwrites it" in capsys.readouterr().err and out.read_text() == "earlier graph"
    assert rrnn_net.cli.main(["compile", str(model_path), "--gain-mode", "fixed", "--out", str(out), "--force"]) == 0
    assert load_graph(out).graph["gain_mode"] == "fixed"


def test_compile_example_refuses_existing_outputs_without_force(tmp_path, capsys):
    (tmp_path / "baseline.png").write_text("an earlier drawing")
    args = ["compile", "--example", "baseline", "--out", str(tmp_path), "--draw"]
    assert rrnn_net.cli.main(args) == EXIT_ERROR
    assert "baseline.png exists" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["baseline.png"]  # refused before anything was written
    assert rrnn_net.cli.main([*args, "--force"]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["baseline.graphml", "baseline.json", "baseline.png"]


def test_compile_never_overwrites_its_model_file(tmp_path, capsys):
    model_path = tmp_path / "model.json"  # a saved model under a graph's name: loading reads the content
    model_path.write_bytes(GenerativeRNN.oscillator(3, 2, seed=4).save(tmp_path / "model.npz").read_bytes())
    before = model_path.read_bytes()
    assert rrnn_net.cli.main(["compile", str(model_path), "--out", str(model_path), "--force"]) == EXIT_ERROR
    assert "is an input of this command" in capsys.readouterr().err and model_path.read_bytes() == before


def test_compile_out_suffix_must_name_a_graph_format(tmp_path, capsys):
    model_path = GenerativeRNN.oscillator(3, 2, seed=4).save(tmp_path / "model.npz")
    assert rrnn_net.cli.main(["compile", str(model_path), "--out", str(tmp_path / "result")]) == EXIT_ERROR
    assert "suffix picks the format" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["model.npz"]


@pytest.mark.parametrize("content", ["truncated", "npy"])
def test_compile_a_broken_model_file_is_one_line_exit_1(tmp_path, capsys, content):
    model_path = tmp_path / "model.npz"
    saved = GenerativeRNN.oscillator(3, 2, seed=4).save(model_path).read_bytes()
    if content == "truncated":
        model_path.write_bytes(saved[:len(saved) // 2])
    else:
        with model_path.open("wb") as handle:
            np.save(handle, np.eye(3))
    assert rrnn_net.cli.main(["compile", str(model_path), "--out", str(tmp_path / "model.json")]) == EXIT_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rrnn compile: error:") and "not a saved GenerativeRNN" in lines[0]


def test_compile_needs_a_source(capsys):
    with pytest.raises(SystemExit):
        rrnn_net.cli.main(["compile", "--out", "x.graphml"])
    assert "required" in capsys.readouterr().err


def test_help_describes_the_commands(capsys):
    for command in ("compile", "info"):
        with pytest.raises(SystemExit):
            rrnn_net.cli.main([command, "--help"])
        assert "graph" in capsys.readouterr().out


def test_version_python_m_and_verbosity_follow_cli_conventions(tmp_path, capsys):
    import subprocess
    import sys

    with pytest.raises(SystemExit) as exit_info:
        rrnn_net.cli.main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip() == f"rrnn {rrnn_net.__version__}"
    completed = subprocess.run([sys.executable, "-m", "rrnn_net", "--help"], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0 and "decode" in completed.stdout
    model = GenerativeRNN.oscillator(2, 1, seed=0)
    np.save(tmp_path / "y.npy", model.simulate(5, seed=1)[1][0])
    model.save(tmp_path / "model.npz")
    assert rrnn_net.cli.main(["-v", "decode", str(tmp_path / "y.npy"), str(tmp_path / "model.npz")]) == 0
    assert "rrnn: decoded with the ukf" in capsys.readouterr().err
    assert rrnn_net.cli.main(["-q", "decode", str(tmp_path / "y.npy"), str(tmp_path / "model.npz"), "--force"]) == 0
    assert capsys.readouterr().err == ""  # neither progress nor log lines
    with pytest.raises(SystemExit) as exit_info:
        rrnn_net.cli.main(["-q", "-v", "info", "x.graphml"])
    assert exit_info.value.code == 2


def test_compile_seed_sets_the_fixed_gain_average_and_is_recorded(tmp_path):
    from rrnn_net import GenerativeRNN
    from rrnn_net.cli import EXIT_ERROR, main
    from rrnn_net.graph import load_graph

    GenerativeRNN.oscillator(3, 2, seed=0).save(tmp_path / "model.npz")
    graphs = {}
    for seed in (0, 5):
        out = tmp_path / f"seed{seed}.json"
        assert main(["compile", str(tmp_path / "model.npz"), "--gain-mode", "fixed", "--seed", str(seed),
                     "--out", str(out)]) == 0
        graphs[seed] = load_graph(out)
        assert graphs[seed].graph["provenance_gain_average_seed"] == seed
    gains = [[d["weight"] for *_, d in sorted(graphs[seed].edges(data=True)) if d["kind"] == "fixed_gain"]
             for seed in (0, 5)]
    assert gains[0] != gains[1]
    assert main(["compile", str(tmp_path / "model.npz"), "--seed", "1", "--out", str(tmp_path / "a.json")]) \
        == EXIT_ERROR


def test_compile_refuses_an_output_folder_that_does_not_exist_before_any_work(tmp_path, capsys):
    model_path = GenerativeRNN.oscillator(3, 2, seed=4).save(tmp_path / "model.npz")
    out = tmp_path / "missing" / "model.graphml"
    assert rrnn_net.cli.main(["compile", str(model_path), "--out", str(out)]) == EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before compiling (an adaptive compile prints its prior first)
    assert captured.err.strip() == (f"rrnn compile: error: {out}: its folder {out.parent} does not exist; nothing was "
                                    "written (create the folder, or choose another path)")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.npz"]


def test_compile_names_a_graph_given_as_the_model_without_advising_pickle(tmp_path, capsys):
    graph = GRAPHS / "rrnn_fixed.graphml"
    assert rrnn_net.cli.main(["compile", str(graph), "--out", str(tmp_path / "again.graphml")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "is not a saved GenerativeRNN: it is not an .npz archive" in err and "pickle" not in err


def test_an_interrupted_command_says_so_in_one_line(monkeypatch, capsys):
    import rrnn_net.cli.info

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(rrnn_net.cli.info, "_info", interrupted)  # the handler `rrnn info` registers
    assert rrnn_net.cli.main(["info", str(GRAPHS / "rrnn_fixed.graphml")]) == rrnn_net.cli.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "rrnn info: interrupted\n"
