"""The conformance suite (``conformance.py``) on Brian2's cpp_standalone target, and what only standalone does.

The standalone-only tests come after the suite, in the same process, so they re-run the projects it built.
"""

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from rrnn_net._files import user_cache_directory
from rrnn_net.backends import run_brian2
from rrnn_net.graph import to_matrices

from .conformance import (
    TOLERANCE,
    backend_fixture,
    continuous_reference,
    test_baseline_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
)
from .reference import fixed_gain_filter

pytestmark = pytest.mark.slow  # a cold compilation of each network structure (still run in CI)
backend = backend_fixture({"backend": "brian2", "target": "cpp_standalone"})
# The shared suite, imported so that pytest collects it here with this module's backend fixture. The adaptive
# structure compiled here is the noise-estimating one (a superset of the plain adaptive form; conformance.py).
SUITE = (
    test_noise_estimating_graph_agrees_with_continuous_filter_with_missing_samples,
    test_fixed_gain_graph_agrees_with_numpy_euler,
    test_editing_a_weight_changes_the_result_as_to_matrices_says,
    test_baseline_graph_agrees_with_numpy_euler,
)


def assert_agrees(result, reference):
    for name in ("mean", "cov", "loglik", "predicted_obs", "noise_variance"):
        assert np.abs(getattr(result, name) - getattr(reference, name)).max() <= TOLERANCE, name


def test_reruns_new_observations_without_rebuilding_in_a_private_project(noise_graph, filter_model, observations):
    first = run_brian2(noise_graph, observations, target="cpp_standalone", record="covariance")
    assert_agrees(first, continuous_reference(noise_graph, observations))
    fresh = filter_model.simulate(400, batch=2, seed=99)[1]
    fresh[0, 50:60, 2] = np.nan
    second = run_brian2(noise_graph, fresh, target="cpp_standalone", record="covariance")
    assert second.extras["rebuilt"] is False  # the loaded binary, called with the new observations
    assert_agrees(second, continuous_reference(noise_graph, fresh))
    # The runtime device is back in charge afterwards.
    numpy_run = run_brian2(noise_graph, fresh[:, :40], record="covariance")
    np.testing.assert_allclose(numpy_run.mean, second.mean[:, :40], rtol=0, atol=TOLERANCE)
    projects = user_cache_directory() / "standalone"
    assert not list(projects.glob("*.lock"))  # no lock file beside the projects, where anyone could place one
    for folder in (user_cache_directory(), projects, *projects.iterdir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
    built = [project for project in projects.iterdir() if (project / "rrnn_net_project_key.txt").is_file()]
    assert built and all((project / "rrnn_net_project.lock").is_file() for project in built)


def compiled_objects(project: Path) -> dict[Path, int]:
    """Modification time of every object file of ``project`` but main.o (see the test below)."""
    return {path: path.stat().st_mtime_ns for path in project.rglob("*.o") if path.name != "main.o"}


def test_new_numbers_rebuild_in_the_project_directory_of_their_structure(fixed_graph, observations):
    # The fixed-gain structure the suite built above (the smallest): new data files, no new project folder, no
    # code object recompiled. main.cpp may list the same lines in another order (Brian2 resets the two clocks in
    # the order of a set of clocks, by memory address; seen in the full suite), which recompiles main.o alone.
    project = run_brian2(fixed_graph, observations, target="cpp_standalone").extras["project_directory"]
    projects = sorted((user_cache_directory() / "standalone").iterdir())
    compiled, main_lines = compiled_objects(project), sorted((project / "main.cpp").read_text().splitlines())
    edited = fixed_graph.copy()
    edited.nodes["state:3"]["bias"] -= 0.3
    result = run_brian2(edited, observations, target="cpp_standalone")
    assert result.extras["rebuilt"] is True and result.extras["project_directory"] == project
    assert sorted((project / "main.cpp").read_text().splitlines()) == main_lines
    assert len(compiled) > 10 and compiled_objects(project) == compiled
    matrices = to_matrices(edited)
    reference = fixed_gain_filter(matrices, observations, matrices["step"])
    np.testing.assert_allclose(result.mean, reference["mean"], rtol=0, atol=TOLERANCE)
    assert sorted((user_cache_directory() / "standalone").iterdir()) == projects
