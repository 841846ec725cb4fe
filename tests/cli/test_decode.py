import json
from pathlib import Path

import numpy as np
import pytest

from rrnn_net import EKF, UKF, ContinuousFilter, GenerativeRNN
from rrnn_net.cli import EXIT_ERROR, main
from rrnn_net.filters.stability import default_prior_variance
from rrnn_net.graph import compile_baseline, compile_rrnn, load_graph, save_graph


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A saved model, batched observations with a gap, and one trial as CSV with a header and empty cells."""
    folder = tmp_path_factory.mktemp("decode")
    model = GenerativeRNN.oscillator(3, 2, substeps=2, observation_noise=0.02, seed=0)
    model.save(folder / "model.npz")
    _, y = model.simulate(40, batch=2, seed=1)
    y[:, 10:13, 1] = np.nan
    np.save(folder / "trials.npy", y)
    rows = [",".join("" if np.isnan(value) else repr(float(value)) for value in sample) for sample in y[0]]
    (folder / "trial.csv").write_text("\n".join(["left,right", *rows]) + "\n")
    return folder, model, y


GRAPHS = sorted((Path(__file__).parents[2] / "graphs").glob("*.graphml")) + \
    sorted((Path(__file__).parents[2] / "graphs").glob("*.json"))


def decode(capsys, *args) -> tuple[int, str, str]:
    status = main(["decode", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("graph_file", GRAPHS, ids=lambda path: path.name)
def test_every_committed_example_graph_runs_through_rrnn_decode(graph_file, tmp_path, capsys):
    graph = load_graph(graph_file)
    width = graph.graph["n_obs" if graph.graph["graph_type"] == "rrnn" else "n_input"]
    recording = tmp_path / "recording.npy"
    np.save(recording, np.random.default_rng(0).normal(size=(30, width)))
    out = tmp_path / "decoded.npz"
    status, stdout, _ = decode(capsys, recording, graph_file, "--quiet", "--out", out)
    assert status == 0 and f"wrote {out}" in stdout
    with np.load(out) as decoded:
        fields = ("mean", "loglik") if graph.graph["graph_type"] == "rrnn" else ("states", "outputs")
        for name in fields:
            assert decoded[name].shape[0] == 30 and np.isfinite(decoded[name]).all()


def test_baseline_graph_output_equals_run_brian2_and_refuses_filter_options(tmp_path, capsys):
    graph = compile_baseline(np.eye(3) * 0.5, np.ones((3, 2)), np.ones((1, 3)), tau=0.02, sample_interval=0.005)
    save_graph(graph, tmp_path / "baseline.json")
    inputs = np.random.default_rng(1).normal(size=(2, 20, 2))
    np.save(tmp_path / "inputs.npy", inputs)
    status, _, _ = decode(capsys, tmp_path / "inputs.npy", tmp_path / "baseline.json", "--quiet")
    assert status == 0
    from rrnn_net.backends import run_brian2

    expected = run_brian2(graph, inputs)
    with np.load(tmp_path / "inputs_decoded.npz") as decoded:
        np.testing.assert_array_equal(decoded["states"], expected.states)
        np.testing.assert_array_equal(decoded["outputs"], expected.outputs)
    status, _, stderr = decode(capsys, tmp_path / "inputs.npy", tmp_path / "baseline.json", "--csv")
    assert status == EXIT_ERROR and "--csv" in stderr


def test_ukf_output_equals_one_pass_of_the_decoder(files, tmp_path, capsys):
    folder, model, y = files
    out = tmp_path / "decoded.npz"
    status, stdout, stderr = decode(capsys, folder / "trials.npy", folder / "model.npz", "--out", out)
    assert status == 0 and f"wrote {out}" in stdout and "with ukf" in stderr
    reference = UKF(model).filter(y)
    with np.load(out, allow_pickle=False) as decoded:
        for name in ("mean", "predicted_state", "predicted_obs", "prediction_error", "loglik"):
            np.testing.assert_allclose(decoded[name], getattr(reference, name), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(decoded["evidence"], reference.evidence, rtol=1e-12)
        np.testing.assert_allclose(decoded["time"], np.arange(1, 41) * model.sample_interval)
        metadata = json.loads(str(decoded["metadata"]))
    assert metadata["decoder"] == "ukf" and metadata["prior_variance"] == 1.0


def test_adaptive_noise_writes_the_noise_estimates(files, tmp_path, capsys):
    folder, model, y = files
    out = tmp_path / "adaptive.npz"
    status, _, _ = decode(capsys, folder / "trials.npy", folder / "model.npz", "--noise", "adaptive", "--out", out)
    assert status == 0
    with np.load(out, allow_pickle=False) as decoded:
        np.testing.assert_allclose(decoded["noise_variance"], UKF(model, noise="adaptive").filter(y).noise_variance,
                                   rtol=1e-12)
        assert json.loads(str(decoded["metadata"]))["noise"] == "adaptive"


def test_csv_with_header_and_empty_cells_is_one_trial_with_missing_samples(files, tmp_path, capsys):
    folder, model, y = files
    out = tmp_path / "trial.npz"
    status, stdout, _ = decode(capsys, folder / "trial.csv", folder / "model.npz", "--decoder", "ekf", "--csv",
                               "--quiet", "--out", out)
    assert status == 0 and "trial.csv" in stdout
    with np.load(out) as decoded:
        assert decoded["mean"].shape == (40, 3)
        assert np.isnan(decoded["prediction_error"][10:13, 1]).all()
        np.testing.assert_allclose(decoded["mean"], EKF(model).filter(y[0]).mean, rtol=1e-12, atol=1e-12)
    table = np.genfromtxt(out.with_suffix(".csv"), delimiter=",", names=True)
    assert table.shape == (40,) and "prediction_error_1" in table.dtype.names
    np.testing.assert_allclose(table["evidence"][-1], np.load(out)["total_loglik"], rtol=1e-9)


def test_brian2_network_from_model_and_from_graph_file_match_the_continuous_filter(files, tmp_path, capsys):
    folder, model, y = files
    variance = default_prior_variance(model)
    save_graph(compile_rrnn(model, cov0=variance * np.eye(3)), tmp_path / "net.graphml")
    reference = ContinuousFilter(model, repair_covariance=False).filter(y, cov0=variance * np.eye(3))
    for source, out in ((folder / "model.npz", tmp_path / "from_model.npz"),
                        (tmp_path / "net.graphml", tmp_path / "from_graph.npz")):
        extra = ("--decoder", "brian2") if source.suffix == ".npz" else ()
        assert decode(capsys, folder / "trials.npy", source, *extra, "--quiet", "--out", out)[0] == 0
        with np.load(out) as decoded:
            np.testing.assert_allclose(decoded["mean"], reference.mean, atol=1e-9)
            np.testing.assert_allclose(decoded["evidence"], reference.evidence, rtol=1e-9)


def test_fixed_gain_graph_json_runs(files, tmp_path, capsys):
    folder, model, _ = files
    save_graph(compile_rrnn(model, gain_mode="fixed"), tmp_path / "fixed.json")
    out = tmp_path / "fixed_decoded.npz"
    assert decode(capsys, folder / "trials.npy", tmp_path / "fixed.json", "--quiet", "--out", out)[0] == 0
    with np.load(out) as decoded:
        assert decoded["mean"].shape == (2, 40, 3)
        assert json.loads(str(decoded["metadata"]))["gain_mode"] == "fixed"


def _bad_inputs(folder, tmp_path):
    (tmp_path / "text.npy").write_text("not an array")
    np.save(tmp_path / "vector.npy", np.ones(5))
    np.save(tmp_path / "infinite.npy", np.full((4, 2), np.inf))
    (tmp_path / "words.csv").write_text("1,2\n3,abc\n")
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    (tmp_path / "empty.csv").write_text("a,b\n")
    np.save(tmp_path / "three_channels.npy", np.zeros((5, 3)))
    save_graph(compile_baseline(np.zeros((2, 2)), np.ones((2, 2)), np.ones((1, 2)), tau=0.02, sample_interval=0.005),
               tmp_path / "baseline.json")
    (tmp_path / "broken.graphml").write_text("<graphml>")
    np.savez(tmp_path / "fake.npz", W=np.eye(2))
    trials, model = folder / "trials.npy", folder / "model.npz"
    saved = model.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(saved[:len(saved) // 2])
    with (tmp_path / "array.npz").open("wb") as handle:  # .npy content under a model's name
        np.save(handle, np.eye(2))
    (tmp_path / "latin1.csv").write_bytes("température,pression\n0.5,1.0\n".encode("latin-1"))
    (tmp_path / "empty.npy").write_bytes(b"")
    return {
        "missing observations": ([tmp_path / "none.npy", model], "No such file"),
        "missing model": ([trials, tmp_path / "none.npz"], "no such file"),
        "unknown observation suffix": ([folder / "model.npz", model], ".npy or .csv"),
        "unknown source suffix": ([trials, tmp_path / "text.npy"], "expected a model"),
        "not an array": ([tmp_path / "text.npy", model], "not a numeric .npy array"),
        "1-D observations": ([tmp_path / "vector.npy", model], "(T, m) or (B, T, m)"),
        "infinite values": ([tmp_path / "infinite.npy", model], "infinite"),
        "non-numeric CSV cell": ([tmp_path / "words.csv", model], "not a numeric CSV table"),
        "ragged CSV": ([tmp_path / "ragged.csv", model], "different numbers of columns"),
        "empty CSV": ([tmp_path / "empty.csv", model], "no samples"),
        "channel mismatch": ([tmp_path / "three_channels.npy", model], "3 channel(s) per sample"),
        "not a saved model": ([trials, tmp_path / "fake.npz"], "not a saved GenerativeRNN"),
        "truncated model": ([trials, tmp_path / "truncated.npz"], "not a saved GenerativeRNN"),
        "a .npy array as the model": ([trials, tmp_path / "array.npz"], "one array (.npy)"),
        "non-UTF-8 CSV": ([tmp_path / "latin1.csv", model], "not UTF-8"),
        "empty .npy": ([tmp_path / "empty.npy", model], "not a numeric .npy array"),
        "numpy decoder on a graph": ([trials, tmp_path / "baseline.json", "--decoder", "ukf"], "Brian2 network"),
        "baseline inputs with gaps": ([trials, tmp_path / "baseline.json"], "may not contain NaN"),
        "broken graph": ([trials, tmp_path / "broken.graphml"], "broken.graphml"),
        "unstable prior": ([trials, model, "--decoder", "brian2", "--prior-variance", "5"], "forward Euler"),
        "prior for a fixed gain": ([trials, model, "--decoder", "brian2", "--gain-mode", "fixed", "--prior-variance",
                                    "0.01"], "no effect"),
        "negative prior": ([trials, model, "--prior-variance", "-1"], "positive"),
    }


def test_bad_files_and_options_exit_1_with_one_line(files, tmp_path, capsys):
    folder, _, _ = files
    for case, (args, message) in _bad_inputs(folder, tmp_path).items():
        status, stdout, stderr = decode(capsys, *args, "--quiet")
        assert status == EXIT_ERROR, case
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rrnn decode: error:"), (case, stderr)
        assert message in lines[0], (case, lines[0])
        assert stdout == "", case


def test_usage_errors_still_exit_2(files, capsys):
    folder, _, _ = files
    with pytest.raises(SystemExit) as exit_info:
        main(["decode", str(folder / "trials.npy"), str(folder / "model.npz"), "--decoder", "nope"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_out_equal_to_an_input_is_refused_even_with_force(files, tmp_path, capsys):
    folder, _, y = files
    recording = tmp_path / "rec.csv"
    recording.write_text("\n".join(",".join(map(repr, map(float, sample))) for sample in y[0]) + "\n")
    model_alias = tmp_path / "alias.npz"
    model_alias.symlink_to(folder / "model.npz")  # another name, the same file
    before = {path: path.read_bytes() for path in (recording, folder / "model.npz")}
    for args, clash in (([recording, folder / "model.npz", "--out", tmp_path / "rec.npz", "--csv"], "rec.csv"),
                        ([recording, folder / "model.npz", "--out", folder / "model.npz"], "model.npz"),
                        ([recording, folder / "model.npz", "--out", model_alias], "alias.npz")):
        status, stdout, stderr = decode(capsys, *args, "--force", "--quiet")
        assert status == EXIT_ERROR and stdout == ""
        assert f"{clash} is an input of this command" in stderr and len(stderr.strip().splitlines()) == 1
    assert {path: path.read_bytes() for path in before} == before
    assert not (tmp_path / "rec.npz").exists()


def test_existing_output_is_refused_without_force_and_replaced_with_it(files, tmp_path, capsys):
    folder, _, _ = files
    out = tmp_path / "decoded.npz"
    out.write_bytes(b"an earlier result")
    status, _, stderr = decode(capsys, folder / "trials.npy", folder / "model.npz", "--out", out, "--quiet")
    assert status == EXIT_ERROR and "exists; --force overwrites it" in stderr
    assert out.read_bytes() == b"an earlier result"
    status, stdout, _ = decode(capsys, folder / "trials.npy", folder / "model.npz", "--out", out, "--quiet",
                               "--force")
    assert status == 0 and f"wrote {out}" in stdout
    with np.load(out) as decoded:
        assert decoded["mean"].shape == (2, 40, 3)
    assert [path.name for path in tmp_path.iterdir()] == ["decoded.npz"]  # no temporary file left


def test_out_without_suffix_gets_npz_and_the_printed_path_is_the_file_written(files, tmp_path, capsys):
    folder, _, _ = files
    status, stdout, _ = decode(capsys, folder / "trials.npy", folder / "model.npz", "--out", tmp_path / "result",
                               "--csv", "--quiet")
    assert status == 0
    assert stdout.split() == ["wrote", str(tmp_path / "result.npz"), "wrote", str(tmp_path / "result.csv")]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["result.csv", "result.npz"]


def test_out_with_another_suffix_or_a_folder_is_refused(files, tmp_path, capsys):
    folder, _, _ = files
    for out, message in ((tmp_path / "x.txt", "written as .npz, not .txt"), (tmp_path, "is a folder")):
        status, stdout, stderr = decode(capsys, folder / "trials.npy", folder / "model.npz", "--out", out, "--quiet")
        assert status == EXIT_ERROR and message in stderr and stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_help_describes_the_formats(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["decode", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in (".npy", ".csv", ".graphml", "--decoder", "missing", "evidence"):
        assert word in text
