"""What only C++ standalone does: re-running its loaded binary, and project directories per structure.

(Agreement of every target with the numpy filter is the conformance suite.)
A cold build costs 20–60 s on two cores, hence ``slow``; these still run in
CI. They use the default project directories, which the conformance suite's
``cpp_standalone`` runs of the same graph have built already.
"""

from __future__ import annotations

import numpy as np
import pytest

from rrnn_net import ContinuousFilter
from rrnn_net.backends import run_brian2
from rrnn_net.graph import to_matrices, to_model

TOLERANCE = 1e-9


def reference_filter(graph, y):
    matrices = to_matrices(graph)
    return ContinuousFilter(to_model(graph)).filter(y, mean0=matrices["mean0"], cov0=matrices["cov0"],
                                                                  record="covariance")


def assert_agrees(result, reference):
    assert np.all(reference.n_psd_repairs == 0)
    assert np.abs(result.mean - reference.mean).max() <= TOLERANCE
    assert np.abs(result.cov - reference.cov).max() <= TOLERANCE
    assert np.abs(result.loglik - reference.loglik).max() <= TOLERANCE
    assert np.abs(result.predicted_obs - reference.predicted_obs).max() <= TOLERANCE


@pytest.mark.slow
def test_cpp_standalone_agrees_and_reruns_new_observations_without_rebuilding(adaptive_graph, filter_model,
                                                                             observations):
    first = run_brian2(adaptive_graph, observations, target="cpp_standalone", record="covariance")
    assert_agrees(first, reference_filter(adaptive_graph, observations))
    fresh = filter_model.simulate(400, batch=2, seed=99)[1]
    fresh[0, 50:60, 2] = np.nan
    second = run_brian2(adaptive_graph, fresh, target="cpp_standalone", record="covariance")
    assert second.extras["rebuilt"] is False
    assert_agrees(second, reference_filter(adaptive_graph, fresh))
    # The runtime device is back in charge afterwards.
    numpy_run = run_brian2(adaptive_graph, fresh[:, :40], record="covariance")
    np.testing.assert_allclose(numpy_run.mean, second.mean[:, :40], rtol=0, atol=TOLERANCE)


@pytest.mark.slow
def test_cpp_standalone_project_directory_follows_the_graph_numbers(adaptive_graph, observations):
    edited = adaptive_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3  # same structure: same code and directory, new data files
    for graph in (edited, adaptive_graph):
        result = run_brian2(graph, observations, target="cpp_standalone", record="covariance")
        assert result.extras["rebuilt"] is True
        assert_agrees(result, reference_filter(graph, observations))
