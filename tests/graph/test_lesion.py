"""lesion and consistency: new valid graphs, independent checks of what they compute, and what disagrees."""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import RRNNError
from rrnn_net.backends import run
from rrnn_net.cli import main
from rrnn_net.errors import ParameterError
from rrnn_net.filters.stability import euler_safe_prior_variance, graph_riccati_euler_factor
from rrnn_net.graph import (
    GraphSchemaError,
    LesionError,
    compile_baseline,
    compile_rrnn,
    consistency,
    lesion,
    save_graph,
    summarize,
    to_matrices,
    validate_graph,
)
from rrnn_net.graph.io import graph_to_bytes


@pytest.fixture(scope="module")
def prior(model):
    """A prior that does not depend on M (the default one does), so that a graph with M·s keeps it."""
    return euler_safe_prior_variance(model, 0.25) * np.eye(4)


@pytest.fixture(scope="module")
def graph(model, prior):
    return compile_rrnn(model, cov0=prior)


@pytest.fixture(scope="module")
def observations(model):
    _, y = model.simulate(40, batch=2, seed=1)
    y[:, 10:13, 1] = np.nan
    return y


def _kinds(*kinds):
    return lambda source, target, attributes: attributes["kind"] in kinds


def test_lesion_returns_a_new_valid_graph_and_leaves_the_original_unchanged(graph):
    before = graph_to_bytes(graph, "json")
    lesioned = lesion(graph, edges="recurrent")
    validate_graph(lesioned)
    assert graph_to_bytes(graph, "json") == before
    assert lesioned.number_of_edges() == graph.number_of_edges() - 16
    assert not any(kind == "recurrent" for *_, kind in lesioned.edges(data="kind"))
    assert (lesioned.graph["provenance_lesions"], lesioned.graph["provenance_lesion_recurrent"]) == (1, 16)
    again = lesion(lesioned, edges=[("state:0", "error:1")], scale=2.0)
    assert (again.graph["provenance_lesions"], again.graph["provenance_lesion_prediction"]) == (2, 1)
    assert again.edges["state:0", "error:1"]["weight"] == 2.0 * graph.edges["state:0", "error:1"]["weight"]


def test_edges_a_template_needs_stay_with_weight_zero(graph):
    lesioned = lesion(graph, edges="slope")  # every scaled_covariance unit needs its slope factor
    validate_graph(lesioned)
    assert [weight for *_, weight in lesioned.in_edges("scaled_covariance:1,2", data="weight")] == [0.0, 1.0]
    sensory = lesion(graph, edges="sensory")
    assert sensory.edges["sensory:0", "error:0"]["weight"] == 0.0


@pytest.mark.parametrize("kinds, parameter", [(("recurrent", "drift"), "W"),
                                              (("prediction", "feedback", "projection"), "M")])
def test_scaling_every_copy_of_a_parameter_is_the_graph_of_the_scaled_model(model, prior, graph, observations, kinds,
                                                                            parameter):
    """Independent of any filter code: the compiler's graph of a model with W·s (or M·s) computes the same."""
    scale = 0.7
    lesioned = lesion(graph, edges=_kinds(*kinds), scale=scale)
    assert consistency(lesioned).is_exact
    changed = model.replace(**{parameter: getattr(model, parameter) * scale})
    expected = run(compile_rrnn(changed, cov0=prior), observations, backend="reference", record="covariance")
    result = run(lesioned, observations, backend="reference", record="covariance")
    for name in ("mean", "cov", "loglik", "predicted_obs"):
        np.testing.assert_allclose(getattr(result, name), getattr(expected, name), rtol=0, atol=1e-12, err_msg=name)


def test_removing_every_copy_of_w_is_the_model_without_recurrence(model, prior, graph, observations):
    lesioned = lesion(graph, edges=_kinds("recurrent", "drift"))
    report = consistency(lesioned)
    assert report.is_exact and report.absent_kinds == ("recurrent", "drift")
    expected = run(compile_rrnn(model.replace(W=np.zeros((4, 4))), cov0=prior), observations, backend="reference")
    np.testing.assert_allclose(run(lesioned, observations, backend="reference").mean, expected.mean, atol=1e-12)


def test_an_inconsistent_lesion_runs_and_consistency_names_exactly_its_entries(graph, observations):
    lesioned = lesion(graph, edges=[("state:2", "state:1"), ("state:0", "state:3")])
    result = run(lesioned, observations, backend="reference")
    assert np.isfinite(result.mean).all()
    assert np.abs(result.mean - run(graph, observations, backend="reference").mean).max() > 1e-3
    report = consistency(lesioned)
    assert not report.is_exact
    assert [(mismatch.parameter, mismatch.entry) for mismatch in report.mismatches] == [("W", (1, 2)), ("W", (3, 0))]
    assert report.parts == ("dynamics", "covariance propagation")
    recurrent, drift = report.mismatches[0].copies
    assert (recurrent.location, recurrent.values, recurrent.n_absent) == ("recurrent", (), 1)
    assert drift.location == "drift" and drift.n_absent == 0 and not drift.agrees
    assert drift.values == pytest.approx([graph.edges["state:2", "state:1"]["weight"]])
    text = str(report)
    assert "W[1,2]: recurrent absent (0), drift" in text and "recurrent (dynamics) vs drift" in text
    with pytest.raises(GraphSchemaError, match=r"consistency\(G\)"):
        to_matrices(lesioned)
    assert report.absent_kinds == ()


def test_consistency_covers_precisions_fixed_weights_and_time_constants(graph):
    edited = graph.copy()
    edited.nodes["quadratic:1,0,3"]["gain"] *= 2  # λ_1 of the covariance propagation only
    edited.edges["error:0", "evidence"]["weight"] = -1.0
    edited.nodes["state:2"]["tau"] *= 1.5
    report = consistency(edited)
    assert {mismatch.label for mismatch in report.mismatches} == {"precision[1]", "surprise weight", "tau"}
    assert report.parts == ("dynamics", "likelihood", "covariance propagation")
    silenced = lesion(graph, units="error:1")  # its quadratic units keep shrinking P: over-confident
    labels = {mismatch.label for mismatch in consistency(silenced).mismatches}
    assert {"M[1,0]", "surprise weight"} <= labels


def test_fixed_gain_and_baseline_graphs(model):
    fixed = compile_rrnn(model, gain_mode="fixed", fixed_gain=np.ones((4, 2)))
    assert consistency(fixed).is_exact and "once each" in consistency(fixed).headline
    # W is held once in the fixed form: an edit changes the model, it breaks nothing.
    assert consistency(lesion(fixed, edges="recurrent", scale=0.5)).is_exact
    report = consistency(lesion(fixed, edges="sensory", scale=2.0))
    assert [mismatch.label for mismatch in report.mismatches] == ["sensory weight"] and report.parts == ("likelihood",)
    baseline = compile_baseline(np.eye(3) * 0.5, np.ones((3, 2)), np.ones((1, 3)), tau=0.02, sample_interval=0.005)
    assert consistency(baseline).is_exact and consistency(baseline).headline.startswith("not applicable")
    lesioned = lesion(baseline, edges="readout")
    assert consistency(lesioned).absent_kinds == ("readout",) and consistency(lesioned).is_exact


def test_disconnected_state_unit_relaxes_to_its_bias(model, graph, observations):
    lesioned = lesion(graph, units=["state:1"])
    assert lesioned.in_degree("state:1") == 0
    # What stays are the inputs the product units need, silenced: slope and back_error, N each.
    assert sorted({data["kind"] for *_, data in lesioned.out_edges("state:1", data=True)}) == ["back_error", "slope"]
    assert {data["weight"] for *_, data in lesioned.out_edges("state:1", data=True)} == {0.0}
    mean = run(lesioned, observations, backend="reference").mean[..., 1]
    steps = np.arange(1, 41) * model.substeps
    relaxed = model.b[1] * (1 - (1 - model.step / model.tau) ** steps)
    np.testing.assert_allclose(mean, np.broadcast_to(relaxed, mean.shape), atol=1e-12)


def test_summary_and_info_report_consistency(graph, tmp_path, capsys):
    lesioned = lesion(graph, edges="drift", scale=0.5)
    assert "consistency: exact" in str(summarize(graph))
    assert "consistency: inexact, 16 disagreeing entries" in str(summarize(lesioned))
    save_graph(lesioned, tmp_path / "lesioned.graphml")
    assert main(["info", str(tmp_path / "lesioned.graphml")]) == 0
    assert "W: recurrent (dynamics) vs drift (covariance propagation)" in capsys.readouterr().out


def test_euler_factor_reads_the_copies_the_covariance_propagation_uses(model, graph, observations):
    factor = graph_riccati_euler_factor(graph, model.step)
    assert graph_riccati_euler_factor(lesion(graph, edges="prediction"), model.step) == pytest.approx(factor)
    assert graph_riccati_euler_factor(lesion(graph, edges="projection", scale=0.5), model.step) == pytest.approx(
        factor / 4)
    assert graph_riccati_euler_factor(lesion(graph, edges="quadratic"), model.step) == 0.0
    result = run(graph, observations, backend="reference", record="covariance")
    during = graph_riccati_euler_factor(graph, model.step, result.mean, result.cov)
    assert during.shape == (2, 40) and 0 < during.max() < 1


def test_a_lesioned_graph_file_decodes_through_the_cli(graph, observations, tmp_path, capsys):
    lesioned = lesion(graph, edges="feedback", scale=0.5)
    save_graph(lesioned, tmp_path / "lesioned.graphml")
    np.save(tmp_path / "obs.npy", observations)
    out = tmp_path / "decoded.npz"
    assert main(["decode", str(tmp_path / "obs.npy"), str(tmp_path / "lesioned.graphml"), "--quiet",
                 "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    expected = run(lesioned, observations, backend="reference")
    with np.load(out) as decoded:
        np.testing.assert_allclose(decoded["mean"], expected.mean, atol=1e-9)
        np.testing.assert_allclose(decoded["loglik"], expected.loglik, atol=1e-9)


def test_bad_arguments_raise_lesion_errors(graph):
    assert issubclass(LesionError, ParameterError) and issubclass(LesionError, RRNNError)
    cases = [
        ({}, "select edges"),
        ({"edges": "synapse"}, "unknown edge kind 'synapse'"),
        ({"edges": "fixed_gain"}, "no 'fixed_gain' edges"),
        ({"edges": [("state:0", "sensory:0")]}, "no edge 'state:0' -> 'sensory:0'"),
        ({"edges": ["recurrent"]}, "pairs or a predicate"),
        ({"edges": lambda u, v, a: False}, "selects no edge"),
        ({"units": ["state:9"]}, "no unit"),
        ({"units": "state:0", "scale": 0.5}, "only be disconnected"),
        ({"edges": "recurrent", "scale": float("nan")}, "finite number"),
        ({"edges": "recurrent", "scale": "0.5"}, "finite number"),
    ]
    for arguments, message in cases:
        with pytest.raises(LesionError, match=message):
            lesion(graph, **arguments)
    broken = graph.copy()
    broken.nodes["state:0"]["bias"] = "0"
    with pytest.raises(GraphSchemaError):
        lesion(broken, edges="recurrent")
