"""The conformance suite every backend and Brian2 target must pass (collected by the test_conformance* modules).

Each test takes ``backend``, a run function with the signature of
:func:`rrnn_net.backends.run`, from the ``backend`` fixture of the module
that collects it: ``test_conformance.py`` (the reference backend and Brian2's
numpy target, which also run the tests there that vary the network's
structure: batch size, activation, step, a second graph),
``test_conformance_cython.py`` and ``test_conformance_cpp_standalone.py``. The
compiled targets generate the same equations through the same templates;
each new structure costs them a cold compilation (30–60 s on two cores), so
this suite shares three structures there: fixed, baseline, and adaptive with
online noise estimation, which holds every unit and connection kind of the
adaptive form but one (the sensory gate into the projection units, whose
factor its precision units send instead); the reference backend and the
numpy target also run the plain adaptive graph. One module per target lets
the test workers compile both targets at once.
"""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import ContinuousFilter
from rrnn_net.backends import BaselineResult, run
from rrnn_net.filters import NoiseAdaptation
from rrnn_net.graph import (
    compile_baseline,
    to_matrices,
    to_model,
)

from .reference import baseline_states, fixed_gain_filter

TOLERANCE = 1e-9
FIELDS = ("mean", "predicted_state", "predicted_obs", "prediction_error", "state_prediction_error", "loglik")


def backend_fixture(*params):
    """A ``backend`` fixture parametrised over ``run`` options, e.g. ``{"backend": "brian2", "target": "cython"}``."""

    @pytest.fixture(params=params, ids=[" ".join(str(value) for value in p.values()).replace(" ", "-") for p in params])
    def backend(request):
        def run_on_backend(graph, observations, **more):
            return run(graph, observations, **request.param, **more)

        return run_on_backend

    return backend


def max_difference(result, reference, name: str) -> float:
    ours, theirs = getattr(result, name), reference[name] if isinstance(reference, dict) else getattr(reference, name)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    return float(np.nanmax(np.abs(ours - theirs)))


def continuous_reference(graph, y, step=None, record="covariance"):
    """ContinuousFilter of the model read back from the graph, from the graph's prior (and noise estimation)."""
    matrices = to_matrices(graph)
    noise = "fixed"
    if "noise_memory" in matrices:  # compiled with one setting for every channel
        noise = NoiseAdaptation(memory=float(matrices["noise_memory"][0]),
                                prior_samples=float(matrices["noise_prior_samples"][0]))
    reference = ContinuousFilter(to_model(graph), step=step, repair_covariance=False, noise=noise)
    return reference.filter(y, mean0=matrices["mean0"], cov0=matrices["cov0"], record=record)


def test_adaptive_graph_agrees_with_continuous_filter_with_missing_samples(backend, adaptive_graph, observations):
    y = observations.copy()
    y[0, 10:30, 1] = np.nan  # one channel missing for a stretch
    y[1, 40, :] = np.nan  # an all-missing sample: a pure prediction step
    y[:, 70:75, ::2] = np.nan
    reference = continuous_reference(adaptive_graph, y)
    assert np.all(reference.n_psd_repairs == 0)  # Euler on the Riccati equation stayed stable
    result = backend(adaptive_graph, y, record="covariance")
    assert result.cov.shape == reference.cov.shape == (2, 400, 8, 8)
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in FIELDS:
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.innovation_cov is None
    np.testing.assert_array_equal(result.n_psd_repairs, [0, 0])
    assert result.loglik[1, 40] == 0.0
    assert np.isnan(result.prediction_error[0, 10:30, 1]).all()


def test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples(backend, noise_graph,
                                                                                   observations):
    y = observations.copy()
    y[0, 10:30, 1] = np.nan
    y[1, 40, :] = np.nan
    y[:, 200:] += np.random.default_rng(5).normal(0.0, 0.5, y[:, 200:].shape)  # the noise grows: λ must adapt
    reference = continuous_reference(noise_graph, y)
    result = backend(noise_graph, y, record="covariance")
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    for name in (*FIELDS, "noise_variance"):
        assert max_difference(result, reference, name) <= TOLERANCE, name
    # The estimate moved from the model's R towards the larger noise (each channel's own).
    model_noise = np.diag(to_model(noise_graph).R)
    assert np.all(result.noise_variance[:, -1] > 3 * model_noise)


def test_fixed_gain_graph_agrees_with_numpy_euler(backend, fixed_graph, observations):
    matrices = to_matrices(fixed_graph)
    reference = fixed_gain_filter(matrices, observations, matrices["step"])
    result = backend(fixed_graph, observations)
    for name in ("mean", "predicted_obs", "state_prediction_error", "loglik"):
        assert max_difference(result, reference, name) <= TOLERANCE, name
    assert result.cov is None


def test_editing_a_weight_changes_the_result_as_to_matrices_says(backend, fixed_graph, observations):
    y = observations  # the fixed-gain test's shape: a compiled target reuses its code and only reloads numbers
    edited = fixed_graph.copy()
    edited.edges["state:2", "state:5"]["weight"] += 0.4  # W[5, 2], held by this one edge in the fixed form
    before, after = backend(fixed_graph, y), backend(edited, y)
    matrices = to_matrices(edited)
    assert matrices["W"][5, 2] == fixed_graph.edges["state:2", "state:5"]["weight"] + 0.4
    reference = fixed_gain_filter(matrices, y, matrices["step"])
    assert np.abs(after.mean - before.mean).max() > 1e-3
    assert max_difference(after, reference, "mean") <= TOLERANCE


def test_baseline_graph_agrees_with_numpy_euler(backend):
    rng = np.random.default_rng(4)
    n, n_input, n_output = 6, 2, 3
    graph = compile_baseline(rng.standard_normal((n, n)) * 0.6, rng.standard_normal((n, n_input)),
                             rng.standard_normal((n_output, n)), rng.standard_normal(n) * 0.1,
                             rng.standard_normal(n_output), tau=0.02, sample_interval=0.005, substeps=4,
                             x0=rng.standard_normal(n) * 0.5)
    u = rng.standard_normal((3, 50, n_input))
    result = backend(graph, u)
    states, outputs = baseline_states(to_matrices(graph), u)
    assert isinstance(result, BaselineResult)
    assert np.abs(result.states - states).max() <= TOLERANCE
    assert np.abs(result.outputs - outputs).max() <= TOLERANCE
    single = backend(graph, u[1])
    assert single.states.shape == (50, n)
    np.testing.assert_allclose(single.outputs, result.outputs[1], rtol=0, atol=1e-14)
