"""The lesion demo (fast): figure, metrics, the claims it makes, and one lesioned network on Brian2."""

import json

import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.backends import run
from rrnn_net.demos import run_demo
from rrnn_net.demos.lesions import PRIOR_SAFETY
from rrnn_net.filters.stability import euler_safe_prior_variance
from rrnn_net.graph import compile_rrnn, lesion

from . import assert_one_line_summary


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesions")
    return out, run_demo("lesions", out, seed=0, fast=True)


def test_writes_the_lesion_map_and_metrics(demo):
    out, metrics = demo
    assert (out / "lesions.png").stat().st_size > 10_000
    assert json.loads((out / "metrics.json").read_text()) == metrics
    # Every connection class of the adaptive graph, at every scale.
    assert len(metrics["lesions"]) == 14 and "fixed_gain" not in metrics["lesions"]
    assert all(set(row) == {"0", "1.5"} for row in metrics["lesions"].values())


def test_the_map_shows_what_each_class_does(demo):
    _, metrics = demo
    lesions = metrics["lesions"]
    assert metrics["intact"]["evidence_accuracy"] == 1.0
    # Without the error feedback the network runs open loop: no correction, no discrimination.
    assert lesions["feedback"]["0"]["rmse_relative"] > 2 and lesions["feedback"]["0"]["evidence_accuracy"] == 0.5
    # The surprise edges only feed the evidence unit: the states are untouched, the evidence is gone (all ties).
    assert lesions["surprise"]["0"]["rmse_relative"] == 1.0 and lesions["surprise"]["0"]["evidence_accuracy"] == 0.5
    assert lesions["recurrent"]["0"]["rmse_relative"] > 2
    assert metrics["parts"]["recurrent"] == ["dynamics", "covariance propagation"]
    assert metrics["parts"]["surprise"] == ["likelihood"]


def test_a_lesioned_network_runs_alike_on_brian2_and_the_reference_backend():
    model = GenerativeRNN.oscillator(4, 2, seed=0)
    graph = compile_rrnn(model, cov0=euler_safe_prior_variance(model, PRIOR_SAFETY) * np.eye(4))
    lesioned = lesion(graph, edges="drift", scale=0.5)  # covariance propagation with half the recurrence
    _, y = model.simulate(30, batch=2, seed=1)
    reference = run(lesioned, y, backend="reference", record="covariance")
    brian2 = run(lesioned, y, backend="brian2", record="covariance")
    for name in ("mean", "cov", "loglik"):
        np.testing.assert_allclose(getattr(brian2, name), getattr(reference, name), rtol=0, atol=1e-9, err_msg=name)


def test_the_one_line_summary_names_its_headline_metrics(demo):
    assert_one_line_summary("lesions", demo[1])
