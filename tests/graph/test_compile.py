"""compile_rrnn / compile_baseline: structure, exact inverse (to_matrices) and the filter's equations."""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import GenerativeRNN
from rrnn_net.backends.reference import evaluate
from rrnn_net.errors import ParameterError, ShapeError
from rrnn_net.filters import gain as filter_gain
from rrnn_net.filters.continuous import ContinuousRHS
from rrnn_net.filters.gain import average_filter_gain
from rrnn_net.graph import GraphSchemaError, compile_baseline, compile_rrnn, to_matrices, to_model, validate_graph
from rrnn_net.graph.io import graph_to_bytes


def random_belief(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    root = rng.standard_normal((n, n))
    return rng.standard_normal(n), root @ root.T / n + 0.1 * np.eye(n)


def reference_rhs(model: GenerativeRNN, mean, cov, y):
    """ContinuousRHS for one trial (NaN in y = missing)."""
    rhs = ContinuousRHS(model)
    observed = ~np.isnan(y)[None]
    d_mean, d_cov, d_evidence, _, predicted = rhs(mean[None], cov[None], np.nan_to_num(y)[None], observed,
                                                  rhs.masked_precision(observed))
    return d_mean[0], d_cov[0], d_evidence[0], np.where(observed[0], y - predicted[0], 0.0)


def evaluate_filter_graph(G, mean, cov, y) -> dict:
    """The graph's right-hand side by message passing (the reference backend), nothing read from a model."""
    states = {"state": {"mu": mean}} if cov is None else {"state": {"mu": mean}, "covariance": {"cov": cov.ravel()}}
    rhs = evaluate(G, y, states)
    d_cov = None if cov is None else rhs["covariance"]["dcov"].reshape(cov.shape)  # units in (row, col) order
    return {"d_mean": rhs["state"]["dmu"], "d_cov": d_cov, "d_evidence": rhs["evidence"]["devidence"][0],
            "epsilon": rhs["error"]["error"]}


def assert_close(actual, desired) -> None:
    """Agreement to 1e-12 relative to the largest entry (precisions ~1e4 make the terms large)."""
    np.testing.assert_allclose(actual, desired, rtol=0, atol=1e-12 * max(1.0, float(np.max(np.abs(desired)))))


# ------------------------------------------------------------- structure
def test_adaptive_graph_has_the_documented_sizes(model):
    G = compile_rrnn(model)
    validate_graph(G)
    n, m = model.n_hidden, model.n_obs
    assert G.number_of_nodes() == 2 * m + n + 1 + 3 * n * n + m * n + m * n * n
    drift_edges = 2 * n**3 - n**2  # the diagonal's two contributions share one edge
    quadratic_factor_edges = m * (2 * n * n - n)
    core = m + 2 * m * n + n * n + m
    covariance = 2 * n * n + 2 * n * n + drift_edges + m * n * n + m * n + quadratic_factor_edges + m * n * n + n * n
    assert G.number_of_edges() == core + covariance
    assert G.graph["gain_mode"] == "adaptive" and G.graph["integration_step"] == model.sample_interval / 2


def test_fixed_graph_has_only_core_units_and_fixed_gain_edges(model):
    gain = np.arange(8.0).reshape(4, 2)
    G = compile_rrnn(model, gain_mode="fixed", fixed_gain=gain)
    validate_graph(G)
    assert {kind for _, kind in G.nodes(data="kind")} == {"sensory", "error", "state", "evidence"}
    assert {kind for _, _, kind in G.edges(data="kind")} == {"sensory", "prediction", "recurrent", "fixed_gain",
                                                              "surprise"}
    assert G.edges["error:1", "state:2"] == {"kind": "fixed_gain", "weight": gain[2, 1]}
    assert G.graph["provenance_fixed_gain_given"] == 1


def test_compilation_is_deterministic(model):
    assert graph_to_bytes(compile_rrnn(model), "json") == graph_to_bytes(compile_rrnn(model), "json")


def test_attributes_are_plain_python_scalars(model):
    G = compile_rrnn(model)
    values = [*G.graph.values()] + [v for _, d in G.nodes(data=True) for v in d.values()]
    values += [v for _, _, d in G.edges(data=True) for v in d.values()]
    assert {type(value) for value in values} == {int, float, str}


# ------------------------------------------------------ exact inverse
def test_to_matrices_recovers_the_adaptive_model_exactly(model):
    rng = np.random.default_rng(1)
    mean0, cov0 = random_belief(4, rng)
    G = compile_rrnn(model, mean0=mean0, cov0=cov0)
    matrices = to_matrices(G)
    for name in ("W", "M", "b", "c", "Q"):
        np.testing.assert_array_equal(matrices[name], getattr(model, name), err_msg=name)
    np.testing.assert_array_equal(matrices["mean0"], mean0)
    np.testing.assert_array_equal(matrices["cov0"], cov0)
    np.testing.assert_array_equal(matrices["feedback"], model.M.T)
    np.testing.assert_array_equal(matrices["drift"], model.W / model.tau)
    np.testing.assert_array_equal(matrices["precision"], 1.0 / (np.diag(model.R) * model.sample_interval))
    # R is stored as a precision; 1/(λΔ) may be one ulp off, but it recompiles to the same graph.
    np.testing.assert_array_max_ulp(matrices["R"], model.R, maxulp=2)
    assert (matrices["tau"], matrices["sample_interval"], matrices["substeps"], matrices["activation"]) == (
        model.tau, model.sample_interval, model.substeps, model.activation)
    rebuilt = to_model(G)
    assert graph_to_bytes(compile_rrnn(rebuilt, mean0=mean0, cov0=cov0), "json") == graph_to_bytes(
        compile_rrnn(model, mean0=mean0, cov0=cov0), "json")


def test_to_matrices_recovers_the_fixed_gain_exactly(model):
    gain = np.random.default_rng(2).standard_normal((4, 2))
    matrices = to_matrices(compile_rrnn(model, gain_mode="fixed", fixed_gain=gain))
    np.testing.assert_array_equal(matrices["K"], gain)
    np.testing.assert_array_equal(matrices["W"], model.W)
    assert "Q" not in matrices and "feedback" not in matrices


def test_to_matrices_rejects_disagreeing_copies(model):
    G = compile_rrnn(model)
    G.edges["scaled_covariance:1,2", "covariance:0,2"]["weight"] += 1e-9  # W_01/τ no longer matches W_01
    with pytest.raises(GraphSchemaError, match="drift"):
        to_matrices(G)
    G = compile_rrnn(model)
    G.edges["sensory:0", "error:0"]["weight"] = 2.0
    with pytest.raises(GraphSchemaError, match="sensory"):
        to_matrices(G)


# ------------------------------------------- the graph is the filter
@pytest.mark.parametrize("fixture", ["model", "linear_three_channel_model"])
def test_graph_right_hand_side_equals_continuous_rhs(fixture, request):
    model = request.getfixturevalue(fixture)
    G = compile_rrnn(model)
    rebuilt = to_model(G)
    rng = np.random.default_rng(3)
    for trial in range(4):
        mean, cov = random_belief(model.n_hidden, rng)
        y = rng.standard_normal(model.n_obs)
        if trial == 3:
            y[1] = np.nan  # a missing channel gets no update
        d_mean, d_cov, d_evidence, _ = reference_rhs(model, mean, cov, y)
        for rhs in (reference_rhs(rebuilt, mean, cov, y), evaluate_filter_graph(G, mean, cov, y).values()):
            got_mean, got_cov, got_evidence, _ = rhs
            assert_close(got_mean, d_mean)
            assert_close(got_cov, d_cov)
            assert_close(got_evidence, d_evidence)


def test_fixed_graph_right_hand_side_uses_the_gain(model):
    gain = np.random.default_rng(4).standard_normal((4, 2))
    G = compile_rrnn(model, gain_mode="fixed", fixed_gain=gain)
    rng = np.random.default_rng(5)
    mean, cov = random_belief(4, rng)
    y = rng.standard_normal(2)
    _, _, d_evidence, epsilon = reference_rhs(model, mean, cov, y)
    got = evaluate_filter_graph(G, mean, None, y)
    assert_close(got["d_mean"], model.drift(mean) + gain @ epsilon)
    assert_close(got["d_evidence"], d_evidence)


def test_a_perturbed_edge_changes_the_graph_right_hand_side(model):
    """Negative control: the message-passing evaluation really reads the covariance wiring."""
    G = compile_rrnn(model)
    G.edges["projection:1,2", "quadratic:1,2,3"]["weight"] = 1.5
    rng = np.random.default_rng(6)
    mean, cov = random_belief(4, rng)
    y = rng.standard_normal(2)
    _, d_cov, _, _ = reference_rhs(model, mean, cov, y)
    assert np.abs(evaluate_filter_graph(G, mean, cov, y)["d_cov"] - d_cov).max() > 1e-6


# ------------------------------------------------------------ fixed gain
def test_average_filter_gain_is_the_mean_of_p_gt_lambda(model, monkeypatch):
    monkeypatch.setattr(filter_gain, "_GAIN_CHUNK", 16)  # three chunks, the burn-in ending inside the first
    gain = average_filter_gain(model, n_steps=40, batch=2, burn_in=10, seed=3)
    from rrnn_net import ContinuousFilter  # the same computation without chunks, as a direct average
    _, y = model.simulate(40, batch=2, seed=3)
    result = ContinuousFilter(model).filter(y, record="covariance")
    jacobian = model.M * model.rate_derivative(result.mean[:, 10:])[..., None, :]
    expected = np.mean(result.cov[:, 10:] @ np.swapaxes(jacobian, -1, -2), axis=(0, 1)) @ np.linalg.inv(
        model.R * model.sample_interval)
    np.testing.assert_allclose(gain, expected, rtol=1e-12, atol=1e-14)


def test_fixed_mode_default_gain_is_recorded_in_provenance():
    small = GenerativeRNN.oscillator(2, 1, seed=1)
    G = compile_rrnn(small, gain_mode="fixed")
    assert G.graph["provenance_fixed_gain_given"] == 0
    assert G.graph["provenance_gain_average_n_steps"] == 2000 and G.graph["provenance_gain_average_seed"] == 0
    np.testing.assert_array_equal(to_matrices(G)["K"], average_filter_gain(small))


# ------------------------------------------------------------- bad input
def test_full_observation_noise_is_refused(model):
    correlated = model.replace(R=[[0.02, 0.005], [0.005, 0.02]])
    with pytest.raises(ParameterError, match="diagonal"):
        compile_rrnn(correlated)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"gain_mode": "magic"}, ParameterError),
    ({"gain_mode": "fixed", "cov0": np.eye(4)}, ParameterError),
    ({"fixed_gain": np.zeros((4, 2))}, ParameterError),
    ({"mean0": np.zeros(3)}, ShapeError),
    ({"cov0": -np.eye(4)}, ParameterError),
    ({"gain_mode": "fixed", "fixed_gain": np.full((4, 2), np.nan)}, ParameterError),
    ({"gain_mode": "both"}, ParameterError),
])
def test_bad_arguments_are_refused(model, kwargs, error):
    with pytest.raises(error):
        compile_rrnn(model, **kwargs)


# -------------------------------------------------------------- baseline
def baseline_arrays(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"W": rng.standard_normal((3, 3)), "U": rng.standard_normal((3, 2)), "C": rng.standard_normal((2, 3)),
            "b": rng.standard_normal(3), "d": rng.standard_normal(2)}


def test_baseline_graph_computes_the_input_driven_rnn():
    arrays = baseline_arrays()
    G = compile_baseline(**arrays, tau=0.03, sample_interval=0.01, substeps=2)
    validate_graph(G)
    x, u = np.array([0.3, -0.2, 0.9]), np.array([1.5, -0.5])
    rhs = evaluate(G, u, {"hidden": {"x": x}})
    dx, output = rhs["hidden"]["dx"], rhs["output"]["output"]
    assert_close(dx, (-x + arrays["W"] @ np.tanh(x) + arrays["U"] @ u + arrays["b"]) / 0.03)
    assert_close(output, arrays["C"] @ np.tanh(x) + arrays["d"])
    matrices = to_matrices(G)
    for name, value in arrays.items():
        np.testing.assert_array_equal(matrices[name], value, err_msg=name)
    assert (matrices["step"], matrices["substeps"]) == (0.005, 2)


def test_baseline_accepts_a_network_object():
    class Network:
        W, U, C = baseline_arrays()["W"], baseline_arrays()["U"], baseline_arrays()["C"]
        tau, sample_interval, activation = 0.05, 0.01, "linear"

    G = compile_baseline(Network())
    assert G.graph["activation"] == "linear" and G.graph["n_input"] == 2
    with pytest.raises(ParameterError, match="not both"):
        compile_baseline(Network(), tau=0.1)


def test_baseline_refuses_bad_shapes():
    arrays = baseline_arrays()
    with pytest.raises(ShapeError, match="U"):
        compile_baseline(arrays["W"], arrays["U"].T, arrays["C"], tau=0.03, sample_interval=0.01)
    with pytest.raises(ParameterError, match="tau"):
        compile_baseline(arrays["W"], arrays["U"], arrays["C"], sample_interval=0.01)


def test_the_old_name_of_the_gain_mode_still_works_with_a_warning(model):
    with pytest.warns(DeprecationWarning, match="gain_mode"):
        G = compile_rrnn(model, gain="fixed", fixed_gain=np.zeros((4, 2)))
    assert G.graph["gain_mode"] == "fixed"
    with pytest.raises(ParameterError, match="gain_mode='adaptive', gain='fixed'"):  # not: the old name wins
        compile_rrnn(model, gain="fixed", gain_mode="adaptive")


def test_the_default_prior_is_one_the_network_accepts():
    """cov0 = I would make forward Euler on the Riccati equation diverge for precise observations."""
    from rrnn_net.backends import run
    from rrnn_net.filters.stability import graph_riccati_euler_factor

    model = GenerativeRNN.oscillator(4, 2, substeps=4, seed=0)
    G = compile_rrnn(model)
    assert graph_riccati_euler_factor(G, model.step) < 1.0
    assert np.isfinite(run(G, model.simulate(5, seed=1)[1], backend="reference").mean).all()


def test_to_model_needs_an_adaptive_graph(model):
    with pytest.raises(GraphSchemaError, match="adaptive"):
        to_model(compile_rrnn(model, gain_mode="fixed"))


def test_a_channel_set_to_precision_zero_has_infinite_noise_and_is_no_model(model):
    # λ_j = 0 in every copy (the error unit and the quadratic units' gains): a graph that ignores channel 1.
    G = compile_rrnn(model)
    G.nodes["error:1"]["precision"] = 0.0
    for _, attributes in G.nodes(data=True):
        if attributes["kind"] == "quadratic" and attributes["obs"] == 1:
            attributes["gain"] = 0.0
    R = to_matrices(G)["R"]  # no division warning: the suite turns warnings into errors
    assert R[1, 1] == np.inf and R[0, 0] == pytest.approx(model.R[0, 0], rel=1e-15)
    with pytest.raises(GraphSchemaError, match=r"error unit 'error:1' has precision 0, so the graph ignores its "
                                               r"channel: no GenerativeRNN has infinite observation noise$"):
        to_model(G)
