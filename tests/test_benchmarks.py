"""Every script in benchmarks/ runs, as its usage line says, at the smallest size it accepts.

The numbers are not checked here (speed lives in the benchmarks, never in a unit test); what is checked is
that each script still runs against the package and prints its table, with the peer it is measured against.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_script(name: str, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> str:
    monkeypatch.setattr(sys, "argv", [name, *argv])
    runpy.run_path(str(BENCHMARKS / name), run_name="__main__")
    return capsys.readouterr().out


def test_every_benchmark_script_is_tested():
    tested = {"bench_bptt.py", "bench_brian2.py", "bench_compile.py", "bench_filters.py", "bench_recognition.py",
              "bench_reference.py"}
    assert {path.name for path in BENCHMARKS.glob("*.py")} == tested


def test_filters_against_filterpy(monkeypatch, capsys):
    out = run_script("bench_filters.py", ["--steps", "5", "--repeats", "1"], monkeypatch, capsys)
    assert "filterpy UKF" in out  # the peer (a test dependency) was measured
    assert out.count("x\n") == 9  # the peer and four decoders at batch 1 and 64, each as a ratio to it


def test_compile(monkeypatch, capsys):
    out = run_script("bench_compile.py", ["--sizes", "3", "--repeats", "1"], monkeypatch, capsys)
    assert all(label in out for label in ("adaptive N=3", "fixed N=3 (K given)", "fixed N=3 (K averaged)"))


def test_reference_backend_against_the_numpy_filter(monkeypatch, capsys):
    out = run_script("bench_reference.py", ["--sizes", "3", "--samples", "10"], monkeypatch, capsys)
    assert "| 3 | adaptive |" in out and "| 3 | fixed |" in out


def test_bptt(monkeypatch, capsys):
    out = run_script("bench_bptt.py", ["--repeats", "1"], monkeypatch, capsys)
    assert "ms per epoch" in out


def test_brian2_against_the_numpy_filter(monkeypatch, capsys, tmp_path):
    # The numpy target compiles nothing; each target is measured in a fresh process, as in the full run.
    out = run_script("bench_brian2.py", ["--quick", "--targets", "numpy", "--gains", "fixed", "--cache-root",
                                         str(tmp_path)], monkeypatch, capsys)
    assert "fixed gain, N=8: best target numpy runs at" in out


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two learning steps: banks at chance
def test_recognition(monkeypatch, capsys, tmp_path):
    # The rRNN bank alone: aeon's peers are numba code, whose cold compilation (about 110 s of CPU) would cost
    # the suite more than the rest of this module. The benchmark itself always runs them.
    pytest.importorskip("aeon")
    metrics = tmp_path / "recognition.json"
    out = run_script("bench_recognition.py", [
        "--datasets", "ItalyPowerDemand", "--only", "rrnn", "--json", str(metrics), "--set", "n_hidden=2",
        "--set", "fit_options.evidence_steps=2", "--set", "fit_options.conditional_steps=2",
        "--set", "fit_options.init_epochs=1", "--seed", "0", "1", "--snr", "0"], monkeypatch, capsys)
    assert "| ItalyPowerDemand" in out
    written = json.loads(metrics.read_text())
    measured = written["ItalyPowerDemand"]["rrnn"]
    assert 0.0 <= measured["accuracy"] <= 1.0 and 0.0 <= measured["ece_100%"] <= 1.0 and measured["fit_s"] > 0
    # Two seeds: each seed's own row, and the row is their mean.
    per_seed = measured["per_seed"]
    assert set(per_seed) == {"0", "1"}
    for key in ("accuracy", "train_accuracy", "ece_25%", "fit_s"):
        assert measured[key] == pytest.approx((per_seed["0"][key] + per_seed["1"][key]) / 2, rel=1e-12)
    noisy = written["ItalyPowerDemand"]["accuracy_with_added_noise"]  # means over the two banks
    assert set(noisy) == {"rrnn", "rrnn_grid"} and 0.0 <= noisy["rrnn"]["0 dB"] <= 1.0
    assert written["environment"]["seeds"] == [0, 1]
    low, high = per_seed["0"]["accuracy_95%"]  # each seed's Wilson interval
    assert 0.0 <= low <= per_seed["0"]["accuracy"] <= high <= 1.0
    assert written["environment"]["packages"]["numpy"] == np.__version__


def test_the_calibrated_peer_is_minirocket_with_a_temperature_fitted_on_held_out_folds():
    # Built, not fitted: fitting MiniRocket would compile aeon's numba code cold (see test_recognition).
    pytest.importorskip("aeon")
    from sklearn.calibration import CalibratedClassifierCV

    bench = runpy.run_path(str(BENCHMARKS / "bench_recognition.py"))
    equal = np.zeros((4, 1, 12))
    plain, calibrated = (bench["peer_classifier"](kind, equal, equal)
                         for kind in ("minirocket", "minirocket_calibrated"))
    assert plain.estimator is None  # aeon's own ridge classifier, 0/1 posteriors
    assert isinstance(calibrated.estimator, CalibratedClassifierCV)
    # "auto" is True for an estimator that is not frozen: a classifier and temperature per fold, averaged.
    assert calibrated.estimator.method == "temperature" and calibrated.estimator.ensemble in (True, "auto")
    assert calibrated.random_state == plain.random_state == 0
    unequal = [np.zeros((1, 10)), np.zeros((1, 12))]  # aeon's list layout: padded to the longest recording
    pipeline = bench["peer_classifier"]("minirocket_calibrated", unequal, unequal)
    (padder,), minirocket = pipeline.transformers, pipeline.classifier
    assert padder.padded_length == 12 and minirocket.estimator.method == "temperature"


def test_recognition_intervals_against_closed_forms():
    from rrnn_net.learning import expected_calibration_error

    bench = runpy.run_path(str(BENCHMARKS / "bench_recognition.py"))  # its functions, main() not run
    rng = np.random.default_rng(0)
    n, z = 2000, 1.959964
    truth = rng.integers(0, 2, n)
    right = rng.random(n) < 0.85
    predicted = np.where(right, truth, 1 - truth)
    proba = np.where(np.arange(2) == predicted[:, None], 0.9, 0.1)  # confident 0.9, right 85 %: overconfident
    intervals = bench["sampling_intervals"](proba, truth)
    # Wilson's score interval, written out
    p = right.mean()
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    np.testing.assert_allclose(intervals["accuracy_95%"], [centre - half, centre + half], rtol=1e-9)
    # Every confidence is 0.9: the ECE is |accuracy − 0.9|, here 0.05; a calibrated classifier's would be
    # |Binomial(n, 0.9)/n − 0.9|, whose mean is about sqrt(2/π) · sqrt(0.09/n) = 0.0054.
    assert expected_calibration_error(proba, truth) == pytest.approx(0.9 - p)
    assert intervals["overconfidence_100%"] == pytest.approx(0.9 - p)  # its sign: overconfident
    cautious = np.where(np.arange(2) == predicted[:, None], 0.6, 0.4)  # 0.6 where 85 % are right
    assert bench["sampling_intervals"](cautious, truth)["overconfidence_100%"] == pytest.approx(0.6 - p)
    mean, upper = intervals["ece_100%_if_calibrated"]
    assert mean == pytest.approx(np.sqrt(2 / np.pi) * np.sqrt(0.09 / n), rel=0.1) and upper < 0.9 - p
    # Labels drawn from the posteriors themselves: calibrated, so its ECE lies inside that range
    drawn = np.where(rng.random(n) < 0.9, predicted, 1 - predicted)
    _, upper = bench["sampling_intervals"](proba, drawn)["ece_100%_if_calibrated"]
    assert expected_calibration_error(proba, drawn) < upper
    # The paired difference of two classifiers' hits: b and c recordings only one of them got right
    other = np.where(rng.random(n) < 0.2, ~right, right)
    b, c = np.sum(right & ~other), np.sum(~right & other)
    difference, se = (b - c) / n, np.sqrt(b + c - (b - c) ** 2 / n) / n
    np.testing.assert_allclose(bench["paired_difference_interval"](right, other), [difference - z * se,
                                                                                   difference + z * se], atol=0.003)
