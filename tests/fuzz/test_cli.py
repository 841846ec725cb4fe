"""Fuzz the ``rrnn`` command with generated files: mutated models, recordings and graph files, and junk options.

Contract: exit status 0 with every promised output written and readable,
status 1 with one line ``rrnn COMMAND: error: ...`` on stderr, or argparse's
usage exit 2; never a traceback, and no file left behind after an error.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rrnn_net import GenerativeRNN
from rrnn_net.cli import EXIT_ERROR, main
from rrnn_net.graph import compile_rrnn
from rrnn_net.graph.io import graph_to_bytes

from .strategies import TOKENS, any_array, mutated, special_floats

MODEL = GenerativeRNN.oscillator(3, 2, observation_noise=0.05, seed=0)


def _model_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return MODEL.save(Path(folder) / "model.npz").read_bytes()


MODEL_BYTES = _model_bytes()
GRAPH_BYTES = {fmt: graph_to_bytes(compile_rrnn(MODEL), fmt) for fmt in ("graphml", "json")}
RECORDING = MODEL.simulate(8, seed=1)[1][0]
CSV_TEXT = "left,right\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in RECORDING) + "\n"


def run(argv: list[str]) -> tuple[int, str, str]:
    """The command's exit status, stdout and stderr, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: bad usage
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def assert_contract(status: int, stdout: str, stderr: str, command: str, outputs: list[Path]) -> None:
    assert status in (0, EXIT_ERROR, 2), status
    assert "Traceback" not in stderr
    if status == EXIT_ERROR:
        # Progress and warnings may come first; the error is one line, the last.
        errors = [line for line in stderr.splitlines() if line.startswith(f"rrnn {command}: error: ")]
        assert len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
        assert not any(path.exists() for path in outputs), "an output was left behind by a failed run"
    if status == 0:
        for path in outputs:
            assert f"wrote {path}" in stdout
            assert path.exists()


# ------------------------------------------------------------------ files
@st.composite
def model_files(draw) -> tuple[str, bytes]:
    """A saved model, mutated, rebuilt with junk arrays, or not a model at all."""
    kind = draw(st.sampled_from(["valid", "mutated", "arrays", "other"]))
    if kind == "valid":
        return ".npz", MODEL_BYTES
    if kind == "mutated":
        return ".npz", draw(mutated(MODEL_BYTES))
    if kind == "arrays":
        with np.load(io.BytesIO(MODEL_BYTES)) as data:
            arrays = dict(data)
        key = draw(st.sampled_from(sorted(arrays)))
        arrays[key] = draw(st.one_of(any_array(), st.text(max_size=20).map(np.array)))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return ".npz", buffer.getvalue()
    return draw(st.sampled_from([".npz", ".npy", ".txt"])), draw(st.binary(max_size=64))


@st.composite
def recording_files(draw) -> tuple[str, bytes]:
    """A recording as .npy (any array) or .csv (mutated, generated rows, other encodings)."""
    kind = draw(st.sampled_from(["npy", "csv", "mutated_csv", "rows"]))
    if kind == "npy":
        buffer = io.BytesIO()
        values = draw(st.one_of(any_array(), st.just(RECORDING)))
        np.save(buffer, values, allow_pickle=False)
        return ".npy", buffer.getvalue()
    if kind == "csv":
        return ".csv", CSV_TEXT.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])))
    if kind == "mutated_csv":
        return ".csv", draw(mutated(CSV_TEXT.encode()))
    cell = st.one_of(special_floats().map(repr), st.sampled_from(TOKENS))
    rows = draw(st.lists(st.lists(cell, min_size=1, max_size=3).map(",".join), max_size=6))
    return ".csv", "\n".join(rows).encode("utf-8", "surrogatepass")


def write(folder: Path, name: str, suffix: str, data: bytes) -> Path:
    path = folder / f"{name}{suffix}"
    path.write_bytes(data)
    return path


# -------------------------------------------------------------------- tests
@given(recording_files(), model_files(),
       st.lists(st.sampled_from([["--decoder", "ukf"], ["--decoder", "ekf"], ["--decoder", "continuous"],
                                 ["--noise", "adaptive"], ["--prior-variance", "0.5"], ["--prior-variance", "-1"],
                                 ["--prior-variance", "nan"], ["--prior-variance", "1e300"], ["--csv"], ["--quiet"],
                                 ["--decoder", "x"]]), max_size=3))
def test_rrnn_decode_writes_its_outputs_or_fails_in_one_line(recording, model, options):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        observations = write(folder, "recording", *recording)
        source = write(folder, "model", *model)
        out = folder / "decoded.npz"
        argv = ["decode", str(observations), str(source), "--out", str(out), *itertools.chain.from_iterable(options)]
        status, stdout, stderr = run(argv)
        outputs = [out, out.with_suffix(".csv")] if ["--csv"] in options else [out]
        assert_contract(status, stdout, stderr, "decode", outputs)
        if status == 0:
            with np.load(out) as data:
                assert np.isfinite(data["mean"]).all() and np.isfinite(data["total_loglik"]).all()
                json.loads(str(data["metadata"]))


@given(model_files(), st.lists(st.sampled_from([["--gain-mode", "fixed"], ["--noise", "adaptive"],
                                                  ["--prior-variance", "0.3"], ["--prior-variance", "0"],
                                                  ["--prior-variance", "inf"]]), max_size=2),
       st.sampled_from([".graphml", ".json"]))
def test_rrnn_compile_writes_a_loadable_graph_or_fails_in_one_line(model, options, suffix):
    from rrnn_net.graph import load_graph

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = write(folder, "model", *model)
        out = folder / f"graph{suffix}"
        argv = ["compile", str(source), "--out", str(out), *itertools.chain.from_iterable(options)]
        status, stdout, stderr = run(argv)
        assert_contract(status, stdout, stderr, "compile", [out])
        if status == 0:
            load_graph(out)


@given(st.sampled_from(sorted(GRAPH_BYTES)).flatmap(lambda fmt: st.tuples(st.just(fmt), mutated(GRAPH_BYTES[fmt]))))
def test_rrnn_info_reports_a_graph_or_fails_in_one_line(graph):
    file_format, data = graph
    with tempfile.TemporaryDirectory() as name:
        path = write(Path(name), "graph", f".{file_format}", data)
        status, stdout, stderr = run(["info", str(path)])
        assert_contract(status, stdout, stderr, "info", [])
